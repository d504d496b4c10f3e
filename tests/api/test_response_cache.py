"""The per-process cache of computed answers: time to live, least-recently-used eviction, dropping an
account's entries (pure, with an injected clock)."""

from __future__ import annotations

from meterhub.api.response_cache import ResponseCache


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
