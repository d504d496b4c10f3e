"""Where the receipt's money figures come from: the ledger (:mod:`meterhub.billing.money.ledger`).

The one place the receipt reads balances, payments and debts, so the source can change without touching
the loader or the renderer. Amounts come back in rubles (``Decimal``, whole kopecks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from meterhub.billing.money.ledger import (
    ADVANCE_SERVICE,
    account_balances,
    advance_by_payment,
    outstanding_by_debt,
)
from meterhub.billing.money.penalty_debts import penalties_accrued_to
from meterhub.billing.rules.penalties import PenaltyRules, PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "Outstanding",
    "PeriodBalance",
    "building_period_balances",
    "last_payment_dates",
    "outstanding_debts",
    "penalties_as_of",
]


def rubles(kopecks: int) -> Decimal:
    return Decimal(kopecks).scaleb(-2).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class PeriodBalance:
    """An account's balance of one period over all services (the advance included) [₽]."""

    opening: Decimal
    charged: Decimal
    recalculated: Decimal
    paid: Decimal
    penalties: Decimal
    closing: Decimal


_EMPTY = PeriodBalance(*(Decimal("0.00"),) * 6)


def building_period_balances(
    conn: psycopg.Connection,
    period: BillingPeriod,
    *,
    building_id: str | None = None,
    account_nos: Sequence[str] | None = None,
) -> dict[str, PeriodBalance]:
    """account → :class:`PeriodBalance` of ``period`` (ledger ``account_balances`` summed over services).

    An account without any movement gets zeros.
    """
    rows = account_balances(conn, period, building_id=building_id, account_nos=account_nos)
    result: dict[str, PeriodBalance] = {}
    for account_no, services in rows.items():
        if not services:
            result[account_no] = _EMPTY
            continue
        result[account_no] = PeriodBalance(
            rubles(sum(s.opening for s in services)),
            rubles(sum(s.charged for s in services)),
            rubles(sum(s.recalculated for s in services)),
            rubles(sum(s.paid for s in services)),
            rubles(sum(s.penalties for s in services)),
            rubles(sum(s.closing for s in services)),
        )
    for account_no in account_nos or ():
        result.setdefault(account_no, _EMPTY)
    return result


def last_payment_dates(conn: psycopg.Connection, account_nos: Sequence[str], up_to: date) -> dict[str, date]:
    """account → the day of its latest posted payment on or before ``up_to`` (accounts without one absent)."""
    rows = conn.execute(
        "SELECT account_no, max(paid_on) FROM payments WHERE account_no = ANY(%s) AND paid_on <= %s "
        "GROUP BY account_no",
        (list(account_nos), up_to),
    ).fetchall()
    return dict(rows)


@dataclass(frozen=True, slots=True)
class Outstanding:
    """What an account owes per debt period [₽] and its unapplied advance."""

    principal: dict[BillingPeriod, Decimal]
    penalties: dict[BillingPeriod, Decimal]
    advance: Decimal


def outstanding_debts(conn: psycopg.Connection, account_no: str) -> Outstanding:
    """Unpaid principal and penalties per debt period (ledger ``outstanding_by_debt``; values ≤ 0 — a
    charge lowered after it was paid — count as nothing owed) and the unapplied advance."""
    debts = outstanding_by_debt(conn, [account_no])[account_no]
    principal: dict[BillingPeriod, Decimal] = {}
    penalties: dict[BillingPeriod, Decimal] = {}
    for (period_text, kind), by_service in debts.items():
        owed = sum(max(v, 0) for s, v in by_service.items() if s != ADVANCE_SERVICE)
        if owed <= 0:
            continue
        target = penalties if kind == "penalty" else principal
        period = BillingPeriod.parse(period_text)
        target[period] = target.get(period, Decimal("0.00")) + rubles(owed)
    advance = sum(k for _, k in advance_by_payment(conn, [account_no])[account_no])
    return Outstanding(principal, penalties, rubles(advance))


_PENALTY_PAID = """
SELECT debt_period, service, sum(amount_kopecks)::bigint FROM payment_allocations
 WHERE account_no = %(a)s AND kind = 'penalty' AND paid_on <= %(d)s GROUP BY debt_period, service
"""


def penalties_as_of(
    conn: psycopg.Connection,
    account_no: str,
    as_of: date,
    tables: PenaltyTables,
    rules: PenaltyRules | None = None,
) -> dict[BillingPeriod, Decimal]:
    """Penalties still owed on ``as_of`` per debt period [₽], accrued up to that day.

    The close's method with ``as_of`` as the calculation day
    (:func:`~meterhub.billing.money.penalty_debts.penalties_accrued_to`: one debt per period, rounded once and
    split per service, the principal payments credited up to ``as_of`` reducing the base; a legacy debt
    from its own due date and the cutover, plus its unpaid legacy penalty); the penalty payments made up to
    ``as_of`` are subtracted per service (never below 0). Raises ``LookupError`` when the penalty tables
    do not cover ``as_of`` (e.g. a key rate not yet entered).
    """
    paid: dict[tuple[str, str], int] = {
        (debt_period, service): kopecks
        for debt_period, service, kopecks in conn.execute(_PENALTY_PAID, {"a": account_no, "d": as_of})
    }
    owed: dict[BillingPeriod, Decimal] = {}
    for debt_period, services in penalties_accrued_to(conn, account_no, as_of, tables, rules).items():
        unpaid = sum(max(0, k - paid.get((debt_period, s), 0)) for s, k in services.items())
        if unpaid > 0:
            owed[BillingPeriod.parse(debt_period)] = rubles(unpaid)
    return owed
