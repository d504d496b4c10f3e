"""Applying the schema and reporting its state (``meterhub db migrate`` / ``db status``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from meterhub.timeseries.migrate import (
    Migration,
    StoragePath,
    applied_migrations,
    detect_storage_path,
    discover,
    migrate,
    recorded_storage_path,
    timescaledb_available,
)

MIGRATION_SOURCES: tuple[str, ...] = ("meterhub.timeseries",)  # the CLI passes the full list (cli.wiring)


def migrate_database(
    conn: psycopg.Connection, sources: tuple[str, ...] = MIGRATION_SOURCES
) -> list[Migration]:
    return migrate(conn, sources)


@dataclass
class DatabaseStatus:
    server_version: str
    timescaledb_available: bool
    storage_path: StoragePath | None
    storage_detail: str
    applied: list[str]
    pending: list[str]
    table_rows: dict[str, int] = field(default_factory=dict)


def database_status(conn: psycopg.Connection, sources: tuple[str, ...] = MIGRATION_SOURCES) -> DatabaseStatus:
    version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    tsdb = timescaledb_available(conn)
    path = recorded_storage_path(conn)
    applied = applied_migrations(conn)
    planned = discover(sources, path or detect_storage_path(conn))
    pending = [f"{m.version:04d}_{m.name}" for m in planned if m.version not in applied]
    detail = "not migrated"
    rows: dict[str, int] = {}
    if path is StoragePath.TIMESCALEDB:
        chunks = conn.execute(
            "SELECT hypertable_name, count(*) FROM timescaledb_information.chunks GROUP BY 1"
        ).fetchall()
        detail = "hypertables with compression policies; " + ", ".join(f"{t}: {n} chunks" for t, n in chunks)
    elif path is StoragePath.POSTGRES:
        parts = conn.execute(
            """
            SELECT p.relname, count(c.relname)
            FROM pg_class p JOIN pg_inherits i ON i.inhparent = p.oid JOIN pg_class c ON c.oid = i.inhrelid
            WHERE p.relname IN ('readings', 'hourly_consumption') GROUP BY 1 ORDER BY 1
            """
        ).fetchall()
        detail = "native monthly range partitions (maintained by meterhub); " + (
            ", ".join(f"{t}: {n} partitions" for t, n in parts) or "no partitions yet"
        )
    if path is not None:
        for table in ("meters", "meter_registers", "readings", "hourly_consumption", "dead_letters"):
            est = conn.execute(
                """
                SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint
                FROM pg_class c
                WHERE c.oid = to_regclass(%s)
                   OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s))
                """,
                (table, table),
            ).fetchone()
            rows[table] = int(est[0]) if est else 0
    return DatabaseStatus(
        server_version=version,
        timescaledb_available=tsdb,
        storage_path=path,
        storage_detail=detail,
        applied=[f"{v:04d}_{n}" for v, (n, _, _) in sorted(applied.items())],
        pending=pending,
        table_rows=rows,
    )
