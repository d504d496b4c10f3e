"""Zone schedules as text for tables and import files: ``day=7-23;night=23-7``.

Each ``zone=start-end`` is a half-open interval of local hours (``end <= start`` wraps past midnight);
a zone may have several intervals separated by commas: ``peak=7-10,17-21;semi_peak=10-17,21-23;night=23-7``.
An empty text means the scheme's default schedule (ФСТ 1473-э).

Weekday/holiday schedules (``zone_schedules`` rows) give one such text per day type — working day,
Saturday, Sunday, holiday — with the fallbacks of :class:`~meterhub.billing.rules.zones.DayType`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date

from meterhub.billing.rules.zones import (
    DEFAULT_SCHEDULES,
    DayType,
    Zone,
    ZoneInterval,
    ZoneSchedule,
    ZoneScheme,
)

__all__ = ["day_typed_schedule", "format_zone_schedule", "parse_zone_schedule"]

_INTERVAL_RE = re.compile(r"^(\d{1,2})-(\d{1,2})$")


def parse_zone_schedule(text: str | None, scheme: ZoneScheme) -> ZoneSchedule:
    """The schedule of ``scheme`` described by ``text`` (``None``/empty → the default schedule).

    Raises ``ValueError`` saying what is wrong (unknown zone, bad interval, hours uncovered or doubled).
    """
    if text is None or not text.strip():
        return DEFAULT_SCHEDULES[scheme]
    intervals: list[ZoneInterval] = []
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, spans = item.partition("=")
        if not sep:
            raise ValueError(f"zone schedule item {item!r} must look like zone=start-end, e.g. day=7-23")
        try:
            zone = Zone(name.strip().lower())
        except ValueError:
            raise ValueError(
                f"unknown zone {name.strip()!r} in zone schedule; use {', '.join(z.value for z in Zone)}"
            ) from None
        for span in spans.split(","):
            m = _INTERVAL_RE.match(span.strip())
            if not m:
                raise ValueError(f"zone {zone} interval {span.strip()!r} must be hours start-end, e.g. 7-23")
            intervals.append(ZoneInterval(zone, int(m.group(1)), int(m.group(2))))
    return ZoneSchedule(text.strip(), scheme, tuple(intervals))


def format_zone_schedule(schedule: ZoneSchedule) -> str:
    """The text form of a schedule (intervals grouped by zone, in the schedule's order)."""
    by_zone: dict[Zone, list[str]] = {}
    for interval in schedule.intervals:
        by_zone.setdefault(interval.zone, []).append(f"{interval.start_hour}-{interval.end_hour}")
    return ";".join(f"{zone.value}={','.join(spans)}" for zone, spans in by_zone.items())


def day_typed_schedule(
    name: str,
    scheme: ZoneScheme,
    texts: Mapping[str, str | None],
    *,
    holidays: Collection[date] = (),
    workdays: Collection[date] = (),
) -> ZoneSchedule:
    """A named schedule from interval texts per day type (``workday``, ``saturday``, ``sunday``,
    ``holiday``; empty = fall back) and the holiday calendar's dates. Errors name the day type."""
    unknown = [k for k in texts if k not in {t.value for t in DayType}]
    if unknown:
        raise ValueError(f"zone schedule {name!r}: unknown day type(s) {', '.join(unknown)}")
    workday = parse_zone_schedule(texts.get("workday"), scheme)
    own = []
    for day_type in (DayType.SATURDAY, DayType.SUNDAY, DayType.HOLIDAY):
        text = texts.get(day_type.value)
        if text is not None and text.strip():
            try:
                own.append((day_type, parse_zone_schedule(text, scheme).intervals))
            except ValueError as exc:
                raise ValueError(f"zone schedule {name!r}, {day_type}: {exc}") from None
    return ZoneSchedule(name, scheme, workday.intervals, tuple(own), holidays, workdays)
