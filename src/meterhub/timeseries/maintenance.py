"""Storage upkeep in one call: what ``meterhub db maintain`` runs every cycle (compose's
``maintenance`` service), so an operator does not have to schedule each job by hand.

* **Retention** of raw readings (when ``METERHUB_READINGS_RETENTION_DAYS`` is set): the rollup's
  pending work first (its readings are still needed), then whole chunks or monthly partitions older
  than the plan's cutoff are dropped (:mod:`meterhub.timeseries.retention`, which never drops readings
  an open billing period or pending rollup work needs).
* **Vacuum of newly compressed chunks** (TimescaleDB): gives back the empty pages a compression leaves
  at the end of a chunk on PostgreSQL 16+ (:mod:`meterhub.timeseries.compressed_vacuum`); nothing to
  do on plain PostgreSQL.

Each task opens its own connection (the vacuum needs autocommit), so a cycle holds no connection
between tasks and none between cycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from meterhub.timeseries.compressed_vacuum import vacuum_compressed_chunks
from meterhub.timeseries.database import connect
from meterhub.timeseries.retention import RetentionResult, apply_retention
from meterhub.timeseries.rollup import process_dirty

__all__ = ["MaintenanceReport", "maintain_storage", "retain_readings", "retention_lines"]


def retain_readings(
    conn: psycopg.Connection, keep_days: int, now: datetime, *, dry_run: bool = False
) -> RetentionResult:
    """The rollup's pending work, then the readings' retention, each committed."""
    process_dirty(conn)  # the rollup's pending work first: its readings are needed
    conn.commit()
    result = apply_retention(conn, timedelta(days=keep_days), now, dry_run=dry_run)
    conn.commit()
    return result


def retention_lines(result: RetentionResult, *, dry_run: bool = False) -> list[str]:
    """What a retention run did, as ``meterhub db retention`` prints it."""
    plan = result.plan
    lines = [f"keep readings from {plan.cutoff.isoformat()} (bound by {plan.bound_by})"]
    verb = "would drop" if dry_run else "dropped"
    if result.dropped:
        lines.append(
            f"{verb} {len(result.dropped)} chunk(s)/partition(s): readings before {result.dropped_before}"
        )
    else:
        lines.append("nothing to drop")
    return lines


@dataclass(frozen=True)
class MaintenanceReport:
    """One cycle: the retention's result (``None``: no retention configured) and the chunks vacuumed."""

    retention: RetentionResult | None
    vacuumed: tuple[str, ...]

    def lines(self) -> list[str]:
        if self.retention is None:
            out = ["retention: METERHUB_READINGS_RETENTION_DAYS is not set, readings are kept for ever"]
        else:
            out = [f"retention: {line}" for line in retention_lines(self.retention)]
        out.append(
            f"vacuum: vacuumed {len(self.vacuumed)} compressed chunk(s)"
            if self.vacuumed
            else "vacuum: no compressed chunk to vacuum"
        )
        return out


def maintain_storage(url: str, retention_days: int | None, now: datetime) -> MaintenanceReport:
    """Run one maintenance cycle against the database at ``url``."""
    retention = None
    if retention_days is not None:
        with connect(url) as conn:
            retention = retain_readings(conn, retention_days, now)
    with connect(url, autocommit=True) as conn:
        vacuumed = vacuum_compressed_chunks(conn)
    return MaintenanceReport(retention, tuple(str(c) for c in vacuumed))
