"""The per-process cache of authenticated callers (api/caller_cache.py): repeated requests skip the
database, and every change of a session, user or link reaches every process — at once in the process that
made it through the API, within moments in the others (NOTIFY), and for changes made directly in SQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from meterhub.api.caller_cache import CallerCache
from meterhub.api.sessions import Caller, SessionRow, digest, issue_bearer
from meterhub.core.settings import Settings
from tests.api.world import World

pytestmark = pytest.mark.pg_versions  # runs on CI's PostgreSQL 15 too (docs/testing.md)

NOTIFY_WAIT_S = 3.0  # a notification normally arrives in milliseconds; the bound only keeps CI patient


@pytest.fixture(scope="module")
def processes(world: World, api_settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on the same database, as two server processes are."""
    from meterhub.api.app import create_app

    settings = api_settings.model_copy(update={"auth_cache_seconds": 5.0})
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        yield a, b


def _token(world: World, who: str) -> tuple[str, int]:
    from meterhub.timeseries.database import connect

    with connect(world.url, autocommit=True) as conn:
        token = issue_bearer(conn, world.users[who], timedelta(hours=1), "cache test").token
        (token_id,) = conn.execute(
            "SELECT session_id FROM api_sessions WHERE token_digest = %s", (digest(token),)
        ).fetchone()
    return token, token_id


def _sql(world: World, sql: str, params: tuple = ()) -> None:
    from meterhub.timeseries.database import connect

    with connect(world.url, autocommit=True) as conn:
        conn.execute(sql, params)


def _soon(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + NOTIFY_WAIT_S
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


@pytest.mark.db
def test_repeated_requests_reuse_the_caller(processes, world: World) -> None:
    a, _ = processes
    token, _ = _token(world, "dave")
    cache = a.app.state.caller_cache
    assert cache.enabled  # the listener is connected
    hits = cache.hits
    for _ in range(5):
        assert a.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert cache.hits - hits == 4  # the first request read the database, the next four did not


@pytest.mark.db
def test_a_revoked_token_stops_at_once_here_and_in_the_other_process(processes, world: World) -> None:
    a, b = processes
    token, token_id = _token(world, "alice")
    auth = {"Authorization": f"Bearer {token}"}
    assert a.get("/api/v1/me", headers=auth).status_code == 200
    assert b.get("/api/v1/me", headers=auth).status_code == 200  # both processes now hold the caller
    assert a.delete(f"/api/v1/auth/tokens/{token_id}", headers=auth).status_code == 204
    assert a.get("/api/v1/me", headers=auth).status_code == 401  # the revoking process: the next request
    assert _soon(lambda: b.get("/api/v1/me", headers=auth).status_code == 401)


@pytest.mark.db
def test_logout_ends_the_token_in_the_other_process(processes, world: World) -> None:
    a, b = processes
    token, _ = _token(world, "carol")
    auth = {"Authorization": f"Bearer {token}"}
    assert b.get("/api/v1/me", headers=auth).status_code == 200
    assert a.post("/api/v1/auth/logout", headers=auth).status_code == 204
    assert _soon(lambda: b.get("/api/v1/me", headers=auth).status_code == 401)


@pytest.mark.db
def test_changes_made_in_sql_reach_the_cache(processes, world: World) -> None:
    a, _ = processes
    token, _ = _token(world, "bob")
    auth = {"Authorization": f"Bearer {token}"}

    def accounts() -> list[str]:
        return a.get("/api/v1/me", headers=auth).json()["account_nos"]

    assert accounts() == ["LS-2"]
    _sql(world, "DELETE FROM api_user_accounts WHERE user_id = %s", (world.users["bob"],))
    try:
        assert _soon(lambda: accounts() == [])
        assert _soon(lambda: a.get("/api/v1/accounts/LS-2", headers=auth).status_code == 404)
    finally:
        _sql(
            world,
            "INSERT INTO api_user_accounts (user_id, account_no, linked_by) VALUES (%s, 'LS-2', 'admin')",
            (world.users["bob"],),
        )
    assert _soon(lambda: accounts() == ["LS-2"])
    _sql(world, "UPDATE api_users SET active = false WHERE user_id = %s", (world.users["bob"],))
    try:
        assert _soon(lambda: a.get("/api/v1/me", headers=auth).status_code == 401)
    finally:
        _sql(world, "UPDATE api_users SET active = true WHERE user_id = %s", (world.users["bob"],))
    assert _soon(lambda: a.get("/api/v1/me", headers=auth).status_code == 200)
    _sql(
        world,
        "UPDATE api_sessions SET expires_at = now() - interval '1 second' WHERE token_digest = %s",
        (digest(token),),
    )
    assert _soon(lambda: a.get("/api/v1/me", headers=auth).status_code == 401)


@pytest.mark.db
def test_touching_last_used_does_not_empty_the_cache(processes, world: World) -> None:
    a, _ = processes
    cache = a.app.state.caller_cache
    token, _ = _token(world, "dave")
    assert a.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    generation = cache.generation
    _sql(
        world,
        "UPDATE api_sessions SET last_used_at = now() - interval '2 minutes' WHERE token_digest = %s",
        (digest(token),),
    )
    _sql(world, "SELECT pg_sleep(0.3)")  # time for a notification, had one been sent
    assert cache.generation == generation


# --- the cache's rules without a database -------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _caller(expires_in: timedelta = timedelta(hours=1)) -> Caller:
    session = SessionRow(7, "bearer", None, datetime.now(UTC) + expires_in)
    return Caller(session, 7, "u7", "resident", "", ("A-1",), ("B1",))


def test_entries_expire_after_the_ttl_and_never_outlive_the_session() -> None:
    clock = Clock()
    cache = CallerCache(ttl=5.0, clock=clock)
    cache.set_live(True)
    cache.put("bearer", "d1", _caller(), cache.generation)
    cache.put("bearer", "d2", _caller(timedelta(seconds=2)), cache.generation)
    clock.now += 2.5
    assert cache.get("bearer", "d1") is not None
    assert cache.get("bearer", "d2") is None  # its session ended after 2 s
    assert cache.get("session", "d1") is None  # another kind is another key
    clock.now += 2.6
    assert cache.get("bearer", "d1") is None


def test_a_lookup_that_raced_an_invalidation_is_not_kept() -> None:
    cache = CallerCache(ttl=5.0)
    cache.set_live(True)
    generation = cache.generation  # read before the database lookup
    cache.invalidate()  # a change arrived while the lookup ran
    cache.put("bearer", "d", _caller(), generation)
    assert cache.get("bearer", "d") is None
    cache.put("bearer", "d", replace(_caller(), username="fresh"), cache.generation)
    assert cache.get("bearer", "d").username == "fresh"


def test_without_the_listener_nothing_is_cached() -> None:
    cache = CallerCache(ttl=5.0)
    cache.put("bearer", "d", _caller(), cache.generation)
    assert cache.get("bearer", "d") is None  # never connected
    cache.set_live(True)
    cache.put("bearer", "d", _caller(), cache.generation)
    assert cache.get("bearer", "d") is not None
    cache.set_live(False)  # the listening connection broke: what was kept may be stale
    assert cache.get("bearer", "d") is None
    assert not CallerCache(ttl=0).enabled
