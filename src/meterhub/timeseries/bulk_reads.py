"""Bulk reads for consumers that need many meters at once (the billing close).

Every read is one statement per building: the registers of the meters are looked up once
(:func:`meter_registers_of`), and each read walks the registers as an ``unnest`` of their ids with a
``LATERAL`` sub-query per register that can only be an index scan of ``(series_id, hour)`` or
``(series_id, ts)`` over the period. An earlier ``series_id = ANY(series)`` scan was planned by
PostgreSQL's row estimate (registers × average rows per series): cheap at 35,000 accounts, and a
parallel sequential scan of the whole month (52 million hourly rows, 6.4 s a building) at 350,000; the
lateral form's plan does not depend on the size of the table.

* :func:`period_hourly_bulk` — one pass over the registers' hourly rows in ``[start, end)`` giving
  ``queries.period_totals`` for every register with rows **and**, for the registers asked for, the
  billable hourly series (quality < 3, suspect hours excluded). The registers asked for send their
  rows whole — hour, volume and quality of each, one ``bytea`` per register built server-side from
  the binary send functions — and are totalled by numpy (one pass over all of them); the others are
  totalled by the server's aggregates. A register's rows cost the server ≈ 150 ns each as one
  ``string_agg`` and ≈ 100 ns more as the eight ``FILTER`` aggregates of a total, so the registers
  whose rows are sent anyway are not aggregated as well;
* :func:`period_totals_bulk`, :func:`hourly_series_bulk` — the two halves of it, for callers that need
  only one;
* :func:`register_values_at` — the value of cumulative registers at given instants: the latest valid
  reading at or before each instant, no older than ``max_age`` (monthly or manual readings, where the
  register delta over a period is what is billed); one backward index probe per register and instant
  (``ORDER BY ts DESC LIMIT 1``), so dense 15-minute readings cost no more than monthly ones.

Tariff-agnostic: volumes stay in the register's unit (micro-units for hourly series).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import psycopg

from meterhub.timeseries.pgbinary import PG_EPOCH_US
from meterhub.timeseries.queries import MICRO, PeriodTotal

__all__ = [
    "HourlyArrays",
    "PeriodHourly",
    "Register",
    "RegisterValue",
    "estimated_only_meters",
    "hourly_series_bulk",
    "meter_registers_of",
    "period_hourly_bulk",
    "period_totals_bulk",
    "register_values_at",
]

_HOURLY_ROW = np.dtype([("hour", ">i8"), ("volume", ">i8"), ("quality", ">i2")])
"""One hourly row as the read sends it: ``timestamptz_send(hour) ‖ int8send(volume_micro) ‖
int2send(quality)`` — µs since 2000-01-01, micro-units, the quality code; 18 bytes, big-endian."""

_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

_CUSTOM_PLAN = False
"""The bulk reads are never prepared (psycopg prepares a statement after 5 runs, and the server then
may choose a generic plan): planned with the values, the time bounds prune the partitions (or
TimescaleDB chunks) at plan time. Measured on the earlier ``ANY(series)`` form: a generic plan made the
hourly read of a 350-flat building ≈ 300 ms of server CPU instead of ≈ 30 ms."""


@dataclass(frozen=True)
class HourlyArrays:
    """One register's billable hours: UTC hour starts [µs since 1970] and volumes [micro-units]."""

    hour_starts_us: npt.NDArray[np.int64]
    volume_micro: npt.NDArray[np.int64]


class RegisterValue(NamedTuple):
    """A cumulative register's value at an instant: the reading used and its time (a named tuple: the
    close builds some 2,500 of them a building)."""

    value: float
    ts: datetime


def _aware(*instants: datetime) -> None:
    for t in instants:
        if t.tzinfo is None:
            raise ValueError(f"instant {t.isoformat()} has no time zone; pass UTC-aware datetimes")


class Register(NamedTuple):
    """A meter register and its time series."""

    series_id: int
    meter_id: str
    register: str
    cumulative: bool


def meter_registers_of(conn: psycopg.Connection, meter_ids: Sequence[str]) -> list[Register]:
    """The registers of ``meter_ids`` (one read; pass the result to the bulk reads below to reuse it)."""
    if not meter_ids:
        return []
    rows = conn.execute(
        "SELECT series_id, meter_id, register, cumulative FROM meter_registers WHERE meter_id = ANY(%s) "
        "ORDER BY series_id",
        (list(meter_ids),),
    ).fetchall()
    return [Register(*r) for r in rows]


