"""Late-payment penalties (пени) for housing and utility debts — ЖК РФ ст. 155 ч. 14 and ч. 14.1.

Pure functions over ``Decimal`` and ``date``: no database, no clock. Specification: billing-rules.md §4
and Decision 2.

One debt (задолженность) is one period's charge with its own due date ``D``. Day ``k = 1`` is ``D + 1``.
For each calendar day ``t`` of delay the penalty accrues ::

    housing (ч. 14):        k = 1..30 → 0;   k = 31..90 → B(t) × r / 300;   k ≥ 91 → B(t) × r / 130
    capital repair (ч. 14.1): k ≥ 1 → B(t) × r / 300

    penalty = round_half_up( Σ_t daily(t), 0.01 ₽ )        (summed unrounded, rounded once per debt)

where ``B(t)`` [₽] is the outstanding principal on day ``t`` (a payment reduces it from the next day
when the payment day accrues, from the payment day itself otherwise) and ``r`` [1/year] is the single
rate in force on the *rate day* — the day the debt was fully paid, or the calculation day for a debt still
open ("ставка, действующей на день фактической оплаты", §4.2). Days inside a moratorium accrue nothing;
by default they still advance ``k`` (§4.3 [I]).

The rate regimes, the key-rate history, the moratoria and the due-day table are data
(``penalty_tables.toml``, :class:`PenaltyTables`), never constants in code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money, to_decimal

__all__ = [
    "DebtPayment",
    "DueDay",
    "Moratorium",
    "PenaltyDebt",
    "PenaltyLine",
    "PenaltyResult",
    "PenaltyRules",
    "PenaltyScale",
    "PenaltyTables",
    "RateKind",
    "RateRegime",
    "compute_penalty",
]

_ONE_DAY = timedelta(days=1)
_HUNDRED = Decimal(100)


class PenaltyScale(StrEnum):
    """Which law's day scale applies."""

    HOUSING = "housing"  # ЖК ст. 155 ч. 14: 30 free days, 1/300 for days 31–90, 1/130 from day 91
    CAPITAL_REPAIR = "capital_repair"  # ЖК ст. 155 ч. 14.1: 1/300 from day 1, no 1/130 step


class RateKind(StrEnum):
    """How a rate regime turns the key rate into the penalty rate."""

    KEY = "key"  # the key rate on the rate day
    FIXED = "fixed"  # a fixed percentage (ПП 474: 9.5 %)
    MIN_KEY_FIXED = "min_key_fixed"  # min(key rate on the rate day, fixed percentage)


@dataclass(frozen=True, slots=True)
class RateRegime:
    """A legal regime of the penalty rate, valid for rate days in ``[first_day, last_day]``."""

    first_day: date
    last_day: date | None
    kind: RateKind
    percent: Decimal | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Moratorium:
    """Days ``[first_day, last_day]`` (inclusive) on which no penalty accrues (мораторий).

    ``periods_before`` limits the window to debts of billing periods that began before that period
    (ПП 497: obligations that arose before 01.04.2022); ``None`` = every debt.
    """

    first_day: date
    last_day: date
    periods_before: BillingPeriod | None = None
    source: str = ""

    def applies_to(self, period: BillingPeriod) -> bool:
        """Whether the window applies to a debt of billing period ``period``."""
        return self.periods_before is None or period < self.periods_before


@dataclass(frozen=True, slots=True)
class DueDay:
    """From ``first_period`` on, a period's charge is due on ``day`` of the following month."""

    first_period: BillingPeriod
    day: int
    source: str = ""


_DEFAULT_TABLES: dict[str, PenaltyTables] = {}
"""The shipped tables by the text they were parsed from (one entry)."""


