"""Common-property consumption (ОДН / КРСОИ): the house volume and its allocation by area.

House level (billing-rules.md §2.2–2.4), per building and service for one period:

* difference ``ΔV = V^Д − Σ_u V_u − V^кр`` [unit]: house meter (ОДПУ, Σ of several) minus the individual
  volumes of *all* premises (meter, average or normative; without the 1.5 coefficient) minus cold water
  used to prepare hot water in the building (``V^кр``, formula 11, cold water only);
* normative volume ``V^норм = N^СОИ × S_ои`` [unit] (N per m² of common-property area per month);
* the distributed house volume ``V^расп`` by method:

  - ``NORMATIVE`` — ``V^норм`` (formula 15; ЖК РФ ст. 156 ч. 9.2 without ОДПУ);
  - ``ACTUAL_CAPPED`` (default) — ``max(0, min(ΔV, V^норм))`` (formulas 11/12, cap п. 44, zero п. 46);
  - ``ACTUAL`` — ``max(0, ΔV)`` (meeting decision, ЖК РФ ст. 44 ч. 2 п. 4.3; АИИС);
  - ``AVERAGE`` — the monthly mean of the house's previous common-property volumes (≥ 3 of the last
    6 months), capped by ``V^норм`` [I], for at most 3 consecutive periods, then ``NORMATIVE``
    (п. 59(1)); ``ACTUAL``/``ACTUAL_CAPPED`` without a house volume (ОДПУ failed) go the same way;

* excess ``max(0, ΔV) − V^расп`` [unit] — over the normative, not billed to residents, borne by the
  management company (reported per building).

Account level: ``V_i = V^расп × S_i / S_об`` (formulas 11, 12, 15) with ``S_i`` the account's area and
``S_об`` the total area of all residential and non-residential premises. The shares are carried at
:data:`SHARE_QUANTUM` with a largest-remainder correction, so ``Σ V_i = V^расп × Σ S_i / S_об`` exactly
(``= V^расп`` when the accounts cover the building).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from meterhub.billing.rules.rounding import engine_context, strip_zeros, to_decimal
from meterhub.billing.rules.tariffs import Service

__all__ = [
    "SHARE_QUANTUM",
    "CommonPropertyInput",
    "CommonPropertyMethod",
    "CommonPropertyRounding",
    "CommonPropertyRules",
    "HouseCommonProperty",
    "allocate_common_property_volume",
    "compute_house_common_property",
]

SHARE_QUANTUM = Decimal("1e-50")
"""Quantum [unit] of allocated common-property volumes; far below any measurable quantity."""


class CommonPropertyMethod(StrEnum):
    """How a building's common-property volume is determined (способ расчёта ОДН/КРСОИ)."""

    NORMATIVE = "normative"  # по нормативу
    ACTUAL_CAPPED = "actual_capped"  # по факту, не выше норматива
    ACTUAL = "actual"  # по факту (решение общего собрания / АИИС)
    AVERAGE = "average"  # по среднему


class CommonPropertyRounding(StrEnum):
    """How the common-property amounts of a building are rounded to kopecks."""

    PER_ACCOUNT = "per_account"  # each account's line half-up independently (decision 1)
    LARGEST_REMAINDER = "largest_remainder"  # Σ lines = round(Σ exact); off by default


@dataclass(frozen=True)
class CommonPropertyRules:
    """Configurable parameters of the common-property calculation (defaults: billing-rules.md §2)."""

    average_window_months: int = 6
    """Averaging window [months] of the house common-property volume (п. 59(1))."""
    average_min_months: int = 3
    """Fewer months of history → ``NORMATIVE`` (п. 59(1))."""
    average_limit_periods: int = 3
    """Max consecutive averaged periods, then ``NORMATIVE`` (п. 59(1)) [M]."""
    cap_average_by_normative: bool = True
    """Cap an averaged volume by ``N^СОИ × S_ои`` like ``ACTUAL_CAPPED`` [I]."""
    rounding: CommonPropertyRounding = CommonPropertyRounding.PER_ACCOUNT
    """Kopeck rounding of the account lines (decision 1: per account)."""


