"""Applying the schema and reporting its state (``meterhub db migrate`` / ``db status``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import psycopg

from meterhub.timeseries.compressed_vacuum import compressed_chunks_to_vacuum
from meterhub.timeseries.migrate import (
    Migration,
    MigrationError,
    StoragePath,
    applied_migrations,
    choose_storage_path,
    discover,
    migrate,
    recorded_storage_path,
    timescaledb_available,
    timescaledb_created,
)

MIGRATION_SOURCES: tuple[str, ...] = ("meterhub.timeseries",)  # the CLI passes the full list (cli.wiring)
SERIES_TABLES = ("readings", "hourly_consumption")
COUNTED_TABLES = ("meters", "meter_registers", *SERIES_TABLES, "dead_letters")


def migrate_database(
    conn: psycopg.Connection, sources: tuple[str, ...] = MIGRATION_SOURCES, *, prefer: str | None = None
) -> list[Migration]:
    """Apply pending migrations; ``prefer`` is the storage path setting (default: ``METERHUB_STORAGE``)."""
    if prefer is None:
        from meterhub.core.settings import get_settings

        prefer = get_settings().storage
    return migrate(conn, sources, prefer=prefer)


@dataclass
class TableStorage:
    """Rows and bytes of one time-series table, and on TimescaleDB its chunks and compression."""

    table: str
    rows: int
    bytes: int
    chunks: int = 0
    compressed_chunks: int = 0
    partial_chunks: int = 0  # compressed chunks that took DML since (recompressed by the policy)
    overdue_chunks: int = 0  # older than the policy's compress_after and still uncompressed
    bytes_before_compression: int = 0  # of the compressed chunks
    bytes_after_compression: int = 0
    compress_after: timedelta | None = None
    vacuum_pending_chunks: int = 0  # compressed chunks for `meterhub db vacuum-compressed`
    vacuum_reclaimable_bytes: int = 0  # the empty pages at their ends

    @property
    def bytes_per_row(self) -> float | None:
        return self.bytes / self.rows if self.rows else None

    @property
    def compression_ratio(self) -> float | None:
        if not self.bytes_after_compression:
            return None
        return self.bytes_before_compression / self.bytes_after_compression


@dataclass
class PolicyJob:
    """A TimescaleDB background job (compression or retention policy) as TimescaleDB records it."""

    job_id: int
    proc: str
    table: str
    last_status: str | None
    total_failures: int
    last_success: str | None
    next_start: str | None


@dataclass
class DatabaseStatus:
    server_version: str
    timescaledb_available: bool
    storage_path: StoragePath | None
    storage_detail: str
    applied: list[str]
    pending: list[str]
    table_rows: dict[str, int] = field(default_factory=dict)
    rows_exact: bool = False
    storage: list[TableStorage] = field(default_factory=list)
    jobs: list[PolicyJob] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what an operator should act on


def database_status(
    conn: psycopg.Connection, sources: tuple[str, ...] = MIGRATION_SOURCES, *, exact: bool = False
) -> DatabaseStatus:
    """The server, the storage path, migrations, row counts and storage of the time-series tables.

    Row counts are estimates unless ``exact`` (``count(*)``, slow on large tables); on TimescaleDB the
    rows inside compressed chunks are counted from TimescaleDB's catalog (``approximate_row_count``
    is not reliable across versions for compressed chunks).
    """
    version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    tsdb = timescaledb_available(conn)
    path = recorded_storage_path(conn)
    applied = applied_migrations(conn)
    problems: list[str] = []
    try:
        planned = discover(sources, path or choose_storage_path(conn, sources))
    except MigrationError as exc:
        planned, path = discover(sources, path or StoragePath.POSTGRES), path
        problems.append(str(exc))
    pending = [f"{m.version:04d}_{m.name}" for m in planned if m.version not in applied]
    st = DatabaseStatus(
        server_version=version,
        timescaledb_available=tsdb,
        storage_path=path,
        storage_detail="not migrated",
        applied=[f"{v:04d}_{n}" for v, (n, _, _) in sorted(applied.items())],
        pending=pending,
        rows_exact=exact,
        problems=problems,
    )
    migrated = conn.execute("SELECT to_regclass('readings') IS NOT NULL").fetchone()[0]  # type: ignore[index]
    if path is StoragePath.TIMESCALEDB and migrated and timescaledb_created(conn):
        _timescaledb_status(conn, st)
    elif path is StoragePath.TIMESCALEDB:
        st.storage_detail = "TimescaleDB path chosen, but the timescaledb extension is not created here"
        st.problems.append("run `meterhub db migrate` (it says what the server lacks)")
    elif path is StoragePath.POSTGRES and migrated:
        _partitions_status(conn, st)
    if path is not None:
        for table in COUNTED_TABLES:
            if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]:  # type: ignore[index]
                st.table_rows[table] = _rows(conn, table, exact, path)
        for s in st.storage:
            s.rows = st.table_rows.get(s.table, 0)
    return st


_HYPERTABLE_ROWS = """
SELECT (coalesce(sum(s.numrows_pre_compression), 0) + coalesce(sum(greatest(pc.reltuples, 0)), 0))::bigint
FROM _timescaledb_catalog.chunk c
JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
JOIN pg_class pc ON pc.oid = format('%%I.%%I', c.schema_name, c.table_name)::regclass
LEFT JOIN _timescaledb_catalog.compression_chunk_size s ON s.chunk_id = c.id
WHERE h.table_name = %s AND NOT c.dropped
"""


def _rows(conn: psycopg.Connection, table: str, exact: bool, path: StoragePath) -> int:
    if exact:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    if path is StoragePath.TIMESCALEDB and table in SERIES_TABLES:
        # a compressed chunk's heap is (nearly) empty, so reltuples misses its rows: they are counted
        # from the catalog (rows at compression time), plus what the heap took since
        return int(conn.execute(_HYPERTABLE_ROWS, (table,)).fetchone()[0])  # type: ignore[index]
    est = conn.execute(
        """
        SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint
        FROM pg_class c
        WHERE c.oid = to_regclass(%s)
           OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s))
        """,
        (table, table),
    ).fetchone()
    return int(est[0]) if est else 0


def _days(iv: timedelta) -> str:
    return f"{iv.days} days" if iv.days and iv == timedelta(days=iv.days) else str(iv)


def _partitions_status(conn: psycopg.Connection, st: DatabaseStatus) -> None:
    for table in SERIES_TABLES:
        n, size = conn.execute(
            """
            SELECT count(*), coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)
            FROM pg_inherits i WHERE i.inhparent = to_regclass(%s)
            """,
            (table,),
        ).fetchone()  # type: ignore[misc]
        st.storage.append(TableStorage(table, 0, int(size), chunks=int(n)))
    st.storage_detail = "native monthly range partitions (maintained by meterhub); " + ", ".join(
        f"{s.table}: {s.chunks} partitions" for s in st.storage
    )


def _timescaledb_status(conn: psycopg.Connection, st: DatabaseStatus) -> None:
    to_vacuum = compressed_chunks_to_vacuum(conn)
    for table in SERIES_TABLES:
        size = conn.execute("SELECT hypertable_size(%s::regclass)", (table,)).fetchone()[0] or 0  # type: ignore[index]
        chunks, compressed, partial = conn.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE c.status & 1 <> 0),
                   count(*) FILTER (WHERE c.status & 8 <> 0)
            FROM _timescaledb_catalog.chunk c JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
            WHERE h.table_name = %s AND NOT c.dropped
            """,
            (table,),
        ).fetchone()  # type: ignore[misc]
        before, after = conn.execute(
            "SELECT coalesce(sum(before_compression_total_bytes), 0), "
            "coalesce(sum(after_compression_total_bytes), 0) FROM hypertable_compression_stats(%s::regclass)",
            (table,),
        ).fetchone()  # type: ignore[misc]
        row = conn.execute(
            "SELECT (config ->> 'compress_after')::interval FROM timescaledb_information.jobs "
            "WHERE proc_name = 'policy_compression' AND hypertable_name = %s",
            (table,),
        ).fetchone()
        after_iv = row[0] if row else None
        overdue = 0
        if after_iv is not None:
            overdue = conn.execute(
                "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = %s "
                "AND NOT is_compressed AND range_end < now() - %s::interval",
                (table, after_iv),
            ).fetchone()[0]  # type: ignore[index]
        s = TableStorage(
            table,
            0,
            int(size),
            int(chunks),
            int(compressed),
            int(partial),
            int(overdue),
            int(before),
            int(after),
            after_iv,
        )
        st.storage.append(s)
        for pending in to_vacuum:
            if pending.hypertable == table:
                s.vacuum_pending_chunks += 1
                s.vacuum_reclaimable_bytes += pending.empty_tail_bytes
        if overdue:
            st.problems.append(
                f"{table}: {overdue} chunk(s) older than the compression policy's {_days(after_iv)} are not "
                "compressed; check its job below and the server log"
            )
    st.jobs = [
        PolicyJob(*r)
        for r in conn.execute(
            """
            SELECT j.job_id, j.proc_name, j.hypertable_name, s.last_run_status, coalesce(s.total_failures, 0),
                   s.last_successful_finish::text, s.next_start::text
            FROM timescaledb_information.jobs j
            LEFT JOIN timescaledb_information.job_stats s USING (job_id)
            WHERE j.hypertable_name IS NOT NULL ORDER BY j.job_id
            """
        ).fetchall()
    ]
    st.storage_detail = "hypertables with compression policies; " + ", ".join(
        f"{s.table}: {s.chunks} chunks ({s.compressed_chunks} compressed)" for s in st.storage
    )
