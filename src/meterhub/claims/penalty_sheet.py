"""The penalties calculation of a claim (расчёт пеней), itemised: for each claimed debt period and service
the runs of days with the same base and step — from, to, days, the principal then owed, the step (1/300
from day 31, 1/130 from day 91, ЖК РФ ст. 155 ч. 14) and the rate — with their exact amounts, and the
debt's penalty rounded once (Decision 2).

Read from billing exactly as billing computes the penalties a claim shows
(:func:`~meterhub.billing.money.penalty_debts.penalties_accrued_to`): the same debts, credited payments,
rate day and moratoria, through billing's public functions (``load_debts``, ``debt_units``,
``credited_payments``, ``compute_debt_penalty``). Days that accrue nothing (the first 30, a moratorium)
are left out of the runs. A legacy debt (docs/migration.md) accrues from the cutover on less a baseline:
its runs are not itemised here, only flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from meterhub.billing.money.opening_balances import opening_principal
from meterhub.billing.money.penalty_debts import credited_payments, debt_units, load_debts
from meterhub.billing.rules.debt_penalty import ServiceDebt, compute_debt_penalty
from meterhub.billing.rules.payment_allocation import service_receipt_key
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["DebtPenaltySheet", "PenaltyRun", "penalty_sheet"]


@dataclass(frozen=True, slots=True)
class PenaltyRun:
    service: str
    first_day: date
    last_day: date
    days: int
    base: Decimal
    """The principal owed on those days [₽]."""
    divisor: int
    """300 or 130: the step of the rate (1/300, 1/130)."""
    amount_exact: Decimal
    """base × rate / 100 / divisor × days [₽], unrounded."""


@dataclass(frozen=True, slots=True)
class DebtPenaltySheet:
    period: str
    due_date: date
    rate_percent: Decimal
    """The rate of the debt: the key rate (or the regime's) on the day it was paid or the statement's day."""
    runs: tuple[PenaltyRun, ...]
    amount: Decimal
    """The debt's penalty to the statement's day, rounded once [₽]."""
    legacy: bool = False
    """A debt carried over from the legacy system: its runs are not itemised."""


def penalty_sheet(
    conn: psycopg.Connection,
    account_no: str,
    as_of: date,
    periods: set[str],
    tables: PenaltyTables | None = None,
) -> list[DebtPenaltySheet]:
    """The itemised penalty of each debt of ``account_no`` in ``periods`` up to ``as_of`` inclusive, in
    period order (services in receipt order within a debt)."""
    tables = tables or PenaltyTables.default()
    debts, payments = load_debts(conn, [account_no], str(BillingPeriod(as_of.year, as_of.month)))
    debts = {key: value for key, value in debts.items() if key[1] in periods}
    opening = opening_principal(conn, [account_no])
    sheets = []
    for _, debt_period, billing_period, due, cutover, principals in debt_units(debts, opening, {}, tables):
        if due >= as_of:
            continue
        parts = [
            ServiceDebt(
                s,
                Decimal(principals[s]).scaleb(-2),
                tuple(credited_payments(principals[s], payments.get((account_no, debt_period, s), []))),
            )
            for s in sorted(principals, key=service_receipt_key)
        ]
        debt = compute_debt_penalty(billing_period, due, parts, as_of=as_of, tables=tables)
        runs = (
            ()
            if cutover is not None
            else tuple(
                PenaltyRun(
                    part.service,
                    line.first_day,
                    line.last_day,
                    line.days,
                    line.base,
                    line.divisor,
                    line.amount_exact,
                )
                for part in debt.services
                for line in part.result.lines
                if line.divisor > 0 and line.amount_exact > 0
            )
        )
        sheets.append(
            DebtPenaltySheet(debt_period, due, debt.rate_percent, runs, debt.amount, cutover is not None)
        )
    return sorted(sheets, key=lambda sheet: (sheet.period, sheet.due_date))
