"""The penalty (пени) of one debt across its services, rounded once, and its split per service — pure.

One debt is one period's charge of an account (Decision 2: "daily amounts are summed unrounded per debt
(one charge of one period) and rounded once"). The ledger keeps money per service, so the debt's rounded
penalty is split over the services by the largest remainder in kopecks, ties in receipt order
(Decision 10). For a debt of services ``s`` with principal ``P_s`` and the principal payments credited to
each::

    e_s     = Σ_t B_s(t) × r / 100 / divisor(k_t)            each service's exact penalty at the debt's rate
    E       = Σ_s e_s                                        the debt's exact penalty (= Σ_t B(t) × r / …)
    T       = round_half_up(E, 0.01 ₽)                       rounded once per debt
    T_s     = ⌊T × e_s / E⌋ (kopecks) + 1 kopeck for the largest remainders, ties in receipt order

The rate ``r`` is the single rate of the debt: the rate on the day the whole debt was paid (the last
payment that cleared it) or on the calculation day while any of it is open (§4.2). Because the penalty is
linear in the base, ``E`` equals the penalty of the debt computed on its total base ``B(t) = Σ_s B_s(t)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from meterhub.billing.rules.payment_allocation import service_receipt_key
from meterhub.billing.rules.penalties import (
    DebtPayment,
    Moratorium,
    PenaltyDebt,
    PenaltyResult,
    PenaltyRules,
    PenaltyTables,
    compute_penalty,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money, to_decimal

__all__ = [
    "DebtPenalty",
    "ServiceDebt",
    "ServicePenalty",
    "compute_debt_penalty",
    "debt_rate_day",
    "split_largest_remainder",
]

_KOPECKS = Decimal(100)


@dataclass(frozen=True, slots=True)
class ServiceDebt:
    """One service's part of a debt: principal ``amount`` [₽] and the principal payments credited to it."""

    service: str
    amount: Decimal
    payments: tuple[DebtPayment, ...] = ()


@dataclass(frozen=True, slots=True)
class ServicePenalty:
    """A service's share of a debt's penalty: its exact penalty (``result.amount_exact``, its runs of days
    at the debt's rate) and ``amount`` [₽], its part of the debt's rounded penalty."""

    service: str
    result: PenaltyResult
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DebtPenalty:
    """The penalty of one debt up to a calculation day: ``amount`` = round(``amount_exact``) once."""

    period: BillingPeriod
    due_date: date
    rate_day: date
    rate_percent: Decimal
    amount_exact: Decimal
    amount: Decimal
    services: tuple[ServicePenalty, ...]
    """In receipt order; Σ ``services.amount`` == ``amount``."""


def split_largest_remainder(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` [₽, whole kopecks] over ``weights`` (≥ 0) pro rata by the largest remainder.

    Each part gets ``⌊total × w_i / Σw⌋`` kopecks; the kopecks left go one each to the largest remainders,
    ties to the earlier position (pass the items in receipt order, Decision 10). ``Σ parts == total``.
    All-zero weights are allowed only for a zero total.
    """
    with engine_context():
        total = to_decimal(total, "total")
        kopecks = total * _KOPECKS
        if kopecks != kopecks.to_integral_value():
            raise ValueError(f"total {total} is not a whole number of kopecks; round it first")
        ws = [to_decimal(w, "weight") for w in weights]
        if any(w < 0 for w in ws):
            raise ValueError(f"weights must not be negative: {ws}")
        whole = sum(ws, Decimal(0))
        if whole == 0:
            if kopecks != 0:
                raise ValueError(f"cannot split {total} over zero weights")
            return [Decimal(0).scaleb(-2) for _ in ws]
        quotas = [kopecks * w / whole for w in ws]
        parts = [q.to_integral_value(ROUND_FLOOR) for q in quotas]
        left = int(kopecks - sum(parts, Decimal(0)))
        order = sorted(range(len(ws)), key=lambda i: (-(quotas[i] - parts[i]), i))
        step = 1 if left >= 0 else -1
        for index in order[: abs(left)]:
            parts[index] += step
        return [(p / _KOPECKS).quantize(Decimal("0.01")) for p in parts]


def debt_rate_day(services: Iterable[ServiceDebt], as_of: date) -> date:
    """The rate day of a debt: the day of the payment that cleared the whole debt by ``as_of``, else
    ``as_of`` (§4.2: "ставка, действующая на день фактической оплаты")."""
    principal = Decimal(0)
    paid = Decimal(0)
    last: date | None = None
    for part in services:
        principal += part.amount
        for payment in part.payments:
            if payment.day <= as_of:
                paid += payment.amount
                last = payment.day if last is None else max(last, payment.day)
    return last if last is not None and paid >= principal else as_of


def compute_debt_penalty(
    period: BillingPeriod,
    due_date: date,
    services: Sequence[ServiceDebt],
    *,
    as_of: date,
    tables: PenaltyTables | None = None,
    rules: PenaltyRules | None = None,
    rate_percent: Decimal | None = None,
    moratoria: Iterable[Moratorium] | None = None,
) -> DebtPenalty:
    """The penalty [₽] of one debt (one period's charge over its services) up to ``as_of`` inclusive,
    rounded once and split per service (see the module docstring). ``tables`` give the rate of the rate
    day (:func:`debt_rate_day`) and the moratoria unless ``rate_percent``/``moratoria`` are given."""
    if tables is None and rate_percent is None:
        raise ValueError("pass the penalty tables (PenaltyTables.default()) or an explicit rate_percent")
    names = [part.service for part in services]
    if len(set(names)) != len(names):
        raise ValueError(f"debt of {period}: a service appears twice in {names}")
    ordered = sorted(services, key=lambda part: service_receipt_key(part.service))
    rate_day = debt_rate_day(ordered, as_of)
    if rate_percent is None:
        assert tables is not None
        rate = tables.rate_percent(rate_day)
    else:
        rate = to_decimal(rate_percent, "rate_percent")
    windows = tuple(moratoria) if moratoria is not None else (tables.moratoria if tables else ())
    results = [
        compute_penalty(
            PenaltyDebt(period, part.amount, due_date, part.payments),
            as_of=as_of,
            rules=rules,
            rate_percent=rate,
            moratoria=windows,
        )
        for part in ordered
    ]
    with engine_context():
        exact = sum((result.amount_exact for result in results), Decimal(0))
    amount = round_money(exact)
    shares = split_largest_remainder(amount, [result.amount_exact for result in results])
    return DebtPenalty(
        period=period,
        due_date=due_date,
        rate_day=rate_day,
        rate_percent=rate,
        amount_exact=exact,
        amount=amount,
        services=tuple(
            ServicePenalty(part.service, result, share)
            for part, result, share in zip(ordered, results, shares, strict=True)
        ),
    )
