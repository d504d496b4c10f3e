"""Shared fixtures: a real PostgreSQL for every test module that needs one.

``METERHUB_TEST_DATABASE_URL`` points the suite at an external server (CI also runs the DB tests marked
``pg_versions`` against the machine's PostgreSQL 15 this way; docs/testing.md); without it an embedded
PostgreSQL 16 (pgserver) is started once per test session in a temporary directory. Each test module
gets its own freshly migrated database, so tests never see each other's rows.

``METERHUB_TEST_STORAGE=timescaledb`` is the TimescaleDB pass (``python3 tasks.py test`` runs it on the
tests marked ``storage``): every test module then gets its own TimescaleDB test server
(``tests/timescaledb_server``: PGlite with TimescaleDB, one connection at a time), started empty and
migrated like a production database. A test that assumes one storage path says so with the
``postgres_only`` or ``timescaledb_only`` marker and is skipped on the other, judged by the storage
path its database was actually migrated to.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis' 200 ms per-example deadline measures the machine, not the code: on a loaded 2-core CI
# machine a slow example fails as "flaky". Speed targets live in benchmarks/, so no deadline here
# (a test may still set its own).
settings.register_profile("meterhub", deadline=None)
settings.load_profile("meterhub")

TIMESCALEDB_PASS = os.environ.get("METERHUB_TEST_STORAGE", "").lower() == "timescaledb"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    if TIMESCALEDB_PASS:
        pytest.skip("the TimescaleDB pass gives each module its own server (db_url), not a shared one")
    external = os.environ.get("METERHUB_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from meterhub.timeseries.database import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="meterhub-test-pg-") as tmp, embedded_postgres(Path(tmp)) as url:
        yield url


def _create_database(server_url: str, label: str) -> str:
    import psycopg

    from meterhub.timeseries.database import with_database

    name = f"mh_{re.sub(r'[^a-z0-9]+', '_', label.lower())[-40:]}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def _drop_database(server_url: str, url: str) -> None:
    import psycopg

    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _fresh_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database of its own: a new TimescaleDB test server in the TimescaleDB pass, else a new
    database on the session's PostgreSQL server."""
    if TIMESCALEDB_PASS:
        from tests.timescaledb_server.launcher import timescaledb_server

        with timescaledb_server() as url:
            yield url
        return
    server = request.getfixturevalue("pg_server_url")
    url = _create_database(server, request.module.__name__.rsplit(".", 1)[-1])
    try:
        yield url
    finally:
        _drop_database(server, url)


@pytest.fixture(scope="module")
def empty_db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database with no schema, dropped after the module."""
    with _fresh_database(request) as url:
        yield url


@pytest.fixture(scope="module")
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, fully migrated database for this test module."""
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect
    from meterhub.timeseries.migrate import migrate

    with _fresh_database(request) as url:
        with connect(url) as conn:
            migrate(conn, MIGRATION_SOURCES)
        yield url


@pytest.fixture(scope="module")
def storage_path(db_url: str):
    """The storage path (``StoragePath``) this module's database was migrated to."""
    from meterhub.timeseries.database import connect
    from meterhub.timeseries.migrate import recorded_storage_path

    with connect(db_url) as c:
        return recorded_storage_path(c)


@pytest.fixture(autouse=True)
def _storage_path_markers(request: pytest.FixtureRequest) -> None:
    """Skip a ``postgres_only`` / ``timescaledb_only`` test on the other storage path."""
    for marker, wanted in (("postgres_only", "postgres"), ("timescaledb_only", "timescaledb")):
        if request.node.get_closest_marker(marker) is not None:
            path = request.getfixturevalue("storage_path")
            if path is None or path.value != wanted:
                pytest.skip(f"assumes the {wanted} storage path; this database is on {path}")


@pytest.fixture()
def conn(db_url: str):
    from meterhub.timeseries.database import connect

    with connect(db_url) as c:
        yield c


# --- the PostgreSQL 15 pass (marker pg_versions, docs/testing.md) --------------------------------------

_STORAGE_AREAS = ("tests/timeseries/",)


def touches_migrations_or_storage(item: pytest.Item) -> bool:
    """A database test of the storage: marked ``storage``, migrating a database itself (``empty_db_url``)
    or in the time series' tests (ingest, rollup, VEE, retention, migrations)."""
    if item.get_closest_marker("db") is None and item.get_closest_marker("storage") is None:
        return False
    return (
        item.get_closest_marker("storage") is not None
        or "empty_db_url" in getattr(item, "fixturenames", ())
        or item.nodeid.startswith(_STORAGE_AREAS)
    )


def modules_missing_pg_versions(items: list[pytest.Item]) -> list[str]:
    """The test modules with a storage test (:func:`touches_migrations_or_storage`) of which no test
    carries ``pg_versions``; a module whose storage tests all need TimescaleDB is exempt (they skip on
    plain PostgreSQL)."""
    storage: dict[str, list[pytest.Item]] = {}
    marked: set[str] = set()
    for item in items:
        module = item.nodeid.split("::")[0]
        if item.get_closest_marker("pg_versions") is not None:
            marked.add(module)
        if touches_migrations_or_storage(item):
            storage.setdefault(module, []).append(item)
    return sorted(
        module
        for module, found in storage.items()
        if module not in marked and not all(i.get_closest_marker("timescaledb_only") for i in found)
    )


@pytest.hookimpl(tryfirst=True)  # before -m/-k deselect: the whole module is judged
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = modules_missing_pg_versions(items)
    if missing:
        raise pytest.UsageError(
            "these test modules touch the migrations or the storage but none of their tests is marked "
            "pg_versions, so CI's PostgreSQL 15 pass would skip them: "
            + ", ".join(missing)
            + " — mark them pg_versions (pytestmark, or the tests whose SQL matters; docs/testing.md)"
        )
