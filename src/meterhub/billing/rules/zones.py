"""Time-of-day tariff zones (зоны суток) and splitting hourly series into zone volumes.

Zone schedules are data in **local time** of the building (billing-rules.md §3, household intervals
approved by ФСТ order № 1473-э, identical on weekends and holidays): two-zone day 07–23 / night 23–07;
three-zone peak 07–10 & 17–21, semi-peak 10–17 & 21–23, night 23–07. Intervals are half-open
``[start, end)`` and an hourly interval belongs to the zone of its **local start hour** [I].

Hourly series come from the time-series layer as UTC hour starts [µs since the epoch] and volumes in
integer micro-units (1 mWh, 1 ml); plain ``Decimal`` volumes with ``datetime`` starts are accepted too.
Local hours are computed with :mod:`zoneinfo` per UTC day (a DST transition inside a day is handled hour
by hour), never with a fixed offset.

Schedules may depend on the **day of the week and holidays** (тарифы, дифференцированные по зонам суток и
дням недели): a schedule has the intervals of a working day and optional intervals for Saturday, Sunday
and holidays (:class:`DayType`), and a holiday calendar of the local dates that are holidays or
transferred working days. A day's type: a calendar holiday → ``HOLIDAY``; a transferred working day →
``WORKDAY``; otherwise by weekday. Missing day types fall back: holiday → Sunday → Saturday → working day.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from meterhub.billing.rules.rounding import engine_context, from_micro, to_decimal

__all__ = [
    "DEFAULT_SCHEDULES",
    "SINGLE_RATE_SCHEDULE",
    "THREE_REGISTER_ZONES",
    "THREE_ZONE_SCHEDULE",
    "TWO_REGISTER_ZONES",
    "TWO_ZONE_SCHEDULE",
    "DayType",
    "HourlySeries",
    "Zone",
    "ZoneInterval",
    "ZoneSchedule",
    "ZoneScheme",
    "collapse_zone_volumes",
    "local_days_and_hours",
    "split_hourly_by_zone",
    "zone_volumes_from_registers",
]

I64 = npt.NDArray[np.int64]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)


class Zone(StrEnum):
    """A tariff zone of the day (зона суток)."""

    SINGLE = "single"  # одноставочный: the whole day
    DAY = "day"  # дневная (two-zone)
    NIGHT = "night"  # ночная (two- and three-zone)
    PEAK = "peak"  # пиковая (three-zone)
    SEMI_PEAK = "semi_peak"  # полупиковая (three-zone)


class ZoneScheme(StrEnum):
    """How many zones a tariff (or a meter) has."""

    SINGLE_RATE = "single_rate"  # одноставочный
    TWO_ZONE = "two_zone"  # двухзонный: day / night
    THREE_ZONE = "three_zone"  # трёхзонный: peak / semi-peak / night

    @property
    def zones(self) -> tuple[Zone, ...]:
        """The zones of the scheme, in receipt order."""
        return _SCHEME_ZONES[self]


_SCHEME_ZONES: dict[ZoneScheme, tuple[Zone, ...]] = {
    ZoneScheme.SINGLE_RATE: (Zone.SINGLE,),
    ZoneScheme.TWO_ZONE: (Zone.DAY, Zone.NIGHT),
    ZoneScheme.THREE_ZONE: (Zone.PEAK, Zone.SEMI_PEAK, Zone.NIGHT),
}


@dataclass(frozen=True, slots=True)
class ZoneInterval:
    """Local hours ``[start_hour, end_hour)`` of one zone; ``end_hour <= start_hour`` wraps past midnight."""

    zone: Zone
    start_hour: int
    end_hour: int

    def hours(self) -> list[int]:
        if not (0 <= self.start_hour <= 23 and 0 <= self.end_hour <= 24):
            raise ValueError(
                f"zone interval {self.zone} {self.start_hour}–{self.end_hour}: hours must be 0..24"
            )
        end = self.end_hour if self.end_hour > self.start_hour else self.end_hour + 24
        return [h % 24 for h in range(self.start_hour, end)]


class DayType(StrEnum):
    """The kind of a local calendar day for a weekday-dependent zone schedule."""

    WORKDAY = "workday"  # рабочий день (Monday–Friday, and transferred working days)
    SATURDAY = "saturday"  # суббота
    SUNDAY = "sunday"  # воскресенье
    HOLIDAY = "holiday"  # праздничный (нерабочий) день of the holiday calendar


_DAY_TYPES = tuple(DayType)
_FALLBACK = {
    DayType.SATURDAY: DayType.WORKDAY,
    DayType.SUNDAY: DayType.SATURDAY,
    DayType.HOLIDAY: DayType.SUNDAY,
}


def _hour_zones(
    name: str, scheme: ZoneScheme, intervals: Sequence[ZoneInterval], label: str
) -> tuple[Zone, ...]:
    by_hour: dict[int, Zone] = {}
    for interval in intervals:
        if interval.zone not in scheme.zones:
            raise ValueError(
                f"zone schedule {name!r}{label}: zone {interval.zone} is not part of the {scheme} "
                f"scheme (allowed: {', '.join(scheme.zones)})"
            )
        for hour in interval.hours():
            if hour in by_hour:
                raise ValueError(
                    f"zone schedule {name!r}{label}: local hour {hour:02d}:00 is in both "
                    f"{by_hour[hour]} and {interval.zone}"
                )
            by_hour[hour] = interval.zone
    missing = [h for h in range(24) if h not in by_hour]
    if missing:
        raise ValueError(
            f"zone schedule {name!r}{label}: local hours {', '.join(f'{h:02d}:00' for h in missing)} "
            "belong to no zone; every hour of the day needs exactly one zone"
        )
    return tuple(by_hour[h] for h in range(24))


@dataclass(frozen=True)
class ZoneSchedule:
    """A zone schedule in local time: every hour of every day in exactly one zone of ``scheme``.

    ``intervals`` are a working day's; ``day_intervals`` optionally give Saturday, Sunday and holiday
    intervals (missing ones fall back, see the module docstring). ``holidays`` / ``workdays``: the local
    dates of the holiday calendar that are holidays, or weekend days that are working days (переносы).
    """

    name: str
    scheme: ZoneScheme
    intervals: tuple[ZoneInterval, ...]
    day_intervals: tuple[tuple[DayType, tuple[ZoneInterval, ...]], ...] = ()
    holidays: Collection[date] = ()
    workdays: Collection[date] = ()
    hour_zones: tuple[Zone, ...] = field(init=False, repr=False, compare=False)
    """The zone of each local hour 0..23 on a working day."""
    day_type_zones: Mapping[DayType, tuple[Zone, ...]] = field(init=False, repr=False, compare=False)
    """The zone of each local hour per day type (fallbacks applied)."""

    def __post_init__(self) -> None:
        workday = _hour_zones(self.name, self.scheme, self.intervals, "")
        own: dict[DayType, tuple[Zone, ...]] = {DayType.WORKDAY: workday}
        for day_type, intervals in self.day_intervals:
            day_type = DayType(day_type)
            if day_type in own:
                raise ValueError(f"zone schedule {self.name!r}: {day_type} intervals given twice")
            own[day_type] = _hour_zones(self.name, self.scheme, intervals, f" ({day_type})")
        for day_type in _DAY_TYPES[1:]:
            if day_type not in own:
                own[day_type] = own[_FALLBACK[day_type]]
        # sorted tuples: a set of dates iterates (and pickles, for the input digest) in a per-process order
        object.__setattr__(self, "holidays", tuple(sorted(set(self.holidays))))
        object.__setattr__(self, "workdays", tuple(sorted(set(self.workdays))))
        both = set(self.holidays) & set(self.workdays)
        if both:
            raise ValueError(
                f"zone schedule {self.name!r}: {min(both)} is both a holiday and a working day "
                "in its calendar"
            )
        object.__setattr__(self, "hour_zones", workday)
        object.__setattr__(self, "day_type_zones", {t: own[t] for t in _DAY_TYPES})

    @property
    def uniform(self) -> bool:
        """Every day has the same zones (no weekday or holiday dependence)."""
        return all(zones == self.hour_zones for zones in self.day_type_zones.values())

    def day_type(self, day: date) -> DayType:
        """The type of a local calendar day (holiday calendar first, then the weekday)."""
        if day in self.holidays:
            return DayType.HOLIDAY
        if day in self.workdays:
            return DayType.WORKDAY
        weekday = day.weekday()
        return DayType.SATURDAY if weekday == 5 else DayType.SUNDAY if weekday == 6 else DayType.WORKDAY

    def zone_of_hour(self, local_hour: int, day: date | None = None) -> Zone:
        """The zone of a local hour 0..23 (on ``day``; a working day when not given)."""
        if day is None:
            return self.hour_zones[local_hour]
        return self.day_type_zones[self.day_type(day)][local_hour]

    def zone_indices(self, local_day: I64, local_hour: I64) -> I64:
        """Index into ``scheme.zones`` of each hour, from its local day (days since 1970-01-01) and hour."""
        zones = self.scheme.zones
        table = np.array(
            [[zones.index(z) for z in self.day_type_zones[t]] for t in _DAY_TYPES], dtype=np.int64
        )
        local_day = np.asarray(local_day, dtype=np.int64)
        local_hour = np.asarray(local_hour, dtype=np.int64)
        if self.uniform:
            return table[0][local_hour]
        weekday = (local_day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        kind = np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0)).astype(np.int64)
        for days, code in ((self.workdays, 0), (self.holidays, 3)):
            if days and local_day.size:
                numbers = np.array([(d - _EPOCH_DATE).days for d in days], dtype=np.int64)
                kind = np.where(np.isin(local_day, numbers), code, kind)
        return table[kind, local_hour]


SINGLE_RATE_SCHEDULE = ZoneSchedule(
    "single-rate", ZoneScheme.SINGLE_RATE, (ZoneInterval(Zone.SINGLE, 0, 24),)
)
TWO_ZONE_SCHEDULE = ZoneSchedule(
    "two-zone 07–23/23–07 (ФСТ 1473-э)",
    ZoneScheme.TWO_ZONE,
    (ZoneInterval(Zone.DAY, 7, 23), ZoneInterval(Zone.NIGHT, 23, 7)),
)
THREE_ZONE_SCHEDULE = ZoneSchedule(
    "three-zone peak 07–10,17–21 / semi-peak 10–17,21–23 / night 23–07 (ФСТ 1473-э)",
    ZoneScheme.THREE_ZONE,
    (
        ZoneInterval(Zone.PEAK, 7, 10),
        ZoneInterval(Zone.PEAK, 17, 21),
        ZoneInterval(Zone.SEMI_PEAK, 10, 17),
        ZoneInterval(Zone.SEMI_PEAK, 21, 23),
        ZoneInterval(Zone.NIGHT, 23, 7),
    ),
)
DEFAULT_SCHEDULES: Mapping[ZoneScheme, ZoneSchedule] = {
    ZoneScheme.SINGLE_RATE: SINGLE_RATE_SCHEDULE,
    ZoneScheme.TWO_ZONE: TWO_ZONE_SCHEDULE,
    ZoneScheme.THREE_ZONE: THREE_ZONE_SCHEDULE,
}
"""The default schedule of each scheme (common Russian household intervals, local time)."""

TWO_REGISTER_ZONES: Mapping[str, Zone] = {"T1": Zone.DAY, "T2": Zone.NIGHT}
"""Tariff registers of a two-tariff meter → zones [I]: T1 day, T2 night."""

THREE_REGISTER_ZONES: Mapping[str, Zone] = {"T1": Zone.PEAK, "T2": Zone.NIGHT, "T3": Zone.SEMI_PEAK}
"""Tariff registers of a three-tariff meter → zones [I]: T1 peak, T2 night, T3 semi-peak (the usual
programming of Russian household meters); configurable per meter model by passing another mapping."""


@dataclass(frozen=True, eq=False)
class HourlySeries:
    """Hourly consumption of one meter: UTC hour starts [µs] and volumes.

    Build it with :meth:`from_micro` (numpy int64 arrays, the time-series storage format: exact integer
    micro-units) or :meth:`from_decimals` (``datetime`` starts and ``Decimal`` volumes [unit]).
    """

    hour_starts_us: I64
    volume_micro: I64 | None = None
    volumes: tuple[Decimal, ...] | None = None

    def __post_init__(self) -> None:
        if (self.volume_micro is None) == (self.volumes is None):
            raise ValueError("HourlySeries needs exactly one of volume_micro or volumes")
        n_values = len(self.volume_micro) if self.volume_micro is not None else len(self.volumes or ())
        if n_values != len(self.hour_starts_us):
            raise ValueError(
                f"HourlySeries has {len(self.hour_starts_us)} hour starts but {n_values} volumes"
            )

    @classmethod
    def from_micro(cls, hour_starts_us: npt.ArrayLike, volume_micro: npt.ArrayLike) -> HourlySeries:
        """From numpy arrays: hour starts [µs since 1970-01-01 UTC] and volumes [micro-units], int64."""
        starts = np.asarray(hour_starts_us)
        volumes = np.asarray(volume_micro)
        for name, arr in (("hour_starts_us", starts), ("volume_micro", volumes)):
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise TypeError(f"HourlySeries.{name} must be an integer array, got dtype {arr.dtype}")
        return cls(starts.astype(np.int64), volume_micro=volumes.astype(np.int64))

    @classmethod
    def from_decimals(
        cls, hour_starts: Sequence[datetime], volumes: Sequence[Decimal | int | str]
    ) -> HourlySeries:
        """From timezone-aware ``datetime`` hour starts and exact volumes [unit] (floats are refused)."""
        starts = np.array([_to_us(ts) for ts in hour_starts], dtype=np.int64)
        values = tuple(to_decimal(v, f"hourly volume #{i}") for i, v in enumerate(volumes))
        return cls(starts, volumes=values)

    def __len__(self) -> int:
        return len(self.hour_starts_us)

    def total(self) -> Decimal:
        """Σ of all hours [unit], exact."""
        if self.volume_micro is not None:
            return from_micro(int(self.volume_micro.sum(dtype=np.int64)))
        with engine_context():
            return sum(self.volumes or (), Decimal(0))

    def sum_by_group(self, group: I64, n_groups: int) -> list[Decimal]:
        """Exact Σ of the volumes per group index 0..n_groups−1 [unit]."""
        if self.volume_micro is not None:
            sums = np.zeros(n_groups, dtype=np.int64)
            np.add.at(sums, group, self.volume_micro)
            return [from_micro(int(s)) for s in sums]
        totals = [Decimal(0)] * n_groups
        with engine_context():
            for g, v in zip(group.tolist(), self.volumes or (), strict=True):
                totals[g] += v
        return totals


def _to_us(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError(f"hour start {ts.isoformat()} has no time zone; pass UTC-aware datetimes")
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _offset_us(us: int, tz: ZoneInfo) -> int:
    offset = (_EPOCH + timedelta(microseconds=us)).astimezone(tz).utcoffset()
    assert offset is not None
    return (offset.days * 86_400 + offset.seconds) * 1_000_000 + offset.microseconds


@functools.lru_cache(maxsize=8192)
def _day_offset(day: int, tz: ZoneInfo) -> tuple[int, bool]:
    """The UTC offset [µs] at the start of UTC day ``day`` and whether it differs at the next day's start
    (the close splits the hourly series of some 70 meters per building over the same days)."""
    at_start = _offset_us(day * DAY_US, tz)
    return at_start, _offset_us((day + 1) * DAY_US, tz) != at_start


def local_days_and_hours(hour_starts_us: I64, tz: ZoneInfo) -> tuple[I64, I64]:
    """Local calendar day (days since 1970-01-01, local) and local hour 0..23 of each UTC hour start.

    The offset is looked up once per UTC day; where it differs between the start of the day and the
    start of the next one (a transition), every hour of that day is looked up individually.
    """
    starts = np.asarray(hour_starts_us, dtype=np.int64)
    if starts.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    utc_day = starts // DAY_US
    unique_days, inverse = np.unique(utc_day, return_inverse=True)
    day_offsets = np.empty(len(unique_days), dtype=np.int64)
    changing: list[int] = []
    for i, day in enumerate(unique_days.tolist()):
        at_start, changes = _day_offset(day, tz)
        day_offsets[i] = at_start
        if changes:
            changing.append(i)
    offsets = day_offsets[inverse]
    for i in changing:
        idx = np.nonzero(inverse == i)[0]
        offsets[idx] = [_offset_us(int(starts[j]), tz) for j in idx]
    local = starts + offsets
    return local // DAY_US, (local // HOUR_US) % 24


def split_hourly_by_zone(
    series: HourlySeries, tz: ZoneInfo | str, schedule: ZoneSchedule
) -> dict[Zone, Decimal]:
    """Volumes per zone [unit] of an hourly series, by the building's local start hour (and local day, for
    weekday/holiday schedules) of each hour.

    Every zone of the schedule's scheme is present in the result (0 when no hour fell in it); the zone
    volumes add up exactly to ``series.total()``.
    """
    zone_info = ZoneInfo(tz) if isinstance(tz, str) else tz
    zones = schedule.scheme.zones
    local_day, local_hour = local_days_and_hours(series.hour_starts_us, zone_info)
    sums = series.sum_by_group(schedule.zone_indices(local_day, local_hour), len(zones))
    return dict(zip(zones, sums, strict=True))


def zone_volumes_from_registers(
    register_volumes: Mapping[str, Decimal | int | str], register_zones: Mapping[str, Zone] | None = None
) -> dict[Zone, Decimal]:
    """Zone volumes [unit] from the deltas of a meter's own tariff registers (T1/T2/T3) for the period.

    ``register_zones`` maps register labels to zones; by default a meter with T1–T2 uses
    :data:`TWO_REGISTER_ZONES` and one with T1–T3 :data:`THREE_REGISTER_ZONES`. A single register is
    labelled ``"T"`` (or anything else with a mapping) → :attr:`Zone.SINGLE`.
    """
    labels = set(register_volumes)
    if register_zones is None:
        if labels <= set(TWO_REGISTER_ZONES):
            register_zones = (
                TWO_REGISTER_ZONES if len(labels) > 1 else {label: Zone.SINGLE for label in labels}
            )
        elif labels <= set(THREE_REGISTER_ZONES):
            register_zones = THREE_REGISTER_ZONES
        elif len(labels) == 1:
            register_zones = {next(iter(labels)): Zone.SINGLE}
        else:
            raise ValueError(
                f"tariff registers {sorted(labels)} have no default zone mapping; pass register_zones"
            )
    result: dict[Zone, Decimal] = {}
    with engine_context():
        for label, value in register_volumes.items():
            if label not in register_zones:
                raise ValueError(
                    f"tariff register {label!r} has no zone in the mapping {dict(register_zones)}"
                )
            zone = register_zones[label]
            result[zone] = result.get(zone, Decimal(0)) + to_decimal(value, f"register {label} volume")
    return result


def collapse_zone_volumes(volumes: Mapping[Zone, Decimal], scheme: ZoneScheme) -> dict[Zone, Decimal]:
    """Re-express zone volumes [unit] in the zones of a tariff ``scheme``.

    Three zones collapse to two (day = peak + semi-peak) and anything collapses to single-rate (the sum).
    Finer zones cannot be invented from coarser ones: that raises ``ValueError`` (bill such a meter on a
    coarser tariff, or from its hourly series).
    """
    with engine_context():
        present = {z: v for z, v in volumes.items()}
        if scheme is ZoneScheme.SINGLE_RATE:
            return {Zone.SINGLE: sum(present.values(), Decimal(0))}
        if scheme is ZoneScheme.TWO_ZONE:
            if Zone.SINGLE in present:
                raise ValueError("a single-rate volume cannot be split into day/night zones")
            day = present.get(Zone.DAY, Decimal(0)) + present.get(Zone.PEAK, Decimal(0))
            day += present.get(Zone.SEMI_PEAK, Decimal(0))
            return {Zone.DAY: day, Zone.NIGHT: present.get(Zone.NIGHT, Decimal(0))}
        if Zone.SINGLE in present or Zone.DAY in present:
            raise ValueError(
                f"volumes in zones {sorted(present)} cannot be split into peak/semi-peak/night; "
                "a three-zone tariff needs a three-tariff meter or an hourly series"
            )
        return {z: present.get(z, Decimal(0)) for z in scheme.zones}
