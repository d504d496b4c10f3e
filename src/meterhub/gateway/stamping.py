"""Read times at whole seconds, and one reading per series and second. Pure: no clock inside.

The gateway stamps every reading with the **floor** of the moment its value was read, in whole seconds
(UTC). A read takes 30 ms–2 s on the bus, so the microseconds of the stamp say when the poller's
last answer arrived, not when the counter had its value: noise for a cumulative register. Whole seconds
make the time column compress to ~0.1 B/row instead of ~3 (``docs/timeseries.md``).

Floor, not round: the stamp never lies in the future of the read (a value read at 12:14:59.7 was
counted by then; rounding would say 12:15:00, after the read, and move it across a quarter-hour or
hour boundary it has not reached), and a value read in second *s* stays in second *s* — the same
second the bus saw it. Floor is also what ``date_trunc('second', ts)`` and integer division do, so
any other implementation (the benchmark, a simulator) agrees by construction.

Two reads of one register in the same second (a start-up read followed at once by a slot read, a
retried billing read, or the clock stepped back) would give two readings with one key
``(meter_id, register, ts)``; the ingest matches re-sent readings on that key and would reject the
second value as a conflict. :class:`SecondGuard` keeps one: **the later value** (in read order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from meterhub.core.readings import Reading, ReadingQuality

SECOND = timedelta(seconds=1)
US_PER_SECOND = 1_000_000

_Micros = TypeVar("_Micros")  # int or a numpy integer array


def read_stamp(moment: datetime) -> datetime:
    """The stamp of a value read at ``moment`` (aware): ``moment`` floored to the whole second, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("read_stamp needs an aware datetime (UTC)")
    return moment.astimezone(UTC).replace(microsecond=0)


def read_stamp_us(micros: _Micros) -> _Micros:
    """:func:`read_stamp` on microseconds since the Unix epoch (an int or a numpy integer array):
    floor to a multiple of 1 000 000 (Python's and numpy's ``%`` floor for negative values too)."""
    return micros - micros % US_PER_SECOND  # type: ignore[operator]


def stamped(readings: Iterable[Reading]) -> list[Reading]:
    """Readings with their ``ts`` at :func:`read_stamp` (already whole seconds: the same object)."""
    out = []
    for r in readings:
        ts = read_stamp(r.ts)
        out.append(r if ts == r.ts else replace(r, ts=ts))
    return out


def last_per_key(readings: Sequence[Reading]) -> list[Reading]:
    """One reading per ``(meter_id, register, ts)``: the last one in the sequence, at the position of
    the first (so the order of the others is kept)."""
    index: dict[tuple[str, str, datetime], int] = {}
    out: list[Reading] = []
    for r in readings:
        key = (r.meter_id, r.register, r.ts)
        at = index.get(key)
        if at is None:
            index[key] = len(out)
            out.append(r)
        else:
            out[at] = r
    return out


class SecondGuard:
    """One reading per series and second, and every series' stamps increasing, across the reads of a
    gateway — and across its restarts when it is given the last stamps its outbox kept.

    ``admit(readings, device)`` stamps a read's readings at whole seconds, keeps the last of any
    repeated key within the read, and splits them into ``fresh`` and ``repeats`` (the series' last
    stored second again: a later value of a reading already stored, which the caller puts in place of
    the stored one). A stamp *before* the series' last second means the clock is behind it (stepped
    back: an NTP correction, an RTC reset after a power cut): such a reading is **restamped** one second
    after the series' last second and marked ``uncertain`` — never a key already used, never a series
    going back in time — and listed in :attr:`restamped` (its original stamp, the restamped reading) for
    the call. :meth:`hold_until` tells the caller when a device may be read again without that: the
    first instant whose stamp is after the device's last one.
    """

    def __init__(self, last: Iterable[tuple[str, str, str, datetime]] = ()) -> None:
        """``last``: (meter_id, register, device, last stamp) per series, as the outbox kept them."""
        self._last: dict[tuple[str, str], datetime] = {}
        self._device_last: dict[str, datetime] = {}
        for meter_id, register, device, ts in last:
            self._last[(meter_id, register)] = ts
            self._note_device(device, ts)
        self.restamped: list[tuple[datetime, Reading]] = []

    def _note_device(self, device: str, ts: datetime) -> None:
        before = self._device_last.get(device)
        if before is None or ts > before:
            self._device_last[device] = ts

    def admit(self, readings: Sequence[Reading], device: str = "") -> tuple[list[Reading], list[Reading]]:
        fresh: list[Reading] = []
        repeats: list[Reading] = []
        self.restamped = []
        for r in last_per_key(stamped(readings)):
            series = (r.meter_id, r.register)
            last = self._last.get(series)
            if last is not None and r.ts == last:
                repeats.append(r)
                continue
            if last is not None and r.ts < last:
                original = r.ts
                r = replace(r, ts=last + SECOND, quality=max(r.quality, ReadingQuality.UNCERTAIN))
                self.restamped.append((original, r))
            fresh.append(r)
            self._last[series] = r.ts
            self._note_device(device, r.ts)
        return fresh, repeats

    def hold_until(self, device: str) -> datetime | None:
        """The first instant a read of ``device`` is stamped after every stamp it has had (None: never
        read). The clock is behind when it is before this by more than the current second."""
        last = self._device_last.get(device)
        return None if last is None else last + SECOND

    def device_behind(self, device: str, now: datetime) -> bool:
        """Whether the clock's current second is before the device's last stamp (it stepped back)."""
        last = self._device_last.get(device)
        return last is not None and read_stamp(now) < last

    def behind(self, now: datetime) -> timedelta:
        """How far the clock's current second is before the latest stamp of any device (0: not behind)."""
        if not self._device_last:
            return timedelta(0)
        return max(timedelta(0), max(self._device_last.values()) - read_stamp(now))


def next_second(moment: datetime) -> datetime:
    """The first instant whose stamp is later than ``moment``'s: the gateway starts a device's next read
    no earlier, so two reads of one device never share a second while the clock runs forward."""
    return read_stamp(moment) + SECOND


__all__ = ["SECOND", "SecondGuard", "last_per_key", "next_second", "read_stamp", "read_stamp_us", "stamped"]
