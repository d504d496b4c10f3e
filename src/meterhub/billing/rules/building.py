"""Charges of a whole building (МКД) for one period — the unit of work of the monthly close.

:func:`compute_building_charges` decides the individual volumes of all accounts, sums them per service
(Σ V_u), computes the house common-property volume (ОДН/КРСОИ) with the building's method, allocates it by
area share S_i / S_об, and produces every account's itemised lines plus a per-service report of the excess
over the normative (borne by the management company).
"""

from __future__ import annotations

import dataclasses
import operator
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from meterhub.billing.rules.charges import (
    AccountCharges,
    AccountInput,
    BillingRules,
    ChargeKind,
    ChargeLine,
    CommonPropertyShare,
    account_volumes,
    compute_account_charges,
)
from meterhub.billing.rules.common_property import (
    CommonPropertyInput,
    CommonPropertyRounding,
    HouseCommonProperty,
    allocate_common_property_volume,
    compute_house_common_property,
)
from meterhub.billing.rules.fast_path import allocate_common_property as fast_allocate
from meterhub.billing.rules.fast_path import common_property_shares as fast_shares
from meterhub.billing.rules.fast_path import fast_account_charges, fast_account_volumes
from meterhub.billing.rules.fast_path import individual_total as fast_individual_total
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import KOPECK, engine_context, round_money, to_decimal, truncate_money
from meterhub.billing.rules.tariffs import Service, Tariff, TariffBook, prorate_by_days
from meterhub.billing.rules.volumes import IndividualVolume, VolumeMethod
from meterhub.billing.rules.zones import Zone

__all__ = [
    "BuildingCharges",
    "BuildingInput",
    "CommonPropertyReport",
    "ServiceSummary",
    "compute_building_charges",
]


@dataclass(frozen=True)
class BuildingInput:
    """One building (МКД) for one period: areas, accounts, tariffs (the building's default plan, and per
    account where its plan differs) and common-property inputs.

    ``total_area``: S_об [m²], all residential and non-residential premises; ``common_area``: S_ои [m²].
    """

    building: str
    time_zone: str
    total_area: Decimal
    common_area: Decimal
    accounts: tuple[AccountInput, ...]
    tariffs: tuple[Tariff, ...]
    common_property: tuple[CommonPropertyInput, ...] = ()
    account_tariffs: Mapping[str, tuple[Tariff, ...]] = dataclasses.field(default_factory=dict)
    """Accounts billed on another tariff plan than the building's (per-account or per-meter plans,
    :mod:`meterhub.billing.rules.tariff_plans`): account → all its tariffs, replacing ``tariffs``."""


@dataclass(frozen=True)
class CommonPropertyReport:
    """House-level common-property result of one service, with the excess borne by the management company.

    ``excess_cost_exact`` [₽] = excess volume × tariff (by tariff part, days-prorated); ``excess_cost``
    rounded to 0.01 ₽. ``allocated``: V_i per account [unit].
    """

    house: HouseCommonProperty
    allocated: Mapping[str, Decimal]
    excess_cost_exact: Decimal
    excess_cost: Decimal


_SERVICE_KIND_AMOUNT = operator.attrgetter("service", "kind", "amount")


