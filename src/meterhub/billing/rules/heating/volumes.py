"""Heating (отопление) volumes of a house and its premises for one month — pure rules (billing-rules.md §9).

The method is chosen from the configuration in force (decision 9.0-1), never inferred from data alone:
``HeatingPolicy`` says whether the house has a working common-house heat meter (ОДПУ) and how it pays
(in the heating season, or evenly over the calendar year); the premises say what they have (an
individual heat meter ИПУ, heat-cost distributors, ordinary radiators, or no heating devices at all).

Volumes are Гкал as unrounded ``Decimal`` through the whole chain (decision 9.0-2); a line's money is
rounded once (:func:`heating_charge`, decision 1). Every premise result carries a ``basis`` — the
arithmetic in words — that the close report prints.

Cases (§9.2.2, method names by meaning; formula numbers are labels only):

* ``NORM_NO_ODPU`` — no house meter, no ИПУ: ``V_i = S_i × N_T`` (× ``K`` = season months / 12 when paying
  evenly, formula 2 / 2(1)).
* ``NORM_NO_ODPU_IPU`` — no house meter, some ИПУ: metered ``V_i = V_ipu + N_T × S_ои × S_i / S_об``.
* ``ODPU_NO_IPU`` — house meter, no ИПУ: ``V_i = V_house × S_i / S_об`` (formula 3).
* ``ODPU_PARTIAL_IPU`` / ``ODPU_ALL_IPU`` — house meter and ИПУ / distributors:
  ``V_i = own_i + max(0, V_house − Σ own) × S_i / S_об`` with the unmetered premises' ``own`` by the
  configured :class:`UnmeteredRule` (§9.2.4) and distributors sharing what is left after the ИПУ and the
  common-property heat by their units.
* Premises **without heating devices** (lawfully disconnected) own 0 Гкал and pay only their
  common-property share [I, Минстрой 2019 / КС 16-П, §9.2.1].

``V_house`` is whatever the month's mode gives (season: the ОДПУ volume of the month; even: the previous
year's total / 12; failed meter: the average of :mod:`meterhub.billing.rules.heating.correction`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from meterhub.billing.rules.rounding import engine_context, round_money, to_decimal

__all__ = [
    "HeatAllocation",
    "HeatHouse",
    "HeatPremise",
    "HeatingMethod",
    "HeatingPolicy",
    "PaymentMode",
    "PremiseHeat",
    "PremiseHeatKind",
    "UnmeteredRule",
    "allocate_heat",
    "display_gcal",
    "heating_charge",
]

ZERO = Decimal(0)


class PaymentMode(StrEnum):
    SEASON = "season"  # в течение отопительного периода
    EVEN_YEAR = "even_year"  # равномерно в течение календарного года


class HeatingMethod(StrEnum):
    NORM_NO_ODPU = "norm_no_odpu"
    NORM_NO_ODPU_IPU = "norm_no_odpu_ipu"
    ODPU_NO_IPU = "odpu_no_ipu"
    ODPU_PARTIAL_IPU = "odpu_partial_ipu"
    ODPU_ALL_IPU = "odpu_all_ipu"


class UnmeteredRule(StrEnum):
    """Volume of a premise without ИПУ in a house with ОДПУ and some ИПУ (§9.2.4, [U] — configured)."""

    AVG_SPECIFIC_OF_METERED = "avg_specific_of_metered"  # S_u × Σ V_metered / Σ S_metered
    NORMATIVE = "normative"  # S_u × N_T


class PremiseHeatKind(StrEnum):
    RADIATORS = "radiators"  # heated, no individual meter
    IPU = "ipu"  # individual heat meter
    DISTRIBUTOR = "distributor"  # heat-cost allocators (распределители)
    NO_DEVICES = "no_devices"  # no heating devices (lawfully disconnected): common share only


@dataclass(frozen=True)
class HeatingPolicy:
    """The heating configuration of a building in force for the month (decision 9.0-1, 9.0-5)."""

    payment_mode: PaymentMode
    has_odpu: bool
    unmetered_rule: UnmeteredRule = UnmeteredRule.AVG_SPECIFIC_OF_METERED
    ipu_share_threshold: Decimal = ZERO  # ИПУ are used only when their share reaches it ([U], default 0)
    ipu_share_basis: str = "area"  # 'area' or 'count'
    season_months: int = 8  # months of the heating period, for K = season_months / 12 (even normative)
    volume_decimals: int = 4  # Гкал shown on the receipt (3–6)
    correction_month: int = 1  # month of the year that receives the yearly correction (1–3)

    def __post_init__(self) -> None:
        if not 1 <= self.season_months <= 12:
            raise ValueError(f"season_months must be 1..12, got {self.season_months}")
        if not 3 <= self.volume_decimals <= 6:
            raise ValueError(f"volume_decimals must be 3..6, got {self.volume_decimals}")
        if not 1 <= self.correction_month <= 3:
            raise ValueError(f"correction_month must be 1..3 (I quarter), got {self.correction_month}")
        if self.ipu_share_basis not in ("area", "count"):
            raise ValueError(f"ipu_share_basis must be 'area' or 'count', got {self.ipu_share_basis!r}")

    @property
    def periodicity(self) -> Decimal:
        """``K`` — 1 in season mode, season months / 12 when paying evenly."""
        if self.payment_mode is PaymentMode.SEASON:
            return Decimal(1)
        with engine_context():
            return Decimal(self.season_months) / 12


@dataclass(frozen=True)
class HeatPremise:
    premise_no: str
    area: Decimal  # S_i, m²
    kind: PremiseHeatKind = PremiseHeatKind.RADIATORS
    own_gcal: Decimal | None = None  # ИПУ volume of the month (measured or averaged by the caller)
    distributor_units: Decimal | None = None  # Σ distributor units of the month
    own_note: str = ""  # how the caller obtained own_gcal (reading delta, average, …)


@dataclass(frozen=True)
class HeatHouse:
    total_area: Decimal  # S_об: all residential and non-residential premises
    common_area: Decimal  # S_ои: common property
    normative: Decimal  # N_T, Гкал/m²/month
    house_gcal: Decimal | None = None  # V_house of the month; None = no usable house meter


@dataclass(frozen=True)
class PremiseHeat:
    premise_no: str
    own_gcal: Decimal  # V_i^п (0 for no devices; computed for unmetered premises)
    common_gcal: Decimal  # V_i^одн
    basis: str

    @property
    def volume(self) -> Decimal:
        with engine_context():
            return self.own_gcal + self.common_gcal


@dataclass(frozen=True)
class HeatAllocation:
    method: HeatingMethod
    house_gcal: Decimal  # V_house (or Σ of the normative volumes when there is no house meter)
    own_total: Decimal  # Σ own_i
    common_total: Decimal  # heat for common property before the per-premise split (≥ 0)
    premises: tuple[PremiseHeat, ...]
    warnings: tuple[str, ...] = field(default=())


def heating_charge(volume_gcal: Decimal, tariff: Decimal) -> Decimal:
    """A heating line's money: ``round_half_up(V × T, 0.01)`` with V unrounded (decision 1, H-1)."""
    with engine_context():
        return round_money(to_decimal(volume_gcal, "heat volume") * to_decimal(tariff, "heat tariff"))


