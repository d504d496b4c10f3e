"""``GET /api/v1/health``: public, answers whether the database is reachable, and carries no data."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub import __version__
from meterhub.api.app import create_app
from tests.api.world import World

pytestmark = pytest.mark.db


def test_health_is_public_and_says_the_database_answers(client: TestClient) -> None:
    r = client.get("/api/v1/health")  # no cookie, no token
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "version": __version__}


def test_health_is_503_when_the_database_does_not_answer(world: World, api_settings) -> None:
    """The database goes away under a running app: its pooled connections are terminated and new ones
    refused (ALLOW_CONNECTIONS false), as when PostgreSQL restarts or the network drops."""
    info = psycopg.conninfo.conninfo_to_dict(api_settings.database_url)
    admin = psycopg.conninfo.make_conninfo(**{**info, "dbname": "postgres"})
    settings = api_settings.model_copy(update={"db_pool_max_size": 1})
    with TestClient(create_app(settings)) as c, psycopg.connect(admin, autocommit=True) as a:
        assert c.get("/api/v1/health").status_code == 200
        try:
            a.execute(f'ALTER DATABASE "{info["dbname"]}" ALLOW_CONNECTIONS false')
            a.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (info["dbname"],),
            )
            r = c.get("/api/v1/health")
            assert r.status_code == 503
            assert r.json()["database"] == "unavailable"
        finally:
            a.execute(f'ALTER DATABASE "{info["dbname"]}" ALLOW_CONNECTIONS true')