@dataclass(frozen=True)
class BuildingCharges:
    """All accounts' charges of one building for one period, the common-property reports and warnings."""

    building: str
    period: BillingPeriod
    accounts: tuple[AccountCharges, ...]
    common_property: tuple[CommonPropertyReport, ...]
    warnings: tuple[str, ...]

    @property
    def lines(self) -> list[ChargeLine]:
        return [line for acc in self.accounts for line in acc.lines]

    @property
    def total(self) -> Decimal:
        """Σ of all rounded lines [₽]."""
        return sum((acc.total for acc in self.accounts), Decimal(0))

    def method_counts(self) -> dict[Service, Counter[VolumeMethod]]:
        """How many accounts per service were billed by meter / average / normative / normative ×1.5."""
        counts: dict[Service, Counter[VolumeMethod]] = {}
        for acc in self.accounts:
            for service, volume in acc.volumes.items():
                counts.setdefault(service, Counter())[volume.method] += 1
        return counts

    def service_summaries(self) -> list[ServiceSummary]:
        """Close-report figures per service: house volume, Σ individual, common property, methods, amounts.

        One pass over the accounts and one over the lines; each sum adds the same terms in the same order
        as a sum per service would (accounts, then lines, in order), so the figures are the same."""
        zero = Decimal(0)
        methods: dict[Service, Counter[VolumeMethod]] = {}
        individual: dict[Service, Decimal] = {}
        individual_amount: dict[Service, Decimal] = {}
        common_property_amount: dict[Service, Decimal] = {}
        line_services: dict[Service, None] = {}
        individual_kind, common_property_kind = ChargeKind.INDIVIDUAL, ChargeKind.COMMON_PROPERTY
        with engine_context():
            for acc in self.accounts:
                for service, volume in acc.volumes.items():
                    counts = methods.get(service)
                    if counts is None:
                        counts = methods[service] = Counter()
                        individual[service] = zero
                    counts[volume.method] += 1
                    # volume.total (Σ over zones in the engine context), without entering it per volume
                    individual[service] += sum(volume.zone_volumes.values(), zero)
                for service, kind, amount in map(_SERVICE_KIND_AMOUNT, acc.lines):
                    line_services[service] = None
                    if kind is individual_kind:
                        individual_amount[service] = individual_amount.get(service, zero) + amount
                    elif kind is common_property_kind:
                        common_property_amount[service] = common_property_amount.get(service, zero) + amount
            reports = {r.house.service: r for r in self.common_property}
            summaries = []
            for service in dict.fromkeys([*methods, *reports, *line_services]):
                report = reports.get(service)
                house = report.house if report else None
                summaries.append(
                    ServiceSummary(
                        service=service,
                        accounts_by_method={
                            m.value: n for m, n in sorted(methods.get(service, Counter()).items())
                        },
                        individual_volume=individual.get(service, zero),
                        individual_amount=individual_amount.get(service, zero),
                        common_property_amount=common_property_amount.get(service, zero),
                        house_volume=house.house_volume if house else None,
                        common_property_method=house.method.value if house else None,
                        common_property_volume=house.distributed if house else None,
                        common_property_coefficient=house.coefficient if house else None,
                        excess_volume=house.excess if house else None,
                        excess_cost=report.excess_cost if report else None,
                        negative_difference=house.negative if house else False,
                    )
                )
        return summaries


@dataclass(frozen=True)
class ServiceSummary:
    """One service of one building for the close report; volumes [unit], amounts [₽] (Σ of rounded lines)."""

    service: Service
    accounts_by_method: Mapping[str, int]
    individual_volume: Decimal
    individual_amount: Decimal
    common_property_amount: Decimal
    house_volume: Decimal | None
    common_property_method: str | None
    common_property_volume: Decimal | None
    common_property_coefficient: Decimal | None
    excess_volume: Decimal | None
    excess_cost: Decimal | None
    negative_difference: bool


