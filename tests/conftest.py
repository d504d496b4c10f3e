"""Shared fixtures: a real PostgreSQL for every test module that needs one.

``METERHUB_TEST_DATABASE_URL`` points the suite at an external server (CI also runs the DB tests
against the machine's PostgreSQL 15 this way); without it an embedded PostgreSQL 16 (pgserver) is
started once per test session in a temporary directory. Each test module gets its own freshly
migrated database, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
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


@pytest.fixture(scope="module")
def empty_db_url(pg_server_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database with no schema, dropped after the module."""
    url = _create_database(pg_server_url, request.module.__name__.rsplit(".", 1)[-1])
    yield url
    _drop_database(pg_server_url, url)


@pytest.fixture(scope="module")
def db_url(pg_server_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, fully migrated database for this test module."""
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect
    from meterhub.timeseries.migrate import migrate

    url = _create_database(pg_server_url, request.module.__name__.rsplit(".", 1)[-1])
    with connect(url) as conn:
        migrate(conn, MIGRATION_SOURCES)
    yield url
    _drop_database(pg_server_url, url)


@pytest.fixture()
def conn(db_url: str):
    from meterhub.timeseries.database import connect

    with connect(db_url) as c:
        yield c