@dataclass(frozen=True)
class CommonPropertyInput:
    """One building × service for one period, as the loader prepares it.

    ``normative_per_m2``: N^СОИ [unit/m²/month]. ``house_volume``: V^Д [unit], the Σ of the building's
    house meters for the period, ``None`` when there is no valid house reading. ``history``: previous
    months' house-level common-property volumes ``V^Д − Σ V_u`` [unit], oldest first (negative months
    count as 0). ``consecutive_average_periods``: the averaging count — immediately preceding periods
    billed by average or, after the limit, by the normative in place of the requested method (a normative
    month never restarts the averaging, Decision 8).
    """

    service: Service
    normative_per_m2: Decimal
    method: CommonPropertyMethod = CommonPropertyMethod.ACTUAL_CAPPED
    house_volume: Decimal | None = None
    hot_water_preparation_volume: Decimal | None = Decimal(0)
    """V^кр [m³], cold water the building uses to prepare hot water itself (cold water only, ф. 11);
    ``None``: :func:`~meterhub.billing.rules.building.compute_building_charges` takes Σ V_u of hot water plus
    the hot-water common-property volume [I] (no valid hot-water house meter)."""
    history: Sequence[Decimal] = ()
    consecutive_average_periods: int = 0


@dataclass(frozen=True)
class HouseCommonProperty:
    """House-level result for one service: volumes [unit], the method applied and its formula."""

    service: Service
    method_requested: CommonPropertyMethod
    method: CommonPropertyMethod
    formula: str
    house_volume: Decimal | None
    individual_total: Decimal
    difference: Decimal | None
    normative_volume: Decimal
    distributed: Decimal
    excess: Decimal
    negative: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def coefficient(self) -> Decimal | None:
        """``V^расп / ΔV`` (share of the actual difference that is billed), ``None`` if ΔV ≤ 0 or unknown."""
        if self.difference is None or self.difference <= 0:
            return None
        with engine_context():
            return self.distributed / self.difference


def _formula(service: Service, method: CommonPropertyMethod) -> str:
    base = "ф. 11" if service is Service.COLD_WATER else "ф. 12"
    return {
        CommonPropertyMethod.NORMATIVE: "ПП 354, Прил. 2, ф. 15; ЖК РФ ст. 156 ч. 9.2",
        CommonPropertyMethod.ACTUAL_CAPPED: f"ПП 354, Прил. 2, {base}; п. 44 (не выше норматива); п. 46",
        CommonPropertyMethod.ACTUAL: f"ПП 354, Прил. 2, {base}; п. 46; ЖК РФ ст. 44 ч. 2 п. 4.3",
        CommonPropertyMethod.AVERAGE: "ПП 354, п. 59(1)",
    }[method]


