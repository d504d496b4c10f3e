"""A short-lived, per-process cache of authenticated callers, so a browsing resident's GET needs no
database round trip to know who is asking.

Every request otherwise reads its session or token, the user, their accounts and buildings
(``sessions.lookup_caller``). The answer changes only when a session or token is revoked or expires, a
user is disabled, renamed or changes role, or an account or building is linked or unlinked. So:

- An entry lives at most ``ttl`` seconds (``METERHUB_AUTH_CACHE_SECONDS``, default 5; 0 turns the cache
  off) and never past the session's own ``expires_at``.
- **Changes reach every server process at once**: triggers on ``api_sessions`` (delete, or a change of its
  user, kind, CSRF digest or expiry — not the ``last_used_at`` touch), ``api_users``,
  ``api_user_accounts``, ``api_user_buildings`` and an account's building send ``NOTIFY meterhub_auth``
  (migration 0261) when their transaction commits; each process keeps one listening connection
  (:class:`AuthChangeListener`) and empties its cache on every notification.
- The process that made a change empties its own cache before its answer leaves (the HTTP guards call
  :meth:`CallerCache.invalidate` when a POST/PUT/PATCH/DELETE answers), so the next request of the same
  client never sees the old caller, whatever the notification's delay.
- The cache is used only while the listener is connected: if the listening connection breaks, the cache
  is emptied and bypassed until it is back, so a missed notification cannot keep a revoked token alive.
- A lookup that raced with a change is not stored: every invalidation bumps a generation number, and a
  caller read before the bump is dropped instead of cached.

So a revoked token, a logout, a disabled user or an unlinked account takes effect in every process as
soon as the notification arrives (milliseconds), and in the worst case — a notification delayed by a
busy process — within ``ttl`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from meterhub.api.response_cache import ANSWERS_CHANNEL, ResponseCache
from meterhub.api.sessions import Caller

__all__ = ["CHANNEL", "AuthChangeListener", "CallerCache"]

log = logging.getLogger(__name__)

CHANNEL = "meterhub_auth"


class CallerCache:
    def __init__(
        self, ttl: float, max_entries: int = 20_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._entries: OrderedDict[tuple[str, str], tuple[float, Caller]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock
        self.generation = 0
        self.live = False  # set while the change listener is connected; the cache is bypassed otherwise
        self.hits = self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.live

    def get(self, kind: str, token_digest: str) -> Caller | None:
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get((kind, token_digest))
            if entry is not None and entry[0] > now:
                self.hits += 1
                return entry[1]
            self.misses += 1
        return None

    def put(self, kind: str, token_digest: str, caller: Caller, generation: int) -> None:
        """Keep ``caller`` if nothing was invalidated since ``generation`` was read before the lookup."""
        if not self.enabled:
            return
        left = (caller.session.expires_at - datetime.now(UTC)).total_seconds()
        if left <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            self._entries[(kind, token_digest)] = (self._clock() + min(self.ttl, left), caller)
            self._entries.move_to_end((kind, token_digest))
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def set_live(self, live: bool) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()
            self.live = live


class AuthChangeListener(threading.Thread):
    """``LISTEN meterhub_auth`` on a connection of its own; every notification empties the cache. With
    ``answers``, also ``LISTEN meterhub_answers``: a notification names a scope (account or building)
    whose cached answers this process drops (api/response_cache.py)."""

    def __init__(
        self,
        url: str,
        cache: CallerCache,
        answers: ResponseCache | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(name="meterhub-auth-listener", daemon=True)
        self.url = url
        self.cache = cache
        self.answers = answers
        self.poll_seconds = poll_seconds
        self._halt = threading.Event()
        self.connected = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    if self.answers is not None:
                        conn.execute(f"LISTEN {ANSWERS_CHANNEL}")
                    self.cache.set_live(True)
                    self.connected.set()
                    while not self._halt.is_set():
                        for note in conn.notifies(timeout=self.poll_seconds):
                            if note.channel == CHANNEL:
                                self.cache.invalidate()
                            elif self.answers is not None:
                                self.answers.drop_local_scope(note.payload)
                        conn.execute("SELECT 1")  # a broken connection shows here, not only on a notify
            except psycopg.Error as exc:
                log.warning("auth change listener lost its connection (%s); caller cache off until back", exc)
            finally:
                self.cache.set_live(False)
                self.connected.clear()
            self._halt.wait(1.0)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=self.poll_seconds + 2)
