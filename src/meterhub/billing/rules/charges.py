"""Itemised charge lines (начисления) of an account and of a whole building for one period.

Every line explains itself (CONVENTIONS: Lago/OpenMeter): account, service, zone, individual or
common-property, volume [unit], tariff [₽/unit], coefficient, method, formula reference, the exact
amount ``volume × tariff × coefficient`` [₽] (unrounded ``Decimal``) and the amount rounded half-up to
0.01 ₽ (decision 1). One line = service × zone × individual/common-property × tariff part: a tariff
change inside the month gives one line per tariff part, each with its own price [I].

For a line with the 1.5 coefficient (formula 4(1)) the line also carries the amount without the
coefficient and the excess ``amount − amount_without_coefficient`` (ЕПД "размер превышения", 43/пр);
both are rounded amounts, so the receipt's columns add up [I].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from meterhub.billing.rules.common_property import (
    CommonPropertyRules,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money, to_decimal
from meterhub.billing.rules.tariffs import (
    SERVICE_UNITS,
    PriceBasis,
    Service,
    Tariff,
    TariffBook,
    TariffPart,
    prorate_by_days,
    split_hourly_by_part,
)
from meterhub.billing.rules.volumes import (
    IndividualVolume,
    ServiceConsumer,
    VolumeMethod,
    VolumeRules,
    decide_individual_volume,
    wastewater_volume,
)
from meterhub.billing.rules.zones import Zone, ZoneScheme, collapse_zone_volumes

__all__ = [
    "MAINTENANCE_FORMULA",
    "AccountCharges",
    "AccountInput",
    "BillingRules",
    "ChargeKind",
    "ChargeLine",
    "CommonPropertyShare",
    "account_volumes",
    "compute_account_charges",
]

MAINTENANCE_FORMULA = "ЖК РФ ст. 156 ч. 1, ст. 158 (размер платы на 1 м² общей площади)"


class ChargeKind(StrEnum):
    """Individual consumption or consumption for common property (индивидуальное / СОИ)."""

    INDIVIDUAL = "individual"
    COMMON_PROPERTY = "common_property"


@dataclass(frozen=True)
class ChargeLine:
    """One receipt line: ``amount_exact = volume × tariff × coefficient`` [₽], ``amount`` rounded to 0.01 ₽.

    ``part_start``/``part_end``: the days ``[start, end)`` of the period this line's tariff covers.
    ``amount_without_coefficient``/``excess``: set on lines with a coefficient ≠ 1 (formula 4(1)).
    """

    account: str
    period: BillingPeriod
    service: Service
    kind: ChargeKind
    zone: Zone
    volume: Decimal
    unit: str
    tariff: Decimal
    method: str
    formula: str
    amount_exact: Decimal
    amount: Decimal
    part_start: date
    part_end: date
    coefficient: Decimal = Decimal(1)
    amount_without_coefficient: Decimal | None = None
    excess: Decimal = Decimal(0)
    note: str = ""


@dataclass(frozen=True)
class AccountInput:
    """One personal account (лицевой счёт) for one period, as the loader prepares it.

    ``area``: S_i [m²], the premise's total area times the account's share; ``residents``: n_i
    (permanently and temporarily residing; a ``Decimal`` when weighted by days, e.g. 1 person for 10
    and 3 for 21 days of January = 73/31); ``owners``: number of owners (п. 56(2)); ``services``: the
    billed services. Wastewater without its own meter is derived from the account's cold and hot water;
    ``Service.MAINTENANCE`` is charged per m² of ``area``.
    """

    account: str
    area: Decimal
    residential: bool = True
    residents: int | Decimal = 0
    owners: int = 0
    services: tuple[ServiceConsumer, ...] = ()


@dataclass(frozen=True)
class CommonPropertyShare:
    """An account's allocated common-property volume [unit] for one service, with the house's method."""

    service: Service
    volume: Decimal
    method: str
    formula: str


@dataclass(frozen=True)
class BillingRules:
    """All configurable parameters of the engine."""

    volumes: VolumeRules = field(default_factory=VolumeRules)
    common_property: CommonPropertyRules = field(default_factory=CommonPropertyRules)


@dataclass(frozen=True)
class AccountCharges:
    """Volumes and itemised lines of one account for one period."""

    account: str
    period: BillingPeriod
    volumes: Mapping[Service, IndividualVolume]
    lines: tuple[ChargeLine, ...]

    @property
    def total(self) -> Decimal:
        """Receipt total [₽] = Σ of the rounded lines (decision 1)."""
        return sum((line.amount for line in self.lines), Decimal(0))


def check_services_listed_once(account: AccountInput) -> None:
    """Refuse an account whose input lists a service twice (the engine decides one volume a service)."""
    seen: set[Service] = set()
    for consumer in account.services:
        if consumer.service in seen:
            raise ValueError(f"account {account.account}: service {consumer.service} is listed twice")
        seen.add(consumer.service)


def account_volumes(
    account: AccountInput, rules: VolumeRules | None = None
) -> dict[Service, IndividualVolume]:
    """The individual volume of every resource service of an account (maintenance has none)."""
    decided: dict[Service, IndividualVolume] = {}
    check_services_listed_once(account)
    wastewater: ServiceConsumer | None = None
    for consumer in account.services:
        if consumer.service is Service.MAINTENANCE:
            continue
        if consumer.service is Service.WASTEWATER and consumer.meter is None:
            wastewater = consumer
            continue
        decided[consumer.service] = _decide(account, consumer, rules)
    if wastewater is not None:
        water = [decided[s] for s in (Service.COLD_WATER, Service.HOT_WATER) if s in decided]
        decided[Service.WASTEWATER] = (
            wastewater_volume(water) if water else _decide(account, wastewater, rules)
        )
    return decided


def _decide(account: AccountInput, consumer: ServiceConsumer, rules: VolumeRules | None) -> IndividualVolume:
    return decide_individual_volume(
        consumer,
        account=account.account,
        residential=account.residential,
        residents=account.residents,
        owners=account.owners,
        rules=rules,
    )


def _zones_for_tariff(volumes: Mapping[Zone, Decimal], tariff: Tariff) -> dict[Zone, Decimal]:
    if set(volumes) <= {Zone.SINGLE} and (
        tariff.scheme is ZoneScheme.SINGLE_RATE or tariff.has_price(Zone.SINGLE)
    ):
        return {Zone.SINGLE: volumes.get(Zone.SINGLE, Decimal(0))}
    if set(volumes) <= {Zone.SINGLE}:
        tariff.price(Zone.SINGLE)  # raises with the fix
    return collapse_zone_volumes(volumes, tariff.scheme)


def _line(
    *,
    account: str,
    period: BillingPeriod,
    service: Service,
    kind: ChargeKind,
    zone: Zone,
    volume: Decimal,
    part: TariffPart,
    method: str,
    formula: str,
    coefficient: Decimal = Decimal(1),
    note: str = "",
) -> ChargeLine:
    price = part.tariff.price(zone)
    base_exact = volume * price
    exact = base_exact * coefficient
    amount = round_money(exact)
    without = None
    excess = Decimal(0)
    if coefficient != 1:
        without = round_money(base_exact)
        excess = amount - without
    return ChargeLine(
        account=account,
        period=period,
        service=service,
        kind=kind,
        zone=zone,
        volume=volume,
        unit=SERVICE_UNITS[service],
        tariff=price,
        method=method,
        formula=formula,
        amount_exact=exact,
        amount=amount,
        part_start=part.start,
        part_end=part.end,
        coefficient=coefficient,
        amount_without_coefficient=without,
        excess=excess,
        note=note,
    )


def _individual_lines(
    account: str, period: BillingPeriod, volume: IndividualVolume, tariffs: TariffBook, tz: ZoneInfo
) -> list[ChargeLine]:
    parts = tariffs.parts(volume.service, period)
    if volume.parts:
        return [
            line
            for state_part in volume.parts
            for line in _volume_lines(
                account,
                period,
                state_part.volume,
                [
                    TariffPart(p.tariff, max(p.start, state_part.start), min(p.end, state_part.end))
                    for p in parts
                    if p.start < state_part.end and p.end > state_part.start
                ],
                tz,
            )
        ]
    return _volume_lines(account, period, volume, parts, tz)


def _prorate_over(volume: Decimal, parts: Sequence[TariffPart]) -> list[Decimal]:
    """``V × d_p / Σ d`` over ``parts`` (the last takes the rest): a state part's volume over the tariff
    parts clipped to its days."""
    if len(parts) == 1:
        return [volume]
    days = sum(p.days for p in parts)
    shares = [volume * p.days / days for p in parts[:-1]]
    shares.append(volume - sum(shares, Decimal(0)))
    return shares


def _volume_lines(
    account: str,
    period: BillingPeriod,
    volume: IndividualVolume,
    parts: Sequence[TariffPart],
    tz: ZoneInfo,
) -> list[ChargeLine]:
    for part in parts:
        if part.tariff.basis is not PriceBasis.PER_UNIT:
            raise ValueError(
                f"account {account}: {volume.service} tariff {part.tariff.label} is priced per m²; "
                "resource services need a per-unit tariff"
            )
    if volume.hourly is not None:
        per_part = split_hourly_by_part(volume.hourly, tz, parts, period)
    elif sum(p.days for p in parts) != period.days:  # a state part of the period
        by_zone = {z: _prorate_over(v, parts) for z, v in volume.zone_volumes.items()}
        per_part = [{z: shares[i] for z, shares in by_zone.items()} for i in range(len(parts))]
    else:
        by_zone = {z: prorate_by_days(v, parts, period) for z, v in volume.zone_volumes.items()}
        per_part = [{z: shares[i] for z, shares in by_zone.items()} for i in range(len(parts))]
    lines: list[ChargeLine] = []
    for part, zone_volumes in zip(parts, per_part, strict=True):
        for zone, v in _zones_for_tariff(zone_volumes, part.tariff).items():
            lines.append(
                _line(
                    account=account,
                    period=period,
                    service=volume.service,
                    kind=ChargeKind.INDIVIDUAL,
                    zone=zone,
                    volume=v,
                    part=part,
                    method=volume.method.value,
                    formula=volume.formula,
                    coefficient=volume.coefficient,
                    note=volume.note,
                )
            )
    return lines


def _maintenance_lines(
    account: str, period: BillingPeriod, area: Decimal, tariffs: TariffBook
) -> list[ChargeLine]:
    parts = tariffs.parts(Service.MAINTENANCE, period)
    lines = []
    for part, share in zip(parts, prorate_by_days(area, parts, period), strict=True):
        if part.tariff.basis is not PriceBasis.PER_M2:
            raise ValueError(
                f"maintenance tariff {part.tariff.label} must be priced per m² (PriceBasis.PER_M2)"
            )
        lines.append(
            _line(
                account=account,
                period=period,
                service=Service.MAINTENANCE,
                kind=ChargeKind.INDIVIDUAL,
                zone=Zone.SINGLE,
                volume=share,
                part=part,
                method=VolumeMethod.AREA.value,
                formula=MAINTENANCE_FORMULA,
            )
        )
    return lines


def _common_property_lines(
    account: str, period: BillingPeriod, share: CommonPropertyShare, tariffs: TariffBook
) -> list[ChargeLine]:
    parts = tariffs.parts(share.service, period)
    return [
        _line(
            account=account,
            period=period,
            service=share.service,
            kind=ChargeKind.COMMON_PROPERTY,
            zone=Zone.SINGLE,
            volume=v,
            part=part,
            method=share.method,
            formula=share.formula,
        )
        for part, v in zip(parts, prorate_by_days(share.volume, parts, period), strict=True)
    ]


def compute_account_charges(
    account: AccountInput,
    period: BillingPeriod,
    tariffs: Sequence[Tariff] | TariffBook,
    time_zone: str | ZoneInfo,
    *,
    common_property: Sequence[CommonPropertyShare] = (),
    rules: BillingRules | None = None,
    volumes: Mapping[Service, IndividualVolume] | None = None,
) -> AccountCharges:
    """All lines of one account for one period: individual services, maintenance, common property.

    ``tariffs``: the building's tariffs (a :class:`~meterhub.billing.rules.tariffs.TariffBook` reuses the
    tariff parts across accounts). ``time_zone``: the building's IANA zone (local hours for zones and
    tariff parts). ``common_property``: the account's allocated shares (from
    :func:`~meterhub.billing.rules.building.compute_building_charges` or a loader). ``volumes``: already
    decided volumes (otherwise decided here).
    """
    rules = rules or BillingRules()
    tz = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    book = tariffs if isinstance(tariffs, TariffBook) else TariffBook(tariffs)
    with engine_context():
        decided = dict(volumes) if volumes is not None else account_volumes(account, rules.volumes)
        lines: list[ChargeLine] = []
        for consumer in account.services:
            if consumer.service is Service.MAINTENANCE:
                area = to_decimal(account.area, f"account {account.account} area")
                lines.extend(_maintenance_lines(account.account, period, area, book))
            else:
                lines.extend(_individual_lines(account.account, period, decided[consumer.service], book, tz))
        for share in common_property:
            lines.extend(_common_property_lines(account.account, period, share, book))
    return AccountCharges(account.account, period, decided, tuple(lines))