def compute_house_common_property(
    inp: CommonPropertyInput,
    *,
    individual_total: Decimal,
    common_area: Decimal,
    rules: CommonPropertyRules | None = None,
) -> HouseCommonProperty:
    """The house common-property volume to distribute [unit] (see the module docstring for formulas).

    ``individual_total``: Σ_u V_u of all premises for the service [unit]; ``common_area``: S_ои [m²].
    """
    rules = rules or CommonPropertyRules()
    service = inp.service
    with engine_context():
        norm = to_decimal(inp.normative_per_m2, f"{service} common-property normative")
        s_oi = to_decimal(common_area, "common-property area S_ои")
        normative_volume = norm * s_oi
        total_u = to_decimal(individual_total, "Σ individual volumes")
        house = None if inp.house_volume is None else to_decimal(inp.house_volume, f"{service} house volume")
        if inp.hot_water_preparation_volume is None:
            raise ValueError(
                f"{service}: V^кр is None (derived from hot water); compute_building_charges fills it, "
                "or pass the volume"
            )
        prep = to_decimal(inp.hot_water_preparation_volume, "hot-water preparation volume V^кр")
        if prep and service is not Service.COLD_WATER:
            raise ValueError(
                f"{service}: V^кр (cold water for hot-water preparation) applies to cold water only"
            )
        difference = None if house is None else house - total_u - prep
        warnings: list[str] = []

        def result(
            method: CommonPropertyMethod, distributed: Decimal, excess: Decimal
        ) -> HouseCommonProperty:
            negative = difference is not None and difference < 0
            if negative and method is not CommonPropertyMethod.NORMATIVE:
                warnings.append(
                    f"{service}: negative common-property difference {difference} "
                    f"(house {house} < Σ premises "
                    f"{total_u}{f' + V^кр {prep}' if prep else ''}); nothing charged (ПП 354 п. 46)"
                )
            return HouseCommonProperty(
                service=service,
                method_requested=inp.method,
                method=method,
                formula=_formula(service, method),
                house_volume=house,
                individual_total=total_u,
                difference=difference,
                normative_volume=normative_volume,
                distributed=distributed,
                excess=excess,
                negative=negative,
                warnings=tuple(warnings),
            )

        if inp.method is CommonPropertyMethod.NORMATIVE:
            return result(CommonPropertyMethod.NORMATIVE, normative_volume, Decimal(0))
        if inp.method is not CommonPropertyMethod.AVERAGE and difference is not None:
            actual = max(difference, Decimal(0))
            if inp.method is CommonPropertyMethod.ACTUAL:
                return result(CommonPropertyMethod.ACTUAL, actual, Decimal(0))
            distributed = min(actual, normative_volume)
            return result(CommonPropertyMethod.ACTUAL_CAPPED, distributed, actual - distributed)
        if inp.method is not CommonPropertyMethod.AVERAGE:
            warnings.append(f"{service}: no valid house-meter volume; average of previous months (п. 59(1))")
        months = [max(to_decimal(v, "history volume"), Decimal(0)) for v in inp.history][
            -rules.average_window_months :
        ]
        if inp.consecutive_average_periods >= rules.average_limit_periods:
            warnings.append(
                f"{service}: {inp.consecutive_average_periods} averaged period(s) reached the limit "
                f"{rules.average_limit_periods}; normative (ф. 15)"
            )
            return result(CommonPropertyMethod.NORMATIVE, normative_volume, Decimal(0))
        if len(months) < rules.average_min_months or not months:
            warnings.append(
                f"{service}: {len(months)} month(s) of house history < {rules.average_min_months}; "
                "normative (ф. 15)"
            )
            return result(CommonPropertyMethod.NORMATIVE, normative_volume, Decimal(0))
        average = sum(months, Decimal(0)) / len(months)
        distributed = min(average, normative_volume) if rules.cap_average_by_normative else average
        return result(CommonPropertyMethod.AVERAGE, distributed, average - distributed)


def allocate_common_property_volume(
    distributed: Decimal, areas: Mapping[str, Decimal], total_area: Decimal
) -> dict[str, Decimal]:
    """Each account's share ``V_i = V^расп × S_i / S_об`` [unit] (ПП 354 Прил. 2, ф. 11/12/15).

    ``areas``: S_i [m²] per account (residential and non-residential alike); ``total_area``: S_об [m²].
    Shares are cut to :data:`SHARE_QUANTUM` and the leftover quanta go to the largest remainders (ties:
    account order), so ``Σ V_i == V^расп × Σ S_i / S_об`` exactly.
    """
    with engine_context():
        total = to_decimal(total_area, "total area S_об")
        if total <= 0:
            raise ValueError(f"total area S_об must be positive, got {total}")
        volume = to_decimal(distributed, "distributed volume")
        s_i = {acc: to_decimal(a, f"account {acc} area") for acc, a in areas.items()}
        bad = [acc for acc, a in s_i.items() if a < 0]
        if bad:
            raise ValueError(f"negative area for account(s) {', '.join(bad)}")
        exact = {acc: volume * a / total for acc, a in s_i.items()}
        target = (volume * sum(s_i.values(), Decimal(0)) / total).quantize(SHARE_QUANTUM)
        shares = {acc: v.quantize(SHARE_QUANTUM, ROUND_DOWN) for acc, v in exact.items()}
        leftover = int((target - sum(shares.values(), Decimal(0))) / SHARE_QUANTUM)
        if leftover:
            order = sorted(shares, key=lambda acc: exact[acc] - shares[acc], reverse=True)
            step = SHARE_QUANTUM if leftover > 0 else -SHARE_QUANTUM
            for acc in order[: abs(leftover)]:
                shares[acc] += step
        return {acc: strip_zeros(v) for acc, v in shares.items()}
