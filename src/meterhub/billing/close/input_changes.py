"""Which closed periods may have changed inputs: a cheap per-building change marker (migration 0103).

The close looks for recalculations in a building's last closed periods. Reloading each of them costs
as much as loading the period being closed, so a period is reloaded only when its building's marker
moved: a change to the building's inputs was committed after the period was computed.

* **What is logged** (``billing_input_changes``, by triggers): every change to the domain tables the
  loader reads (buildings, premises, accounts, residents, meter links, services, tariffs, normatives,
  meters, their registers and counter events, VEE limits) with an unbounded time span, and readings
  ingest (one ``series_dirty_log`` row per batch) with the span of the readings — but only for data
  that reaches back before the building's **horizon**, the end of its latest finally closed period
  (+ 1 h), so ingest of the open month logs nothing.
* **When** = the writer's transaction id is not visible in the database snapshot stored with the
  period (taken before its inputs were loaded): exact under concurrency, whatever the commit order.
* **Where** = the change's time span overlaps the span of readings the period's inputs depend on
  (``inputs_from`` … ``inputs_to``): the calendar month of hourly meters, the boundary readings of
  register meters (readings window or ``register_max_age``), ± 1 hour. A period that had hourly meters
  with gaps (later data may fill them by interpolation) has no upper bound and is always reloaded.

The marker is conservative: a change it reports may turn out not to change the engine input, which the
input digest (:mod:`meterhub.billing.rules.input_digest`) then shows, so no engine run follows. It never
misses a change made through ingest, the close's own writes or the domain tables; a direct SQL edit of
``readings`` or ``hourly_consumption`` that bypasses the dirty log is invisible to it — recheck with
``CloseOptions(recheck="all")`` after such a repair.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import psycopg
from psycopg.pq import TransactionStatus

from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "MARGIN",
    "changed_periods",
    "current_snapshot",
    "horizon_covers",
    "prune_input_changes",
    "raise_horizon",
    "watch_buildings",
]

MARGIN = timedelta(hours=1)
"""Added on both sides of a period's input span (a reading at the month end closes its last hour)."""


def current_snapshot(conn: psycopg.Connection) -> str:
    """The snapshot of the next statement (text form of ``pg_snapshot``)."""
    row = conn.execute("SELECT pg_current_snapshot()::text").fetchone()
    assert row is not None
    return str(row[0])


def horizon_covers(conn: psycopg.Connection, building_id: str, until: datetime) -> bool:
    """True when ingest already logs changes to readings before ``until`` for the building."""
    row = conn.execute(
        "SELECT watch_until >= %s FROM billing_change_horizon WHERE building_id = %s", (until, building_id)
    ).fetchone()
    return bool(row and row[0])


def raise_horizon(conn: psycopg.Connection, horizons: Sequence[tuple[str, datetime]]) -> None:
    """Make ingest log changes to readings before ``until`` of each building (never lowers it)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO billing_change_horizon AS h (building_id, watch_until) VALUES (%s, %s) "
            "ON CONFLICT (building_id) DO UPDATE "
            "SET watch_until = greatest(h.watch_until, EXCLUDED.watch_until)",
            list(horizons),
        )


def watch_buildings(
    conn: psycopg.Connection, horizons: Sequence[tuple[str, datetime]], *, wait_seconds: float = 30.0
) -> bool:
    """Raise the horizons in a committed transaction, then wait until every transaction of this
    database that was in flight at that commit has ended (an ingest transaction that read the old
    horizon has then either committed — a later snapshot sees its data — or rolled back).

    ``conn`` must not be inside a transaction. Returns False if the wait timed out (a long transaction
    is still running): the caller then stores no snapshot, and the period is always rechecked.
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("watch_buildings needs a connection outside a transaction (it commits)")
    with conn.transaction():
        raise_horizon(conn, horizons)
    # the transactions in flight at the commit, less those known to run in other databases of the
    # cluster (snapshots are cluster-wide; a session we may not inspect is waited for, to be safe)
    row = conn.execute(
        """
        SELECT coalesce(array_agg(x), '{}') FROM pg_snapshot_xip(pg_current_snapshot()) AS x
        WHERE x::xid NOT IN (
            SELECT backend_xid FROM pg_stat_activity
            WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())
        """
    ).fetchone()
    assert row is not None
    in_flight = [str(x) for x in row[0]]
    deadline = time.monotonic() + wait_seconds
    try:
        while in_flight:
            rows = conn.execute(
                "SELECT x::text FROM unnest(%s::xid8[]) AS x WHERE pg_xact_status(x) = 'in progress'",
                (in_flight,),
            ).fetchall()
            in_flight = [r[0] for r in rows]
            if not in_flight:
                break
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
    finally:
        if not conn.autocommit and conn.info.transaction_status == TransactionStatus.INTRANS:
            conn.commit()  # only our own read-only statements are in it


def changed_periods(
    conn: psycopg.Connection, building_id: str, periods: Sequence[BillingPeriod], current: BillingPeriod
) -> set[BillingPeriod]:
    """The ``periods`` (closed, of ``building_id``) whose inputs may have changed since they were
    computed, or that have corrections booked in a period other than ``current``."""
    if not periods:
        return set()
    rows = conn.execute(
        """
        SELECT p.period FROM billing_periods p
        WHERE p.building_id = %(b)s AND p.period = ANY(%(periods)s) AND (
            p.input_snapshot IS NULL OR p.inputs_to IS NULL
            OR EXISTS (
                SELECT 1 FROM billing_input_changes c
                WHERE c.building_id IN (p.building_id, '*')
                  AND c.xid >= pg_snapshot_xmin(p.input_snapshot)
                  AND NOT pg_visible_in_snapshot(c.xid, p.input_snapshot)
                  AND c.from_ts < p.inputs_to + %(margin)s AND c.to_ts >= p.inputs_from - %(margin)s)
            OR EXISTS (
                SELECT 1 FROM recalculation_lines r
                WHERE r.building_id = p.building_id AND r.corrects_period = p.period
                  AND r.period <> %(current)s))
        """,
        {"b": building_id, "periods": [str(p) for p in periods], "current": str(current), "margin": MARGIN},
    ).fetchall()
    return {BillingPeriod.parse(r[0]) for r in rows}


def prune_input_changes(conn: psycopg.Connection, recalc_months: int) -> int:
    """Delete logged changes that no stored snapshot still needs; returns how many.

    A change matters only to a snapshot of its building (or of every building, ``'*'``) that does not
    see it, among each building's latest ``recalc_months`` closed periods; any later snapshot sees
    every change committed now. Closes in progress are waited for (``SHARE`` lock on
    ``billing_periods``), so no snapshot is taken but not yet stored while pruning.
    """
    with conn.transaction():
        conn.execute("LOCK TABLE billing_periods IN SHARE MODE")
        cur = conn.execute(
            """
            WITH recent AS (
                SELECT building_id, input_snapshot FROM (
                    SELECT building_id, input_snapshot,
                           row_number() OVER (PARTITION BY building_id ORDER BY period DESC) AS n
                    FROM billing_periods WHERE status = 'closed'
                ) p
                WHERE n <= %s AND input_snapshot IS NOT NULL
            )
            DELETE FROM billing_input_changes c
            WHERE NOT EXISTS (
                SELECT 1 FROM recent r
                WHERE (c.building_id = '*' OR r.building_id = c.building_id)
                  AND NOT pg_visible_in_snapshot(c.xid, r.input_snapshot))
              AND pg_visible_in_snapshot(c.xid, pg_current_snapshot())
            """,
            (recalc_months,),
        )
        return cur.rowcount
