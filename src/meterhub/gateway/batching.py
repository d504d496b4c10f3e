"""When to cut a batch: pure rules, no I/O.

A batch leaves when ``batch_size`` readings are waiting, or when the oldest waiting reading has
waited ``batch_time`` (5 s by default), whichever comes first — many readings per message (a QoS 1
round trip costs the same for 1 or 500 readings), but never more than a few seconds of delay.
Readings found in the outbox at start-up (a restart after a crash or outage) go at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    batch_size: int = 500
    batch_time: timedelta = timedelta(seconds=5)

    def ready(self, waiting: int, oldest_since: datetime | None, now: datetime) -> bool:
        """True when a batch should be cut now."""
        if waiting <= 0:
            return False
        if waiting >= self.batch_size or oldest_since is None:
            return True
        return now - oldest_since >= self.batch_time

    def wake_at(self, waiting: int, oldest_since: datetime | None) -> datetime | None:
        """When ``ready`` turns true with no new readings (None: nothing is waiting)."""
        if waiting <= 0 or oldest_since is None:
            return None
        return oldest_since + self.batch_time
