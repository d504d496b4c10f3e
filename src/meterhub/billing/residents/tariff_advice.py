"""Tariff advice (подбор тарифа): what a resident's last 12 months of electricity would have cost under the
single-rate, two-zone and three-zone tariffs, and which is cheapest.

Pure. The hourly series of the resident's electricity meter is priced month by month exactly as the close
would bill a meter read hourly (billing-rules.md §3, decision 1):

* every hour goes to the tariff part of its **local calendar day** and to the zone of its **local start
  hour** in that tariff's schedule (:func:`~meterhub.billing.rules.tariffs.split_hourly_by_part`);
* each month's line per tariff part and zone is ``round_half_up(V_z × T_z, 0.01 ₽)``;
* a scheme's cost is the sum of its rounded lines: ``C_scheme = Σ_months Σ_parts Σ_zones round(V × T)``.

The advice: the cheapest scheme and the saving ``C_current − C_cheapest`` [₽] against the scheme the
resident is billed on now (the scheme of the tariff in force), or against single-rate when that is
unknown. Ties: when the current scheme is among the cheapest it is the advice (stay, saving 0 — changing
tariff costs the resident a trip and a meter setting for nothing); otherwise the simpler scheme wins
(single < two-zone < three-zone). A scheme without a tariff for some month is reported unavailable with
the reason (English in ``unavailable``, Russian for residents in ``unavailable_ru``), never priced
partially.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money
from meterhub.billing.rules.tariffs import Service, Tariff, split_hourly_by_part, tariff_parts
from meterhub.billing.rules.zones import HourlySeries, Zone, ZoneScheme

__all__ = [
    "SCHEME_ORDER",
    "MonthCost",
    "SchemeCost",
    "TariffAdvice",
    "advise_tariff",
    "last_full_months",
]

SCHEME_ORDER: tuple[ZoneScheme, ...] = (ZoneScheme.SINGLE_RATE, ZoneScheme.TWO_ZONE, ZoneScheme.THREE_ZONE)


@dataclass(frozen=True)
class MonthCost:
    """One month under one scheme: zone volumes [kWh] and rounded zone amounts [₽]."""

    period: BillingPeriod
    volumes: dict[Zone, Decimal]
    amounts: dict[Zone, Decimal]

    @property
    def amount(self) -> Decimal:
        with engine_context():
            return sum(self.amounts.values(), Decimal(0))


@dataclass(frozen=True)
class SchemeCost:
    """The cost of the months under one scheme (``total`` = Σ of the rounded month × part × zone lines)."""

    scheme: ZoneScheme
    months: tuple[MonthCost, ...]
    total: Decimal
    volumes: dict[Zone, Decimal]  # Σ over the months [kWh]
    amounts: dict[Zone, Decimal]  # Σ of rounded lines per zone [₽]


@dataclass(frozen=True)
class TariffAdvice:
    periods: tuple[BillingPeriod, ...]
    volume: Decimal  # Σ of the series over the periods [kWh]
    hours_present: int
    hours_expected: int
    costs: dict[ZoneScheme, SchemeCost]
    unavailable: dict[ZoneScheme, str] = field(default_factory=dict)
    unavailable_ru: dict[ZoneScheme, str] = field(default_factory=dict)  # the same reasons in Russian
    current: ZoneScheme | None = None
    cheapest: ZoneScheme | None = None
    saving: Decimal | None = None  # C_baseline − C_cheapest [₽], ≥ 0
    baseline: ZoneScheme | None = None  # what the saving is measured against

    @property
    def complete(self) -> bool:
        return self.hours_present == self.hours_expected

    @property
    def tied(self) -> tuple[ZoneScheme, ...]:
        """Every priced scheme that costs exactly as much as the cheapest (the cheapest included)."""
        if self.cheapest is None:
            return ()
        best = self.costs[self.cheapest].total
        return tuple(s for s in SCHEME_ORDER if s in self.costs and self.costs[s].total == best)


_SCHEME_GENITIVE_RU = {
    ZoneScheme.SINGLE_RATE: "одноставочного",
    ZoneScheme.TWO_ZONE: "двухзонного",
    ZoneScheme.THREE_ZONE: "трёхзонного",
}
_MONTHS_GENITIVE_RU = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class _MonthWithoutTariff(ValueError):
    """A month of the advice has no tariff of the scheme in force for some day."""

    def __init__(self, period: BillingPeriod, cause: ValueError) -> None:
        super().__init__(str(cause))
        self.period = period


def last_full_months(today_local: BillingPeriod, count: int = 12) -> tuple[BillingPeriod, ...]:
    """The ``count`` calendar months before the month ``today_local`` (oldest first)."""
    periods = []
    p = today_local
    for _ in range(count):
        p = p.previous()
        periods.append(p)
    return tuple(reversed(periods))


def _month_slice(series: HourlySeries, period: BillingPeriod, tz: ZoneInfo) -> HourlySeries:
    start, end = period.bounds_utc(tz)
    lo = int(start.timestamp()) * 1_000_000
    hi = int(end.timestamp()) * 1_000_000
    starts = series.hour_starts_us
    i, j = np.searchsorted(starts, lo, side="left"), np.searchsorted(starts, hi, side="left")
    if series.volume_micro is not None:
        return HourlySeries.from_micro(starts[i:j], series.volume_micro[i:j])
    return HourlySeries(starts[i:j], volumes=tuple((series.volumes or ())[i:j]))


def _price_scheme(
    months: Sequence[tuple[BillingPeriod, HourlySeries]], tariffs: Sequence[Tariff], tz: ZoneInfo
) -> SchemeCost:
    scheme: ZoneScheme | None = None
    month_costs = []
    with engine_context():
        for period, series in months:
            try:
                parts = tariff_parts(tariffs, Service.ELECTRICITY, period)
            except ValueError as exc:
                raise _MonthWithoutTariff(period, exc) from exc
            part_volumes = split_hourly_by_part(series, tz, parts, period)
            volumes: dict[Zone, Decimal] = {}
            amounts: dict[Zone, Decimal] = {}
            for part, zone_volumes in zip(parts, part_volumes, strict=True):
                scheme = part.tariff.scheme
                for zone, volume in zone_volumes.items():
                    volumes[zone] = volumes.get(zone, Decimal(0)) + volume
                    line = round_money(volume * part.tariff.price(zone))
                    amounts[zone] = amounts.get(zone, Decimal(0)) + line
            month_costs.append(MonthCost(period, volumes, amounts))
        total_volumes: dict[Zone, Decimal] = {}
        total_amounts: dict[Zone, Decimal] = {}
        for month in month_costs:
            for zone, v in month.volumes.items():
                total_volumes[zone] = total_volumes.get(zone, Decimal(0)) + v
            for zone, a in month.amounts.items():
                total_amounts[zone] = total_amounts.get(zone, Decimal(0)) + a
        total = sum(total_amounts.values(), Decimal(0))
    assert scheme is not None
    return SchemeCost(scheme, tuple(month_costs), total, total_volumes, total_amounts)


def advise_tariff(
    series: HourlySeries,
    tz: ZoneInfo | str,
    periods: Sequence[BillingPeriod],
    options: Mapping[ZoneScheme, Sequence[Tariff]],
    *,
    current: ZoneScheme | None = None,
) -> TariffAdvice:
    """Price ``series`` (hourly electricity [kWh], UTC hour starts, sorted) over ``periods`` (local months)
    under each scheme's tariffs in ``options`` (every tariff of a scheme's list must have that scheme).

    Hours outside the periods are ignored. Raises ``ValueError`` when no period is given or a tariff list
    mixes schemes.
    """
    zone_info = ZoneInfo(tz) if isinstance(tz, str) else tz
    if not periods:
        raise ValueError("tariff advice needs at least one month")
    periods = tuple(sorted(periods))
    months = [(p, _month_slice(series, p, zone_info)) for p in periods]
    with engine_context():
        volume = sum((m.total() for _, m in months), Decimal(0))
    hours_present = sum(len(m) for _, m in months)
    hours_expected = sum(p.hours(zone_info) for p in periods)
    costs: dict[ZoneScheme, SchemeCost] = {}
    unavailable: dict[ZoneScheme, str] = {}
    unavailable_ru: dict[ZoneScheme, str] = {}
    for scheme in SCHEME_ORDER:
        tariffs = [t for t in options.get(scheme, ()) if t.service is Service.ELECTRICITY]
        wrong = [t.label for t in tariffs if t.scheme is not scheme]
        if wrong:
            raise ValueError(f"tariffs {', '.join(wrong)} are not {scheme} tariffs")
        if not tariffs:
            unavailable[scheme] = f"no {scheme} electricity tariff is offered for this building"
            unavailable_ru[scheme] = _cap(f"{_SCHEME_GENITIVE_RU[scheme]} тарифа для вашего дома нет")
            continue
        try:
            costs[scheme] = _price_scheme(months, tariffs, zone_info)
        except _MonthWithoutTariff as exc:  # a month without a tariff of this scheme
            unavailable[scheme] = str(exc)
            unavailable_ru[scheme] = _cap(
                f"{_SCHEME_GENITIVE_RU[scheme]} тарифа не было в части "
                f"{_MONTHS_GENITIVE_RU[exc.period.month - 1]} {exc.period.year} г., "
                "посчитать стоимость за весь период нельзя"
            )
    cheapest = None
    if costs:
        best = min(c.total for c in costs.values())
        if current in costs and costs[current].total == best:
            cheapest = current  # the current scheme among the cheapest: stay on it
        else:
            cheapest = min(costs, key=lambda s: (costs[s].total, SCHEME_ORDER.index(s)))
    baseline = (
        current if current in costs else (ZoneScheme.SINGLE_RATE if ZoneScheme.SINGLE_RATE in costs else None)
    )
    saving = None
    if cheapest is not None and baseline is not None:
        with engine_context():
            saving = costs[baseline].total - costs[cheapest].total
    return TariffAdvice(
        periods=periods,
        volume=volume,
        hours_present=hours_present,
        hours_expected=hours_expected,
        costs=costs,
        unavailable=unavailable,
        unavailable_ru=unavailable_ru,
        current=current,
        cheapest=cheapest,
        saving=saving,
        baseline=baseline,
    )
