"""A cache of computed JSON answers: per server process (LRU with a time to live) and, for the cabinet's
figures, shared by the processes in PostgreSQL.

Used for figures that cost a query over thousands of hourly rows and change rarely: a building's charts
(per building, year and service), an account's tariff advice (12 full past months) and consumption series
that end before today (past days do not change except by a late correction, which shows within the TTL).
The key always holds what the answer depends on (account or building, every parameter, the local day),
and the route checks access *before* it asks the cache, so a cached answer is never shown to someone the
route would refuse. Nothing with money owed, sessions or personal data other than the series is cached.

**Shared level** (:meth:`ResponseCache.get_or_build_shared`): a miss in the process's own cache looks in
the UNLOGGED table ``api_answer_cache`` (migration 0262) before building, and a built answer is stored
there with its expiry, so with several server processes an answer is computed once, not once per process
(the connection that accepted a resident's browser decides which process answers). Each entry names its
**scope** (the account or building); :meth:`ResponseCache.drop_scope` deletes the scope's shared rows and
sends ``NOTIFY meterhub_answers`` with the scope, on which every process (api/caller_cache.py's listener)
drops its own entries of that scope — a submitted reading shows in every process at once.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import psycopg

__all__ = ["ANSWERS_CHANNEL", "PAST_TTL_SECONDS", "RECENT_TTL_SECONDS", "ResponseCache"]

ANSWERS_CHANNEL = "meterhub_answers"
T = TypeVar("T")
_PRUNE_ONE_IN = 500  # a store also deletes expired shared rows once in this many

RECENT_TTL_SECONDS = 60.0  # anything that includes today: hourly data arrives once an hour
PAST_TTL_SECONDS = 600.0  # past days and months: only late corrections change them


class ResponseCache:
    def __init__(self, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock
        self.hits = self.misses = self.shared_hits = 0

    def get_or_build(self, key: Hashable, ttl: float, build: Callable[[], T]) -> T:
        """The cached value of ``key`` (JSON bytes, or a small object such as an account's context) if
        younger than ``ttl`` seconds, else ``build()`` (stored)."""
        now = self._clock()
        cached = self._local(key, now)
        if cached is not None:
            return cached  # type: ignore[return-value]  # what build() returned for this key
        body = build()  # outside the lock: two requests may build the same answer once each
        self._keep(key, now + ttl, body)
        return body

    def peek(self, key: Hashable) -> object | None:
        """This process's live entry of ``key`` or None, without building (cheap: fit for the event loop)."""
        return self._local(key, self._clock())

    def __contains__(self, key: Hashable) -> bool:
        """Whether this process holds a live entry of ``key``."""
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry[0] > self._clock()

    def _local(self, key: Hashable, now: float) -> object | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        return None

    def _keep(self, key: Hashable, until: float, body: object) -> None:
        with self._lock:
            self._entries[key] = (until, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def get_or_build_shared(
        self, conn: psycopg.Connection, key: tuple, ttl: float, build: Callable[[], bytes]
    ) -> bytes:
        """Like :meth:`get_or_build`, with the shared level in PostgreSQL between this process's cache and
        ``build()``. ``key[1]`` is the entry's scope (account or building), dropped by :meth:`drop_scope`.
        ``conn`` is in autocommit mode (the API's connections are)."""
        now = self._clock()
        body = self._local(key, now)
        if isinstance(body, bytes):
            return body
        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        row = conn.execute(
            "SELECT body, extract(epoch FROM expires_at - now())::float8 FROM api_answer_cache "
            "WHERE cache_key = %s AND expires_at > now()",
            (digest,),
        ).fetchone()
        if row is not None:
            self.shared_hits += 1
            body = bytes(row[0])
            self._keep(key, now + min(ttl, row[1]), body)
            return body
        body = build()
        conn.execute(
            "INSERT INTO api_answer_cache (cache_key, scope, body, expires_at) "
            "VALUES (%s, %s, %s, now() + make_interval(secs => %s)) ON CONFLICT (cache_key) DO UPDATE "
            "SET scope = excluded.scope, body = excluded.body, expires_at = excluded.expires_at",
            (digest, str(key[1]), body, ttl),
        )
        if random.randrange(_PRUNE_ONE_IN) == 0:
            conn.execute("DELETE FROM api_answer_cache WHERE expires_at < now()")
        self._keep(key, now + ttl, body)
        return body

    def drop_scope(self, conn: psycopg.Connection, scope: str) -> None:
        """Forget the scope's answers here, in the shared table, and (by NOTIFY) in every other process."""
        with conn.transaction():
            conn.execute("DELETE FROM api_answer_cache WHERE scope = %s", (scope,))
            conn.execute("SELECT pg_notify(%s, %s)", (ANSWERS_CHANNEL, scope))
        self.drop_local_scope(scope)

    def drop_local_scope(self, scope: str) -> int:
        return self.drop(lambda key: isinstance(key, tuple) and len(key) > 1 and key[1] == scope)

    def drop(self, predicate: Callable[[Hashable], bool]) -> int:
        """Forget every entry whose key matches (e.g. an account's series after a new reading)."""
        with self._lock:
            gone = [k for k in self._entries if predicate(k)]
            for k in gone:
                del self._entries[k]
        return len(gone)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
