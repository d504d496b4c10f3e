"""Maintaining ``hourly_consumption`` from ``readings``: full rebuilds and incremental backfill.

``write_readings`` marks each series it touches in ``series_dirty`` (from/to time of the new rows).
``process_dirty`` recomputes only the affected span of each series:

* ``P`` — the last valid reading before the new data, ``E0`` — the start of ``P``'s hour;
* ``A`` — the last valid reading at or before ``E0`` (so every interval that touches an hour ≥ E0
  starts at ``A`` or later);
* ``N`` — the first previously valid reading after the new data, ``E1`` — the end of ``N``'s hour;
* ``B`` — the first valid reading at or after ``E1``.

Readings ``A … B`` are recomputed, hours ``[E0, E1)`` and flags in ``[A, B]`` are replaced. If ``N``
is no longer valid after the recomputation (the late data changed what counts as valid after it), the
series is recomputed to its end. Readings leave the database as one binary blob per series, and
hourly rows go back as one binary COPY built by numpy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from meterhub.timeseries.daily import refresh_daily, refresh_stale_zones
from meterhub.timeseries.hypertable_dml import DECOMPRESSION_LIMIT, decompression_limit_lifted, delete_hours
from meterhub.timeseries.intervals import (
    CounterEvent,
    EventKind,
    Flag,
    SeriesParams,
    compute_hourly,
)
from meterhub.timeseries.pgbinary import (
    PG_EPOCH_US,
    build_rows,
    row_dtype,
)
from meterhub.timeseries.retention import ceil_hour, first_retained_readings, retention_horizon

log = logging.getLogger(__name__)

OUT_DTYPE = row_dtype(["int4", "timestamptz", "int8", "int2"], ["sid", "hour", "volume", "quality"])
_ROLLUP_LOCK = 0x726F6C6C  # "roll": one rollup writer at a time per database

Progress = Callable[[int, int], None]


@dataclass
class RollupStats:
    series: int = 0
    readings: int = 0
    hours_written: int = 0
    days_written: int = 0  # rows of daily_consumption recomputed
    flags: int = 0
    extended: int = 0
    lifted: int = 0  # batches recomputed with TimescaleDB's decompression limit lifted (see process_dirty)
    seconds: float = 0.0

    def add(self, o: RollupStats) -> None:
        self.series += o.series
        self.readings += o.readings
        self.hours_written += o.hours_written
        self.days_written += o.days_written
        self.flags += o.flags
        self.extended += o.extended
        self.lifted += o.lifted


@dataclass
class Window:
    """Span of one series to recompute; ``None`` means unbounded on that side."""

    sid: int
    a: datetime | None = None
    e0: datetime | None = None
    e1: datetime | None = None
    b: datetime | None = None
    n: datetime | None = None


@dataclass
class _Output:
    sids: list[np.ndarray] = field(default_factory=list)
    hours: list[np.ndarray] = field(default_factory=list)
    volumes: list[np.ndarray] = field(default_factory=list)
    quality: list[np.ndarray] = field(default_factory=list)
    flags: list[tuple[int, int, Flag]] = field(default_factory=list)  # (sid, ts_us, flag)
    resync_lost: list[int] = field(default_factory=list)
    readings: int = 0


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _us(dt: datetime | None) -> int | None:
    """Exact microseconds since the Unix epoch (no float rounding)."""
    return None if dt is None else (dt - _EPOCH) // _MICROSECOND


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def load_params(conn: psycopg.Connection, sids: Sequence[int]) -> dict[int, SeriesParams]:
    rows = conn.execute(
        """
        SELECT mr.series_id, m.multiplier::float8, m.register_digits,
               coalesce(mr.max_per_hour, vr.max_per_hour, vk.max_per_hour)
        FROM meter_registers mr
        JOIN meters m USING (meter_id)
        LEFT JOIN vee_limits vr ON vr.kind = m.kind AND vr.register = mr.register
        LEFT JOIN vee_limits vk ON vk.kind = m.kind AND vk.register = '*'
        WHERE mr.series_id = ANY(%s)
        """,
        (list(sids),),
    ).fetchall()
    return {
        sid: SeriesParams(multiplier=mult, register_digits=digits, max_per_hour=mx)
        for sid, mult, digits, mx in rows
    }


def load_events(conn: psycopg.Connection, sids: Sequence[int]) -> dict[int, list[CounterEvent]]:
    out: dict[int, list[CounterEvent]] = {}
    for sid, ts, kind, before, after in conn.execute(
        "SELECT series_id, ts, kind, value_before, value_after FROM register_events "
        "WHERE series_id = ANY(%s) ORDER BY series_id, ts",
        (list(sids),),
    ):
        out.setdefault(sid, []).append(CounterEvent(_us(ts), EventKind(kind), before, after))  # type: ignore[arg-type]
    return out


_SERIES_DTYPE = np.dtype([("ts", ">i8"), ("value", ">f8"), ("quality", ">i2")])


def _fetch_series(conn: psycopg.Connection) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (series_id, rows) for every window in ``rollup_win``.

    Each series comes back as one ``bytea`` built server-side from the binary send functions
    (8-byte timestamp, 8-byte float, 2-byte quality per reading) and is parsed by numpy in one call:
    COPY OUT would deliver one protocol message per reading, which costs more than the algorithm.
    """
    with conn.cursor(name="rollup_series", binary=True) as cur:
        cur.itersize = 200
        cur.execute(
            """
            SELECT r.series_id,
                   string_agg(timestamptz_send(r.ts) || float8send(r.value) || int2send(r.quality),
                              ''::bytea ORDER BY r.ts)
            FROM reading_values r JOIN rollup_win w ON r.series_id = w.series_id
            WHERE r.ts >= coalesce(w.a_ts, '-infinity') AND r.ts <= coalesce(w.b_ts, 'infinity')
            GROUP BY r.series_id
            """
        )
        for sid, blob in cur:
            yield sid, np.frombuffer(blob, dtype=_SERIES_DTYPE)