@dataclass(frozen=True)
class PeriodHourly:
    """What :func:`period_hourly_bulk` read: totals of every (meter, register) with hourly rows in the
    span, and the billable series of those asked for that have billable hours."""

    totals: dict[tuple[str, str], PeriodTotal] = field(default_factory=dict)
    series: dict[tuple[str, str], HourlyArrays] = field(default_factory=dict)
    estimated_only: frozenset[str] = frozenset()
    """With ``skip_estimated_only``: the meters left out because the daily series shows only estimated
    hours for them around the span (their totals and series are absent)."""


def period_hourly_bulk(
    conn: psycopg.Connection,
    meter_ids: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    series_of: Collection[tuple[str, str]] = (),
    registers: Sequence[Register] | None = None,
    skip_estimated_only: bool = False,
) -> PeriodHourly:
    """Totals per (meter, register) over ``[start, end)`` like ``queries.period_totals`` (registers
    without any hour in the span are absent) and the billable hourly series of the (meter, register)
    pairs in ``series_of`` (pairs without a billable hour are absent), in one pass over the rows.

    ``registers``: the registers of ``meter_ids`` already read with :func:`meter_registers_of`.

    ``skip_estimated_only``: leave out the meters whose hours in the span can only be estimated ones
    (:func:`estimated_only_meters`) — a meter read monthly, whose hours the rollup estimates between
    its readings: ≈ 744 rows a register and month that a caller looking for telemetry throws away (the
    close: ≈ 960,000 rows and ≈ 0.5 s of server CPU a 350-flat building, against ≈ 33 daily rows a
    register for the check)."""
    _aware(start, end)
    regs = meter_registers_of(conn, meter_ids) if registers is None else registers
    skipped: frozenset[str] = frozenset()
    if skip_estimated_only and regs:
        skipped = estimated_only_meters(conn, regs, start, end)
        regs = [r for r in regs if r.meter_id not in skipped]
    if not regs:
        return PeriodHourly(estimated_only=skipped)
    wanted = set(series_of)
    by_series = {r.series_id: r for r in regs}
    expected = int((end - start) / timedelta(hours=1))
    totals: dict[tuple[str, str], PeriodTotal] = {}
    series: dict[tuple[str, str], HourlyArrays] = {}
    asked = [r.series_id for r in regs if (r.meter_id, r.register) in wanted]
    others = [r.series_id for r in regs if (r.meter_id, r.register) not in wanted]
    with_rows: list[tuple[Register, bytes]] = []
    with conn.cursor(binary=True) as cur:
        cur.execute(
            """
            SELECT s.id, a.*, NULL::bytea
            FROM unnest(%(others)s::int4[]) AS s(id)
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(h.volume_micro) FILTER (WHERE h.quality < 3), 0),
                       count(*) FILTER (WHERE h.quality < 3),
                       count(*) FILTER (WHERE h.quality = 0), count(*) FILTER (WHERE h.quality = 1),
                       count(*) FILTER (WHERE h.quality = 2), count(*) FILTER (WHERE h.quality = 3),
                       min(h.hour), max(h.hour)
                FROM hourly_consumption h
                WHERE h.series_id = s.id AND h.hour >= %(start)s AND h.hour < %(end)s
                HAVING max(h.hour) IS NOT NULL
            ) AS a
            UNION ALL
            SELECT s.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, a.rows
            FROM unnest(%(asked)s::int4[]) AS s(id)
            CROSS JOIN LATERAL (
                SELECT string_agg(timestamptz_send(h.hour) || int8send(h.volume_micro) || int2send(h.quality),
                                  ''::bytea ORDER BY h.hour) AS rows
                FROM hourly_consumption h
                WHERE h.series_id = s.id AND h.hour >= %(start)s AND h.hour < %(end)s
            ) AS a
            WHERE a.rows IS NOT NULL
            """,
            {"others": _int4_array(others), "asked": _int4_array(asked), "start": start, "end": end},
            prepare=_CUSTOM_PLAN,
        )
        for sid, vol, present, me, ip, es, su, first, last, blob in cur:
            reg = by_series[sid]
            key = (reg.meter_id, reg.register)
            if blob is None:
                totals[key] = PeriodTotal(
                    reg.meter_id,
                    reg.register,
                    Decimal(vol) / MICRO,
                    expected,
                    present,
                    me,
                    ip,
                    es,
                    su,
                    first.astimezone(UTC),
                    last.astimezone(UTC),
                )
            else:
                with_rows.append((reg, blob))
    if with_rows:
        _totals_and_series(with_rows, expected, totals, series)
    return PeriodHourly(totals, series, skipped)


