"""Deadlines of requests (сроки исполнения обращений) in working or calendar hours (pure: no DB, no clock).

A category gives a response and a resolution deadline in hours (``sd_categories``, data). Calendar hours
run round the clock; working hours run only inside the working week (``sd_working_hours``, local time of
the building) on days the production calendar (``sd_calendar_days``) does not make holidays — and also on
weekend days it makes working days (перенос). All instants are tz-aware; the calendar is read in the
building's IANA zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "AT_RISK_SHARE",
    "DeadlineState",
    "Deadlines",
    "HoursKind",
    "WorkCalendar",
    "add_hours",
    "deadline_state",
    "deadlines_for",
]

AT_RISK_SHARE = Decimal("0.25")
"""A request is at risk (под угрозой срыва) when less than this share of its time window is left."""


class HoursKind(StrEnum):
    WORKING = "working"
    CALENDAR = "calendar"


@dataclass(frozen=True)
class WorkCalendar:
    """The working week and the production calendar's exceptions.

    ``week``: ISO weekday (1 = Monday) → (opens, closes) in local time; missing weekdays are days off.
    ``holidays``: days off that would be working by the week; ``workdays``: weekend days made working
    (they take the hours of ``workday_hours``).
    """

    week: Mapping[int, tuple[time, time]]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    workday_hours: tuple[time, time] = (time(9), time(18))
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))

    def hours_of(self, day: date) -> tuple[time, time] | None:
        """The working hours of a local day, or None on a day off."""
        if day in self.holidays:
            return None
        if day in self.workdays:
            return self.week.get(day.isoweekday(), self.workday_hours)
        return self.week.get(day.isoweekday())


def add_hours(start: datetime, hours: Decimal, kind: HoursKind, calendar: WorkCalendar) -> datetime:
    """The instant ``hours`` [h] after ``start`` counted in ``kind`` hours.

    Working hours: a request registered outside working time starts counting when work next opens;
    the deadline falls inside working time (a window that ends exactly at closing stays on that day).
    """
    if start.tzinfo is None:
        raise ValueError("start must be tz-aware")
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = timedelta(microseconds=int((hours * 3_600_000_000).to_integral_value(ROUND_HALF_UP)))
    if kind is HoursKind.CALENDAR:
        return start + remaining
    local = start.astimezone(calendar.zone)
    day = local.date()
    for _ in range(3660):  # ten years of days: a calendar without working days is an error, not a hang
        window = calendar.hours_of(day)
        if window is not None:
            opens = datetime.combine(day, window[0], calendar.zone)
            closes = datetime.combine(day, window[1], calendar.zone)
            begin = max(opens, local)
            if begin < closes:
                if begin + remaining <= closes:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= closes - begin
        day += timedelta(days=1)
        local = datetime.combine(day, time(0), calendar.zone)
    raise ValueError("the working calendar has no working time in ten years; check sd_working_hours")


@dataclass(frozen=True)
class Deadlines:
    response_due: datetime
    resolution_due: datetime


def deadlines_for(
    registered_at: datetime,
    response_hours: Decimal,
    resolution_hours: Decimal,
    kind: HoursKind,
    calendar: WorkCalendar,
) -> Deadlines:
    """Both deadlines of a request registered at ``registered_at``."""
    return Deadlines(
        add_hours(registered_at, response_hours, kind, calendar),
        add_hours(registered_at, resolution_hours, kind, calendar),
    )


class DeadlineState(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"


def deadline_state(
    registered_at: datetime, due: datetime, now: datetime, done_at: datetime | None = None
) -> DeadlineState:
    """Where a deadline stands: for a finished request whether it finished in time; for an open one
    overdue after ``due``, at risk when less than :data:`AT_RISK_SHARE` of its window remains."""
    if done_at is not None:
        return DeadlineState.ON_TIME if done_at <= due else DeadlineState.OVERDUE
    if now > due:
        return DeadlineState.OVERDUE
    window = (due - registered_at).total_seconds()
    if window > 0 and Decimal(str((due - now).total_seconds() / window)) < AT_RISK_SHARE:
        return DeadlineState.AT_RISK
    return DeadlineState.ON_TIME
