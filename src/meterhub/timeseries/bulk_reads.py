"""Bulk reads for consumers that need many meters at once (the billing close).

* :func:`period_totals_bulk` — ``queries.period_totals`` for many meters, planned per series (an index
  range scan of each register's hours) so its cost does not grow with the size of the month's
  partition;
* :func:`hourly_series_bulk` — the billable hourly series (quality < 3, suspect hours excluded) of many
  (meter, register) pairs over ``[start, end)``, one ``bytea`` per series built server-side from the
  binary send functions and parsed by numpy in one call (the trick of ``rollup._fetch_series``);
* :func:`register_values_at` — the value of cumulative registers at given instants: the latest valid
  reading at or before each instant, no older than ``max_age`` (monthly or manual readings, where the
  register delta over a period is what is billed).

Tariff-agnostic: volumes stay in the register's unit (micro-units for hourly series).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import psycopg

from meterhub.timeseries.pgbinary import PG_EPOCH_US
from meterhub.timeseries.queries import MICRO, PeriodTotal

__all__ = ["HourlyArrays", "RegisterValue", "hourly_series_bulk", "period_totals_bulk", "register_values_at"]

_HOURLY_DTYPE = np.dtype([("hour", ">i8"), ("volume", ">i8")])


@dataclass(frozen=True)
class HourlyArrays:
    """One register's billable hours: UTC hour starts [µs since 1970] and volumes [micro-units]."""

    hour_starts_us: npt.NDArray[np.int64]
    volume_micro: npt.NDArray[np.int64]


@dataclass(frozen=True)
class RegisterValue:
    """A cumulative register's value at an instant: the reading used and its time."""

    value: float
    ts: datetime


def _aware(*instants: datetime) -> None:
    for t in instants:
        if t.tzinfo is None:
            raise ValueError(f"instant {t.isoformat()} has no time zone; pass UTC-aware datetimes")


def period_totals_bulk(
    conn: psycopg.Connection, meter_ids: Sequence[str], start: datetime, end: datetime
) -> dict[tuple[str, str], PeriodTotal]:
    """Totals per (meter, register) over ``[start, end)`` like ``queries.period_totals``; registers
    without any hour in the span are absent."""
    _aware(start, end)
    if not meter_ids:
        return {}
    expected = int((end - start) / timedelta(hours=1))
    rows = conn.execute(
        """
        SELECT mr.meter_id, mr.register, t.*
        FROM meter_registers mr
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(h.volume_micro) FILTER (WHERE h.quality < 3), 0),
                   count(*) FILTER (WHERE h.quality < 3),
                   count(*) FILTER (WHERE h.quality = 0), count(*) FILTER (WHERE h.quality = 1),
                   count(*) FILTER (WHERE h.quality = 2), count(*) FILTER (WHERE h.quality = 3),
                   min(h.hour) AS first_hour, max(h.hour)
            FROM hourly_consumption h
            WHERE h.series_id = mr.series_id AND h.hour >= %s AND h.hour < %s
        ) t
        WHERE mr.meter_id = ANY(%s) AND t.first_hour IS NOT NULL
        """,
        (start, end, list(meter_ids)),
    ).fetchall()
    return {
        (meter, reg): PeriodTotal(
            meter, reg, Decimal(vol) / MICRO, expected, present, me, ip, es, su, first, last
        )
        for meter, reg, vol, present, me, ip, es, su, first, last in rows
    }


def hourly_series_bulk(
    conn: psycopg.Connection,
    keys: Sequence[tuple[str, str]],
    start: datetime,
    end: datetime,
) -> dict[tuple[str, str], HourlyArrays]:
    """Billable hourly volumes of each ``(meter_id, register)`` in ``[start, end)``, ordered by hour.

    Suspect hours (quality 3) are left out; pairs without any billable hour are absent from the result.
    """
    _aware(start, end)
    if not keys:
        return {}
    meters = [k[0] for k in keys]
    registers = [k[1] for k in keys]
    result: dict[tuple[str, str], HourlyArrays] = {}
    with conn.cursor(binary=True) as cur:
        cur.execute(
            """
            SELECT mr.meter_id, mr.register, s.blob
            FROM (SELECT DISTINCT * FROM unnest(%s::text[], %s::text[]) AS k(meter_id, register)) k
            JOIN meter_registers mr ON mr.meter_id = k.meter_id AND mr.register = k.register
            CROSS JOIN LATERAL (
                SELECT string_agg(timestamptz_send(h.hour) || int8send(h.volume_micro), ''::bytea
                                  ORDER BY h.hour) AS blob
                FROM hourly_consumption h
                WHERE h.series_id = mr.series_id AND h.hour >= %s AND h.hour < %s AND h.quality < 3
            ) s
            WHERE s.blob IS NOT NULL
            """,
            (meters, registers, start, end),
        )
        for meter_id, register, blob in cur:
            rows = np.frombuffer(blob, dtype=_HOURLY_DTYPE)
            result[(meter_id, register)] = HourlyArrays(
                rows["hour"].astype(np.int64) + PG_EPOCH_US, rows["volume"].astype(np.int64)
            )
    return result


def register_values_at(
    conn: psycopg.Connection,
    meter_ids: Sequence[str],
    instants: Sequence[datetime],
    *,
    max_age: timedelta = timedelta(days=3),
) -> dict[tuple[str, str], list[RegisterValue | None]]:
    """Value of every cumulative register of ``meter_ids`` at each instant.

    For each instant: the latest reading at or before it and later than ``instant − max_age``, that
    VEE did not flag and the device did not mark bad (quality 2); ``None`` when there is none. Values
    are as the meter reports them (apply the meter's multiplier and rollover yourself).
    """
    _aware(*instants)
    if not meter_ids or not instants:
        return {}
    rows = conn.execute(
        """
        SELECT mr.meter_id, mr.register, b.i, r.value, r.ts
        FROM meter_registers mr
        CROSS JOIN unnest(%s::timestamptz[]) WITH ORDINALITY AS b(at, i)
        LEFT JOIN LATERAL (
            SELECT rd.value, rd.ts FROM reading_values rd
            WHERE rd.series_id = mr.series_id AND rd.ts <= b.at AND rd.ts > b.at - %s::interval
              AND rd.quality < 2
              AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = rd.series_id AND f.ts = rd.ts)
            ORDER BY rd.ts DESC LIMIT 1
        ) r ON true
        WHERE mr.meter_id = ANY(%s) AND mr.cumulative
        """,
        (list(instants), max_age, list(meter_ids)),
    ).fetchall()
    result: dict[tuple[str, str], list[RegisterValue | None]] = {}
    for meter_id, register, i, value, ts in rows:
        values = result.setdefault((meter_id, register), [None] * len(instants))
        if value is not None:
            values[i - 1] = RegisterValue(float(value), ts.astimezone(UTC))
    return result