def _compute_windows(
    conn: psycopg.Connection,
    windows: dict[int, Window],
    params: dict[int, SeriesParams],
    events: dict[int, list[CounterEvent]],
) -> _Output:
    out = _Output()
    for sid, rows in _fetch_series(conn):
        w = windows[sid]
        ts_us = rows["ts"].astype(np.int64) + PG_EPOCH_US
        a_us, b_us, n_us = _us(w.a), _us(w.b), _us(w.n)
        evs = [
            e
            for e in events.get(sid, ())
            if (a_us is None or e.ts_us >= a_us) and (b_us is None or e.ts_us <= b_us)
        ]
        res = compute_hourly(
            ts_us,
            rows["value"].astype(np.float64),
            rows["quality"].astype(np.int16),
            evs,
            params.get(sid, SeriesParams()),
            emit_from_us=_us(w.e0),
        )
        out.readings += len(rows)
        hours, vol, q = res.hours, res.volume_micro, res.quality
        e1_us = _us(w.e1)
        if e1_us is not None:
            keep = hours < e1_us
            hours, vol, q = hours[keep], vol[keep], q[keep]
        if len(hours):
            out.sids.append(np.full(len(hours), sid, np.int32))
            out.hours.append(hours)
            out.volumes.append(vol)
            out.quality.append(q)
        for f in res.flags:
            out.flags.append((sid, f.ts_us, f))
        if n_us is not None and any(f.ts_us == n_us for f in res.flags):
            out.resync_lost.append(sid)
    return out


