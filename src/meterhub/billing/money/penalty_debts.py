"""The debts of accounts as the penalty rules see them, read from the database, and their penalties to a day.

A debt is one account's charge of one period over its services (Decision 2): the principal per service is
its charge lines plus the recalculations booked in the period (and a legacy opening debt, docs/migration.md),
and the principal payments allocated to it (``payment_allocations``) reduce its base. Shared by the close's
:func:`~meterhub.billing.money.penalty_run.run_penalties` and :func:`penalties_accrued_to` — what a payment
designated for penalties pays (Decision 9) and what a debt receipt shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import psycopg

from meterhub.billing.money.opening_balances import (
    OpeningDebt,
    opening_penalties,
    opening_principal,
    penalty_baseline,
)
from meterhub.billing.rules.debt_penalty import ServiceDebt, compute_debt_penalty
from meterhub.billing.rules.payment_allocation import service_receipt_key
from meterhub.billing.rules.penalties import DebtPayment, PenaltyRules, PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import to_kopecks

__all__ = ["Credits", "Debts", "credited_payments", "debt_units", "load_debts", "penalties_accrued_to"]

# The building's debts through the per-account indexes of migration 0111 (account_no, period): the earlier
# form (a join with the building's accounts) let the planner scan every charge line of the city for each
# building — the money step's cost grew with the city × the closed months.
_PRINCIPAL = """
SELECT account_no, period, service, sum(kopecks)::bigint FROM (
    SELECT c.account_no, c.period, c.service, (c.amount * 100)::bigint AS kopecks
      FROM charge_lines c WHERE c.account_no = ANY(%(accounts)s) AND c.period < %(period)s
    UNION ALL
    SELECT r.account_no, r.period, r.service, (r.amount * 100)::bigint
      FROM recalculation_lines r WHERE r.account_no = ANY(%(accounts)s) AND r.period < %(period)s
    UNION ALL
    SELECT s.account_no, s.period, s.service, s.amount_kopecks
      FROM service_recalculation_lines s WHERE s.account_no = ANY(%(accounts)s) AND s.period < %(period)s
    UNION ALL
    SELECT o.account_no, o.period, o.service, o.amount_kopecks FROM opening_debts o
     WHERE o.account_no = ANY(%(accounts)s) AND o.kind = 'principal' AND o.period < %(period)s
) debts GROUP BY account_no, period, service HAVING sum(kopecks) > 0
"""
_PAYMENTS = """
SELECT a.account_no, a.debt_period, a.service, a.paid_on, sum(a.amount_kopecks)::bigint
  FROM payment_allocations a
 WHERE a.account_no = ANY(%(accounts)s) AND a.kind = 'principal' AND a.debt_period < %(period)s
 GROUP BY a.account_no, a.debt_period, a.service, a.paid_on
 ORDER BY a.paid_on
