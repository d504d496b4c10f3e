"""Even payment over the year, its yearly correction, and the failed house meter's average (§9.3, §9.5).

* :func:`even_monthly_volume` — ``V_T`` = previous calendar year's ОДПУ total / 12 (decision 9.0-3).
* :func:`yearly_correction` — decision 9.0-4: ``round(Σ_m V_D,m × S_i/S_об × T_m) − Σ billed_m`` (the
  actual charge at each month's tariff, rounded once, minus the rounded monthly charges billed); positive
  = доначисление, negative = снятие. Booked as a signed recalculation line.
* :func:`odpu_average` — the house average when the ОДПУ fails (п. 59(1) as amended by ПП 1176): the
  history's heat per heating day × the month's heating days, corrected for the outdoor temperature by
  degree-days ``(t_in − t_out_actual) / (t_in − t_out_history)`` [U: the exact correction is not known;
  the function is the pluggable default]; :func:`odpu_average_limit` — 6 periods from March 2025, 3 before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from meterhub.billing.rules.rounding import engine_context, round_money, to_decimal

__all__ = [
    "CorrectionMonth",
    "YearlyCorrection",
    "even_monthly_volume",
    "odpu_average",
    "odpu_average_limit",
    "yearly_correction",
]

PP_1176_FROM = date(2025, 3, 1)


def even_monthly_volume(previous_year_total_gcal: Decimal) -> Decimal:
    """``V_T``: the house's monthly heat when paying evenly = previous year's ОДПУ total / 12."""
    with engine_context():
        return to_decimal(previous_year_total_gcal, "previous year's heat") / 12


@dataclass(frozen=True)
class CorrectionMonth:
    month: int
    house_gcal: Decimal  # the month's actual ОДПУ volume V_D,m
    tariff: Decimal  # T_m, ₽/Гкал in force that month
    billed: Decimal  # the rounded heating charge billed to the account for that month (0 if none)


@dataclass(frozen=True)
class YearlyCorrection:
    actual_exact: Decimal  # Σ V_D,m × S_i/S_об × T_m, unrounded
    actual: Decimal  # rounded once
    billed: Decimal  # Σ billed
    amount: Decimal  # actual − billed (signed)
    actual_gcal: Decimal  # the premise's actual yearly heat
    basis: str


def yearly_correction(
    months: Sequence[CorrectionMonth], area: Decimal, total_area: Decimal, own_gcal: Decimal = Decimal(0)
) -> YearlyCorrection:
    """The yearly correction of one premise (decision 9.0-4); ``own_gcal`` adds nothing but is kept 0 for
    houses billed by formula 3 (premises with their own meters are corrected by the caller per month)."""
    if total_area <= 0:
        raise ValueError("yearly correction: the house's total area must be positive")
    with engine_context():
        share = to_decimal(area, "area") / to_decimal(total_area, "total area")
        actual_exact = sum((m.house_gcal * share * m.tariff for m in months), Decimal(0))
        actual_gcal = sum((m.house_gcal * share for m in months), Decimal(0)) + own_gcal
        actual = round_money(actual_exact)
        billed = sum((to_decimal(m.billed, "billed") for m in months), Decimal(0))
        amount = actual - billed
    house_total = sum((m.house_gcal for m in months), Decimal(0))
    basis = (
        f"actual {house_total} Гкал × {area}/{total_area} m² at each month's tariff = {actual_exact}"
        f" → {actual} ₽; "
        f"billed {billed} ₽ over {len(months)} months; correction {amount} ₽"
    )
    return YearlyCorrection(actual_exact, actual, billed, amount, actual_gcal, basis)


def odpu_average_limit(period_start: date) -> int:
    """How many consecutive periods a failed ОДПУ may be replaced by its average (§9.5, decision 9.0-7)."""
    return 6 if period_start >= PP_1176_FROM else 3


def odpu_average(
    history_gcal: Decimal,
    history_heating_days: int,
    heating_days: int,
    *,
    t_inside: Decimal = Decimal(20),
    t_out_history: Decimal | None = None,
    t_out_actual: Decimal | None = None,
) -> Decimal:
    """The failed house meter's month: heat per heating day of the history × this month's heating days,
    scaled by degree-days when both outdoor temperatures are known (otherwise unscaled)."""
    if history_heating_days <= 0:
        raise ValueError("house heat average: no heating days in the history")
    with engine_context():
        per_day = to_decimal(history_gcal, "history heat") / history_heating_days
        volume = per_day * heating_days
        if t_out_history is not None and t_out_actual is not None:
            reference = t_inside - t_out_history
            if reference > 0:
                volume = volume * max(t_inside - t_out_actual, Decimal(0)) / reference
        return volume
