"""Read queries for the resident API: one meter's hours with quality, latest readings, counter events.

Complements :mod:`meterhub.timeseries.queries` (bucketed series for dashboards and billing) with the
reads a resident's cabinet needs at low latency:

* :func:`hourly_with_quality` — every stored hour of one or more registers of a meter in ``[start, end)``
  as numpy arrays (UTC hour start [µs since 1970], billable volume [micro-units], worst quality), fetched
  as one ``bytea`` built server-side (the trick of ``bulk_reads.hourly_series_bulk``) so a year of
  hourly data (8,760 rows) costs one index range scan and one ``np.frombuffer``;
* :func:`meter_register_rows` — the registers of meters with their VEE limit per hour;
* :func:`latest_readings` — the latest reading of each register (any source) and the latest *valid* one;
* :func:`register_events_since` — reset / installation events after an instant (a lower reading is
  legitimate after them);
* :func:`first_valid_reading_since` — the oldest valid reading of a register after an instant (history
  for plausibility checks);
* :func:`valid_readings_between` — whether a register has valid readings in a span.

Tariff-agnostic, like the rest of ``timeseries``: volumes in the register unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import psycopg

from meterhub.timeseries.pgbinary import PG_EPOCH_US

__all__ = [
    "HourlyWithQuality",
    "LatestReading",
    "RegisterRow",
    "first_valid_reading_since",
    "hourly_with_quality",
    "latest_readings",
    "meter_register_rows",
    "register_events_since",
    "valid_readings_between",
]

_ROW_DTYPE = np.dtype([("hour", ">i8"), ("volume", ">i8"), ("quality", ">i2")])


@dataclass(frozen=True)
class HourlyWithQuality:
    """Hours of a meter, ordered: UTC hour starts [µs since 1970-01-01], billable volume [micro-units]
    (0 for a suspect hour) and the worst quality of the hour (0 measured, 1 interpolated, 2 estimated,
    3 suspect). Hours without any row are absent (missing)."""

    hour_starts_us: npt.NDArray[np.int64]
    volume_micro: npt.NDArray[np.int64]
    quality: npt.NDArray[np.int16]

    def __len__(self) -> int:
        return len(self.hour_starts_us)


def _aware(*instants: datetime) -> None:
    for t in instants:
        if t.tzinfo is None:
            raise ValueError(f"instant {t.isoformat()} has no time zone; pass UTC-aware datetimes")


_EMPTY = HourlyWithQuality(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int16))


def hourly_with_quality(
    conn: psycopg.Connection, series_ids: Sequence[int], start: datetime, end: datetime
) -> HourlyWithQuality:
    """The hours of ``series_ids`` in ``[start, end)``; several series (e.g. T1 + T2 registers of one meter)
    are summed per hour and take the worst quality. Suspect volumes are not counted."""
    _aware(start, end)
    if not series_ids:
        return _EMPTY
    if len(series_ids) == 1:
        sql = """
            SELECT string_agg(timestamptz_send(h.hour)
                              || int8send(CASE WHEN h.quality < 3 THEN h.volume_micro ELSE 0 END)
                              || int2send(h.quality), ''::bytea ORDER BY h.hour)
            FROM hourly_consumption h
            WHERE h.series_id = %s AND h.hour >= %s AND h.hour < %s
        """
        params: tuple[object, ...] = (series_ids[0], start, end)
    else:
        sql = """
            SELECT string_agg(timestamptz_send(g.hour) || int8send(g.volume) || int2send(g.quality),
                              ''::bytea ORDER BY g.hour)
            FROM (
                SELECT h.hour,
                       coalesce(sum(h.volume_micro) FILTER (WHERE h.quality < 3), 0)::int8 AS volume,
                       max(h.quality)::int2 AS quality
                FROM hourly_consumption h
                WHERE h.series_id = ANY(%s) AND h.hour >= %s AND h.hour < %s
                GROUP BY h.hour
            ) g
        """
        params = (list(series_ids), start, end)
    with conn.cursor(binary=True) as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    blob = row[0] if row else None
    if not blob:
        return _EMPTY
    rows = np.frombuffer(blob, dtype=_ROW_DTYPE)
    return HourlyWithQuality(
        rows["hour"].astype(np.int64) + PG_EPOCH_US,
        rows["volume"].astype(np.int64),
        rows["quality"].astype(np.int16),
    )


@dataclass(frozen=True)
class RegisterRow:
    """A register of a meter: its series id, unit, whether it is a counter, and the VEE hourly maximum
    [unit/h] (the register's own, else the kind's default; None when none is configured)."""

    meter_id: str
    register: str
    series_id: int
    unit: str
    cumulative: bool
    max_per_hour: float | None


def meter_register_rows(conn: psycopg.Connection, meter_ids: Sequence[str]) -> list[RegisterRow]:
    """The registers of ``meter_ids``, ordered by meter and register."""
    if not meter_ids:
        return []
    rows = conn.execute(
        """
        SELECT mr.meter_id, mr.register, mr.series_id, mr.unit, mr.cumulative,
               coalesce(mr.max_per_hour, vr.max_per_hour, vk.max_per_hour)
        FROM meter_registers mr
        JOIN meters m USING (meter_id)
        LEFT JOIN vee_limits vr ON vr.kind = m.kind AND vr.register = mr.register
        LEFT JOIN vee_limits vk ON vk.kind = m.kind AND vk.register = '*'
        WHERE mr.meter_id = ANY(%s)
        ORDER BY mr.meter_id, mr.register
        """,
        (list(meter_ids),),
    ).fetchall()
    return [RegisterRow(*r) for r in rows]


@dataclass(frozen=True)
class LatestReading:
    """A stored reading: counter value as reported, its UTC time, source (0 gateway, 1 manual, 2 import,
    3 estimate), device quality and whether VEE flagged it."""

    value: float
    ts: datetime
    source: int
    quality: int
    flagged: bool

    @property
    def valid(self) -> bool:
        return self.quality < 2 and not self.flagged


def latest_readings(
    conn: psycopg.Connection, series_ids: Sequence[int]
) -> dict[int, tuple[LatestReading | None, LatestReading | None]]:
    """series id → (latest reading of any kind, latest valid reading) — both via the primary key index."""
    if not series_ids:
        return {}
    rows = conn.execute(
        """
        SELECT s.sid, a.value, a.ts, a.source, a.quality, a.flagged,
               v.value, v.ts, v.source, v.quality
        FROM unnest(%s::int[]) AS s(sid)
        LEFT JOIN LATERAL (
            SELECT r.value, r.ts, r.source, r.quality,
                   EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = r.series_id AND f.ts = r.ts)
                       AS flagged
            FROM reading_values r WHERE r.series_id = s.sid ORDER BY r.ts DESC LIMIT 1
        ) a ON true
        LEFT JOIN LATERAL (
            SELECT r.value, r.ts, r.source, r.quality FROM reading_values r
            WHERE r.series_id = s.sid AND r.quality < 2
              AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = r.series_id AND f.ts = r.ts)
            ORDER BY r.ts DESC LIMIT 1
        ) v ON true
        """,
        (list(series_ids),),
    ).fetchall()
    result: dict[int, tuple[LatestReading | None, LatestReading | None]] = {}
    for sid, av, ats, asrc, aq, aflag, vv, vts, vsrc, vq in rows:
        latest = LatestReading(float(av), ats.astimezone(UTC), asrc, aq, aflag) if ats else None
        valid = LatestReading(float(vv), vts.astimezone(UTC), vsrc, vq, False) if vts else None
        result[sid] = (latest, valid)
    return result


def register_events_since(
    conn: psycopg.Connection, series_ids: Sequence[int], since: datetime | None
) -> dict[int, list[tuple[datetime, str]]]:
    """series id → [(time, kind)] of 'reset' / 'installation' events after ``since`` (all when None)."""
    if not series_ids:
        return {}
    rows = conn.execute(
        """
        SELECT series_id, ts, kind FROM register_events
        WHERE series_id = ANY(%s) AND kind IN ('reset', 'installation')
          AND (%s::timestamptz IS NULL OR ts > %s::timestamptz)
        ORDER BY series_id, ts
        """,
        (list(series_ids), since, since),
    ).fetchall()
    result: dict[int, list[tuple[datetime, str]]] = {}
    for sid, ts, kind in rows:
        result.setdefault(sid, []).append((ts.astimezone(UTC), kind))
    return result


def first_valid_reading_since(
    conn: psycopg.Connection, series_id: int, since: datetime, before: datetime
) -> LatestReading | None:
    """The oldest valid reading of a register in ``[since, before)``."""
    _aware(since, before)
    row = conn.execute(
        """
        SELECT r.value, r.ts, r.source, r.quality FROM reading_values r
        WHERE r.series_id = %s AND r.ts >= %s AND r.ts < %s AND r.quality < 2
          AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = r.series_id AND f.ts = r.ts)
        ORDER BY r.ts LIMIT 1
        """,
        (series_id, since, before),
    ).fetchone()
    if row is None:
        return None
    return LatestReading(float(row[0]), row[1].astimezone(UTC), row[2], row[3], False)


def valid_readings_between(
    conn: psycopg.Connection, series_ids: Sequence[int], start: datetime, end: datetime
) -> bool:
    """Whether any of ``series_ids`` has a valid reading in ``[start, end)``."""
    _aware(start, end)
    if not series_ids:
        return False
    row = conn.execute(
        """
        SELECT EXISTS (
            SELECT 1 FROM readings r
            WHERE r.series_id = ANY(%s) AND r.ts >= %s AND r.ts < %s AND r.quality < 2
              AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = r.series_id AND f.ts = r.ts)
        )
        """,
        (list(series_ids), start, end),
    ).fetchone()
    return bool(row and row[0])
