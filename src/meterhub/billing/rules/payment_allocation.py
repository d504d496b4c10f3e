"""Allocation of one payment (оплата) over an account's debts — pure, exact to the kopeck.

Specification: billing-rules.md §7.2 ("Suggested oracle") and Decision 5; ГК РФ ст. 319, 319.1;
Пленум ВС РФ от 27.06.2017 № 22, п. 32. In order:

1. **Named period.** If the payment names a billing period that has principal debt, that period is paid
   first, split across its services pro rata to what each owes.
2. **Named penalties.** If the payer designated penalties (неустойка, пени), the named period's penalty is
   paid next (all penalties oldest first when no period is named).
3. **Oldest first.** The rest pays principal by due date, oldest first — time-barred debts included
   (ГК ст. 199 п. 3, ст. 319.1 п. 3); debts with the same due date share pro rata (ст. 319.1 п. 2).
4. **Penalties after all principal** (default; ``penalties_after_principal=False`` keeps undesignated
   penalties unpaid).
5. **Advance.** What is left is an advance (аванс) for future periods.

A pro-rata split of ``A`` kopecks over amounts owed ``o_i`` (Σ o_i = O ≥ A) gives each part
``⌊A·o_i / O⌋`` and hands the remaining kopecks one each to the largest remainders ``A·o_i mod O`` — the
parts sum to ``A`` exactly and none exceeds what it owes. Ties go to the services in receipt order
(Decision 10: electricity, cold water, hot water, wastewater, then the rest by name —
:func:`service_receipt_key`), never alphabetically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import KOPECK, to_decimal

__all__ = [
    "RECEIPT_SERVICE_ORDER",
    "Allocation",
    "AllocationLine",
    "AllocationRule",
    "AllocationRules",
    "DebtKind",
    "IncomingPayment",
    "PeriodDebt",
    "allocate_payment",
    "service_receipt_key",
    "split_kopecks",
    "split_pro_rata",
]

RECEIPT_SERVICE_ORDER = ("electricity", "cold_water", "hot_water", "wastewater")
"""The services in receipt order for pro-rata ties (Decision 10); other services follow by name."""


def service_receipt_key(service: str) -> tuple[int, str]:
    """Sort key of a service in receipt order (Decision 10): the listed ones first, then by name."""
    try:
        return RECEIPT_SERVICE_ORDER.index(service), service
    except ValueError:
        return len(RECEIPT_SERVICE_ORDER), service


class DebtKind(StrEnum):
    PRINCIPAL = "principal"  # начисление: charges of a period
    PENALTY = "penalty"  # пени (неустойка) accrued on a period's charges


class AllocationRule(StrEnum):
    """Why an amount went where it went (shown on the allocation line)."""

    NAMED_PERIOD = "named_period"
    NAMED_PENALTY = "named_penalty"
    OLDEST_FIRST = "oldest_first"
    PENALTY_AFTER_PRINCIPAL = "penalty_after_principal"


@dataclass(frozen=True, slots=True)
class PeriodDebt:
    """What is still owed for one billing period, per service [₽] (whole kopecks, ≥ 0)."""

    period: BillingPeriod
    due_date: date
    owed: tuple[tuple[str, Decimal], ...]
    """(service, outstanding amount) pairs; a service appears once."""
    kind: DebtKind = DebtKind.PRINCIPAL

    def __post_init__(self) -> None:
        owed = tuple(
            (service, _kopeck_amount(amount, f"{self.period} {service} owed"))
            for service, amount in self.owed
        )
        services = [service for service, _ in owed]
        if len(set(services)) != len(services):
            raise ValueError(f"debt of {self.period} ({self.kind}): a service appears twice in {services}")
        if any(amount < 0 for _, amount in owed):
            raise ValueError(
                f"debt of {self.period} ({self.kind}): owed amounts must not be negative: {owed}"
            )
        object.__setattr__(self, "owed", owed)

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.owed), Decimal(0))


@dataclass(frozen=True, slots=True)
class IncomingPayment:
    """One payment of an account: ``amount`` [₽], the period it names (``PaymPeriod``/purpose), if any."""

    amount: Decimal
    period: BillingPeriod | None = None
    penalties_designated: bool = False
    """The payer explicitly designated penalties (e.g. a separate "пени" payment)."""

    def __post_init__(self) -> None:
        amount = _kopeck_amount(self.amount, "payment amount")
        if amount <= 0:
            raise ValueError(f"payment amount must be positive, got {amount}")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True)
class AllocationRules:
    """Configurable interpretations (billing-rules §7.2 [I])."""

    penalties_after_principal: bool = True
    """Once all principal is paid, the rest pays penalties (oldest first) before becoming an advance."""


@dataclass(frozen=True, slots=True)
class AllocationLine:
    period: BillingPeriod
    service: str
    kind: DebtKind
    amount: Decimal
    """[₽], whole kopecks, > 0."""
    rule: AllocationRule


@dataclass(frozen=True, slots=True)
class Allocation:
    """The payment split: ``Σ lines.amount + advance == payment.amount`` exactly."""

    lines: tuple[AllocationLine, ...]
    advance: Decimal

    @property
    def allocated(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def _kopeck_amount(value: Decimal | int | str, what: str) -> Decimal:
    amount = to_decimal(value, what)
    if amount != amount.quantize(KOPECK):
        raise ValueError(
            f"{what}: {amount} is not a whole number of kopecks; round it with round_money first"
        )
    return amount.quantize(KOPECK)


def split_kopecks(amount_kopecks: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount_kopecks`` pro rata to integer ``weights`` (≥ 0, Σ > 0) by the largest remainder:
    ``⌊A·w_i / W⌋`` each, the kopecks left one each to the largest remainders ``A·w_i mod W``, ties by
    position (pass services in receipt order, :func:`service_receipt_key`). Exact integer arithmetic;
    ``Σ parts == amount``."""
    total = sum(weights)
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError(f"cannot split {amount_kopecks} kopecks over weights {list(weights)}")
    parts = [amount_kopecks * w // total for w in weights]
    remainders = [amount_kopecks * w % total for w in weights]
    left = amount_kopecks - sum(parts)
    for index in sorted(range(len(parts)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return parts


def split_pro_rata(amount_kopecks: int, owed_kopecks: Sequence[int]) -> list[int]:
    """Split ``amount_kopecks`` over ``owed_kopecks`` pro rata, largest remainder, ties by position (pass
    services in receipt order, :func:`service_receipt_key`).

    Requires ``0 ≤ amount ≤ Σ owed``; returns parts with ``Σ parts == amount`` and ``0 ≤ part_i ≤ owed_i``.
    """
    total = sum(owed_kopecks)
    if amount_kopecks < 0 or amount_kopecks > total or any(owed < 0 for owed in owed_kopecks):
        raise ValueError(f"cannot split {amount_kopecks} kopecks over {list(owed_kopecks)}")
    if amount_kopecks == total:
        return list(owed_kopecks)
    return split_kopecks(amount_kopecks, owed_kopecks)


def allocate_payment(
    payment: IncomingPayment,
    debts: Iterable[PeriodDebt],
    rules: AllocationRules | None = None,
) -> Allocation:
    """Allocate ``payment`` over ``debts`` (billing-rules §7.2, Decision 5); see the module docstring.

    ``debts`` are the account's outstanding principal and penalty debts; at most one per (period, kind).
    """
    rules = rules or AllocationRules()
    debt_list = list(debts)
    keys = [(debt.period, debt.kind) for debt in debt_list]
    if len(set(keys)) != len(keys):
        raise ValueError(
            "at most one debt per (period, kind); merge the services of a period into one PeriodDebt"
        )
    # outstanding kopecks per (period, kind) → {service: kopecks}
    outstanding = {
        (debt.period, debt.kind): {service: int(amount * 100) for service, amount in debt.owed}
        for debt in debt_list
    }
    due = {debt.period: debt.due_date for debt in debt_list}
    remaining = int(payment.amount * 100)
    lines: list[AllocationLine] = []

    def pay(groups: list[tuple[BillingPeriod, DebtKind]], rule: AllocationRule) -> None:
        """Pay the listed debts together, pro rata over all their services."""
        nonlocal remaining
        slots = [
            (group, service)
            for group in groups
            for service in sorted(outstanding[group], key=service_receipt_key)
            if outstanding[group][service] > 0
        ]
        owed = [outstanding[group][service] for group, service in slots]
        amount = min(remaining, sum(owed))
        if amount <= 0:
            return
        for (group, service), part in zip(slots, split_pro_rata(amount, owed), strict=True):
            if part:
                outstanding[group][service] -= part
                lines.append(AllocationLine(group[0], service, group[1], Decimal(part).scaleb(-2), rule))
        remaining -= amount

    def by_due_date(kind: DebtKind) -> list[list[tuple[BillingPeriod, DebtKind]]]:
        periods = sorted(
            (period for period, debt_kind in outstanding if debt_kind is kind), key=lambda p: (due[p], p)
        )
        grouped: list[list[tuple[BillingPeriod, DebtKind]]] = []
        for period in periods:
            if grouped and due[grouped[-1][0][0]] == due[period]:
                grouped[-1].append((period, kind))
            else:
                grouped.append([(period, kind)])
        return grouped

    named = payment.period
    if named is not None and (named, DebtKind.PRINCIPAL) in outstanding:
        pay([(named, DebtKind.PRINCIPAL)], AllocationRule.NAMED_PERIOD)
    if payment.penalties_designated:
        if named is not None:
            if (named, DebtKind.PENALTY) in outstanding:
                pay([(named, DebtKind.PENALTY)], AllocationRule.NAMED_PENALTY)
        else:
            for group in by_due_date(DebtKind.PENALTY):
                pay(group, AllocationRule.NAMED_PENALTY)
    for group in by_due_date(DebtKind.PRINCIPAL):
        pay(group, AllocationRule.OLDEST_FIRST)
    if rules.penalties_after_principal:
        for group in by_due_date(DebtKind.PENALTY):
            pay(group, AllocationRule.PENALTY_AFTER_PRINCIPAL)
    return Allocation(tuple(lines), Decimal(remaining).scaleb(-2))
