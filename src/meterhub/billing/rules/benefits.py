"""The arithmetic of one benefit (льгота) — pure, exact, rounded once half-up to the kopeck.

For one beneficiary, one service and one month, with ``P`` the month's charge of the service [₽],
``n`` the persons of the household (≥ 1), ``c`` the persons covered (1 for the beneficiary alone, ``n`` for
the whole household), ``s`` the share (0.5 = 50 %):

* base ``charge`` — the covered persons' per-capita part of the charge::

      L = s × P × c / n

* base ``social_norm_area`` (services charged per m²: maintenance, heating, capital repair) — the charge
  on the area within the social norm ``N_S`` [m² per person] of the covered persons, never more than
  their per-capita part of the area ``S``::

      L = s × P × min(c × S / n, c × N_S) / S

* base ``normative_volume`` (metered or normative services) — the charge on the volume within the
  normative ``N`` [unit per person per month] of the covered persons, never more than their per-capita
  part of the volume ``V``::

      L = s × P × min(c × V / n, c × N) / V          (0 when V = 0)

A fixed-amount category gives ``L = amount × c`` (never more than ``P``). ``L`` is rounded once,
half-up, to 0.01 ₽ (decision 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from meterhub.billing.rules.rounding import engine_context, round_money

__all__ = ["BenefitBase", "BenefitCategory", "BenefitInput", "benefit_amount"]


class BenefitBase(StrEnum):
    CHARGE = "charge"
    SOCIAL_NORM_AREA = "social_norm_area"
    NORMATIVE_VOLUME = "normative_volume"


@dataclass(frozen=True, slots=True)
class BenefitCategory:
    """A benefit category as data (name, legal basis, share or amount, services, base, persons covered)."""

    category: str
    name: str
    services: tuple[str, ...]
    base: BenefitBase
    share: Decimal | None = None
    amount: Decimal | None = None
    """Fixed monthly amount per covered person [₽] instead of a share."""
    social_norm_m2: Decimal | None = None
    """Social norm of area [m² per person], for ``social_norm_area``."""
    household: bool = False
    """Covers the whole household (else the beneficiary alone)."""
    legal_basis: str = ""
    regime: str = "discount"

    def __post_init__(self) -> None:
        if (self.share is None) == (self.amount is None):
            raise ValueError(f"benefit category {self.category}: give either a share or an amount")
        if self.share is not None and not Decimal(0) < self.share <= 1:
            raise ValueError(f"benefit category {self.category}: share {self.share} ∉ (0, 1]")
        if self.base is BenefitBase.SOCIAL_NORM_AREA and not self.social_norm_m2:
            raise ValueError(f"benefit category {self.category}: social_norm_area needs social_norm_m2")


@dataclass(frozen=True, slots=True)
class BenefitInput:
    """What the benefit of one service and month is computed from."""

    charge: Decimal
    """``P``: the month's charge of the service [₽] (rounded lines summed)."""
    persons: int
    """``n``: persons of the household (registered + temporarily residing, at least 1)."""
    area: Decimal = Decimal(0)
    """``S``: total area of the premises [m²]."""
    volume: Decimal = Decimal(0)
    """``V``: the month's volume of the service [unit]."""
    normative: Decimal | None = None
    """``N``: the normative per person per month [unit], for ``normative_volume``."""


def _exact(category: BenefitCategory, data: BenefitInput) -> Decimal:
    n = Decimal(max(data.persons, 1))
    c = n if category.household else Decimal(1)
    if category.amount is not None:
        return min(category.amount * c, data.charge)
    share = category.share or Decimal(0)
    if category.base is BenefitBase.CHARGE:
        return share * data.charge * c / n
    if category.base is BenefitBase.SOCIAL_NORM_AREA:
        if data.area <= 0:
            return Decimal(0)
        within = min(c * data.area / n, c * (category.social_norm_m2 or Decimal(0)))
        return share * data.charge * within / data.area
    if data.volume <= 0 or data.normative is None:
        return Decimal(0)
    within = min(c * data.volume / n, c * data.normative)
    return share * data.charge * within / data.volume


def benefit_amount(category: BenefitCategory, data: BenefitInput) -> tuple[Decimal, Decimal]:
    """``(exact, rounded)`` benefit [₽] of one beneficiary (see the module docstring); 0 for a charge ≤ 0."""
    if data.charge <= 0:
        return Decimal(0), Decimal("0.00")
    with engine_context():
        exact = _exact(category, data)
    return exact, round_money(exact)
