"""Fixtures of the API tests: one migrated database with the world of tests/api/world.py per module and
a TestClient of ``create_app`` on it. Other API test modules (telemetry) use the same fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the api extra is not installed (pip install -e .[api])")

from fastapi.testclient import TestClient

from meterhub.core.settings import Settings
from tests.api.mailserver import MailServer
from tests.api.world import World, build_world

TEST_SECRET = "test-secret-key-for-meterhub-api-tests-0123456789"


@pytest.fixture(scope="module")
def world(db_url: str) -> World:
    return build_world(db_url)


@pytest.fixture(scope="module")
def api_settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=Path(tmp_path_factory.mktemp("meterhub-data")),
        secret_key=TEST_SECRET,
        db_pool_max_size=4,
        # tests change sessions and users in SQL and expect it at the next request; the cache of callers
        # (notified of such changes within milliseconds) has its own tests: test_caller_cache.py
        auth_cache_seconds=0,
    )


@pytest.fixture(scope="module")
def client(world: World, api_settings: Settings) -> Iterator[TestClient]:
    from meterhub.api.app import create_app

    with TestClient(create_app(api_settings)) as c:
        yield c


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    """A real SMTP server (aiosmtpd) on loopback for the module; tests/api/mailserver.py."""
    pytest.importorskip("aiosmtpd.controller")
    server = MailServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