def _write(
    conn: psycopg.Connection, windows: Sequence[Window], out: _Output, lost: set[int]
) -> tuple[int, int]:
    """Replace hours and flags of the windows in ``rollup_win`` (except series in ``lost``)."""
    delete_hours(conn, [(w.sid, w.e0, w.e1) for w in windows if w.sid not in lost])
    conn.execute(
        """
        DELETE FROM reading_flags f USING rollup_win w
        WHERE f.series_id = w.series_id
          AND f.ts >= coalesce(w.a_ts, '-infinity') AND f.ts <= coalesce(w.b_ts, 'infinity')
          AND NOT (w.series_id = ANY(%s))
        """,
        (list(lost),),
    )
    hours_written = 0
    if out.sids:
        sids = np.concatenate(out.sids)
        hours = np.concatenate(out.hours)
        vols = np.concatenate(out.volumes)
        qual = np.concatenate(out.quality)
        if lost:
            keep = ~np.isin(sids, np.fromiter(lost, np.int32))
            sids, hours, vols, qual = sids[keep], hours[keep], vols[keep], qual[keep]
        if len(sids):
            lo, hi = int(hours.min()), int(hours.max())
            conn.execute(
                "SELECT meterhub_ensure_partitions('hourly_consumption', %s, %s)",
                (_dt(lo), _dt(hi)),
            )
            payload = build_rows(
                OUT_DTYPE, {"sid": sids, "hour": hours - PG_EPOCH_US, "volume": vols, "quality": qual}
            )
            with (
                conn.cursor() as cur,
                cur.copy(
                    "COPY hourly_consumption (series_id, hour, volume_micro, quality) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.write(payload)
            hours_written = len(sids)
    flags = [(sid, ts, f) for sid, ts, f in out.flags if sid not in lost]
    if flags:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO reading_flags (series_id, ts, reason, detail) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (series_id, ts) "
                "DO UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail, flagged_at = now()",
                [(sid, _dt(ts), f.reason.value, f.detail) for sid, ts, f in flags],
            )
    return hours_written, len(flags)


def _fill_temp_table(conn: psycopg.Connection, name: str, columns: str, rows: Iterable[tuple]) -> None:
    """A transaction-scoped temp table ``name`` (``columns``: the DDL, first one the primary key)
    holding exactly ``rows``."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DELETE ROWS")
    conn.execute(f"TRUNCATE {name}")  # the caller's transaction may be still open
    with conn.cursor() as cur, cur.copy(f"COPY {name} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _load_windows(conn: psycopg.Connection, windows: Sequence[Window]) -> None:
    _fill_temp_table(
        conn,
        "rollup_win",
        "series_id integer PRIMARY KEY, a_ts timestamptz, e0 timestamptz, e1 timestamptz, b_ts timestamptz",
        ((w.sid, w.a, w.e0, w.e1, w.b) for w in windows),
    )


def clamp_windows(conn: psycopg.Connection, windows: Sequence[Window]) -> list[Window]:
    """Windows that never replace hours computed from readings the retention dropped.

    Once readings before a time were dropped (``readings_retention``), a window with no valid reading
    before it (``a`` None: a full rebuild, or new data before every remaining reading) would replace a
    series' hours from its first remaining reading on and delete the older ones. Where such older hours
    exist, the window starts at the end of the hour of the series' first remaining reading instead
    (that hour and the ones before stay as they were computed); a series with no readings left keeps
    its hours. A window with a valid reading before it starts after that reading already.
    """
    horizon = retention_horizon(conn)
    if horizon is None:
        return list(windows)
    open_start = [w.sid for w in windows if w.a is None]
    if not open_start:
        return list(windows)
    first = first_retained_readings(conn, open_start, horizon)
    out = []
    for w in windows:
        if w.a is None:
            if w.sid not in first:
                continue
            r0, older_hours = first[w.sid]
            start = ceil_hour(r0)
            if older_hours and (w.e0 is None or w.e0 < start):
                if w.e1 is not None and w.e1 <= start:
                    continue
                w = Window(w.sid, w.a, start, w.e1, w.b, w.n)
        out.append(w)
    return out


def recompute(conn: psycopg.Connection, windows: Sequence[Window]) -> RollupStats:
    """Recompute the given windows inside the caller's transaction."""
    windows = clamp_windows(conn, windows)
    stats = RollupStats(series=len(windows))
    if not windows:
        return stats
    sids = [w.sid for w in windows]
    params = load_params(conn, sids)
    events = load_events(conn, sids)
    by_sid = {w.sid: w for w in windows}
    _load_windows(conn, windows)
    out = _compute_windows(conn, by_sid, params, events)
    lost = set(out.resync_lost)
    stats.readings += out.readings
    stats.hours_written, stats.flags = _write(conn, windows, out, lost)
    if lost:
        # the late data changed validity after N: recompute those series from A to their end
        stats.extended = len(lost)
        tail = [Window(sid, by_sid[sid].a, by_sid[sid].e0) for sid in sorted(lost)]
        _load_windows(conn, tail)
        out2 = _compute_windows(conn, {w.sid: w for w in tail}, params, events)
        stats.readings += out2.readings
        h2, f2 = _write(conn, tail, out2, set())
        stats.hours_written += h2
        stats.flags += f2
    # the local days of the hours just replaced (a lost series' tail runs to its end)
    stats.days_written = refresh_daily(
        conn, [(w.sid, w.e0, None if w.sid in lost else w.e1) for w in windows]
    )
    return stats


def cumulative_series(conn: psycopg.Connection, meter_ids: Sequence[str] | None = None) -> list[int]:
    if meter_ids is None:
        rows = conn.execute("SELECT series_id FROM meter_registers WHERE cumulative ORDER BY 1").fetchall()
    else:
        rows = conn.execute(
            "SELECT series_id FROM meter_registers WHERE cumulative AND meter_id = ANY(%s) ORDER BY 1",
            (list(meter_ids),),
        ).fetchall()
    return [r[0] for r in rows]


def rebuild(
    conn: psycopg.Connection,
    series_ids: Sequence[int] | None = None,
    *,
    chunk_series: int = 400,
    progress: Progress | None = None,
) -> RollupStats:
    """Recompute the whole hourly series of the given (default: all cumulative) series from scratch.

    Commits per chunk of series so memory stays bounded and progress is durable. A rebuild replaces
    whole series, so on TimescaleDB it must decompress every compressed hour of them: it lifts
    ``timescaledb.max_tuples_decompressed_per_dml_transaction`` for its own transactions, on purpose
    (the compression policy compresses those chunks again later).
    """
    t0 = time.perf_counter()
    sids = list(series_ids) if series_ids is not None else cumulative_series(conn)
    total = RollupStats()
    for i in range(0, len(sids), chunk_series):
        chunk = sids[i : i + chunk_series]
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ROLLUP_LOCK,))
            with decompression_limit_lifted(conn) as lifted:
                total.add(recompute(conn, [Window(s) for s in chunk]))
            total.lifted += lifted
            conn.execute("DELETE FROM series_dirty WHERE series_id = ANY(%s)", (chunk,))
        if progress:
            progress(min(i + chunk_series, len(sids)), len(sids))
    total.seconds = time.perf_counter() - t0
    return total


