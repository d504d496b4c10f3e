"""Migrations on an empty and on an already-migrated database; storage path; db CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.timeseries.database import connect
from meterhub.timeseries.migrate import MigrationError, StoragePath, discover, migrate
from meterhub.timeseries.schema import database_status

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]


def test_empty_then_already_migrated(empty_db_url):
    with connect(empty_db_url) as conn:
        first = migrate(conn, MIGRATION_SOURCES)
        assert [m.version for m in first] == sorted(m.version for m in first) and len(first) >= 3
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        }
        assert {
            "meters",
            "meter_registers",
            "readings",
            "hourly_consumption",
            "dead_letters",
            "reading_flags",
            "series_dirty",
            "register_events",
            "schema_migrations",
        } <= tables
        assert migrate(conn, MIGRATION_SOURCES) == []  # running twice is harmless
        st = database_status(conn, MIGRATION_SOURCES)
        assert st.pending == [] and len(st.applied) == len(first)
        expected = StoragePath.TIMESCALEDB if st.timescaledb_available else StoragePath.POSTGRES
        assert st.storage_path is expected
        if expected is StoragePath.POSTGRES:
            kind = conn.execute("SELECT relkind FROM pg_class WHERE relname = 'readings'").fetchone()[0]
            assert kind == "p"  # a partitioned table


def test_an_edited_applied_migration_is_refused(empty_db_url):
    with connect(empty_db_url) as conn:
        migrate(conn, MIGRATION_SOURCES)
        conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            migrate(conn, MIGRATION_SOURCES)
        real = discover(MIGRATION_SOURCES, StoragePath.POSTGRES)[0].checksum
        conn.execute("UPDATE schema_migrations SET checksum = %s WHERE version = 1", (real,))


def test_both_storage_paths_ship_the_same_tables():
    pg = {m.version for m in discover(MIGRATION_SOURCES, StoragePath.POSTGRES)}
    ts = {m.version for m in discover(MIGRATION_SOURCES, StoragePath.TIMESCALEDB)}
    assert pg == ts
    tsdb_sql = "".join(m.sql for m in discover(MIGRATION_SOURCES, StoragePath.TIMESCALEDB))
    assert "create_hypertable('readings'" in tsdb_sql and "add_compression_policy" in tsdb_sql


def test_db_cli_migrate_and_status(db_url):
    env = {**os.environ, "METERHUB_DATABASE_URL": db_url}
    cli = [sys.executable, "-m", "meterhub.cli"]
    out = subprocess.run([*cli, "db", "migrate"], env=env, capture_output=True, text=True, check=True)
    assert "up to date" in out.stdout
    out = subprocess.run([*cli, "db", "status"], env=env, capture_output=True, text=True, check=True)
    assert ", 0 pending" in out.stdout and "storage path:" in out.stdout
    assert "native monthly range partitions" in out.stdout or "hypertables" in out.stdout


@pytest.mark.postgres_only  # TimescaleDB makes its own chunks
def test_sessions_reaching_a_new_month_at_once_make_its_partition_once(db_url):
    """Two writers (ingest threads or processes) create the same month's partition at the same time:
    the second waits for the first and finds it, instead of failing on the catalog's unique index."""
    import threading

    month = ("2031-07-01T00:00:00Z", "2031-07-15T00:00:00Z")
    with connect(db_url) as first, connect(db_url) as second:
        assert (
            first.execute("SELECT meterhub_ensure_partitions('readings', %s, %s)", month).fetchone()[0] == 1
        )
        outcome: list[object] = []

        def other_session() -> None:
            try:
                outcome.append(
                    second.execute("SELECT meterhub_ensure_partitions('readings', %s, %s)", month).fetchone()[
                        0
                    ]
                )
                second.commit()
            except Exception as exc:  # reported by the assertion below
                outcome.append(exc)

        t = threading.Thread(target=other_session)
        t.start()
        t.join(1.0)
        assert t.is_alive() and outcome == []  # waiting for the first session's transaction
        first.commit()
        t.join(10)
        assert outcome == [0]  # found the partition the first session made
        n = first.execute("SELECT count(*) FROM pg_class WHERE relname = 'readings_203107'").fetchone()[0]
        assert n == 1
