"""A small in-process cache of computed JSON answers (per server process, LRU with a time to live).

Used for figures that cost a query over thousands of hourly rows and change rarely: a building's charts
(per building, year and service), an account's tariff advice (12 full past months) and consumption series
that end before today (past days do not change except by a late correction, which shows within the TTL).
The key always holds what the answer depends on (account or building, every parameter, the local day),
and the route checks access *before* it asks the cache, so a cached answer is never shown to someone the
route would refuse. Nothing with money owed, sessions or personal data other than the series is cached.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["PAST_TTL_SECONDS", "RECENT_TTL_SECONDS", "ResponseCache"]

RECENT_TTL_SECONDS = 60.0  # anything that includes today: hourly data arrives once an hour
PAST_TTL_SECONDS = 600.0  # past days and months: only late corrections change them


class ResponseCache:
    def __init__(self, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock
        self.hits = self.misses = 0

    def get_or_build(self, key: Hashable, ttl: float, build: Callable[[], bytes]) -> bytes:
        """The cached bytes of ``key`` if younger than ``ttl`` seconds, else ``build()`` (stored)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        body = build()  # outside the lock: two requests may build the same answer once each
        with self._lock:
            self._entries[key] = (now + ttl, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return body

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