def display_gcal(volume: Decimal, decimals: int = 4) -> str:
    """Гкал as printed on the receipt (4 decimals by default, §9.4)."""
    from decimal import ROUND_HALF_UP

    return str(to_decimal(volume, "heat volume").quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))


def allocate_heat(policy: HeatingPolicy, house: HeatHouse, premises: Sequence[HeatPremise]) -> HeatAllocation:
    """The month's heat per premise (own + common-property share) by the method the policy selects.

    The caller decides whether the month bills heating at all (season mode outside the heating season
    bills nothing) and what ``house.house_gcal`` is for the mode.
    """
    if house.total_area <= 0:
        raise ValueError("heating: the house's total area of premises (S_об) must be positive")
    with engine_context():
        if policy.has_odpu and house.house_gcal is not None:
            return _by_house_meter(policy, house, premises)
        return _by_normative(policy, house, premises)


def _share(area: Decimal, house: HeatHouse) -> Decimal:
    return area / house.total_area


def _by_normative(policy: HeatingPolicy, house: HeatHouse, premises: Sequence[HeatPremise]) -> HeatAllocation:
    k = policy.periodicity
    k_text = "" if k == 1 else f" × K {policy.season_months}/12"
    common_norm = house.normative * house.common_area * k
    results: list[PremiseHeat] = []
    any_ipu = False
    for p in premises:
        common_i = common_norm * _share(p.area, house)
        common_text = (
            f"common {house.normative} × S_ои {house.common_area}{k_text} × {p.area}/{house.total_area}"
        )
        if p.kind is PremiseHeatKind.IPU and p.own_gcal is not None:
            any_ipu = True
            results.append(
                PremiseHeat(
                    p.premise_no, p.own_gcal, common_i, f"ИПУ {p.own_gcal} Гкал{_note(p)} + {common_text}"
                )
            )
        elif p.kind is PremiseHeatKind.NO_DEVICES:
            results.append(PremiseHeat(p.premise_no, ZERO, common_i, f"no heating devices: {common_text}"))
        else:
            own = p.area * house.normative * k
            results.append(
                PremiseHeat(
                    p.premise_no,
                    own,
                    ZERO,
                    f"normative S {p.area} m² × N_T {house.normative} Гкал/m²{k_text}",
                )
            )
    own_total = sum((r.own_gcal for r in results), ZERO)
    common_total = sum((r.common_gcal for r in results), ZERO)
    method = HeatingMethod.NORM_NO_ODPU_IPU if any_ipu else HeatingMethod.NORM_NO_ODPU
    return HeatAllocation(method, own_total + common_total, own_total, common_total, tuple(results))