_WINDOW_SQL = """
WITH d AS (
    SELECT d.series_id, d.from_ts, d.to_ts, p.ts AS p_ts, n.ts AS n_ts
    FROM rollup_dirty d
    LEFT JOIN LATERAL (
        SELECT r.ts FROM readings r
        WHERE r.series_id = d.series_id AND r.ts < d.from_ts AND r.quality < 2
          AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = r.series_id AND f.ts = r.ts)
        ORDER BY r.ts DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (
        SELECT r.ts FROM readings r
        WHERE r.series_id = d.series_id AND r.ts > d.to_ts AND r.quality < 2
          AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = r.series_id AND f.ts = r.ts)
        ORDER BY r.ts LIMIT 1) n ON true
), e AS (
    SELECT d.*, date_bin('1 hour', d.p_ts, 'epoch') AS e0,
           date_bin('1 hour', d.n_ts - interval '1 microsecond', 'epoch') + interval '1 hour' AS e1
    FROM d
)
SELECT e.series_id, a.ts, e.e0, e.e1, b.ts, e.n_ts
FROM e
LEFT JOIN LATERAL (
    SELECT r.ts FROM readings r
    WHERE e.e0 IS NOT NULL AND r.series_id = e.series_id AND r.ts <= e.e0 AND r.quality < 2
      AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = r.series_id AND f.ts = r.ts)
    ORDER BY r.ts DESC LIMIT 1) a ON true
LEFT JOIN LATERAL (
    SELECT r.ts FROM readings r
    WHERE e.e1 IS NOT NULL AND r.series_id = e.series_id AND r.ts >= e.e1 AND r.quality < 2
      AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = r.series_id AND f.ts = r.ts)
    ORDER BY r.ts LIMIT 1) b ON true
"""


