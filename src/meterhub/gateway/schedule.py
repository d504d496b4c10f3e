"""When each device is read: wall-clock aligned slots, day/month-start reads, per-device jitter. Pure.

Slots are aligned to the building's **local** day: local midnight, then every ``interval`` (which
divides a day) — every 15 minutes means :00/:15/:30/:45. The first slot of a local day is a
*day-start* read (``SlotKind.DAY_START``), and on the 1st of the month a *month-start* read: billing
takes the counters at these instants, so a failed one is retried every ``billing_retry`` until the
next regular slot. A day without a local midnight (DST change at 00:00) begins at the transition.

Each device reads at ``slot + jitter``, where the jitter is a fixed offset in ``[0, max_jitter)``
derived from the device's name by a hash: devices are spread over the window the same way every time
(reproducible, and the same meter is always read at the same second), never all at once. The jitter
never exceeds half the interval, so a read always belongs to its slot.

Slots step evenly in absolute time from the day's start, so a DST change never skips or doubles a
read; for intervals up to an hour they stay on the wall-clock quarter hours, while longer intervals
continue that day on midnight's grid (after a fall-back, 2-hour reads come at odd hours until the
next local midnight).

No clock inside: callers pass ``now``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo


class SlotKind(Enum):
    STARTUP = "startup"  # the read right after the gateway starts
    INTERVAL = "interval"
    DAY_START = "day_start"
    MONTH_START = "month_start"

    @property
    def is_billing(self) -> bool:
        return self in (SlotKind.DAY_START, SlotKind.MONTH_START)


@dataclass(frozen=True, slots=True)
class Slot:
    """One planned read: the aligned instant, when to read (slot + jitter, or a retry), and its kind."""

    at: datetime  # the aligned boundary (UTC)
    due: datetime  # when to read (UTC)
    kind: SlotKind
    attempt: int = 0  # 0 for the first try; retries of billing reads count up


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of local ``day`` in UTC: local midnight, or the DST transition when midnight
    does not exist that day (``fold=0`` resolves such a wall time to the transition instant)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def jitter_for(key: str, max_jitter: timedelta, interval: timedelta) -> timedelta:
    """A fixed offset in ``[0, min(max_jitter, interval / 2))`` for a device, from a hash of ``key``."""
    bound = min(max_jitter, interval / 2)
    if bound <= timedelta(0):
        return timedelta(0)
    fraction = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
    micros = int(fraction * (bound // timedelta(microseconds=1)))
    return timedelta(microseconds=micros)


def slot_at_or_after(instant: datetime, interval: timedelta, zone: ZoneInfo) -> tuple[datetime, SlotKind]:
    """The first aligned slot at or after ``instant`` (aware), in UTC, with its kind."""
    instant = instant.astimezone(UTC)
    day = instant.astimezone(zone).date()
    for candidate_day in (day - timedelta(days=1), day, day + timedelta(days=1), day + timedelta(days=2)):
        start = day_start(candidate_day, zone)
        end = day_start(candidate_day + timedelta(days=1), zone)
        if end <= instant:
            continue
        steps = max(0, -((start - instant) // interval))  # ceil((instant - start) / interval)
        slot = start + steps * interval
        if slot < end:
            if steps == 0:
                return slot, SlotKind.MONTH_START if candidate_day.day == 1 else SlotKind.DAY_START
            return slot, SlotKind.INTERVAL
    raise AssertionError("no slot within two days")  # pragma: no cover - interval divides a day


class DeviceSchedule:
    """The read plan of one device: which slot is next, and what happens after a read.

    >>> s = DeviceSchedule("rs485-1/17", timedelta(minutes=15), ZoneInfo("Europe/Moscow"))
    >>> slot = s.first(now)            # startup read (or the next aligned slot)
    >>> ...read at slot.due...
    >>> s.done(slot, ok=True, now=t)   # → the next slot
    """

    def __init__(
        self,
        key: str,
        interval: timedelta,
        zone: ZoneInfo,
        *,
        max_jitter: timedelta = timedelta(seconds=30),
        billing_retry: timedelta = timedelta(minutes=1),
        read_on_start: bool = True,
    ) -> None:
        self.key = key
        self.interval = interval
        self.zone = zone
        self.jitter = jitter_for(key, max_jitter, interval)
        self.billing_retry = billing_retry
        self.read_on_start = read_on_start

    def first(self, now: datetime) -> Slot:
        """The first read after start-up: at once when ``read_on_start``, else the next slot."""
        if self.read_on_start:
            return Slot(now, now, SlotKind.STARTUP)
        return self.next_after(now)

    def next_after(self, now: datetime) -> Slot:
        """The next slot whose read time (slot + jitter) is not in the past."""
        at, kind = slot_at_or_after(now - self.jitter, self.interval, self.zone)
        return Slot(at, at + self.jitter, kind)

    def done(self, slot: Slot, *, ok: bool, now: datetime) -> Slot:
        """The slot after a read of ``slot`` finished at ``now``.

        A failed billing read is retried every ``billing_retry`` while that is still before the next
        regular slot; everything else moves on to the next slot (missed slots are not read late: the
        counters are cumulative, the next read carries the consumption).
        """
        at, kind = slot_at_or_after(
            max(now - self.jitter, slot.at) + timedelta(microseconds=1), self.interval, self.zone
        )
        following = Slot(at, at + self.jitter, kind)
        if not ok and slot.kind.is_billing:
            retry = now + self.billing_retry
            if retry < following.due:
                return Slot(slot.at, retry, slot.kind, slot.attempt + 1)
        return following