def estimated_only_meters(
    conn: psycopg.Connection, registers: Sequence[Register], start: datetime, end: datetime
) -> frozenset[str]:
    """The meters among ``registers`` whose every register has rows in the daily series
    (``daily_consumption``) around ``[start, end)`` and none of them with a measured, interpolated or
    suspect hour: their hours in the span, if any, are all estimated.

    The daily rows are written by the rollup in the same transaction as the hours they sum, and cut
    in local days of the building's zone; the days looked at are the span's UTC days widened by one
    on each side, which holds every local day that any hour of the span can fall in (UTC offsets are
    below 24 h), also when the daily rows were cut in an earlier zone of the building. A register
    with no daily row there (no hours, or hours written without the rollup) keeps its meter in: the
    check can only leave out meters whose hourly rows would all be estimated ones. One ``LATERAL``
    index probe of ``(series_id, day)`` per register, like the other reads here."""
    _aware(start, end)
    first_day = start.astimezone(UTC).date() - timedelta(days=1)
    last_day = (end - timedelta(microseconds=1)).astimezone(UTC).date() + timedelta(days=1)
    rows = conn.execute(
        """
        SELECT s.id, d.telemetry
        FROM unnest(%(ids)s::int4[]) AS s(id)
        CROSS JOIN LATERAL (
            SELECT bool_or(d.measured_hours > 0 OR d.interpolated_hours > 0 OR d.suspect_hours > 0)
                   AS telemetry
            FROM daily_consumption d
            WHERE d.series_id = s.id AND d.day >= %(first)s AND d.day <= %(last)s
            HAVING count(*) > 0
        ) AS d
        """,
        {"ids": _int4_array(r.series_id for r in registers), "first": first_day, "last": last_day},
        prepare=_CUSTOM_PLAN,
    ).fetchall()
    estimated = {sid for sid, telemetry in rows if not telemetry}
    keep = {r.meter_id for r in registers if r.series_id not in estimated}
    return frozenset(r.meter_id for r in registers if r.meter_id not in keep)


def _int4_array(ids: Iterable[int]) -> str:
    """An ``int4[]`` literal (``{1,2,3}``): psycopg dumps a list of ints element by element in Python."""
    return "{" + ",".join(map(str, ids)) + "}"