def compute_building_charges(
    building: BuildingInput, period: BillingPeriod, rules: BillingRules | None = None, *, fast: bool = True
) -> BuildingCharges:
    """Volumes, common property and lines of every account of one building (the close runs this per building).

    Order: individual volumes of all accounts → per service Σ V_u → house common-property volume →
    allocation by S_i / S_об → lines. With ``CommonPropertyRounding.LARGEST_REMAINDER`` the
    common-property lines of each service and tariff part are re-rounded so they add up to the rounded
    Σ of their exact amounts.

    ``fast`` (default): volumes and lines through :mod:`~meterhub.billing.rules.fast_path` (the same
    result, a fraction of the CPU; accounts it does not handle fall back to the reference functions);
    ``fast=False``: every account through :func:`~meterhub.billing.rules.charges.compute_account_charges`
    (the reference the property test compares the fast path with).
    """
    rules = rules or BillingRules()
    book = TariffBook(building.tariffs)
    tz = ZoneInfo(building.time_zone)
    warnings: list[str] = []
    with engine_context():
        total_area = to_decimal(building.total_area, f"building {building.building} S_об")
        areas = {a.account: to_decimal(a.area, f"account {a.account} area") for a in building.accounts}
        if len(areas) != len(building.accounts):
            raise ValueError(f"building {building.building}: an account number is listed twice")
        area_sum = sum(areas.values(), Decimal(0))
        if building.common_property and area_sum != total_area:
            warnings.append(
                f"building {building.building}: Σ account areas {area_sum} m² ≠ S_об {total_area} m²; "
                "common property is allocated by S_i / S_об, so Σ shares ≠ the house volume"
            )
        decide = fast_account_volumes if fast else account_volumes
        volumes = {a.account: decide(a, rules.volumes) for a in building.accounts}
        for acc, per_service in volumes.items():
            for volume in per_service.values():
                if volume.note and volume.method is not VolumeMethod.METER:
                    warnings.append(f"account {acc}, {volume.service}: {volume.note}")
        shares: dict[str, list[CommonPropertyShare]] = {a.account: [] for a in building.accounts}
        reports: list[CommonPropertyReport] = []
        distributed: dict[Service, Decimal] = {}
        # hot water first: V^кр of cold water may be derived from it
        ordered = sorted(building.common_property, key=lambda c: c.service is not Service.HOT_WATER)
        for cp in ordered:
            if fast:
                individual_total = fast_individual_total(volumes, cp.service)
            else:
                individual_total = sum(
                    (v[cp.service].total for v in volumes.values() if cp.service in v), Decimal(0)
                )
            if cp.hot_water_preparation_volume is None:
                cp = dataclasses.replace(
                    cp, hot_water_preparation_volume=_hot_water_produced(volumes, distributed)
                )
                warnings.append(
                    f"building {building.building}: V^кр (cold water for hot-water preparation) = Σ hot "
                    f"water of the premises + its common property = {cp.hot_water_preparation_volume} m³ "
                    "(no valid hot-water house meter reading) [I]"
                )
            house = compute_house_common_property(
                cp,
                individual_total=individual_total,
                common_area=building.common_area,
                rules=rules.common_property,
            )
            warnings.extend(house.warnings)
            distributed[cp.service] = house.distributed
            allocate = fast_allocate if fast else allocate_common_property_volume
            allocated = allocate(house.distributed, areas, total_area)
            method = house.method.value  # an enum's .value is a slow descriptor: once per service
            if fast:
                for acc, share in fast_shares(cp.service, allocated, method, house.formula).items():
                    shares[acc].append(share)
            else:
                for acc, v in allocated.items():
                    shares[acc].append(CommonPropertyShare(cp.service, v, method, house.formula))
            parts = book.parts(cp.service, period)
            excess_exact = sum(
                (
                    v * part.tariff.price(Zone.SINGLE)
                    for part, v in zip(parts, prorate_by_days(house.excess, parts, period), strict=True)
                ),
                Decimal(0),
            )
            reports.append(CommonPropertyReport(house, allocated, excess_exact, round_money(excess_exact)))
        books: dict[int, TariffBook] = {}
        if fast:
            accounts = fast_account_charges(
                building.accounts,
                period,
                tz,
                lambda account: _account_book(building, account, book, books),
                volumes,
                shares,
                rules,
            )
        else:
            accounts = [
                compute_account_charges(
                    a,
                    period,
                    _account_book(building, a.account, book, books),
                    tz,
                    common_property=shares[a.account],
                    rules=rules,
                    volumes=volumes[a.account],
                )
                for a in building.accounts
            ]
        if rules.common_property.rounding is CommonPropertyRounding.LARGEST_REMAINDER:
            accounts = _largest_remainder(accounts)
    return BuildingCharges(building.building, period, tuple(accounts), tuple(reports), tuple(warnings))


def _account_book(
    building: BuildingInput, account: str, default: TariffBook, books: dict[int, TariffBook]
) -> TariffBook:
    """The tariff book of an account: the building's, or one per distinct per-account tariff tuple."""
    own = building.account_tariffs.get(account)
    if own is None:
        return default
    book = books.get(id(own))
    if book is None:
        book = books[id(own)] = TariffBook(own)
    return book


def _hot_water_produced(
    volumes: Mapping[str, Mapping[Service, IndividualVolume]], distributed: Mapping[Service, Decimal]
) -> Decimal:
    """V^кр without a hot-water house meter: Σ_u V_u of hot water + its distributed common property [m³]."""
    individual = sum(
        (v[Service.HOT_WATER].total for v in volumes.values() if Service.HOT_WATER in v), Decimal(0)
    )
    return individual + distributed.get(Service.HOT_WATER, Decimal(0))


def _largest_remainder(accounts: list[AccountCharges]) -> list[AccountCharges]:
    """Re-round common-property lines per (service, tariff part) so Σ rounded = round(Σ exact)."""
    groups: dict[tuple[Service, date], list[tuple[int, int]]] = {}
    for a_idx, acc in enumerate(accounts):
        for l_idx, line in enumerate(acc.lines):
            if line.kind is ChargeKind.COMMON_PROPERTY:
                groups.setdefault((line.service, line.part_start), []).append((a_idx, l_idx))
    new_lines = [list(acc.lines) for acc in accounts]
    for members in groups.values():
        exact = [accounts[a].lines[i].amount_exact for a, i in members]
        floors = [truncate_money(x) for x in exact]
        target = round_money(sum(exact, Decimal(0)))
        kopecks = int((target - sum(floors, Decimal(0))) / KOPECK)
        order = sorted(range(len(members)), key=lambda k: exact[k] - floors[k], reverse=True)
        amounts = list(floors)
        for k in order[:kopecks]:
            amounts[k] += KOPECK
        for (a, i), amount in zip(members, amounts, strict=True):
            new_lines[a][i] = dataclasses.replace(new_lines[a][i], amount=amount)
    return [
        dataclasses.replace(acc, lines=tuple(lines)) for acc, lines in zip(accounts, new_lines, strict=True)
    ]