"""


Debts = dict[tuple[str, str], dict[str, int]]
"""(account, debt period) → {service: principal kopecks} (services with a positive principal)."""
Credits = dict[tuple[str, str, str], list[tuple[date, int]]]
"""(account, debt period, service) → principal payments (day, kopecks), oldest first."""


def load_debts(conn: psycopg.Connection, accounts: list[str], before: str) -> tuple[Debts, Credits]:
    """The principal of every debt of ``accounts`` of periods before ``before``, and its payments."""
    params = {"period": before, "accounts": accounts}
    debts: Debts = defaultdict(dict)
    for account_no, debt_period, service, principal in conn.execute(_PRINCIPAL, params).fetchall():
        debts[(account_no, debt_period)][service] = principal
    payments: Credits = defaultdict(list)
    if debts:  # payments only count against a debt (none yet: a building's first close)
        for account_no, debt_period, service, paid_on, kopecks in conn.execute(_PAYMENTS, params):
            payments[(account_no, debt_period, service)].append((paid_on, kopecks))
    return debts, payments


def credited_payments(principal: int, paid: list[tuple[date, int]]) -> list[DebtPayment]:
    """The payments credited to a service's principal, capped at it (an overpayment is not credited).

    A negative entry is money returned to the debtor by a reversal of execution (поворот исполнения,
    docs/claims.md): it takes back the latest payments before it, which are then treated as never made —
    the execution is undone (ГПК РФ ст. 443), so the debt accrues penalties over the whole delay."""
    if any(kopecks < 0 for _, kopecks in paid):
        kept: list[tuple[date, int]] = []
        for paid_on, kopecks in sorted(paid, key=lambda entry: entry[0]):
            if kopecks >= 0:
                kept.append((paid_on, kopecks))
                continue
            back = -kopecks
            while back and kept:
                day, amount = kept.pop()
                take = min(back, amount)
                back -= take
                if amount > take:
                    kept.append((day, amount - take))
        paid = kept
    credited, left = [], principal
    for paid_on, kopecks in paid:
        part = min(kopecks, left)
        if part > 0:
            credited.append(DebtPayment(paid_on, Decimal(part).scaleb(-2)))
            left -= part
    return credited


def debt_units(
    debts: Debts,
    opening: dict[tuple[str, str, str], OpeningDebt],
    periods: dict[str, tuple[BillingPeriod, date | None]],
    tables: PenaltyTables,
) -> Iterator[tuple[str, str, BillingPeriod, date, date | None, dict[str, int]]]:
    """The debts to compute: (account, period, billing period, due date, cutover of a legacy debt or None,
    {service: principal}). A period's services form one debt with the period's due date; legacy principal
    debts (``opening_debts``) keep the due date the legacy system gave them, one debt per due date (a
    legacy period may predate the due-day table: its law due date is never asked for)."""
    for (account_no, debt_period), principals in debts.items():
        known = periods.get(debt_period)
        if known is None:
            known = periods[debt_period] = (BillingPeriod.parse(debt_period), None)
        billing_period, period_due = known
        if not opening:  # the usual case: no legacy debts in the building
            if period_due is None:
                period_due = tables.due_date(billing_period)
                periods[debt_period] = (billing_period, period_due)
            yield account_no, debt_period, billing_period, period_due, None, principals
            continue
        groups: dict[tuple[date, date | None], dict[str, int]] = {}
        for service, principal in principals.items():
            legacy = opening.get((account_no, debt_period, service))
            if legacy is not None:
                key = (legacy.due_date, legacy.cutover)
            else:
                if period_due is None:
                    period_due = tables.due_date(billing_period)
                    periods[debt_period] = (billing_period, period_due)
                key = (period_due, None)
            groups.setdefault(key, {})[service] = principal
        for (due, cutover), group in groups.items():
            yield account_no, debt_period, billing_period, due, cutover, group


def penalties_accrued_to(
    conn: psycopg.Connection,
    account_no: str,
    as_of: date,
    tables: PenaltyTables | None = None,
    rules: PenaltyRules | None = None,
) -> dict[str, dict[str, int]]:
    """The penalties of ``account_no`` accrued up to ``as_of`` inclusive, per debt period and service
    [kopecks], before any penalty payment — computed like :func:`run_penalties` (one debt per period and
    due date, rounded once, split per service by the largest remainder), from the principal payments
    recorded so far, whether or not a close has billed them yet (Decision 9; debt receipts).

    A legacy debt (docs/migration.md) accrues from its own due date and only from the cutover on (its
    running total less the baseline of the day before the cutover), plus the legacy penalty unpaid at the
    cutover. Raises ``LookupError`` when the penalty tables do not cover ``as_of``.
    """
    tables = tables or PenaltyTables.default()
    debts, payments = load_debts(conn, [account_no], str(BillingPeriod(as_of.year, as_of.month)))
    opening = opening_principal(conn, [account_no])
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for _, debt_period, billing_period, due, cutover, principals in debt_units(debts, opening, {}, tables):
        if due >= as_of:
            continue
        services = sorted(principals, key=service_receipt_key)
        parts = [
            ServiceDebt(
                s,
                Decimal(principals[s]).scaleb(-2),
                tuple(credited_payments(principals[s], payments.get((account_no, debt_period, s), []))),
            )
            for s in services
        ]
        try:
            debt = compute_debt_penalty(billing_period, due, parts, as_of=as_of, tables=tables, rules=rules)
            shares = {part.service: to_kopecks(part.amount) for part in debt.services}
            if cutover is not None:
                base = penalty_baseline(OpeningDebt(due, cutover), billing_period, principals, tables, rules)
                shares = {s: max(0, k - base[s]) for s, k in shares.items()}
        except LookupError as exc:
            raise LookupError(f"penalty of account {account_no}, {debt_period}: {exc}") from exc
        for service, kopecks in shares.items():
            if kopecks:
                result[debt_period][service] = result[debt_period].get(service, 0) + kopecks
    for (_, debt_period, service), kopecks in opening_penalties(conn, [account_no]).items():
        result[debt_period][service] = result[debt_period].get(service, 0) + kopecks
    return dict(result)