def fold_dirty_log(conn: psycopg.Connection) -> int:
    """Move the ingest's dirty log into ``series_dirty`` (min/max per series); returns log rows folded.

    Runs inside the caller's transaction. Log rows appended concurrently after it started stay for
    the next fold.
    """
    cur = conn.execute(
        """
        WITH taken AS (
            DELETE FROM series_dirty_log
            WHERE id IN (SELECT id FROM series_dirty_log ORDER BY id FOR UPDATE SKIP LOCKED)
            RETURNING series_ids, from_ts, to_ts
        ), marks AS (
            SELECT unnest(series_ids) AS series_id, from_ts, to_ts FROM taken
        ), folded AS (
            INSERT INTO series_dirty (series_id, from_ts, to_ts)
            SELECT series_id, min(from_ts), max(to_ts) FROM marks GROUP BY series_id
            ON CONFLICT (series_id) DO UPDATE
            SET from_ts = least(series_dirty.from_ts, EXCLUDED.from_ts),
                to_ts = greatest(series_dirty.to_ts, EXCLUDED.to_ts),
                marked_at = now()
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM taken), (SELECT count(*) FROM folded)
        """
    )
    row = cur.fetchone()
    return int(row[0]) if row else 0


def _recompute_claimed(conn: psycopg.Connection, claimed: list[tuple]) -> RollupStats:
    """Recompute the claimed dirty series over their affected spans and clear their marks."""
    _fill_temp_table(
        conn, "rollup_dirty", "series_id integer PRIMARY KEY, from_ts timestamptz, to_ts timestamptz", claimed
    )
    windows = [Window(sid, a, e0, e1, b, n) for sid, a, e0, e1, b, n in conn.execute(_WINDOW_SQL).fetchall()]
    stats = recompute(conn, windows)
    conn.execute("DELETE FROM series_dirty WHERE series_id = ANY(%s)", ([c[0] for c in claimed],))
    return stats


def process_dirty(
    conn: psycopg.Connection,
    *,
    batch_series: int = 5000,
    progress: Progress | None = None,
) -> RollupStats:
    """Recompute every series marked dirty, only over the affected span; commits per batch.

    Safe to run from several processes: each batch claims its rows with ``FOR UPDATE SKIP LOCKED``.
    On TimescaleDB the rollup works within ``timescaledb.max_tuples_decompressed_per_dml_transaction``:
    its DELETEs name their series and span literally, so a batch decompresses only the compressed
    batches of its own series in the chunks its spans touch. A batch that still needs more (a large
    backfill into compressed hours) is rolled back and done again with the limit lifted for that
    transaction (``RollupStats.lifted``, and a warning in the log).
    """
    t0 = time.perf_counter()
    total = RollupStats()
    with conn.transaction():
        fold_dirty_log(conn)
    # daily rows cut in a zone that is no longer the building's (or never built): rebuild them
    total.days_written += refresh_stale_zones(conn)
    pending = conn.execute("SELECT count(*) FROM series_dirty").fetchone()[0]  # type: ignore[index]
    done = 0
    lift = False
    while True:
        try:
            with conn.transaction():
                claimed = conn.execute(
                    "SELECT series_id, from_ts, to_ts FROM series_dirty ORDER BY series_id "
                    "LIMIT %s FOR UPDATE SKIP LOCKED",
                    (batch_series,),
                ).fetchall()
                if not claimed:
                    break
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ROLLUP_LOCK,))
                if lift:
                    with decompression_limit_lifted(conn) as lifted:
                        total.add(_recompute_claimed(conn, claimed))
                    total.lifted += lifted
                else:
                    total.add(_recompute_claimed(conn, claimed))
        except psycopg.errors.ConfigurationLimitExceeded as exc:
            if lift:
                raise
            # Only a large backfill into compressed hours gets here (history imported late, a gateway
            # back after the compression horizon): the batch needs more decompressed rows than the
            # server allows per transaction. It was rolled back; do it again with the limit lifted
            # for that one transaction, and say so.
            log.warning(
                "rollup: a batch of up to %d series needs more decompressed rows than "
                "%s allows (%s); recomputing it with the limit lifted for this transaction",
                batch_series,
                DECOMPRESSION_LIMIT,
                str(exc).splitlines()[-1] if str(exc) else exc,
            )
            lift = True
            continue
        lift = False
        done += len(claimed)
        if progress:
            progress(done, max(pending, done))
    total.seconds = time.perf_counter() - t0
    return total