@dataclass(frozen=True, slots=True)
class PenaltyTables:
    """The versioned data the penalty rules need (see ``penalty_tables.toml``)."""

    due_days: tuple[DueDay, ...]
    rate_regimes: tuple[RateRegime, ...]
    key_rates: tuple[tuple[date, Decimal], ...]
    key_rate_known_through: date
    moratoria: tuple[Moratorium, ...]
    version: str = ""

    @classmethod
    def default(cls) -> PenaltyTables:
        """The tables shipped with meterhub (``meterhub/billing/rules/penalty_tables.toml``).

        The file is read on every call and parsed again only when its text differs from the last parse
        (the tables are immutable; parsing costs ≈ 0.7 ms, and the close asks once per building)."""
        text = resources.files("meterhub.billing.rules").joinpath("penalty_tables.toml").read_text("utf-8")
        parsed = _DEFAULT_TABLES.get(text)
        if parsed is None:
            parsed = cls.from_mapping(tomllib.loads(text), origin="penalty_tables.toml")
            _DEFAULT_TABLES.clear()
            _DEFAULT_TABLES[text] = parsed
        return parsed

    @classmethod
    def from_toml(cls, path: str | Path) -> PenaltyTables:
        """Load tables from a TOML file with the layout of the shipped ``penalty_tables.toml``."""
        file = Path(path)
        return cls.from_mapping(tomllib.loads(file.read_text("utf-8")), origin=str(file))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str = "penalty tables") -> PenaltyTables:
        """Build tables from parsed TOML; errors name the file, table and row."""
        try:
            due_days = tuple(
                DueDay(BillingPeriod.parse(row["first_period"]), int(row["day"]), row.get("source", ""))
                for row in data["due_day"]
            )
            regimes = tuple(
                RateRegime(
                    date.fromisoformat(row["first_day"]),
                    date.fromisoformat(row["last_day"]) if "last_day" in row else None,
                    RateKind(row["kind"]),
                    to_decimal(row["percent"], "percent") if "percent" in row else None,
                    row.get("source", ""),
                )
                for row in data["rate_regime"]
            )
            key_rates = tuple(
                (date.fromisoformat(day), to_decimal(percent, "key rate"))
                for day, percent in data["key_rate"]["rates"]
            )
            known_through = date.fromisoformat(data["key_rate"]["known_through"])
            moratoria = tuple(
                Moratorium(
                    date.fromisoformat(row["first_day"]),
                    date.fromisoformat(row["last_day"]),
                    BillingPeriod.parse(row["periods_before"]) if "periods_before" in row else None,
                    row.get("source", ""),
                )
                for row in data.get("moratorium", ())
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(
                f"{origin}: malformed penalty tables ({exc!r}); compare with the shipped file"
            ) from exc
        tables = cls(due_days, regimes, key_rates, known_through, moratoria, str(data.get("version", "")))
        tables._validate(origin)
        return tables

    def _validate(self, origin: str) -> None:
        if not self.due_days or [d.first_period for d in self.due_days] != sorted(
            {d.first_period for d in self.due_days}
        ):
            raise ValueError(
                f"{origin}: due_day rows must be non-empty, sorted by first_period, without repeats"
            )
        for due in self.due_days:
            if not 1 <= due.day <= 28:
                raise ValueError(f"{origin}: due day {due.day} of {due.first_period} must be 1..28")
        for regime in self.rate_regimes:
            if regime.kind is not RateKind.KEY and regime.percent is None:
                raise ValueError(
                    f"{origin}: rate regime from {regime.first_day} ({regime.kind}) needs `percent`"
                )
        days = [day for day, _ in self.key_rates]
        if not days or days != sorted(set(days)):
            raise ValueError(f"{origin}: key_rate rows must be non-empty, sorted by date, without repeats")

    def due_date(self, period: BillingPeriod) -> date:
        """The last day to pay ``period``'s charge: day N of the next month (§4.4, Decision 3)."""
        applicable = [due for due in self.due_days if due.first_period <= period]
        if not applicable:
            raise LookupError(
                f"no due day for billing period {period}: the due_day table starts at "
                f"{self.due_days[0].first_period}; add a row to the penalty tables"
            )
        following = period.next()
        return date(following.year, following.month, applicable[-1].day)

    def key_rate(self, day: date) -> Decimal:
        """The Bank of Russia key rate in force on ``day`` [%/year]."""
        if day > self.key_rate_known_through:
            raise LookupError(
                f"the key-rate table is complete only through {self.key_rate_known_through}; "
                f"add the Bank of Russia decisions up to {day} to the penalty tables (key_rate)"
            )
        rates = [percent for start, percent in self.key_rates if start <= day]
        if not rates:
            raise LookupError(f"no key rate before {self.key_rates[0][0]} (asked for {day})")
        return rates[-1]

    def rate_percent(self, rate_day: date) -> Decimal:
        """The penalty rate r for a debt whose rate day is ``rate_day`` [%/year] (§4.2)."""
        for regime in self.rate_regimes:
            if regime.first_day <= rate_day and (regime.last_day is None or rate_day <= regime.last_day):
                if regime.kind is RateKind.KEY:
                    return self.key_rate(rate_day)
                assert regime.percent is not None  # checked in _validate
                if regime.kind is RateKind.FIXED:
                    return regime.percent
                return min(regime.percent, self.key_rate(rate_day))
        raise LookupError(f"no rate regime covers {rate_day}; add one to the penalty tables (rate_regime)")


@dataclass(frozen=True, slots=True)
class DebtPayment:
    """A payment credited to one debt (after allocation): ``amount`` [₽] paid on ``day``."""

    day: date
    amount: Decimal

    def __post_init__(self) -> None:
        amount = to_decimal(self.amount, "payment amount")
        if amount <= 0:
            raise ValueError(f"payment on {self.day}: amount must be positive, got {amount}")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True)
