"""Where the receipt's money figures come from: the ledger (:mod:`meterhub.billing.ledger`).

The one place the receipt reads balances, payments and debts, so the source can change without touching
the loader or the renderer. Amounts come back in rubles (``Decimal``, whole kopecks).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from meterhub.billing.ledger import (
    ADVANCE_SERVICE,
    account_balances,
    advance_by_payment,
    outstanding_by_debt,
)
from meterhub.billing.money import to_kopecks
from meterhub.billing.opening_balances import opening_penalties, opening_principal, penalty_baseline
from meterhub.billing.penalties import DebtPayment, PenaltyDebt, PenaltyRules, PenaltyTables, compute_penalty
from meterhub.billing.periods import BillingPeriod

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


_PRINCIPAL = """
SELECT period, service, sum(kopecks)::bigint FROM (
    SELECT period, service, (amount * 100)::bigint AS kopecks FROM charge_lines WHERE account_no = %(a)s
    UNION ALL
    SELECT period, service, (amount * 100)::bigint FROM recalculation_lines WHERE account_no = %(a)s
    UNION ALL
    SELECT period, service, amount_kopecks FROM service_recalculation_lines WHERE account_no = %(a)s
    UNION ALL
    SELECT period, service, amount_kopecks FROM opening_debts WHERE account_no = %(a)s AND kind = 'principal'
) d GROUP BY period, service HAVING sum(kopecks) > 0
"""
_PAID = """
SELECT debt_period, service, kind, paid_on, sum(amount_kopecks)::bigint FROM payment_allocations
 WHERE account_no = %(a)s AND kind IN ('principal', 'penalty') AND paid_on <= %(d)s
 GROUP BY debt_period, service, kind, paid_on ORDER BY paid_on
"""


def penalties_as_of(
    conn: psycopg.Connection,
    account_no: str,
    as_of: date,
    tables: PenaltyTables,
    rules: PenaltyRules | None = None,
) -> dict[BillingPeriod, Decimal]:
    """Penalties still owed on ``as_of`` per debt period [₽], accrued up to that day.

    The close's method (:mod:`meterhub.billing.penalty_run`) with ``as_of`` as the calculation day: one
    debt per period × service = its charge lines plus the recalculations booked in it; the principal
    payments credited to it up to ``as_of`` reduce the base; :func:`compute_penalty` accrues it (rounded
    once per debt); the penalty payments credited to it are subtracted (never below 0). Raises
    ``LookupError`` when the penalty tables do not cover ``as_of`` (e.g. a key rate not yet entered).

    A legacy system's debt (docs/migration.md) accrues from its own due date and only from the cutover on
    (:func:`~meterhub.billing.opening_balances.penalty_baseline`); its unpaid legacy penalty is added.
    """
    params = {"a": account_no, "d": as_of}
    principal_paid: dict[tuple[str, str], list[tuple[date, int]]] = defaultdict(list)
    penalty_paid: dict[tuple[str, str], int] = defaultdict(int)
    for debt_period, service, kind, paid_on, kopecks in conn.execute(_PAID, params):
        if kind == "principal":
            principal_paid[(debt_period, service)].append((paid_on, kopecks))
        else:
            penalty_paid[(debt_period, service)] += kopecks
    owed: dict[BillingPeriod, Decimal] = {}
    opening = opening_principal(conn, [account_no])
    legacy_penalty = {(p, s): k for (_, p, s), k in opening_penalties(conn, [account_no]).items()}
    for debt_period, service, principal in conn.execute(_PRINCIPAL, params).fetchall():
        period = BillingPeriod.parse(debt_period)
        legacy = opening.get((account_no, debt_period, service))
        due = legacy.due_date if legacy is not None else tables.due_date(period)
        if due >= as_of:
            continue
        credited, left = [], principal
        for paid_on, kopecks in principal_paid.get((debt_period, service), ()):
            part = min(kopecks, left)
            if part > 0:
                credited.append(DebtPayment(paid_on, Decimal(part).scaleb(-2)))
                left -= part
        debt = PenaltyDebt(period, Decimal(principal).scaleb(-2), due, tuple(credited))
        accrued = to_kopecks(compute_penalty(debt, as_of=as_of, tables=tables, rules=rules).amount)
        if legacy is not None:
            accrued += legacy_penalty.pop((debt_period, service), 0)
            accrued -= penalty_baseline(legacy, period, principal, tables, rules)
        unpaid = accrued - penalty_paid.get((debt_period, service), 0)
        if unpaid > 0:
            owed[period] = owed.get(period, Decimal("0.00")) + rubles(unpaid)
    for (debt_period, service), kopecks in legacy_penalty.items():  # legacy penalty of a paid debt
        unpaid = kopecks - penalty_paid.get((debt_period, service), 0)
        if unpaid > 0:
            period = BillingPeriod.parse(debt_period)
            owed[period] = owed.get(period, Decimal("0.00")) + rubles(unpaid)
    return owed
