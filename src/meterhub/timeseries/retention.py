"""Retention of raw readings: drop whole chunks (TimescaleDB) or monthly partitions (plain PostgreSQL)
older than the operator's ``METERHUB_READINGS_RETENTION_DAYS``, never what is still needed.

The rule: readings are kept from the earliest of

* now − the retention setting;
* for every building that is billed (has rows in ``billing_periods``): the start of the month before
  its last *closed* period (the first open period's volume is the register at its readings window
  minus the register at the previous window, which lies in the last closed month, and a monthly meter's
  reading may be up to a month older); a building with no closed period yet: the month before its
  first period; a day earlier for time zones east of UTC;
* the earliest time the rollup still has to recompute (``series_dirty`` and the ingest's log), less
  31 days (a monthly read meter's previous reading).

The hourly series is never dropped. The time before which readings were dropped is recorded in
``readings_retention``; the rollup then never replaces hours computed from dropped readings (see
``clamp_windows``). Recalculations of closed periods need the readings of those periods: set the
retention to at least the recalculation horizon (e.g. 3 years).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from meterhub.timeseries.migrate import StoragePath, recorded_storage_path

_DAY = timedelta(days=1)
_PARTITION_RE = re.compile(r"^readings_(\d{4})(\d{2})$")


@dataclass(frozen=True)
class RetentionPlan:
    keep: timedelta
    requested: datetime  # now − keep
    cutoff: datetime  # readings before this may be dropped
    bound_by: str  # what set the cutoff


@dataclass
class RetentionResult:
    plan: RetentionPlan
    dropped: list[str] = field(default_factory=list)  # chunks or partitions
    dropped_before: datetime | None = None  # no reading older than this is stored now


def _month_start(period: str, months_back: int) -> datetime:
    y, m = (int(x) for x in period.split("-"))
    m -= months_back
    while m < 1:
        y, m = y - 1, m + 12
    return datetime(y, m, 1, tzinfo=UTC)


def retention_plan(conn: psycopg.Connection, keep: timedelta, now: datetime) -> RetentionPlan:
    """The time before which readings may be dropped, and what bounded it (the rule above)."""
    if keep <= timedelta(0):
        raise ValueError("the retention must be positive")
    requested = now - keep
    cutoff, bound = requested, f"the retention setting ({keep.days} days)"
    if conn.execute("SELECT to_regclass('billing_periods') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
        for building, last_closed, first in conn.execute(
            "SELECT building_id, max(period) FILTER (WHERE status = 'closed'), min(period) "
            "FROM billing_periods GROUP BY building_id"
        ):
            needed = (
                _month_start(last_closed, 1) if last_closed is not None else _month_start(first, 1)
            ) - _DAY
            if needed < cutoff:
                what = (
                    f"last closed period {last_closed}"
                    if last_closed
                    else f"first period {first}, none closed"
                )
                cutoff, bound = needed, f"building {building}: {what}"
    row = conn.execute(
        "SELECT least((SELECT min(from_ts) FROM series_dirty), (SELECT min(from_ts) FROM series_dirty_log))"
    ).fetchone()
    if row and row[0] is not None and row[0] - timedelta(days=31) < cutoff:
        cutoff, bound = row[0] - timedelta(days=31), "readings the rollup has still to process"
    return RetentionPlan(keep, requested, cutoff, bound)


def retention_horizon(conn: psycopg.Connection) -> datetime | None:
    """The time before which readings were dropped (None: never)."""
    row = conn.execute("SELECT dropped_before FROM readings_retention").fetchone()
    return row[0] if row else None


def apply_retention(
    conn: psycopg.Connection, keep: timedelta, now: datetime, *, dry_run: bool = False
) -> RetentionResult:
    """Drop the chunks / partitions of ``readings`` that end before the plan's cutoff, in the caller's
    transaction (commit it); ``dry_run`` only says what would go."""
    plan = retention_plan(conn, keep, now)
    result = RetentionResult(plan)
    path = recorded_storage_path(conn)
    if path is StoragePath.TIMESCALEDB:
        rows = conn.execute(
            "SELECT format('%%I.%%I', chunk_schema, chunk_name), range_end "
            "FROM timescaledb_information.chunks WHERE hypertable_name = 'readings' AND range_end <= %s "
            "ORDER BY range_end",
            (plan.cutoff,),
        ).fetchall()
        if rows and not dry_run:
            conn.execute("SELECT drop_chunks('readings', older_than => %s::timestamptz)", (plan.cutoff,))
    else:
        rows = []
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'readings'::regclass ORDER BY 1"
        ):
            m = _PARTITION_RE.match(name)
            if not m:
                continue
            y, mo = int(m.group(1)), int(m.group(2))
            end = datetime(y + (mo == 12), mo % 12 + 1, 1, tzinfo=UTC)
            if end <= plan.cutoff:
                rows.append((name, end))
        if not dry_run:
            for name, _ in rows:
                conn.execute(psycopg.sql.SQL("DROP TABLE {}").format(psycopg.sql.Identifier(name)))
    result.dropped = [r[0] for r in rows]
    if rows:
        result.dropped_before = max(r[1] for r in rows)
        if not dry_run:
            conn.execute(
                "INSERT INTO readings_retention (dropped_before) VALUES (%s) ON CONFLICT (one) DO UPDATE "
                "SET dropped_before = greatest(readings_retention.dropped_before, EXCLUDED.dropped_before), "
                "dropped_at = now()",
                (result.dropped_before,),
            )
    return result


def first_retained_readings(
    conn: psycopg.Connection, series_ids: Sequence[int], horizon: datetime
) -> dict[int, tuple[datetime, bool]]:
    """Per series with readings: its first reading and whether hours older than that reading's hour end
    exist (computed from readings since dropped)."""
    rows = conn.execute(
        """
        SELECT s.sid, r0.ts,
               EXISTS (SELECT 1 FROM hourly_consumption h WHERE h.series_id = s.sid
                       AND h.hour < date_bin('1 hour', r0.ts - interval '1 microsecond', 'epoch')
                                    + interval '1 hour')
        FROM unnest(%s::int[]) AS s(sid)
        JOIN LATERAL (SELECT r.ts FROM readings r WHERE r.series_id = s.sid AND r.ts >= %s
                      ORDER BY r.ts LIMIT 1) r0 ON true
        """,
        (list(series_ids), horizon),
    ).fetchall()
    return {sid: (ts, older) for sid, ts, older in rows}


def ceil_hour(t: datetime) -> datetime:
    base = t.replace(minute=0, second=0, microsecond=0)
    return base if base == t else base + timedelta(hours=1)
