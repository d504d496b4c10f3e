"""Idempotent bulk ingest of readings: binary COPY into a staging table, then
``INSERT … ON CONFLICT DO NOTHING`` into ``readings``.

Re-sending a batch changes nothing. Every rejected reading goes to ``dead_letters`` with the raw
reading and a reason; the rest of the batch still lands. The accepted series are marked for hourly
recomputation (``series_dirty``) in the same transaction.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from meterhub.core.readings import QUALITY_CODE, SOURCE_CODE, Reading, ReadingQuality, ReadingSource
from meterhub.timeseries.batch_decoder import PG_EPOCH, ColumnarBatch
from meterhub.timeseries.deadletter import DeadLetter, write_dead_letters
from meterhub.timeseries.pgbinary import HEADER, NULL, TRAILER, fill_rows, row_dtype
from meterhub.timeseries.values import POW10, SAFE, encode_value, encode_values


class Reason:
    """Machine-readable rejection reasons (``dead_letters.reason``)."""

    UNKNOWN_METER = "unknown_meter"
    UNKNOWN_REGISTER = "unknown_register"
    UNIT_MISMATCH = "unit_mismatch"
    NON_FINITE_VALUE = "non_finite_value"
    NOT_A_NUMBER = "not_a_number"
    NAIVE_TIMESTAMP = "naive_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_OLD = "too_old"
    BAD_QUALITY_CODE = "bad_quality_code"
    CONFLICTING_VALUE = "conflicting_value"


@dataclass
class WriteResult:
    """What happened to a batch: ``inserted + duplicates + rejected == len(batch)``."""

    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: WriteResult) -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v


def _reading_payload(r: Any) -> bytes:
    def enc(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, float) and not math.isfinite(v):
            return repr(v)
        return v if isinstance(v, str | int | float | bool | type(None)) else repr(v)

    fields = ("meter_id", "register", "ts", "value", "unit", "quality", "source")
    return json.dumps({f: enc(getattr(r, f, None)) for f in fields}, ensure_ascii=False).encode()


_STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS staging_readings (
    series_id integer NOT NULL,
    ts timestamptz NOT NULL,
    value_int bigint,
    value_scale smallint NOT NULL,
    value_float double precision,
    quality smallint NOT NULL,
    source smallint NOT NULL,
    ord integer NOT NULL
) ON COMMIT DELETE ROWS
"""

# new rows of a re-delivered batch (``{}``: _skip_stored's condition); the ord of each inserted one
_INSERT_NEW_ROWS = """
WITH ins AS (
    INSERT INTO readings (series_id, ts, value_int, value_scale, value_float, quality, source)
    SELECT series_id, ts, value_int, value_scale, value_float, quality, source FROM (
        SELECT DISTINCT ON (series_id, ts) * FROM staging_readings ORDER BY series_id, ts, ord
    ) s
    {}
    ORDER BY series_id, ts
    ON CONFLICT (series_id, ts) DO NOTHING
    RETURNING series_id, ts
)
SELECT min(s.ord) FROM ins JOIN staging_readings s USING (series_id, ts)
GROUP BY s.series_id, s.ts
"""

_PG_TYPES = ["int4", "timestamptz", "int8", "int2", "float8", "int2", "int2"]
_COLUMNS = ["series_id", "ts", "value_int", "value_scale", "value_float", "quality", "source"]
# decoded messages whose values all have an integer form (value_float NULL)
_BINARY_ROW = row_dtype(["int4", "timestamptz", "int8", "int2", NULL, "int2", "int2"], _COLUMNS)
_COPY_READINGS = f"COPY readings ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_QUALITY_CODES = frozenset(int(q) for q in ReadingQuality)
_SOURCE_CODES = frozenset(int(s) for s in ReadingSource)
# (series id, ts, value_int, value_scale, value_float, quality, source): the stored form (values.py)
_Row = tuple[int, datetime, int | None, int, float | None, int, int]
_Entry = tuple[int, str, bool, str | None, int, float]  # series, unit, cumulative, building, scale, 10^scale


