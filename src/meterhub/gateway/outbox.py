"""The outbox: every reading is stored here first and deleted only after the broker acknowledged it.

SQLite in WAL mode with ``synchronous=FULL``: a commit returns only after the WAL is on disk, so a
reading the gateway has accepted survives a SIGKILL *and* a power cut. (``NORMAL`` with WAL survives
a process crash but may lose the last commits on power loss — exactly the failure an edge computer in
a basement sees; the price of FULL is one fsync per commit, and commits are per poll and per batch,
not per reading — see ``benchmarks/bench_outbox.py``.)

Rows move through three states::

    unclaimed ──claim()──▶ in a batch (batch_id fixed, stored) ──ack()──▶ deleted

``claim`` assigns the oldest unclaimed readings to a new batch with a UUID and commits that before
the batch is published, so a batch re-sent after a crash or restart keeps its ``batch_id`` and its
readings. A batch is a contiguous range of row ids (rows are numbered with AUTOINCREMENT, so ids are
never reused).

**Bound.** The outbox holds at most ``max_readings`` readings (and, if set, ``max_bytes`` of file).
A warning is logged when ``warn_at`` (80 %) of the bound is used, saying how many days of readings
fit at the current rate. At the bound the outbox keeps the oldest data and refuses the newest interval
reads — each refusal counted and logged, never silent — while day/month-start (billing) reads still
go into a reserve of ``billing_reserve`` above the bound. See ``docs/gateway.md`` for why.

**Last stamps.** ``series_last`` keeps the last second stamped per series and the device that read it,
written in the transaction that stores the readings and kept after they are deleted, so a gateway
restarted with its clock stepped back knows which seconds are taken (``gateway.stamping``); ``meta``
keeps the clock counters of the status (``clock_episodes``, ``clock_held_reads``, ``clock_restamped``).
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from meterhub.core.readings import Reading, ReadingQuality, ReadingSource

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
RATE_WINDOW = timedelta(hours=24)
DROP_LOG_EVERY = timedelta(minutes=10)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meter_id TEXT NOT NULL,
    register TEXT NOT NULL,
    ts INTEGER NOT NULL,          -- microseconds since 1970-01-01 UTC
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    quality INTEGER NOT NULL,
    source INTEGER NOT NULL,
    billing INTEGER NOT NULL      -- 1: a day/month-start read
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- the last second stamped per series (kept after its readings are acknowledged and deleted), and the
-- device that read it: a clock stepped back must not stamp a series at or before it (gateway.stamping)
CREATE TABLE IF NOT EXISTS series_last (
    meter_id TEXT NOT NULL,
    register TEXT NOT NULL,
    device TEXT NOT NULL,
    ts INTEGER NOT NULL,          -- microseconds since 1970-01-01 UTC
    PRIMARY KEY (meter_id, register)
) WITHOUT ROWID;
"""

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Batch:
    """Readings claimed under one ``batch_id``, as v1 JSON objects, oldest first."""

    batch_id: str
    readings: list[dict[str, Any]]
    first_id: int
    last_id: int


@dataclass(frozen=True, slots=True)
class AddResult:
    stored: int
    dropped: int


@dataclass(frozen=True, slots=True)
class Capacity:
    """How full the outbox is and how long it lasts at the current rate."""

    used: int  # readings stored
    limit: int  # the bound in readings
    fraction: float  # of the tighter bound (readings or bytes)
    file_bytes: int
    rate_per_day: float | None  # readings/day added recently (None until measurable)

    @property
    def days_total(self) -> float | None:
        return self.limit / self.rate_per_day if self.rate_per_day else None

    @property
    def days_left(self) -> float | None:
        if not self.rate_per_day:
            return None
        return max(0.0, (1.0 - self.fraction) * self.limit / self.rate_per_day)

    def describe(self) -> str:
        text = f"{self.used:,} of {self.limit:,} readings ({self.fraction:.0%})"
        if self.rate_per_day:
            text += (
                f"; at {self.rate_per_day:,.0f} readings/day the outbox holds {self.days_total:.1f} days, "
                f"{self.days_left:.1f} days left"
            )
        return text


