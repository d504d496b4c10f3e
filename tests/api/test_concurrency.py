"""More requests in flight than database connections and worker threads must queue, not deadlock.

A sync ``get_conn`` blocking in ``pool.getconn`` inside FastAPI's thread pool deadlocks once every worker
thread (40) waits for a connection while the requests holding connections wait for a thread (found by the
telemetry benchmark with 200 residents). 80 concurrent requests on a pool of 2 connections reproduce it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from meterhub.api.app import create_app
from tests.api.world import World

pytestmark = pytest.mark.db


def test_eighty_concurrent_requests_on_two_connections_all_succeed(world: World, api_settings) -> None:
    settings = api_settings.model_copy(update={"db_pool_max_size": 2})
    with TestClient(create_app(settings)) as c:
        headers = world.auth("alice")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=80) as pool:
            codes = list(
                pool.map(
                    lambda _: c.get("/api/v1/accounts/LS-1/charges", headers=headers).status_code, range(80)
                )
            )
        seconds = time.perf_counter() - started
    assert codes == [200] * 80
    assert seconds < 25  # a deadlock would last until the pool's 30 s timeout
