"""Time for the gateway: ``now()`` and an interruptible ``sleep_until``; injected so tests and the demo
can run on a frozen or faster clock.

:class:`WallClock` is real UTC time. :class:`ScaledClock` starts at a given instant and runs
``speed`` times faster than the wall clock (the demo's ``--speed``): sleeps are shortened to match.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class GatewayClock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event | None = None) -> None: ...


class WallClock:
    """Real time (UTC). ``speed`` > 1 makes it a scaled clock starting now."""

    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event | None = None) -> None:
        """Sleep until ``when`` (None: forever) or until ``wake`` is set, whichever comes first."""
        delay = None if when is None else max(0.0, (when - self.now()).total_seconds() / self.speed)
        if wake is None:
            await asyncio.sleep(delay if delay is not None else 3600)
            return
        if delay == 0 or wake.is_set():
            return
        # asyncio.wait, not wait_for: Python 3.11's wait_for may swallow a cancellation that races
        # with the event being set, and a cancelled gateway task must end.
        waiter = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait({waiter}, timeout=delay)
        finally:
            waiter.cancel()


class ScaledClock(WallClock):
    """Simulated time: ``start`` + ``speed`` × elapsed wall time."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("ScaledClock needs an aware start time")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)