class Outbox:
    """The SQLite outbox of one gateway. Use from one thread (the gateway's event loop)."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_readings: int = 5_000_000,
        max_bytes: int | None = None,
        warn_at: float = 0.8,
        billing_reserve: float = 0.05,
        clock: Clock = utc_now,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_readings = max_readings
        self.max_bytes = max_bytes
        self.warn_at = warn_at
        self.billing_reserve = billing_reserve
        self.clock = clock
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)
        if not self._meta("series_last_seeded"):  # an outbox of an older gateway: what still waits
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR IGNORE INTO series_last (meter_id, register, device, ts) "
                "SELECT meter_id, register, '', max(ts) FROM readings GROUP BY meter_id, register"
            )
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('series_last_seeded', 1)")
            self._db.execute("COMMIT")
        self._page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
        self._count = int(self._db.execute("SELECT count(*) FROM readings").fetchone()[0])
        self._claimed_upto = self._meta("claimed_upto")
        self._unclaimed = int(
            self._db.execute("SELECT count(*) FROM readings WHERE id > ?", (self._claimed_upto,)).fetchone()[
                0
            ]
        )
        self._added: deque[tuple[datetime, int]] = deque()
        self._warned = False
        self._last_drop_log: datetime | None = None
        self._drops_since_log = 0
        self.dropped = self._meta("dropped")

    # --- state ------------------------------------------------------------------------------
    @property
    def backlog(self) -> int:
        """Readings stored and not yet acknowledged."""
        return self._count

    @property
    def unclaimed(self) -> int:
        """Readings not yet in a batch."""
        return self._unclaimed

    def oldest_ts(self) -> datetime | None:
        """Time of the oldest reading waiting (by arrival order)."""
        row = self._db.execute("SELECT ts FROM readings ORDER BY id LIMIT 1").fetchone()
        return None if row is None else EPOCH + row[0] * MICROSECOND

    def file_bytes(self) -> int:
        """Bytes of the database in use (pages minus free pages; the WAL is checkpointed into it)."""
        pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
        free = int(self._db.execute("PRAGMA freelist_count").fetchone()[0])
        return (pages - free) * self._page_size

    def capacity(self) -> Capacity:
        fraction = self._count / self.max_readings
        size = self.file_bytes() if self.max_bytes else 0
        if self.max_bytes:
            fraction = max(fraction, size / self.max_bytes)
        return Capacity(self._count, self.max_readings, fraction, size, self._rate_per_day())

    # --- writing ----------------------------------------------------------------------------
    def last_stamps(self) -> list[tuple[str, str, str, datetime]]:
        """(meter_id, register, device, last stamp) of every series ever stored here."""
        return [
            (m, r, d, EPOCH + ts * MICROSECOND)
            for m, r, d, ts in self._db.execute("SELECT meter_id, register, device, ts FROM series_last")
        ]

    def counter(self, key: str) -> int:
        """A durable counter (since the outbox was created), e.g. ``clock_episodes``."""
        return self._meta(key)

    def bump_counter(self, key: str, by: int = 1) -> int:
        """Add to a durable counter; its new value."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._bump_meta(key, by)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return self._meta(key)

    def add(self, readings: Sequence[Reading], *, billing: bool = False, device: str = "") -> AddResult:
        """Store readings in one transaction (durable when this returns); refuse what is over the bound.
        Each stored reading's stamp becomes its series' last (read by ``device``) when it is later."""
        if not readings:
            return AddResult(0, 0)
        room = self._room(billing)
        accepted = readings[: max(0, room)]
        dropped = len(readings) - len(accepted)
        if accepted:
            rows = [
                (
                    r.meter_id,
                    r.register,
                    (r.ts - EPOCH) // MICROSECOND,
                    float(r.value),
                    r.unit,
                    int(r.quality),
                    int(r.source),
                    int(billing),
                )
                for r in accepted
            ]
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO readings (meter_id, register, ts, value, unit, quality, source, billing) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                db.executemany(
                    "INSERT INTO series_last (meter_id, register, device, ts) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (meter_id, register) DO UPDATE SET device = excluded.device, "
                    "ts = excluded.ts WHERE excluded.ts > series_last.ts",
                    [(m, r, device, ts) for m, r, ts, *_ in rows],
                )
                if dropped:
                    self._bump_meta("dropped", dropped)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._count += len(accepted)
            self._unclaimed += len(accepted)
        elif dropped:
            self._db.execute("BEGIN IMMEDIATE")
            self._bump_meta("dropped", dropped)
            self._db.execute("COMMIT")
        now = self.clock()
        self._note_rate(now, len(readings))
        if dropped:
            self.dropped += dropped
            self._log_drop(now, dropped, billing)
        self._check_warning()
        return AddResult(len(accepted), dropped)

    def replace_unclaimed(self, readings: Sequence[Reading], *, billing: bool = False) -> list[Reading]:
        """Put each reading's value (unit, quality, source) in place of the stored reading with the same
        ``(meter_id, register, ts)`` that is not yet in a batch; a billing read marks it billing.
        Returns the readings that found no such row (already claimed, or never stored).

        For a later read within the same second (``gateway.stamping``): rare, so each is one look-up
        of the newest matching row from the end of the table (it was stored seconds ago)."""
        if not readings:
            return []
        missing: list[Reading] = []
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for r in readings:
                row = db.execute(
                    "SELECT id FROM readings WHERE id > ? AND meter_id = ? AND register = ? AND ts = ? "
                    "ORDER BY id DESC LIMIT 1",
                    (self._claimed_upto, r.meter_id, r.register, (r.ts - EPOCH) // MICROSECOND),
                ).fetchone()
                if row is None:
                    missing.append(r)
                    continue
                db.execute(
                    "UPDATE readings SET value = ?, unit = ?, quality = ?, source = ?, "
                    "billing = max(billing, ?) WHERE id = ?",
                    (float(r.value), r.unit, int(r.quality), int(r.source), int(billing), row[0]),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return missing

    def _room(self, billing: bool) -> int:
        limit = self.max_readings * (1 + self.billing_reserve) if billing else self.max_readings
        room = int(limit) - self._count
        if self.max_bytes:
            size_limit = self.max_bytes * (1 + self.billing_reserve) if billing else self.max_bytes
            if self.file_bytes() >= size_limit:
                room = 0
        return room

    def claim(self, limit: int) -> Batch | None:
        """Put up to ``limit`` of the oldest unclaimed readings into a new batch (committed)."""
        if self._unclaimed == 0:
            return None
        rows = self._db.execute(
            "SELECT id, meter_id, register, ts, value, unit, quality, source FROM readings "
            "WHERE id > ? ORDER BY id LIMIT ?",
            (self._claimed_upto, limit),
        ).fetchall()
        if not rows:
            self._unclaimed = 0
            return None
        batch_id = str(uuid.uuid4())
        first_id, last_id = rows[0][0], rows[-1][0]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT INTO batches (batch_id, first_id, last_id, readings, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (batch_id, first_id, last_id, len(rows), (self.clock() - EPOCH) // MICROSECOND),
            )
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('claimed_upto', ?)", (last_id,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._claimed_upto = last_id
        self._unclaimed -= len(rows)
        return Batch(batch_id, _rows_json(rows), first_id, last_id)

    def pending_batch_ids(self) -> list[str]:
        """Batches claimed and not acknowledged (e.g. from before a crash), oldest first."""
        return [row[0] for row in self._db.execute("SELECT batch_id FROM batches ORDER BY first_id")]

    def load(self, batch_id: str) -> Batch | None:
        """A claimed batch with the same id and readings as when it was claimed."""
        found = self._db.execute(
            "SELECT first_id, last_id FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        if found is None:
            return None
        rows = self._db.execute(
            "SELECT id, meter_id, register, ts, value, unit, quality, source FROM readings "
            "WHERE id BETWEEN ? AND ? ORDER BY id",
            found,
        ).fetchall()
        return Batch(batch_id, _rows_json(rows), found[0], found[1])

    def ack(self, batch_id: str) -> int:
        """The broker acknowledged the batch: delete its readings. Returns how many were deleted."""
        db = self._db
        found = db.execute("SELECT first_id, last_id FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        if found is None:
            return 0
        db.execute("BEGIN IMMEDIATE")
        try:
            deleted = db.execute("DELETE FROM readings WHERE id BETWEEN ? AND ?", found).rowcount
            db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._count -= deleted
        if self._warned and self.capacity().fraction < self.warn_at:
            self._warned = False
            log.info(
                "outbox back below %.0f%% of its bound: %s", self.warn_at * 100, self.capacity().describe()
            )
        return deleted

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()

    # --- bookkeeping --------------------------------------------------------------------------
    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return 0 if row is None else int(row[0])

    def _bump_meta(self, key: str, by: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + ?",
            (key, by, by),
        )

    def _note_rate(self, now: datetime, n: int) -> None:
        self._added.append((now, n))
        while self._added and now - self._added[0][0] > RATE_WINDOW:
            self._added.popleft()

    def _rate_per_day(self) -> float | None:
        if len(self._added) < 2:
            return None
        span = self._added[-1][0] - self._added[0][0]
        if span < timedelta(minutes=1):
            return None
        counted = sum(n for _, n in list(self._added)[1:])  # readings added after the first sample
        return counted / (span / timedelta(days=1))

    def _check_warning(self) -> None:
        capacity = self.capacity()
        if capacity.fraction >= self.warn_at and not self._warned:
            self._warned = True
            log.warning(
                "outbox is %.0f%% full (the broker has not acknowledged for a while): %s; at the bound "
                "the newest interval readings are refused (day/month-start reads use a reserve)",
                capacity.fraction * 100,
                capacity.describe(),
            )

    def _log_drop(self, now: datetime, dropped: int, billing: bool) -> None:
        self._drops_since_log += dropped
        if self._last_drop_log is None or now - self._last_drop_log >= DROP_LOG_EVERY:
            log.error(
                "outbox full: refused %d %sreading(s) (%d since the last message, %d in total); "
                "%s. Restore the broker connection or raise [outbox] max_readings",
                dropped,
                "day/month-start " if billing else "",
                self._drops_since_log,
                self.dropped,
                self.capacity().describe(),
            )
            self._last_drop_log = now
            self._drops_since_log = 0


_QUALITY_NAMES = {int(q): q.name.lower() for q in ReadingQuality}
_SOURCE_NAMES = {int(s): s.name.lower() for s in ReadingSource}


def _rows_json(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Stored rows as v1 reading objects — the same JSON ``reading_to_json`` makes from the
    ``Reading`` (a test holds them equal), built directly: one timestamp string per distinct time."""
    stamps: dict[int, str] = {}
    out: list[dict[str, Any]] = []
    for _, meter_id, register, ts, value, unit, quality, source in rows:
        stamp = stamps.get(ts)
        if stamp is None:
            stamp = stamps[ts] = (EPOCH + ts * MICROSECOND).isoformat()
        item: dict[str, Any] = {"meter_id": meter_id, "register": register, "ts": stamp, "value": value}
        if unit:
            item["unit"] = unit
        if quality:
            item["quality"] = _QUALITY_NAMES[quality]
        if source:
            item["source"] = _SOURCE_NAMES[source]
        out.append(item)
    return out
