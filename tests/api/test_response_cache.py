"""The cache of computed answers: time to live, least-recently-used eviction, dropping an account's entries
(pure, with an injected clock); the level shared by server processes in PostgreSQL (with a database)."""

from __future__ import annotations

import time

import pytest

from meterhub.api.response_cache import ResponseCache

pytestmark = pytest.mark.pg_versions  # runs on CI's PostgreSQL 15 too (docs/testing.md)


def test_entries_live_for_their_ttl_and_the_oldest_unused_go_first() -> None:
    now = [100.0]
    cache = ResponseCache(max_entries=2, clock=lambda: now[0])
    builds: list[str] = []

    def build(tag: str):
        return lambda: builds.append(tag) or tag.encode()

    assert cache.get_or_build(("a",), 60, build("a1")) == b"a1"
    assert cache.get_or_build(("a",), 60, build("a2")) == b"a1"  # cached
    now[0] += 61
    assert cache.get_or_build(("a",), 60, build("a3")) == b"a3"  # expired → rebuilt
    cache.get_or_build(("b",), 60, build("b1"))
    cache.get_or_build(("a",), 60, build("a4"))  # touch a: b is now the least recently used
    cache.get_or_build(("c",), 60, build("c1"))  # evicts b
    assert cache.get_or_build(("b",), 60, build("b2")) == b"b2"
    assert builds == ["a1", "a3", "b1", "c1", "b2"]
    assert (cache.hits, cache.misses) == (2, 5)


def test_dropping_an_accounts_entries() -> None:
    cache = ResponseCache()
    cache.get_or_build(("consumption", "LS-1", "E-1"), 600, lambda: b"old")
    cache.get_or_build(("consumption", "LS-2", "E-2"), 600, lambda: b"other")
    assert cache.drop(lambda key: key[1] == "LS-1") == 1
    assert cache.get_or_build(("consumption", "LS-1", "E-1"), 600, lambda: b"new") == b"new"
    assert cache.get_or_build(("consumption", "LS-2", "E-2"), 600, lambda: b"x") == b"other"


# --- the level shared by server processes (PostgreSQL) -------------------------------------------------


@pytest.mark.db
def test_an_answer_is_built_once_for_every_process_and_dropped_everywhere(db_url: str) -> None:
    from meterhub.api.caller_cache import AuthChangeListener, CallerCache
    from meterhub.timeseries.database import connect

    one, two = ResponseCache(), ResponseCache()  # two server processes
    builds: list[str] = []

    def build(tag: str):
        return lambda: builds.append(tag) or tag.encode()

    listener = AuthChangeListener(db_url, CallerCache(ttl=0), two, poll_seconds=0.1)
    listener.start()
    try:
        assert listener.connected.wait(10)
        with connect(db_url, autocommit=True) as conn:
            key = ("consumption", "LS-1", "E-1", "2026-01-01")
            assert one.get_or_build_shared(conn, key, 600, build("first")) == b"first"
            assert two.get_or_build_shared(conn, key, 600, build("second")) == b"first"
            assert (two.shared_hits, builds) == (1, ["first"])
            other = ("consumption", "LS-2", "E-2", "2026-01-01")
            assert two.get_or_build_shared(conn, other, 600, build("ls2")) == b"ls2"
            # a reading of LS-1 submitted through process one: both processes and the table forget LS-1
            one.drop_scope(conn, "LS-1")
            assert key not in one
            deadline = time.monotonic() + 3
            while key in two and time.monotonic() < deadline:  # the notification reaches process two
                time.sleep(0.02)
            assert key not in two and other in two
            assert two.get_or_build_shared(conn, key, 600, build("rebuilt")) == b"rebuilt"
            assert one.get_or_build_shared(conn, key, 600, build("again")) == b"rebuilt"
            assert two.get_or_build_shared(conn, other, 600, build("x")) == b"ls2"  # another scope stays
            (left,) = conn.execute("SELECT count(*) FROM api_answer_cache WHERE scope = 'LS-1'").fetchone()
            assert left == 1  # the rebuilt answer only
    finally:
        listener.stop()


@pytest.mark.db
def test_a_shared_answer_lives_no_longer_than_its_ttl(db_url: str) -> None:
    from meterhub.timeseries.database import connect

    one, two = ResponseCache(), ResponseCache()
    with connect(db_url, autocommit=True) as conn:
        key = ("charts", "B1", 2026)
        one.get_or_build_shared(conn, key, 0.2, lambda: b"old")
        time.sleep(0.3)
        assert two.get_or_build_shared(conn, key, 600, lambda: b"new") == b"new"
        assert one.get_or_build_shared(conn, key, 600, lambda: b"newer") == b"new"  # its own copy expired
