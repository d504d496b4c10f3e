"""Read queries over the hourly series: what charts, billing and dashboards consume.

Storage is UTC; buckets are computed in the caller's IANA time zone with ``date_bin`` (hour, day)
and ``date_trunc`` (month, whose length varies), so the same SQL runs on plain PostgreSQL and on
TimescaleDB. Volumes come back as exact ``Decimal`` [register unit]. Suspect hours are reported
separately and never counted in ``volume``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import psycopg

MICRO = Decimal(1_000_000)


class Resolution(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


_BUCKET = {
    Resolution.HOUR: "date_bin('1 hour', h.hour AT TIME ZONE %(tz)s, TIMESTAMP '2000-01-01')",
    Resolution.DAY: "date_bin('1 day', h.hour AT TIME ZONE %(tz)s, TIMESTAMP '2000-01-01')",
    Resolution.MONTH: "date_trunc('month', h.hour AT TIME ZONE %(tz)s)",
}


@dataclass(frozen=True)
class SeriesPoint:
    """One bucket of a meter register's consumption, starting at ``start`` (local, tz-aware)."""

    start: datetime
    volume: Decimal  # measured + interpolated + estimated [unit]
    suspect_volume: Decimal  # from flagged readings; not billable [unit]
    measured_hours: int
    interpolated_hours: int
    estimated_hours: int
    suspect_hours: int

    @property
    def quality(self) -> str:
        """The worst quality in the bucket."""
        if self.suspect_hours:
            return "suspect"
        if self.estimated_hours:
            return "estimated"
        if self.interpolated_hours:
            return "interpolated"
        return "measured"


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown IANA time zone {tz!r} (e.g. 'Europe/Moscow', 'Asia/Omsk')") from exc


def local_month_bounds(year: int, month: int, tz: str) -> tuple[datetime, datetime]:
    """UTC instants of the first moment of a local calendar month and of the next one."""
    zone = _zone(tz)
    start = datetime.combine(date(year, month, 1), time(), zone)
    ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
    end = datetime.combine(date(ny, nm, 1), time(), zone)
    return start, end


def parse_period(period: str) -> tuple[int, int]:
    """'2026-01' → (2026, 1), with a clear error."""
    try:
        y, m = period.split("-")
        year, month = int(y), int(m)
        if not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise ValueError(f"billing period {period!r} must look like YYYY-MM, e.g. 2026-01") from None
    return year, month


def consumption_series(
    conn: psycopg.Connection,
    meter_id: str,
    register: str,
    start: datetime,
    end: datetime,
    *,
    resolution: Resolution | str = Resolution.HOUR,
    tz: str = "UTC",
) -> list[SeriesPoint]:
    """One meter register's consumption in ``[start, end)`` at hour/day/month resolution in ``tz``."""
    res = Resolution(resolution)
    zone = _zone(tz)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    sql = f"""
        SELECT {_BUCKET[res]} AS bucket,
               coalesce(sum(h.volume_micro) FILTER (WHERE h.quality < 3), 0),
               coalesce(sum(h.volume_micro) FILTER (WHERE h.quality = 3), 0),
               count(*) FILTER (WHERE h.quality = 0), count(*) FILTER (WHERE h.quality = 1),
               count(*) FILTER (WHERE h.quality = 2), count(*) FILTER (WHERE h.quality = 3)
        FROM hourly_consumption h
        JOIN meter_registers mr ON mr.series_id = h.series_id
        WHERE mr.meter_id = %(meter)s AND mr.register = %(register)s
          AND h.hour >= %(start)s AND h.hour < %(end)s
        GROUP BY 1 ORDER BY 1
    """
    rows = conn.execute(
        sql, {"tz": tz, "meter": meter_id, "register": register, "start": start, "end": end}
    ).fetchall()
    return [
        SeriesPoint(
            start=bucket.replace(tzinfo=zone),
            volume=Decimal(vol) / MICRO,
            suspect_volume=Decimal(sus) / MICRO,
            measured_hours=m,
            interpolated_hours=i,
            estimated_hours=e,
            suspect_hours=s,
        )
        for bucket, vol, sus, m, i, e, s in rows
    ]


def _select_meters(
    where: list[str], params: dict[str, object], meter_ids: Sequence[str] | None, building_id: str | None
) -> None:
    """Add the optional meter/building selection (aliases ``mr`` meter_registers, ``m`` meters)."""
    if meter_ids is not None:
        where.append("mr.meter_id = ANY(%(meters)s)")
        params["meters"] = list(meter_ids)
    if building_id is not None:
        where.append("m.building_id = %(building)s")
        params["building"] = building_id


