"""Billing periods (расчётный период): calendar months in a building's local time.

ПП 354 п. 37: the billing period is a calendar month. Its boundaries are local midnights in the
building's IANA time zone, converted to UTC with :mod:`zoneinfo` — never a fixed offset (Russian regions
changed offsets in 2011, 2014, 2016, 2020; other zones still have DST, and the code handles both).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["MONTHS_RU", "BillingPeriod", "local_midnight_utc"]

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")
_HOUR = timedelta(hours=1)


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz`` (local 00:00).

    Where local midnight does not exist (a DST gap at midnight, e.g. America/Santiago) the day begins at
    the transition instant; where it occurs twice, at its first occurrence. Both are what zoneinfo's
    ``fold=0`` gives.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


# Month names in the nominative, as receipts and the cabinet title a period («январь 2026»).
MONTHS_RU = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip


@dataclass(frozen=True, slots=True, order=True)
class BillingPeriod:
    """One calendar month, e.g. ``BillingPeriod(2026, 1)`` = January 2026 (``"2026-01"``)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"billing period month must be 1..12, got {self.month} (year {self.year})")
        if not 1900 <= self.year <= 9998:
            raise ValueError(f"billing period year {self.year} is out of range 1900..9998")

    @classmethod
    def parse(cls, text: str) -> BillingPeriod:
        """Parse ``"YYYY-MM"`` (the CLI's ``--period`` format)."""
        match = _PERIOD_RE.match(text.strip())
        if not match:
            raise ValueError(f"billing period {text!r} must look like YYYY-MM, e.g. 2026-01")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def title_ru(self) -> str:
        """The period as residents read it: «январь 2026»."""
        return f"{MONTHS_RU[self.month - 1]} {self.year}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end_day(self) -> date:
        """The first day of the next month (exclusive end)."""
        return self.next().first_day

    @property
    def days(self) -> int:
        """Number of calendar days in the month [d]."""
        return (self.end_day - self.first_day).days

    def next(self) -> BillingPeriod:
        return BillingPeriod(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> BillingPeriod:
        return BillingPeriod(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def contains(self, day: date) -> bool:
        return self.first_day <= day < self.end_day

    def dates(self) -> Iterator[date]:
        """Every calendar day of the month."""
        for offset in range(self.days):
            yield self.first_day + timedelta(days=offset)

    def bounds_utc(self, tz: ZoneInfo | str) -> tuple[datetime, datetime]:
        """``[start, end)`` of the month in UTC: local midnight of day 1 and of day 1 of the next month."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return local_midnight_utc(self.first_day, zone), local_midnight_utc(self.end_day, zone)

    def utc_hour_starts(self, tz: ZoneInfo | str) -> list[datetime]:
        """UTC starts of every real hour of the local month (744 in a 31-day month without DST).

        Iterates in UTC, so a DST month has one hour fewer (spring) or more (autumn) — each real hour
        counted once. For zones whose offset is not a whole number of hours the first bucket starts at
        the UTC month start (not on a whole UTC hour).
        """
        start, end = self.bounds_utc(tz)
        hours: list[datetime] = []
        current = start
        while current < end:
            hours.append(current)
            current += _HOUR
        return hours

    def local_hour_starts(self, tz: ZoneInfo | str) -> list[datetime]:
        """The same hours as :meth:`utc_hour_starts`, as aware local datetimes (DST-safe: an autumn
        transition gives two distinct instants with the same wall-clock hour, ``fold`` 0 and 1)."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return [hour.astimezone(zone) for hour in self.utc_hour_starts(zone)]

    def hours(self, tz: ZoneInfo | str) -> int:
        """Number of real hours in the local month [h]."""
        start, end = self.bounds_utc(tz)
        return int((end - start) / _HOUR)
