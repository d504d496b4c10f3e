"""The state fee (государственная пошлина) of a claim or a court-order application — pure.

НК РФ ст. 333.19 п. 1: пп. 1 gives the fee of a property claim (исковое заявление имущественного характера)
by the claim's price in brackets; пп. 2 makes a court-order application (заявление о вынесении судебного
приказа) cost a share of it (50 % in both redactions). The schedule changed on 08.09.2024 (Федеральный закон
от 08.08.2024 № 259-ФЗ); the versioned table is data (``state_fee.toml``, with its legal source), chosen by
the day the application is filed. The fee is rounded to whole rubles half-up (НК РФ ст. 52 п. 6) once, after
the court-order share is taken.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources

__all__ = ["FeeBracket", "FeeSchedule", "StateFee", "StateFeeTables", "state_fee"]


@dataclass(frozen=True, slots=True)
class FeeBracket:
    up_to: Decimal | None
    """Upper bound of the claim's price [₽], inclusive; ``None`` in the last bracket."""
    base: Decimal
    """[₽]"""
    over: Decimal
    """The price above which ``percent`` applies [₽]."""
    percent: Decimal


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    name: str
    valid_from: date
    source: str
    minimum: Decimal
    maximum: Decimal
    court_order_percent: Decimal
    brackets: tuple[FeeBracket, ...]

    def claim_fee_exact(self, price: Decimal) -> Decimal:
        """The fee of a property claim of ``price`` [₽] before rounding (пп. 1), within the bounds."""
        if price <= 0:
            raise ValueError(f"the claim's price must be positive, got {price}")
        bracket = next(b for b in self.brackets if b.up_to is None or price <= b.up_to)
        fee = bracket.base + (price - bracket.over) * bracket.percent / 100
        return min(max(fee, self.minimum), self.maximum)


@dataclass(frozen=True, slots=True)
class StateFee:
    """The fee of one application and how it was computed (printed on the application)."""

    price_kopecks: int
    claim_fee: Decimal
    """The fee of a claim of that price [₽], exact (пп. 1)."""
    share_percent: Decimal
    """100 for a claim, the court-order share for a court order (пп. 2)."""
    amount_kopecks: int
    """What is paid: ``claim_fee × share`` rounded to whole rubles [kopecks]."""
    schedule: str
    source: str

    @property
    def formula(self) -> str:
        price = Decimal(self.price_kopecks).scaleb(-2)
        text = f"цена {price:.2f} ₽ → пошлина по иску {self.claim_fee.normalize():f} ₽"
        if self.share_percent != 100:
            text += f" × {self.share_percent.normalize():f} % (судебный приказ)"
        return f"{text} = {Decimal(self.amount_kopecks).scaleb(-2):.0f} ₽ ({self.source})"


class StateFeeTables:
    """The schedules of НК РФ ст. 333.19 in force one after another."""

    def __init__(self, schedules: Sequence[FeeSchedule]) -> None:
        if not schedules:
            raise ValueError("the state fee table has no schedule")
        self.schedules = tuple(sorted(schedules, key=lambda s: s.valid_from))

    @classmethod
    def from_mapping(cls, data: Mapping, origin: str = "state fee table") -> StateFeeTables:
        schedules = []
        for number, raw in enumerate(data.get("schedule", []), start=1):
            try:
                brackets = tuple(
                    FeeBracket(
                        Decimal(b["up_to"]) if "up_to" in b else None,
                        Decimal(b["base"]),
                        Decimal(b["over"]),
                        Decimal(b["percent"]),
                    )
                    for b in raw["brackets"]
                )
                schedule = FeeSchedule(
                    raw["name"],
                    raw["valid_from"],
                    raw["source"],
                    Decimal(raw["minimum"]),
                    Decimal(raw["maximum"]),
                    Decimal(raw["court_order_percent"]),
                    brackets,
                )
            except (KeyError, ArithmeticError, TypeError) as exc:
                raise ValueError(f"{origin}: schedule {number}: bad or missing field {exc}") from None
            if brackets[-1].up_to is not None or any(b.up_to is None for b in brackets[:-1]):
                raise ValueError(f"{origin}: schedule {number}: only the last bracket has no up_to")
            schedules.append(schedule)
        return cls(schedules)

    @classmethod
    def default(cls) -> StateFeeTables:
        """The table shipped with meterhub (``meterhub/claims/state_fee.toml``)."""
        text = resources.files("meterhub.claims").joinpath("state_fee.toml").read_text("utf-8")
        return cls.from_mapping(tomllib.loads(text), origin="state_fee.toml")

    def schedule_on(self, day: date) -> FeeSchedule:
        applicable = [s for s in self.schedules if s.valid_from <= day]
        if not applicable:
            raise LookupError(
                f"the state fee table starts on {self.schedules[0].valid_from}, not before {day}"
            )
        return applicable[-1]


def state_fee(
    price_kopecks: int, filed_on: date, *, court_order: bool = True, tables: StateFeeTables | None = None
) -> StateFee:
    """The state fee of an application filed on ``filed_on`` for ``price_kopecks`` (principal + penalties):
    a court order (пп. 2) by default, a claim (пп. 1) with ``court_order=False``."""
    schedule = (tables or StateFeeTables.default()).schedule_on(filed_on)
    claim_fee = schedule.claim_fee_exact(Decimal(price_kopecks).scaleb(-2))
    share = schedule.court_order_percent if court_order else Decimal(100)
    rubles = (claim_fee * share / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return StateFee(price_kopecks, claim_fee, share, int(rubles) * 100, schedule.name, schedule.source)