class PenaltyDebt:
    """One debt (one period's charge): principal ``amount`` [₽], due on ``due_date``, and its payments."""

    period: BillingPeriod
    amount: Decimal
    due_date: date
    payments: tuple[DebtPayment, ...] = ()

    def __post_init__(self) -> None:
        amount = to_decimal(self.amount, "debt amount")
        if amount < 0:
            raise ValueError(f"debt of {self.period}: amount must not be negative, got {amount}")
        object.__setattr__(self, "amount", amount)
        payments = tuple(sorted(self.payments, key=lambda payment: payment.day))
        object.__setattr__(self, "payments", payments)
        paid = sum((payment.amount for payment in payments), Decimal(0))
        if paid > amount:
            raise ValueError(
                f"debt of {self.period}: payments {paid} exceed the debt {amount}; allocate the excess "
                f"to other debts or to the advance (payment_allocation) before computing penalties"
            )


@dataclass(frozen=True, slots=True)
class PenaltyRules:
    """Configurable interpretations (billing-rules §4 [I], Decision 2)."""

    include_payment_day: bool = True
    """The payment day accrues on the amount paid that day (``True``, "по день фактической оплаты")."""
    moratorium_advances_counter: bool = True
    """Days inside a moratorium still advance the delay counter k."""
    scale: PenaltyScale = PenaltyScale.HOUSING
    grace_days: int = 30
    """Days 1..grace_days accrue nothing (housing scale)."""
    first_step_last_day: int = 90
    """The last day of the 1/300 step; from the next day 1/130 (housing scale)."""
    first_divisor: int = 300
    second_divisor: int = 130


@dataclass(frozen=True, slots=True)
class PenaltyLine:
    """A run of consecutive days with the same base and divisor — the itemisation of a penalty."""

    first_day: date
    last_day: date
    first_k: int
    days: int
    base: Decimal
    """Outstanding principal B [₽]."""
    divisor: int
    """300 or 130; 0 for days inside a moratorium (nothing accrues)."""
    amount_exact: Decimal
    """B × r / divisor × days [₽], unrounded."""


@dataclass(frozen=True, slots=True)
class PenaltyResult:
    """The penalty of one debt up to a calculation day."""

    period: BillingPeriod
    rate_day: date
    rate_percent: Decimal
    lines: tuple[PenaltyLine, ...]
    amount_exact: Decimal
    amount: Decimal
    """``amount_exact`` rounded half-up to 0.01 ₽ — once per debt (Decision 2)."""
    formula: str = "ЖК РФ ст. 155 ч. 14"
    notes: tuple[str, ...] = field(default=())


def _divisor(k: int, rules: PenaltyRules) -> int:
    if rules.scale is PenaltyScale.CAPITAL_REPAIR:
        return rules.first_divisor if k >= 1 else 0
    if k <= rules.grace_days:
        return 0
    return rules.first_divisor if k <= rules.first_step_last_day else rules.second_divisor