def _totals_and_series(
    with_rows: list[tuple[Register, bytes]],
    expected: int,
    totals: dict[tuple[str, str], PeriodTotal],
    series: dict[tuple[str, str], HourlyArrays],
) -> None:
    """Totals and billable series of the registers read whole (each one's rows in the span, in hour
    order), computed as the totals statement computes them: quality < 3 is billable, the qualities
    0–3 are counted apart, the first and last hours are those of any quality. One numpy pass over the
    rows of all the registers (a dozen numpy calls per register would cost more than the rows)."""
    rows = np.frombuffer(b"".join(blob for _, blob in with_rows), dtype=_HOURLY_ROW)
    sizes = np.fromiter(
        (len(blob) // _HOURLY_ROW.itemsize for _, blob in with_rows), np.int64, len(with_rows)
    )
    starts = np.zeros(len(sizes), np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    quality = rows["quality"]
    hours = rows["hour"].astype(np.int64)
    volumes = rows["volume"].astype(np.int64)
    firsts = hours[starts].tolist()
    lasts = hours[starts + sizes - 1].tolist()
    lowest, highest = int(quality.min()), int(quality.max())
    if lowest >= 0 and highest <= 3:  # the stored codes: one count of (register, quality) pairs
        register_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        by_quality = np.bincount(register_of * 4 + quality, minlength=4 * len(sizes)).reshape(-1, 4)
        measured, interpolated, estimated, suspect = by_quality.T.tolist()
        present = (by_quality[:, 0] + by_quality[:, 1] + by_quality[:, 2]).tolist()
    else:  # codes outside 0–3 (none are written): counted as the SQL filters count them
        present, measured, interpolated, estimated, suspect = (
            np.add.reduceat(flags.astype(np.int64), starts).tolist()
            for flags in (quality < 3, quality == 0, quality == 1, quality == 2, quality == 3)
        )
    if highest < 3:  # every hour billable (no suspect hour): the arrays as they are
        sums = _exact_sums(volumes, starts, sizes)
        kept_hours = hours
        kept_hours += PG_EPOCH_US
        kept_volumes = volumes
    else:
        billable = quality < 3
        sums = _exact_sums(np.where(billable, volumes, 0), starts, sizes)
        kept_hours = hours[billable] + PG_EPOCH_US
        kept_volumes = volumes[billable]
    at = 0
    for i, (reg, _) in enumerate(with_rows):
        key = (reg.meter_id, reg.register)
        totals[key] = PeriodTotal(
            reg.meter_id,
            reg.register,
            Decimal(sums[i]) / MICRO,
            expected,
            present[i],
            measured[i],
            interpolated[i],
            estimated[i],
            suspect[i],
            _PG_EPOCH + timedelta(microseconds=firsts[i]),
            _PG_EPOCH + timedelta(microseconds=lasts[i]),
        )
        if present[i]:
            n = present[i]
            series[key] = HourlyArrays(kept_hours[at : at + n], kept_volumes[at : at + n])
            at += n


def _exact_sums(
    values: npt.NDArray[np.int64], starts: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64]
) -> list[int]:
    """The sums of the segments ``values[start : start + size]`` as Python ints (numpy's int64 sum
    wraps around past 2**63; PostgreSQL's ``sum(bigint)`` is a ``numeric`` and does not)."""
    bound = max(-int(values.min()), int(values.max()))
    if bound < (1 << 62) // int(sizes.max()):  # every |sum| < 2**62: the int64 sums cannot wrap
        return np.add.reduceat(values, starts).tolist()
    return [
        sum(int(v) for v in values[a : a + n]) for a, n in zip(starts.tolist(), sizes.tolist(), strict=True)
    ]


def period_totals_bulk(
    conn: psycopg.Connection, meter_ids: Sequence[str], start: datetime, end: datetime
) -> dict[tuple[str, str], PeriodTotal]:
    """Totals per (meter, register) over ``[start, end)`` like ``queries.period_totals``; registers
    without any hour in the span are absent."""
    if not meter_ids:
        _aware(start, end)
        return {}
    return period_hourly_bulk(conn, meter_ids, start, end).totals


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
    wanted = set(keys)
    regs = [
        r
        for r in meter_registers_of(conn, sorted({k[0] for k in keys}))
        if (r.meter_id, r.register) in wanted
    ]
    return period_hourly_bulk(conn, [], start, end, series_of=wanted, registers=regs).series


def register_values_at(
    conn: psycopg.Connection,
    meter_ids: Sequence[str],
    instants: Sequence[datetime],
    *,
    max_age: timedelta = timedelta(days=3),
    registers: Sequence[Register] | None = None,
) -> dict[tuple[str, str], list[RegisterValue | None]]:
    """Value of every cumulative register of ``meter_ids`` at each instant.

    For each instant: the latest reading at or before it and later than ``instant − max_age``, that
    VEE did not flag and the device did not mark bad (quality 2); ``None`` when there is none. Values
    are as the meter reports them (apply the meter's multiplier and rollover yourself).

    ``registers``: the registers of ``meter_ids`` already read with :func:`meter_registers_of` (only
    those of ``meter_ids`` are used).
    """
    _aware(*instants)
    if not meter_ids or not instants:
        return {}
    if registers is None:
        registers = meter_registers_of(conn, meter_ids)
    else:
        selected = set(meter_ids)
        registers = [r for r in registers if r.meter_id in selected]
    regs = {r.series_id: r for r in registers if r.cumulative}
    if not regs:
        return {}
    at_utc = [t.astimezone(UTC) for t in instants]
    with conn.cursor(binary=True) as cur:
        cur.execute(
            """
            SELECT s.id, t.i, r.ts, r.value
            FROM unnest(%(ids)s::int4[]) AS s(id)
            CROSS JOIN unnest(%(at)s::timestamptz[]) WITH ORDINALITY AS t(at, i)
            CROSS JOIN LATERAL (
                SELECT rd.ts, rd.value FROM reading_values rd
                WHERE rd.series_id = s.id AND rd.ts > t.at - %(max_age)s AND rd.ts <= t.at
                  AND rd.quality < 2
                  AND NOT EXISTS (SELECT 1 FROM reading_flags f
                                  WHERE f.series_id = rd.series_id AND f.ts = rd.ts)
                ORDER BY rd.ts DESC
                LIMIT 1
            ) AS r
            """,
            {"ids": _int4_array(sorted(regs)), "at": at_utc, "max_age": max_age},
            prepare=_CUSTOM_PLAN,
        )
        rows = cur.fetchall()
    picked_of: dict[int, list[RegisterValue | None]] = {sid: [None] * len(instants) for sid in regs}
    make = RegisterValue._make  # tuple.__new__, without the Python frame of the named tuple's own __new__
    for sid, i, ts, value in rows:
        if value is not None:  # the latest reading has no number: no value at that instant
            picked_of[sid][i - 1] = make((float(value), ts.astimezone(UTC)))
    result: dict[tuple[str, str], list[RegisterValue | None]] = {}
    for sid, reg in regs.items():
        result[(reg.meter_id, reg.register)] = picked_of[sid]
    return result