class ReadingWriter:
    """Writes batches of ``Reading`` over one connection, caching (meter, register) → series.

    ``clock`` returns the current UTC time (injected so tests can freeze it).
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_future: timedelta = timedelta(days=1),
        earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC),
        source_name: str = "write_readings",
        cache_limit: int = 2_000_000,
    ) -> None:
        self.conn = conn
        self.clock = clock
        self.max_future = max_future
        self.earliest = earliest
        self.source_name = source_name
        self.cache_limit = cache_limit
        # (meter, register) -> (series id, unit, cumulative, building of the meter, value scale, 10^scale)
        self._series: dict[tuple[str, str], _Entry] = {}
        self._known_meters: set[str] = set()
        self._cumulative: set[int] = set()  # series ids of cumulative registers (hourly rollup)
        self._months: set[tuple[int, int]] = set()
        self._staging_ready = False
        self._timescaledb: bool | None = None  # readings are a hypertable (see _skip_stored)

    # --- lookups -------------------------------------------------------------------------------
    def look_up(self, keys: Iterable[tuple[str, str]]) -> None:
        """Cache the series of these (meter, register) keys ahead of writing (one query for all)."""
        self._resolve(set(keys))

    def _resolve(self, keys: set[tuple[str, str]]) -> None:
        missing = [k for k in keys if k not in self._series]
        if not missing:
            return
        if len(self._series) + len(missing) > self.cache_limit:
            self._series.clear()
            self._known_meters.clear()
            self._cumulative.clear()
        meters = sorted({m for m, _ in missing})
        rows = self.conn.execute(
            # the building by a scalar subquery: an index lookup per register (a join here made the
            # planner hash all of `meters`, 40–80 ms per lookup at 100k meters)
            "SELECT mr.meter_id, mr.register, mr.series_id, mr.unit, mr.cumulative, "
            "(SELECT m.building_id FROM meters m WHERE m.meter_id = mr.meter_id), mr.value_decimals "
            "FROM meter_registers mr WHERE mr.meter_id = ANY(%s)",
            (meters,),
        ).fetchall()
        for meter_id, register, sid, unit, cumulative, building, scale in rows:
            self._series[(meter_id, register)] = (sid, unit, cumulative, building, scale, POW10[scale])
            self._known_meters.add(meter_id)
            if cumulative:
                self._cumulative.add(sid)

    def prepare_partitions(self, lo: datetime, hi: datetime) -> None:
        """Make the partitions for readings in [lo, hi] in a transaction of their own, committed now.

        Call it before the data transaction: ``CREATE TABLE … PARTITION OF`` takes an exclusive lock
        on ``readings`` that a transaction holds until it ends, so made inside a writer's transaction
        it would block every other writer until that commit, and deadlock with any of them holding a
        lock the first one waits for. Times outside what ``write`` accepts are clamped to it. Inside
        a transaction already open this only ensures the partitions (nothing is committed).
        """
        lo = max(lo, self.earliest)
        hi = min(hi, self.clock() + self.max_future)
        if lo > hi:
            return
        months = {(lo.year, lo.month), (hi.year, hi.month)}
        if months <= self._months:
            return
        idle = self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        self._ensure_partitions(lo, hi)
        if idle:
            self.conn.commit()

    def _ensure_partitions(self, lo: datetime, hi: datetime) -> None:
        months = {(lo.year, lo.month), (hi.year, hi.month)}
        if months <= self._months:
            return
        self.conn.execute("SELECT meterhub_ensure_partitions('readings', %s, %s)", (lo, hi))
        y, m = lo.year, lo.month
        while (y, m) <= (hi.year, hi.month):
            self._months.add((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)

    # --- the write ---------------------------------------------------------------------------
    def write(self, batch: Iterable[Reading], *, context: Mapping[str, Any] | None = None) -> WriteResult:
        """Validate and insert one batch in one transaction; return the counts.

        The accepted rows are first COPYed straight into ``readings`` inside a savepoint; if the
        batch holds a key that is already stored (a re-delivery), that attempt is rolled back and the
        rows go through the staging table with ``INSERT … ON CONFLICT DO NOTHING``. New data — the
        normal case — thus costs one COPY, and re-sent data is still harmless.
        """
        return self.write_many([(batch if isinstance(batch, list) else list(batch), context)])[0]

    def prepare_columns(self, cb: ColumnarBatch, building: str | None) -> PreparedColumns | None:
        """COPY-ready rows of a decoded message (``batch_decoder.ColumnarBatch``) of one building.

        The ingest's fast path. The decoder already checked the contract; what is left — each key is a
        known series of a meter of ``building`` in the registered unit, the message's time window — is
        checked once per distinct key, and the rows are built with numpy. None if anything fails; the
        caller then goes the slow way (``cb.readings()`` through ``write``), which says what is wrong
        with which reading.
        """
        latest = self.clock() + self.max_future
        if not (self.earliest <= cb.first and cb.last <= latest):
            return None
        entries = self._entries(cb.keys)
        if entries is None:
            self._resolve({(k[0], k[1]) for k in cb.keys})
            entries = self._entries(cb.keys)
            if entries is None:
                return None
        sid = np.empty(len(entries), np.int32)
        floor = np.empty(len(entries), np.int16)
        quality = np.empty(len(entries), np.int16)
        source = np.empty(len(entries), np.int16)
        qc, sc = QUALITY_CODE, SOURCE_CODE
        for i, (e, (_m, _r, unit, q, src)) in enumerate(zip(entries, cb.keys, strict=True)):
            if e[3] != building or (unit and unit != e[1]):
                return None
            sid[i], floor[i], quality[i], source[i] = e[0], e[4], qc[q], sc[src]
        idx = cb.key_index
        value_int, value_scale, exact = encode_values(cb.values, floor[idx])
        if not exact.all():  # a value without an exact decimal form: stored as a double, the slow way
            return None
        rows = fill_rows(
            _BINARY_ROW,
            {
                "series_id": sid[idx],
                "ts": cb.ts_us,
                "value_int": value_int,
                "value_scale": value_scale,
                "quality": quality[idx],
                "source": source[idx],
            },
        )
        return PreparedColumns(rows, {int(x) for x in sid}, cb.first, cb.last)

    def _entries(self, keys: Sequence[tuple[str, ...]]) -> list[_Entry] | None:
        get = self._series.get
        entries = [get((k[0], k[1])) for k in keys]
        return None if None in entries else entries  # type: ignore[return-value]

    def write_many(
        self, batches: Sequence[tuple[list[Reading] | PreparedColumns, Mapping[str, Any] | None]]
    ) -> list[WriteResult]:
        """Write several batches (e.g. the MQTT messages of one commit) with one COPY; counts per batch.

        A batch is either ``Reading`` objects (validated here) or ``PreparedColumns`` from
        ``prepare_columns`` (sent as one block of binary rows). Dead letters carry each batch's own
        context.

        Readings are validated chunk by chunk *while* the COPY streams: the server parses and inserts
        one chunk on the other core while Python checks the next, instead of the two taking turns. A
        chunk that fails the common-case check waits until the COPY is done (sorting it out may need
        the database) and goes in a second COPY in the same savepoint.
        """
        now = self.clock()
        latest = now + self.max_future
        units = self._units(batches, latest)
        results = [WriteResult() for _ in batches]
        counts = [0] * len(batches)  # accepted rows per batch
        rejects: list[DeadLetter] = []
        reject_owner: list[int] = []
        with self.conn.transaction():
            order, inserted_rows, conflicts = self._insert_units(units, batches, now, latest)
            for u in order:
                counts[u.batch] += u.count()
            for u in units:
                rejects += u.rejects
                reject_owner += [u.batch] * len(u.rejects)
            if isinstance(inserted_rows, range):  # the direct COPY: every row went in
                for i, r in enumerate(results):
                    r.inserted = counts[i]
            else:
                owner_of = _owner_lookup([u.count() for u in order])
                for row_index in inserted_rows:
                    results[order[owner_of(row_index)].batch].inserted += 1
                for row_index, conflict in conflicts:
                    i = order[owner_of(row_index)].batch
                    rejects.append(self._dead_letter(*conflict, context=batches[i][1]))
                    reject_owner.append(i)
                    counts[i] -= 1  # an accepted row, then refused against the stored value
            if rejects:
                write_dead_letters(self.conn, rejects)
        for d, i in zip(rejects, reject_owner, strict=True):
            r = results[i]
            r.rejected += 1
            r.reasons[d.reason] = r.reasons.get(d.reason, 0) + 1
        for i, r in enumerate(results):
            r.duplicates = counts[i] - r.inserted
        return results

    def _units(
        self,
        batches: Sequence[tuple[list[Reading] | PreparedColumns, Mapping[str, Any] | None]],
        latest: datetime,
    ) -> list[_Unit]:
        """Cut the batches into chunks; find each chunk's time window (for the partitions) up front.

        The first chunk of each batch is checked before the COPY: if its series are not all cached
        the whole batch's are looked up now, while the connection is still free for queries.
        """
        units: list[_Unit] = []
        earliest = self.earliest
        for i, (batch, _context) in enumerate(batches):
            if isinstance(batch, PreparedColumns):
                if len(batch.rows):
                    units.append(_Unit(i, None, prepared=batch, lo=batch.first, hi=batch.last))
                continue
            for k in range(0, len(batch), _CHUNK):
                chunk = batch[k : k + _CHUNK]
                u = _Unit(i, chunk)
                try:
                    ts = [r.ts for r in chunk]
                    lo, hi = max(min(ts), earliest), min(max(ts), latest)
                except (TypeError, AttributeError):  # naive or missing timestamps: the slow path
                    u.slow = True
                else:
                    if lo <= hi:
                        u.lo, u.hi = lo, hi
                    else:  # nothing in the window: every reading is rejected, the slow path says why
                        u.slow = True
                if k == 0 and not u.slow:
                    probe = self._valid_rows(chunk, latest)
                    if len(probe) != len(chunk):
                        self._resolve({(r.meter_id, r.register) for r in batch})
                units.append(u)
        return units

    def _insert_units(
        self,
        units: list[_Unit],
        batches: Sequence[tuple[Any, Mapping[str, Any] | None]],
        now: datetime,
        latest: datetime,
    ) -> tuple[list[_Unit], Iterable[int], list[tuple[int, tuple[Any, str, str]]]]:
        """COPY the units; return them in the order their rows were written, the indexes of the rows
        inserted (a ``range`` when all were) and (row index, conflict) pairs."""
        conn = self.conn
        windows = [(u.lo, u.hi) for u in units if u.lo is not None and u.hi is not None]
        if windows:
            self._ensure_partitions(min(w[0] for w in windows), max(w[1] for w in windows))
        order: list[_Unit] = []
        try:
            with conn.transaction():  # a savepoint: a duplicate key rolls back only this attempt
                blocks = [u for u in units if u.prepared is not None]
                if blocks:  # decoded messages: rows already laid out as binary COPY rows
                    with conn.cursor() as cur, cur.copy(_COPY_READINGS) as copy:
                        copy.write(HEADER)
                        for u in blocks:
                            copy.write(u.prepared.rows.tobytes())  # type: ignore[union-attr]
                        copy.write(TRAILER)
                    order += blocks
                checking = [u for u in units if u.prepared is None]
                if checking:
                    with conn.cursor() as cur, cur.copy(_COPY_READINGS) as copy:
                        copy.set_types(_PG_TYPES)
                        write = copy.write_row
                        for u in checking:
                            if u.rows is None and not u.slow:
                                rows = self._valid_rows(u.readings or [], latest)
                                if len(rows) == len(u.readings or ()):
                                    u.rows, u.exact = rows, True
                            if u.rows is not None:
                                for row in u.rows:
                                    write(row)
                                order.append(u)
                pending = self._validate_pending(units, batches, now, latest)
                if pending:
                    self._ensure_partitions_for(pending)
                    with conn.cursor() as cur, cur.copy(_COPY_READINGS) as copy:
                        copy.set_types(_PG_TYPES)
                        for u in pending:
                            for row in u.rows or ():
                                copy.write_row(row)
                    order += pending
            inserted: Iterable[int] = range(sum(u.count() for u in order))
            conflicts: list[tuple[int, tuple[Any, str, str]]] = []
        except psycopg.errors.UniqueViolation:  # a re-delivery: every row goes through staging
            self._validate_pending(units, batches, now, latest)
            # input order: of a key repeated within the call, the first occurrence is the one inserted
            order = [u for u in units if u.rows is not None or u.prepared is not None]
            self._months.clear()  # partitions made inside the rolled-back savepoint are gone again
            self._ensure_partitions_for(order)
            inserted, conflicts = self._insert_via_staging([row for u in order for row in u.row_tuples()])
        if inserted:
            self._mark_dirty([u.span() for u in order if u.count()])
        return order, inserted, conflicts

    def _validate_pending(
        self,
        units: list[_Unit],
        batches: Sequence[tuple[Any, Mapping[str, Any] | None]],
        now: datetime,
        latest: datetime,
    ) -> list[_Unit]:
        """Sort out the chunks the COPY skipped, reading by reading (may query the database)."""
        pending = [u for u in units if u.rows is None and u.readings is not None]
        for u in pending:
            rows, u.rejects = self._validate(u.readings or [], batches[u.batch][1], now, latest)
            u.rows = rows
        return pending

    def _ensure_partitions_for(self, units: Iterable[_Unit]) -> None:
        times = [u.times() for u in units if u.count()]
        if times:
            self._ensure_partitions(min(t[0] for t in times), max(t[1] for t in times))

    def _dead_letter(
        self, r: Any, reason: str, detail: str, *, context: Mapping[str, Any] | None
    ) -> DeadLetter:
        ts = getattr(r, "ts", None)
        return DeadLetter(
            source=self.source_name,
            reason=reason,
            detail=detail,
            payload=_reading_payload(r),
            meter_id=str(getattr(r, "meter_id", "")) or None,
            register=str(getattr(r, "register", "")) or None,
            ts=ts if isinstance(ts, datetime) and ts.tzinfo is not None else None,
            context=dict(context) if context else None,
        )

    def _validate(
        self, batch: list[Reading], context: Mapping[str, Any] | None, now: datetime, latest: datetime
    ) -> tuple[list[_Row], list[DeadLetter]]:
        """Split a batch into rows to insert and dead letters.

        The common case — every reading valid — is checked in one list comprehension; only a batch
        with a problem is walked reading by reading to sort out what is wrong with which one.
        """
        rows = self._valid_rows(batch, latest)
        rejects: list[DeadLetter] = []
        if len(rows) != len(batch):
            # something is unusual: look up series not cached yet, then sort out each reading
            self._resolve({(r.meter_id, r.register) for r in batch})
            rows = self._valid_rows(batch, latest)
            if len(rows) != len(batch):
                rows, rejects = self._validate_each(batch, context, now, latest)
        return rows, rejects

    def _valid_rows(self, batch: list[Reading], latest: datetime) -> list[_Row]:
        """Rows of the readings that pass every check of the common case (one comprehension).

        The common case includes a value that is exact at its register's scale (``values.py``); any
        other finite value takes the reading-by-reading path, which finds its stored form.
        """
        get = self._series.get
        earliest = self.earliest
        qualities, sources = _QUALITY_CODES, _SOURCE_CODES
        safe = SAFE
        return [
            (e[0], t, m, e[4], None, r.quality, r.source)
            for r in batch
            if (e := get((r.meter_id, r.register))) is not None
            and type(v := r.value) is float
            and -safe < (x := v * e[5]) < safe  # finite, and an exact integer when rounded
            and (m := round(x)) / e[5] == v
            and type(t := r.ts) is datetime
            and t.tzinfo is not None
            and earliest <= t <= latest
            and r.quality in qualities
            and r.source in sources
            and (not r.unit or r.unit == e[1])
        ]

    def _validate_each(
        self, batch: list[Reading], context: Mapping[str, Any] | None, now: datetime, latest: datetime
    ) -> tuple[list[_Row], list[DeadLetter]]:
        """The slow path: every reading on its own, with the reason for each one rejected."""
        rows: list[_Row] = []
        rejects: list[DeadLetter] = []
        for r in batch:
            entry = self._series.get((r.meter_id, r.register))
            problem = self._problem(r, entry, now, latest)
            if problem is None:
                sid, floor = entry[0], entry[4]  # type: ignore[index]
                rows.append(
                    (
                        sid,
                        r.ts.astimezone(UTC),
                        *encode_value(float(r.value), floor),
                        int(r.quality),
                        int(r.source),
                    )
                )
            else:
                rejects.append(self._dead_letter(r, *problem, context=context))
        return rows, rejects

    def _problem(
        self, r: Reading, entry: _Entry | None, now: datetime, latest: datetime
    ) -> tuple[str, str] | None:
        """Why a reading is rejected (reason, what to do), or None if it is acceptable."""
        ts, v = r.ts, r.value
        if not isinstance(ts, datetime) or ts.tzinfo is None or ts.utcoffset() is None:
            return Reason.NAIVE_TIMESTAMP, (
                f"timestamp {ts!r} has no time zone; send ISO 8601 with an offset (2026-01-31T21:00:00Z)"
            )
        if ts > latest:
            return Reason.FUTURE_TIMESTAMP, (
                f"timestamp {ts.isoformat()} is more than {self.max_future} ahead of the server clock "
                f"({now.isoformat()}); check the gateway/meter clock"
            )
        if ts < self.earliest:
            return (
                Reason.TOO_OLD,
                f"timestamp {ts.isoformat()} is before {self.earliest.date()}; check the meter clock",
            )
        if isinstance(v, bool) or not isinstance(v, int | float):
            return Reason.NOT_A_NUMBER, f"value {v!r} is not a number"
        if not math.isfinite(v):
            return Reason.NON_FINITE_VALUE, f"value {v!r} is not finite"
        if r.quality not in _QUALITY_CODES or r.source not in _SOURCE_CODES:
            return Reason.BAD_QUALITY_CODE, f"quality {r.quality!r} / source {r.source!r} is not a known code"
        if entry is None:
            if r.meter_id in self._known_meters:
                return Reason.UNKNOWN_REGISTER, (
                    f"meter {r.meter_id!r} has no register {r.register!r}; add it to the meter first"
                )
            return Reason.UNKNOWN_METER, (
                f"meter {r.meter_id!r} is not registered; register the meter before its readings"
            )
        if r.unit and r.unit != entry[1]:
            return Reason.UNIT_MISMATCH, (
                f"register {r.register!r} of {r.meter_id!r} is in {entry[1]}, the reading says {r.unit}"
            )
        return None

    def _mark_dirty(self, spans: list[_Span]) -> None:
        """Log the cumulative series of each batch with its span (see migration 0005)."""
        cumulative = self._cumulative
        # batches of one commit with the same span (a poll cycle of many gateways) share one log row
        by_span: dict[tuple[datetime, datetime], set[int]] = {}
        for sp in spans:
            if sids := sp.series & cumulative:
                key = (sp.first, sp.last)
                if key in by_span:
                    by_span[key] |= sids
                else:
                    by_span[key] = sids
        if not by_span:
            return
        # the id list as an array literal: psycopg's generic list dumper costs ~1 µs per element
        marks = [("{" + ",".join(map(str, sids)) + "}", lo, hi) for (lo, hi), sids in by_span.items()]
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO series_dirty_log (series_ids, from_ts, to_ts) VALUES (%s::int4[], %s, %s)",
                marks,
            )

    def _skip_stored(self, rows: list[_Row]) -> sql.Composable:
        """On TimescaleDB, a condition that leaves out keys already stored before the INSERT.

        An INSERT that meets a compressed row makes TimescaleDB decompress that series' whole batch
        into the chunk to check the key; a plain read does not, so a re-sent week stays compressed
        (docs/timeseries.md). The batch's time span as literals keeps the lookup to its chunks. On plain
        PostgreSQL ``ON CONFLICT`` alone is cheaper (bench_ingest: re-sent 0.16 × raw COPY against 0.09).
        """
        if self._timescaledb is None:
            self._timescaledb = (
                self.conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
                is not None
            )
        if not self._timescaledb or not rows:
            return sql.SQL("")
        lo, hi = min(r[1] for r in rows), max(r[1] for r in rows)
        return sql.SQL(
            "WHERE NOT EXISTS (SELECT FROM readings r WHERE r.series_id = s.series_id AND r.ts = s.ts "
            "AND r.ts >= {} AND r.ts <= {})"
        ).format(sql.Literal(lo), sql.Literal(hi))

    def _insert_via_staging(
        self, rows: list[_Row]
    ) -> tuple[list[int], list[tuple[int, tuple[Any, str, str]]]]:
        conn = self.conn
        if not self._staging_ready:
            conn.execute(_STAGING_DDL)
            self._staging_ready = True
        else:
            # empty already if the last batch committed; not if the caller holds a transaction open
            conn.execute("TRUNCATE staging_readings")
        with conn.cursor() as cur:
            with cur.copy(
                f"COPY staging_readings ({', '.join(_COLUMNS)}, ord) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types([*_PG_TYPES, "int4"])
                for i, row in enumerate(rows):
                    copy.write_row((*row, i))
            # DISTINCT ON keeps the first row of a key repeated within the batch: that one is inserted.
            cur.execute(sql.SQL(_INSERT_NEW_ROWS).format(self._skip_stored(rows)))
            inserted = [r[0] for r in cur.fetchall()]
            conflicts: list[tuple[int, tuple[Any, str, str]]] = []
            # a key already stored with another value: keep the stored one, report the new one. The
            # batch's time span as literals keeps the read of stored rows to the chunks and compressed
            # batches it can meet: joined without them, TimescaleDB decompressed and sorted every
            # compressed row of the table for each re-sent batch (docs/timeseries.md).
            lo, hi = min(map(_TS, rows)), max(map(_TS, rows))
            cur.execute(
                sql.SQL(
                    """
                SELECT s.ord, mr.meter_id, mr.register, s.ts, s.value, r.value, s.quality, s.source
                FROM (SELECT *, meterhub_reading_value(value_int, value_scale, value_float) AS value
                      FROM staging_readings) s
                JOIN reading_values r ON r.series_id = s.series_id AND r.ts = s.ts
                JOIN meter_registers mr ON mr.series_id = s.series_id
                WHERE r.value IS DISTINCT FROM s.value AND r.ts >= {} AND r.ts <= {}
                """
                ).format(sql.Literal(lo), sql.Literal(hi))
            )
            for ord_, meter_id, register, ts, new, old, q, src in cur.fetchall():
                rd = Reading(
                    meter_id, register, ts, new, quality=ReadingQuality(q), source=ReadingSource(src)
                )
                conflicts.append(
                    (
                        ord_,
                        (
                            rd,
                            Reason.CONFLICTING_VALUE,
                            f"{meter_id}/{register} at {ts.isoformat()} is already stored as {old}; "
                            f"the new value {new} was not applied (record a correction instead)",
                        ),
                    )
                )
        return inserted, conflicts


_TS = operator.itemgetter(1)


_CHUNK = 4096  # readings validated per step while the COPY streams


@dataclass(slots=True)
class _Unit:
    """A chunk of one batch on its way into the COPY: readings to check, or rows already checked."""

    batch: int
    readings: list[Reading] | None
    rows: list[_Row] | None = None
    prepared: PreparedColumns | None = None
    rejects: list[DeadLetter] = field(default_factory=list)
    lo: datetime | None = None
    hi: datetime | None = None
    slow: bool = False  # known to need the reading-by-reading path
    exact: bool = False  # every reading became a row: lo/hi are the rows' own first and last time

    def count(self) -> int:
        return len(self.prepared.rows) if self.prepared is not None else len(self.rows or ())

    def row_tuples(self) -> list[_Row]:
        return self.prepared.tuples() if self.prepared is not None else self.rows or []

    def span(self) -> _Span:
        """What the rollup must recompute for the unit's rows: their series over their time span.

        A deliberate over-approximation (per unit, not per series), which costs no per-row work: the
        rollup then recomputes each series over the unit's span, which for gateway batches is the same.
        """
        series = self.prepared.series if self.prepared is not None else {row[0] for row in self.rows or ()}
        return _Span(series, *self.times())

    def times(self) -> tuple[datetime, datetime]:
        """The first and last reading time of the unit's rows (it has some)."""
        if self.prepared is not None:
            return self.prepared.first, self.prepared.last
        if self.exact and self.lo is not None and self.hi is not None:
            return self.lo, self.hi
        rows = self.rows or []
        return min(rows, key=_TS)[1], max(rows, key=_TS)[1]