def compute_penalty(
    debt: PenaltyDebt,
    *,
    as_of: date,
    tables: PenaltyTables | None = None,
    rules: PenaltyRules | None = None,
    rate_percent: Decimal | None = None,
    moratoria: Iterable[Moratorium] | None = None,
) -> PenaltyResult:
    """Penalty [₽] of ``debt`` accrued up to the calculation day ``as_of`` (inclusive).

    Formula: ЖК РФ ст. 155 ч. 14 (ч. 14.1 with :attr:`PenaltyScale.CAPITAL_REPAIR`), billing-rules §4.1:
    ``Σ_t B(t) × r/100 / divisor(k_t)``, rounded half-up to kopecks once. Payments after ``as_of`` are
    ignored. The rate ``r`` [%/year] is ``rate_percent`` if given, else ``tables.rate_percent(rate day)``
    where the rate day is the day of the payment that cleared the debt (if by ``as_of``) or ``as_of``.
    Moratoria come from ``moratoria`` if given, else from ``tables`` (none without tables).
    """
    rules = rules or PenaltyRules()
    if tables is None and rate_percent is None:
        raise ValueError("pass the penalty tables (PenaltyTables.default()) or an explicit rate_percent")
    payments = [payment for payment in debt.payments if payment.day <= as_of]
    paid = sum((payment.amount for payment in payments), Decimal(0))
    cleared = debt.amount == 0 or paid == debt.amount
    rate_day = payments[-1].day if cleared and payments else as_of
    if rate_percent is None:
        assert tables is not None
        rate = tables.rate_percent(rate_day)
    else:
        rate = to_decimal(rate_percent, "rate_percent")
        if rate < 0:
            raise ValueError(f"rate_percent must not be negative, got {rate}")
    windows = tuple(moratoria) if moratoria is not None else (tables.moratoria if tables else ())
    windows = tuple(window for window in windows if window.applies_to(debt.period))

    # Base reductions: (effective day, amount). With the payment day accruing, the base drops the next day.
    shift = _ONE_DAY if rules.include_payment_day else timedelta(0)
    reductions = [(payment.day + shift, payment.amount) for payment in payments]

    lines: list[PenaltyLine] = []
    with engine_context():
        base = debt.amount
        reduction_index = 0
        # Payments effective on or before a day reduce that day's base (payments before the due date too).
        day = debt.due_date + _ONE_DAY
        k = 0
        run: list[Any] | None = None  # [first_day, last_day, first_k, days, base, divisor]
        # Walk the calendar in segments of days that share base, moratorium state and divisor: a segment
        # ends at the next payment's effective day, moratorium boundary or step of the day scale.
        while day <= as_of:
            while reduction_index < len(reductions) and reductions[reduction_index][0] <= day:
                base -= reductions[reduction_index][1]
                reduction_index += 1
            if base <= 0:
                break
            end = as_of + _ONE_DAY
            if reduction_index < len(reductions):
                end = min(end, reductions[reduction_index][0])
            inside = [window for window in windows if window.first_day <= day <= window.last_day]
            if inside:
                end = min(end, *(window.last_day + _ONE_DAY for window in inside))
            else:
                end = min(end, *(window.first_day for window in windows if window.first_day > day), end)
            advances = not inside or rules.moratorium_advances_counter
            first_k = k + 1 if advances else k
            if not inside:
                step = _next_step(first_k, rules)
                if step is not None:
                    end = min(end, day + timedelta(days=step - first_k))
            days = (end - day).days
            divisor = 0 if inside else _divisor(first_k, rules)
            if run is not None and run[4] == base and run[5] == divisor and run[1] + _ONE_DAY == day:
                run[1] = end - _ONE_DAY
                run[3] += days
            else:
                if run is not None:
                    lines.append(_line(run, rate))
                run = [day, end - _ONE_DAY, first_k, days, base, divisor]
            if advances:
                k += days
            day = end
        if run is not None:
            lines.append(_line(run, rate))
        total = sum((line.amount_exact for line in lines), Decimal(0))
    notes = tuple(
        f"moratorium {window.first_day}–{window.last_day}: {window.source}"
        for window in windows
        if any(line.divisor == 0 and window.first_day <= line.first_day <= window.last_day for line in lines)
    )
    formula = "ЖК РФ ст. 155 ч. 14.1" if rules.scale is PenaltyScale.CAPITAL_REPAIR else "ЖК РФ ст. 155 ч. 14"
    return PenaltyResult(
        period=debt.period,
        rate_day=rate_day,
        rate_percent=rate,
        lines=tuple(lines),
        amount_exact=total,
        amount=round_money(total),
        formula=formula,
        notes=notes,
    )


def _next_step(k: int, rules: PenaltyRules) -> int | None:
    """The first counter value after ``k`` whose divisor differs from ``k``'s (``None``: never)."""
    if rules.scale is PenaltyScale.CAPITAL_REPAIR:
        return 1 if k < 1 else None
    if k <= rules.grace_days:
        return rules.grace_days + 1
    if k <= rules.first_step_last_day:
        return rules.first_step_last_day + 1
    return None


def _line(run: Sequence[Any], rate: Decimal) -> PenaltyLine:
    """Close a run of equal days: Σ over its days of B × r/100 / divisor = B × r × days / (100 × divisor)."""
    first_day, last_day, first_k, days, base, divisor = run
    exact = base * rate * days / (_HUNDRED * divisor) if divisor else Decimal(0)
    return PenaltyLine(first_day, last_day, first_k, days, base, divisor, exact)
