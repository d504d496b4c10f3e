"""Debtors list (список должников): overdue principal, months in debt and unpaid penalties per account.

An account is in debt for a billing period when that period's principal (charges + recalculations booked
in it, minus what payments paid of it) is still positive after its due date (``PenaltyTables.due_date``).
``months`` counts those overdue periods; ``oldest`` is the earliest of them. ``penalty`` is the penalty
charged (billed by the closes) and not yet paid (all periods). With ``accrued_to_date=True`` each debtor
also gets ``penalty_to_date``: the penalties accrued up to ``as_of`` whether or not a close has billed
them yet (:func:`~meterhub.billing.money.penalty_debts.penalties_accrued_to`, what a payment designated for
penalties on that day would pay, Decision 9), less the penalties paid. Amounts in kopecks; the current
state of the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import psycopg

from meterhub.billing.money.ledger import outstanding_by_debt
from meterhub.billing.money.opening_balances import opening_due_dates
from meterhub.billing.money.penalty_debts import penalties_accrued_to
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["Debtor", "debtor_from_debts", "debtors", "penalty_to_date"]


@dataclass(frozen=True, slots=True)
class Debtor:
    account_no: str
    building_id: str
    premise_no: str
    owner_name: str
    amount: int
    """Overdue principal [kopecks]."""
    months: int
    """Number of billing periods with overdue principal."""
    oldest: str
    """The earliest overdue period (YYYY-MM)."""
    penalty: int
    """Unpaid penalties billed by the closes [kopecks]."""
    penalty_to_date: int | None = None
    """Unpaid penalties accrued up to ``as_of`` [kopecks], billed or not (``accrued_to_date=True`` only)."""


def _due(period: str, tables: PenaltyTables, due_dates: Mapping[str, date] | None) -> date:
    if due_dates and period in due_dates:
        return due_dates[period]
    return tables.due_date(BillingPeriod.parse(period))


def debtor_from_debts(
    owed: Mapping[tuple[str, str], Mapping[str, int]],
    as_of: date,
    tables: PenaltyTables,
    due_dates: Mapping[str, date] | None = None,
) -> tuple[int, int, str | None, int]:
    """``(overdue principal, months, oldest period, unpaid penalty)`` of one account's outstanding debts
    (``{(period, kind): {service: kopecks}}``, as :func:`~meterhub.billing.money.ledger.outstanding_by_debt`
    returns them); negative service amounts count as nothing owed. ``due_dates``: period → due date where
    it is not the law's (a legacy system's debts, docs/migration.md)."""
    amount = months = penalty = 0
    oldest: str | None = None
    for (period, kind), services in sorted(owed.items()):
        owed_here = sum(max(0, kopecks) for kopecks in services.values())
        if not owed_here:
            continue
        if kind == "penalty":
            penalty += owed_here
        elif _due(period, tables, due_dates) < as_of:
            amount += owed_here
            months += 1
            oldest = oldest or period
    return amount, months, oldest, penalty


_PENALTY_PAID = """
SELECT debt_period, service, sum(amount_kopecks)::bigint FROM payment_allocations
 WHERE account_no = %s AND kind = 'penalty' GROUP BY debt_period, service
"""


def penalty_to_date(conn: psycopg.Connection, account_no: str, as_of: date, tables: PenaltyTables) -> int:
    """Unpaid penalties of ``account_no`` accrued up to ``as_of`` [kopecks]: per debt period and service the
    penalty accrued to that day (billed or not) less the penalties paid on it, a negative rest counting as
    nothing (as in :func:`debtor_from_debts`)."""
    paid: dict[tuple[str, str], int] = {
        (debt_period, service): kopecks
        for debt_period, service, kopecks in conn.execute(_PENALTY_PAID, (account_no,))
    }
    return sum(
        max(0, kopecks - paid.get((debt_period, service), 0))
        for debt_period, services in penalties_accrued_to(conn, account_no, as_of, tables).items()
        for service, kopecks in services.items()
    )


def debtors(
    conn: psycopg.Connection,
    as_of: date,
    *,
    building_id: str | None = None,
    min_months: int = 1,
    min_amount: int = 1,
    tables: PenaltyTables | None = None,
    accrued_to_date: bool = False,
) -> list[Debtor]:
    """Accounts with at least ``min_months`` overdue periods and ``min_amount`` kopecks overdue on
    ``as_of``, largest debt first. ``accrued_to_date``: also each debtor's penalties accrued up to
    ``as_of`` less those paid (``Debtor.penalty_to_date``; one penalty calculation per debtor)."""
    tables = tables or PenaltyTables.default()
    accounts = conn.execute(
        "SELECT account_no, building_id, premise_no, owner_name FROM accounts"
        " WHERE %s::text IS NULL OR building_id = %s ORDER BY account_no",
        (building_id, building_id),
    ).fetchall()
    owed = outstanding_by_debt(conn, [a[0] for a in accounts])
    legacy_due: dict[str, dict[str, date]] = {}
    for (account_no, period), due in opening_due_dates(conn, [a[0] for a in accounts]).items():
        legacy_due.setdefault(account_no, {})[period] = due
    result = []
    for account_no, building, premise, owner in accounts:
        amount, months, oldest, penalty = debtor_from_debts(
            owed[account_no], as_of, tables, legacy_due.get(account_no)
        )
        if oldest is not None and months >= min_months and amount >= min_amount:
            to_date = penalty_to_date(conn, account_no, as_of, tables) if accrued_to_date else None
            result.append(
                Debtor(account_no, building, premise, owner, amount, months, oldest, penalty, to_date)
            )
    result.sort(key=lambda d: (-d.amount, d.account_no))
    return result