@dataclass(frozen=True, slots=True, eq=False)
class PreparedColumns:
    """A decoded message checked by ``ReadingWriter.prepare_columns``, ready for ``write_many``:
    binary COPY rows (``pgbinary.row_dtype``), the series they touch, their first and last time."""

    rows: np.ndarray
    series: set[int]
    first: datetime
    last: datetime

    def tuples(self) -> list[_Row]:
        """The rows as ``_Row`` tuples (for the re-delivery path)."""
        r = self.rows
        return [
            (sid, PG_EPOCH + timedelta(microseconds=us), value_int, scale, None, q, src)
            for sid, us, value_int, scale, q, src in zip(
                r["series_id"].tolist(),
                r["ts"].tolist(),
                r["value_int"].tolist(),
                r["value_scale"].tolist(),
                r["quality"].tolist(),
                r["source"].tolist(),
                strict=True,
            )
        ]


@dataclass(frozen=True)
class _Span:
    """The series a batch touched and its first and last reading time."""

    series: set[int]
    first: datetime
    last: datetime


def _owner_lookup(counts: list[int]) -> Callable[[int], int]:
    """Row index → batch index, for rows laid out batch after batch with ``counts`` rows each."""
    ends = list(itertools.accumulate(counts))
    return lambda row: bisect.bisect_right(ends, row)


def write_readings(
    conn: psycopg.Connection,
    batch: Iterable[Reading],
    *,
    context: Mapping[str, Any] | None = None,
    **writer_options: Any,
) -> WriteResult:
    """Write one batch of readings (see ``ReadingWriter``). Commits; returns inserted/duplicate/rejected."""
    return ReadingWriter(conn, **writer_options).write(batch, context=context)