def _ipu_share(policy: HeatingPolicy, premises: Sequence[HeatPremise]) -> Decimal:
    heated = [p for p in premises if p.kind is not PremiseHeatKind.NO_DEVICES]
    metered = [p for p in heated if p.kind is PremiseHeatKind.IPU and p.own_gcal is not None]
    if not heated:
        return ZERO
    if policy.ipu_share_basis == "count":
        return Decimal(len(metered)) / len(heated)
    area = sum((p.area for p in heated), ZERO)
    return sum((p.area for p in metered), ZERO) / area if area else ZERO


def _by_house_meter(
    policy: HeatingPolicy, house: HeatHouse, premises: Sequence[HeatPremise]
) -> HeatAllocation:
    v_house = house.house_gcal
    assert v_house is not None
    warnings: list[str] = []
    use_ipu = _ipu_share(policy, premises) >= policy.ipu_share_threshold
    if not use_ipu:
        warnings.append(f"ИПУ share below the threshold {policy.ipu_share_threshold}: ИПУ readings not used")
    ipu = [p for p in premises if use_ipu and p.kind is PremiseHeatKind.IPU and p.own_gcal is not None]
    dist = [p for p in premises if use_ipu and p.kind is PremiseHeatKind.DISTRIBUTOR and p.distributor_units]
    off = [p for p in premises if p.kind is PremiseHeatKind.NO_DEVICES]
    individual = {p.premise_no for p in ipu + dist + off}
    others = [p for p in premises if p.premise_no not in individual]

    if not individual:  # formula 3: every premise by area
        results = tuple(
            PremiseHeat(
                p.premise_no,
                ZERO,
                v_house * _share(p.area, house),
                f"house {v_house} Гкал × {p.area}/{house.total_area} m²",
            )
            for p in premises
        )
        total = sum((r.common_gcal for r in results), ZERO)
        return HeatAllocation(HeatingMethod.ODPU_NO_IPU, v_house, ZERO, total, results)

    own: dict[str, tuple[Decimal, str]] = {}
    for p in ipu:
        own[p.premise_no] = (p.own_gcal or ZERO, f"ИПУ {p.own_gcal} Гкал{_note(p)}")
    for p in off:
        own[p.premise_no] = (ZERO, "no heating devices, own 0 Гкал")
    metered_area = sum((p.area for p in ipu), ZERO)
    metered_heat = sum((own[p.premise_no][0] for p in ipu), ZERO)
    rule = policy.unmetered_rule
    if rule is UnmeteredRule.AVG_SPECIFIC_OF_METERED and metered_area == 0:
        rule = UnmeteredRule.NORMATIVE
        if others:
            warnings.append("no ИПУ readings to average: unmetered premises by the normative")
    for p in others:
        if rule is UnmeteredRule.AVG_SPECIFIC_OF_METERED:
            specific = metered_heat / metered_area
            text = f"no ИПУ: {p.area} m² × {specific} Гкал/m² (ИПУ {metered_heat} / {metered_area} m²)"
            own[p.premise_no] = (p.area * specific, text)
        else:
            own[p.premise_no] = (p.area * house.normative, f"no ИПУ: {p.area} m² × N_T {house.normative}")
    if dist:
        # Distributors share what the house used minus the ИПУ/unmetered volumes and the common-property
        # heat, taken as N_T × S_ои capped by what is left [I, §9.2.2 "distributors"].
        left = v_house - sum((v for v, _ in own.values()), ZERO)
        common_heat = min(max(left, ZERO), house.normative * house.common_area)
        to_share = max(left - common_heat, ZERO)
        units = sum((p.distributor_units or ZERO for p in dist), ZERO)
        for p in dist:
            part = to_share * (p.distributor_units or ZERO) / units
            own[p.premise_no] = (part, f"distributors {p.distributor_units}/{units} units of {to_share} Гкал")
    own_total = sum((v for v, _ in own.values()), ZERO)
    common = v_house - own_total
    if common < 0:
        warnings.append(
            f"negative common-property heat {common} Гкал (house {v_house} < Σ own {own_total}): share 0"
        )
        common = ZERO
    results_list = []
    for p in premises:
        v_own, text = own[p.premise_no]
        share = common * _share(p.area, house)
        basis = f"{text} + common ({v_house} − {own_total}) × {p.area}/{house.total_area}"
        results_list.append(PremiseHeat(p.premise_no, v_own, share, basis))
    method = HeatingMethod.ODPU_PARTIAL_IPU if others else HeatingMethod.ODPU_ALL_IPU
    return HeatAllocation(method, v_house, own_total, common, tuple(results_list), tuple(warnings))


def _note(p: HeatPremise) -> str:
    return f" ({p.own_note})" if p.own_note else ""
