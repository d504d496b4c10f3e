"""Choosing the storage path: METERHUB_STORAGE, and the refusal of a server that has TimescaleDB but did
not preload it — before anything is recorded — including a database left half-migrated by that case.

A server with TimescaleDB installed but not in ``shared_preload_libraries`` cannot run here (no TimescaleDB
package for this machine; the PGlite test server always loads it): the tests make plain PostgreSQL *say*
it has the extension (``timescaledb_available``), so ``CREATE EXTENSION`` fails as on such a server, and
check what meterhub does about it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.timeseries import migrate as migrate_module
from meterhub.timeseries.database import connect, with_database
from meterhub.timeseries.migrate import MigrationError, StoragePath, discover, migrate, recorded_storage_path
from meterhub.timeseries.schema import database_status

pytestmark = [pytest.mark.db, pytest.mark.postgres_only, pytest.mark.pg_versions]


@pytest.fixture()
def fresh_url(pg_server_url: str, db_url: str) -> Iterator[str]:
    """An empty database of its own for each test (db_url only decides the storage path marker)."""
    name = f"mh_storage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield with_database(pg_server_url, name)
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
def server_claims_timescaledb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrate_module, "timescaledb_available", lambda conn: True)


def _recorded(conn) -> list[tuple[int, str]]:
    return conn.execute("SELECT version, storage_path FROM schema_migrations ORDER BY 1").fetchall()


def test_storage_postgres_makes_partitions_even_where_timescaledb_is_offered(
    fresh_url: str, server_claims_timescaledb: None
) -> None:
    with connect(fresh_url) as conn:
        migrate(conn, MIGRATION_SOURCES, prefer="postgres")
        assert recorded_storage_path(conn) is StoragePath.POSTGRES
        assert conn.execute("SELECT relkind FROM pg_class WHERE relname = 'readings'").fetchone() == ("p",)


def test_not_preloaded_timescaledb_is_refused_before_anything_is_recorded(
    fresh_url: str, server_claims_timescaledb: None
) -> None:
    with connect(fresh_url) as conn:
        with pytest.raises(MigrationError) as err:
            migrate(conn, MIGRATION_SOURCES)
        text = str(err.value)
        assert "shared_preload_libraries = 'timescaledb'" in text and "postgresql.conf" in text
        assert "METERHUB_STORAGE=postgres" in text and "Nothing was migrated" in text
        assert _recorded(conn) == []  # no migration recorded on either path
        # the operator chooses plain PostgreSQL: it migrates
        assert migrate(conn, MIGRATION_SOURCES, prefer="postgres")
        assert {p for _, p in _recorded(conn)} == {"postgres"}


def test_a_database_stuck_on_the_timescaledb_path_recovers(
    fresh_url: str, server_claims_timescaledb: None
) -> None:
    """Before the refusal existed, the first (common) migration was recorded as the TimescaleDB
    variant and the second died: such a database reports its state and can still choose a path."""
    first = discover(MIGRATION_SOURCES, StoragePath.TIMESCALEDB)[0]
    with connect(fresh_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, source text "
            "NOT NULL, storage_path text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL "
            "DEFAULT now())"
        )
        conn.execute(first.sql)  # type: ignore[arg-type]
        conn.execute(
            "INSERT INTO schema_migrations VALUES (%s, %s, %s, 'timescaledb', %s)",
            (first.version, first.name, first.source, first.checksum),
        )
        st = database_status(conn, MIGRATION_SOURCES)  # used to crash on the missing extension
        assert st.storage_path is StoragePath.TIMESCALEDB and st.problems
        with pytest.raises(MigrationError, match="shared_preload_libraries"):
            migrate(conn, MIGRATION_SOURCES)
        migrate(conn, MIGRATION_SOURCES, prefer="postgres")
        assert recorded_storage_path(conn) is StoragePath.POSTGRES
        assert {p for _, p in _recorded(conn)} == {"postgres"}
        assert database_status(conn, MIGRATION_SOURCES).pending == []


def test_a_migrated_database_keeps_its_path(fresh_url: str) -> None:
    with connect(fresh_url) as conn:
        migrate(conn, MIGRATION_SOURCES, prefer="postgres")
        with pytest.raises(MigrationError, match="keeps the path it was created with"):
            migrate(conn, MIGRATION_SOURCES, prefer="timescaledb")


def test_timescaledb_asked_for_where_the_server_has_none(fresh_url: str) -> None:
    with connect(fresh_url) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone():
            pytest.skip("this server has TimescaleDB")
        conn.commit()
        with pytest.raises(MigrationError, match="no timescaledb extension"):
            migrate(conn, MIGRATION_SOURCES, prefer="timescaledb")
        assert _recorded(conn) == []


def test_an_unknown_storage_setting_is_refused(fresh_url: str) -> None:
    with connect(fresh_url) as conn, pytest.raises(MigrationError, match="use auto, timescaledb or postgres"):
        migrate(conn, MIGRATION_SOURCES, prefer="influx")
