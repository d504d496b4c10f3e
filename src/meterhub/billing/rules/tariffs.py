"""Services, tariffs with validity dates, and splitting a month at tariff changes (тарифы).

A tariff prices one service from ``valid_from`` (inclusive) to ``valid_to`` (exclusive, ``None`` = open)
in ₽ per unit of the resource ([₽/kWh], [₽/m³]) or per square metre of area ([₽/m²], housing
maintenance). Multi-zone tariffs carry a local-time :class:`~meterhub.billing.rules.zones.ZoneSchedule` and a
price per zone; they may also carry a ``Zone.SINGLE`` price, used for volumes that have no zones
(normative or a single-register meter).

A tariff change inside a month splits the month into *parts*. The volume of each part is (decision of
issue 5, billing-rules.md §3):

* exact from an hourly series — every hour goes to the part of its local calendar day;
* otherwise (registers without hourly data, averages, normatives, per-m² charges) prorated by days:
  ``V_p = V × d_p / D`` with the last part taking the remainder so that ``Σ V_p = V`` exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, to_decimal
from meterhub.billing.rules.zones import (
    SINGLE_RATE_SCHEDULE,
    HourlySeries,
    Zone,
    ZoneSchedule,
    ZoneScheme,
    local_days_and_hours,
)

__all__ = [
    "SERVICE_UNITS",
    "PriceBasis",
    "Service",
    "Tariff",
    "TariffBook",
    "TariffPart",
    "prorate_by_days",
    "split_hourly_by_part",
    "tariff_parts",
]

_EPOCH_DATE = date(1970, 1, 1)


class Service(StrEnum):
    """A billed service (услуга)."""

    ELECTRICITY = "electricity"  # электроснабжение [kWh]
    COLD_WATER = "cold_water"  # холодное водоснабжение, ХВС [m³]
    HOT_WATER = "hot_water"  # горячее водоснабжение, ГВС [m³]
    WASTEWATER = "wastewater"  # водоотведение [m³]
    MAINTENANCE = "maintenance"  # содержание жилого помещения [m²]


SERVICE_UNITS: Mapping[Service, str] = {
    Service.ELECTRICITY: "kWh",
    Service.COLD_WATER: "m3",
    Service.HOT_WATER: "m3",
    Service.WASTEWATER: "m3",
    Service.MAINTENANCE: "m2",
}
"""Unit of the volume of each service (the unit the tariff is priced in)."""


class PriceBasis(StrEnum):
    """What a tariff price multiplies."""

    PER_UNIT = "per_unit"  # ₽ per kWh / m³ of consumed resource
    PER_M2 = "per_m2"  # ₽ per m² of area per month (housing maintenance)


@dataclass(frozen=True)
class Tariff:
    """The price of a service for a validity interval ``[valid_from, valid_to)``.

    ``prices`` maps zones to prices [₽/unit] or [₽/m²]; it must contain every zone of the schedule's
    scheme and may add ``Zone.SINGLE``. Prices are exact (``Decimal``, ``int`` or ``str``; floats are
    refused).
    """

    service: Service
    valid_from: date
    prices: Mapping[Zone, Decimal]
    valid_to: date | None = None
    schedule: ZoneSchedule = SINGLE_RATE_SCHEDULE
    basis: PriceBasis = PriceBasis.PER_UNIT
    name: str = ""
    _prices: dict[Zone, Decimal] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        label = self.label
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError(
                f"tariff {label}: valid_to {self.valid_to} must be after valid_from {self.valid_from}"
            )
        prices = {
            Zone(z): to_decimal(p, f"tariff {label} price for zone {z}") for z, p in self.prices.items()
        }
        missing = [z for z in self.schedule.scheme.zones if z not in prices]
        if missing:
            raise ValueError(
                f"tariff {label}: no price for zone(s) {', '.join(missing)} of its {self.scheme} schedule"
            )
        extra = [z for z in prices if z not in self.schedule.scheme.zones and z is not Zone.SINGLE]
        if extra:
            raise ValueError(
                f"tariff {label}: zone(s) {', '.join(extra)} are not in its {self.scheme} schedule"
            )
        negative = [z for z, p in prices.items() if p < 0]
        if negative:
            raise ValueError(f"tariff {label}: negative price in zone(s) {', '.join(negative)}")
        if self.basis is PriceBasis.PER_M2 and self.scheme is not ZoneScheme.SINGLE_RATE:
            raise ValueError(f"tariff {label}: a per-m² tariff cannot have time-of-day zones")
        object.__setattr__(self, "_prices", prices)

    @property
    def label(self) -> str:
        return self.name or f"{self.service} from {self.valid_from}"

    @property
    def scheme(self) -> ZoneScheme:
        return self.schedule.scheme

    def price(self, zone: Zone) -> Decimal:
        """Price of ``zone`` [₽/unit]; a ``Zone.SINGLE`` volume on a zoned tariff needs a SINGLE price."""
        try:
            return self._prices[zone]
        except KeyError:
            raise ValueError(
                f"tariff {self.label} has no price for zone {zone}; "
                + (
                    "add a single-rate (Zone.SINGLE) price for volumes without zones (normative, average "
                    "of a single-register meter, common property)"
                    if zone is Zone.SINGLE
                    else f"its zones are {', '.join(self._prices)}"
                )
            ) from None

    def has_price(self, zone: Zone) -> bool:
        return zone in self._prices

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True, slots=True)
class TariffPart:
    """The part ``[start, end)`` of a billing period priced by one tariff; ``days`` [d] = end − start."""

    tariff: Tariff
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def tariff_parts(tariffs: Sequence[Tariff], service: Service, period: BillingPeriod) -> list[TariffPart]:
    """The tariffs of ``service`` in force during ``period``, clipped to it, in date order.

    Raises ``ValueError`` naming the dates when the tariffs overlap or leave days of the month
    without a price.
    """
    first, end = period.first_day, period.end_day
    parts: list[TariffPart] = []
    for tariff in tariffs:
        if tariff.service is not service:
            continue
        start = max(first, tariff.valid_from)
        stop = end if tariff.valid_to is None else min(end, tariff.valid_to)
        if start < stop:
            parts.append(TariffPart(tariff, start, stop))
    parts.sort(key=lambda p: p.start)
    cursor = first
    for part in parts:
        if part.start > cursor:
            raise ValueError(
                f"no {service} tariff for {cursor}..{part.start} of period {period}; add a tariff covering it"
            )
        if part.start < cursor:
            raise ValueError(
                f"{service} tariffs overlap on {part.start} in period {period}: "
                f"{part.tariff.label} starts before the previous tariff ends"
            )
        cursor = part.end
    if cursor < end:
        raise ValueError(
            f"no {service} tariff for {cursor}..{end} of period {period}; add a tariff covering it"
        )
    return parts


class TariffBook:
    """The tariffs of a building, with the parts of each service per period computed once and cached.

    Pass it wherever a sequence of tariffs is accepted; the building computation builds one per building
    so thousands of accounts do not re-derive the same parts.
    """

    def __init__(self, tariffs: Sequence[Tariff] | TariffBook) -> None:
        self.tariffs: tuple[Tariff, ...] = (
            tariffs.tariffs if isinstance(tariffs, TariffBook) else tuple(tariffs)
        )
        self._parts: dict[tuple[Service, BillingPeriod], list[TariffPart]] = {}

    def parts(self, service: Service, period: BillingPeriod) -> list[TariffPart]:
        """:func:`tariff_parts` of ``service`` in ``period`` (cached)."""
        key = (service, period)
        cached = self._parts.get(key)
        if cached is None:
            cached = self._parts[key] = tariff_parts(self.tariffs, service, period)
        return cached


def prorate_by_days(volume: Decimal, parts: Sequence[TariffPart], period: BillingPeriod) -> list[Decimal]:
    """Split a period quantity [unit] over tariff parts by calendar days: ``V × d_p / D``.

    The last part takes ``V − Σ others`` so the parts add up to ``volume`` exactly.
    """
    if len(parts) == 1:
        return [volume]
    with engine_context():
        shares = [volume * part.days / period.days for part in parts[:-1]]
        shares.append(volume - sum(shares, Decimal(0)))
    return shares


def part_zone_groups(
    parts: Sequence[TariffPart], local_day: np.ndarray, local_hour: np.ndarray, first: int, end: int
) -> tuple[np.ndarray, int]:
    """The group of each hour — its tariff part's zones numbered one after another across the parts — and
    the number of groups. ``local_day`` are days since 1970-01-01 in ``[first, end)`` (the month),
    ``local_hour`` the local start hours; a part covers the days ``[part.start, part.end)``."""
    part_of_day = np.empty(end - first, dtype=np.int64)
    offsets: list[int] = []
    count = 0
    for index, part in enumerate(parts):
        part_of_day[(part.start - _EPOCH_DATE).days - first : (part.end - _EPOCH_DATE).days - first] = index
        offsets.append(count)
        count += len(part.tariff.scheme.zones)
    part_of_hour = part_of_day[local_day - first]
    groups = np.empty(len(local_day), dtype=np.int64)
    for index, part in enumerate(parts):
        mask = part_of_hour == index
        if mask.any():
            zone = part.tariff.schedule.zone_indices(local_day[mask], local_hour[mask])
            groups[mask] = offsets[index] + zone
    return groups, count


def split_hourly_by_part(
    series: HourlySeries, tz: ZoneInfo | str, parts: Sequence[TariffPart], period: BillingPeriod
) -> list[dict[Zone, Decimal]]:
    """Zone volumes [unit] of each tariff part from an hourly series, exactly.

    Each hour goes to the part of its local calendar day and to the zone of its local start hour (and
    local day type, for weekday/holiday schedules) in that part's tariff schedule. Hours outside the
    local month raise ``ValueError`` (the loader must pass the month's hours only, e.g.
    ``period.bounds_utc(tz)``).
    """
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    local_day, local_hour = local_days_and_hours(series.hour_starts_us, tz)
    first = (period.first_day - _EPOCH_DATE).days
    end = (period.end_day - _EPOCH_DATE).days
    outside = np.nonzero((local_day < first) | (local_day >= end))[0]
    if outside.size:
        bad = int(series.hour_starts_us[outside[0]])
        raise ValueError(
            f"hourly series has {outside.size} hour(s) outside period {period} in {tz.key} "
            f"(first at {bad} µs UTC); load only the hours in period.bounds_utc()"
        )
    groups, count = part_zone_groups(parts, local_day, local_hour, first, end)
    sums = series.sum_by_group(groups, count)
    result: list[dict[Zone, Decimal]] = []
    offset = 0
    for part in parts:
        zones = part.tariff.scheme.zones
        result.append(dict(zip(zones, sums[offset : offset + len(zones)], strict=True)))
        offset += len(zones)
    return result