@dataclass(frozen=True)
class PeriodTotal:
    """Billable consumption of one meter register over a period (what billing consumes)."""

    meter_id: str
    register: str
    volume: Decimal  # [unit], suspect hours excluded
    hours_expected: int
    hours_present: int  # non-suspect hours with data
    measured_hours: int
    interpolated_hours: int
    estimated_hours: int
    suspect_hours: int
    first_hour: datetime | None
    last_hour: datetime | None

    @property
    def complete(self) -> bool:
        """Every hour of the period has a billable volume."""
        return self.hours_present == self.hours_expected


def period_totals(
    conn: psycopg.Connection,
    start: datetime,
    end: datetime,
    *,
    meter_ids: Sequence[str] | None = None,
    building_id: str | None = None,
) -> dict[tuple[str, str], PeriodTotal]:
    """Totals per (meter, register) over ``[start, end)``; ``local_month_bounds`` gives a billing month."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware (use local_month_bounds)")
    expected = int((end - start) / timedelta(hours=1))
    where = ["h.hour >= %(start)s", "h.hour < %(end)s"]
    params: dict[str, object] = {"start": start, "end": end}
    _select_meters(where, params, meter_ids, building_id)
    rows = conn.execute(
        f"""
        SELECT mr.meter_id, mr.register,
               coalesce(sum(h.volume_micro) FILTER (WHERE h.quality < 3), 0),
               count(*) FILTER (WHERE h.quality < 3),
               count(*) FILTER (WHERE h.quality = 0), count(*) FILTER (WHERE h.quality = 1),
               count(*) FILTER (WHERE h.quality = 2), count(*) FILTER (WHERE h.quality = 3),
               min(h.hour), max(h.hour)
        FROM hourly_consumption h
        JOIN meter_registers mr ON mr.series_id = h.series_id
        JOIN meters m ON m.meter_id = mr.meter_id
        WHERE {" AND ".join(where)}
        GROUP BY 1, 2
        """,
        params,
    ).fetchall()
    return {
        (meter, reg): PeriodTotal(
            meter, reg, Decimal(vol) / MICRO, expected, present, me, ip, es, su, first, last
        )
        for meter, reg, vol, present, me, ip, es, su, first, last in rows
    }


@dataclass(frozen=True)
class DayCompleteness:
    meter_id: str
    register: str
    day: date  # local calendar day
    hours_expected: int  # 23/24/25 around DST changes
    hours_present: int
    measured_hours: int
    suspect_hours: int

    @property
    def percent(self) -> float:
        return 100.0 * self.hours_present / self.hours_expected if self.hours_expected else 0.0


def completeness(
    conn: psycopg.Connection,
    first_day: date,
    last_day: date,
    tz: str,
    *,
    meter_ids: Sequence[str] | None = None,
    building_id: str | None = None,
) -> list[DayCompleteness]:
    """Data completeness per meter register per local day, first_day..last_day inclusive.

    Every cumulative register of the selected meters gets a row for every day, also days with no
    data at all (0 %).
    """
    zone = _zone(tz)
    start = datetime.combine(first_day, time(), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(), zone)
    where = ["mr.cumulative"]
    params: dict[str, object] = {"tz": tz, "start": start, "end": end, "d0": first_day, "d1": last_day}
    _select_meters(where, params, meter_ids, building_id)
    rows = conn.execute(
        f"""
        WITH s AS (
            SELECT mr.series_id, mr.meter_id, mr.register FROM meter_registers mr
            JOIN meters m ON m.meter_id = mr.meter_id WHERE {" AND ".join(where)}
        ), days AS (
            SELECT d::date AS day,
                   extract(epoch FROM ((d + interval '1 day') AT TIME ZONE %(tz)s) - (d AT TIME ZONE %(tz)s))
                       / 3600 AS expected
            FROM generate_series(%(d0)s::timestamp, %(d1)s::timestamp, interval '1 day') d
        ), agg AS (
            SELECT h.series_id,
                   date_bin('1 day', h.hour AT TIME ZONE %(tz)s, TIMESTAMP '2000-01-01')::date AS day,
                   count(*) FILTER (WHERE h.quality < 3) AS present,
                   count(*) FILTER (WHERE h.quality = 0) AS measured,
                   count(*) FILTER (WHERE h.quality = 3) AS suspect
            FROM hourly_consumption h JOIN s USING (series_id)
            WHERE h.hour >= %(start)s AND h.hour < %(end)s
            GROUP BY 1, 2
        )
        SELECT s.meter_id, s.register, days.day, days.expected::int,
               coalesce(agg.present, 0), coalesce(agg.measured, 0), coalesce(agg.suspect, 0)
        FROM s CROSS JOIN days
        LEFT JOIN agg ON agg.series_id = s.series_id AND agg.day = days.day
        ORDER BY 1, 2, 3
        """,
        params,
    ).fetchall()
    return [DayCompleteness(*r) for r in rows]
