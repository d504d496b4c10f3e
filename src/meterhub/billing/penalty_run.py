"""Penalties (пени) of a building computed during the close of a period, and the close's money step.

:func:`run_penalties` ``(conn, building_id, period)`` computes, for every debt of the building's accounts
(one account × service × earlier billing period D: its charge lines plus the recalculations booked in D),
the penalty accrued up to the last day of ``period`` with :func:`~meterhub.billing.penalties.compute_penalty`
— the payments credited to that debt (``payment_allocations``, principal) reduce its base from the day
after each payment — and stores one ``penalty_lines`` row per debt: the running total ``accrued_kopecks``
(rounded once per debt, Decision 2) and ``amount_kopecks`` = what this period adds over the previous
closing period's total. The receipt shows Σ ``amount_kopecks`` of the period as the separate penalty line
(неустойка); the ledger counts it in ``penalties``.

:func:`close_money` is the one call the close makes (inside its transaction, after the charges are
written): service recalculations (absence, interruptions) → penalties → advances applied to the new debts.
A draft re-run deletes and recomputes everything this step wrote for the period.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from meterhub.billing.money import engine_context, round_money, to_kopecks
from meterhub.billing.opening_balances import opening_principal, penalty_baseline
from meterhub.billing.penalties import (
    DebtPayment,
    PenaltyDebt,
    PenaltyResult,
    PenaltyRules,
    PenaltyTables,
    compute_penalty,
)
from meterhub.billing.periods import BillingPeriod

__all__ = ["MoneyCloseResult", "PenaltyRunResult", "close_money", "run_penalties"]


@dataclass(frozen=True, slots=True)
class PenaltyRunResult:
    building: str
    period: str
    as_of: date
    debts: int
    """Debts (account × service × period) with a stored penalty line."""
    added_kopecks: int
    """Σ amount_kopecks: penalties this period adds."""


@dataclass(frozen=True, slots=True)
class MoneyCloseResult:
    recalculation_lines: int
    recalculated_kopecks: int
    penalties: PenaltyRunResult
    advance_applied_kopecks: int


_ACCOUNTS = "SELECT account_no FROM accounts WHERE building_id = %(building)s"
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
_PREVIOUS = """
SELECT DISTINCT ON (account_no, service, debt_period) account_no, service, debt_period, accrued_kopecks,
       unpaid_kopecks, as_of
  FROM penalty_lines WHERE building_id = %(building)s AND closing_period < %(period)s
 ORDER BY account_no, service, debt_period, closing_period DESC
"""
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


class _Walk:
    """The calendar walk of a debt period's debts without payments, shared by all of them.

    Without payments the walk of :func:`compute_penalty` over the calendar (runs of days, their counters,
    divisors, moratorium days) and the rate day (the calculation day) do not depend on the principal; only
    each run's base and amount do. :meth:`scaled` recomputes those for another principal with the same
    expression as :func:`~meterhub.billing.penalties._line` — B × r × days / (100 × divisor), exact
    products at the engine's precision, one division — sums them as :func:`compute_penalty` does and
    writes the same ``details`` JSON as :func:`_details`.
    """

    __slots__ = ("accrues", "notes", "parts", "result")

    def __init__(self, result: PenaltyResult) -> None:
        self.result = result
        self.accrues = any(line.divisor for line in result.lines)
        self.parts = [
            (
                line.days,
                line.divisor,
                f'{{"first_day": "{line.first_day.isoformat()}", "last_day": "{line.last_day.isoformat()}", '
                f'"first_k": {line.first_k}, "days": {line.days}, "base": "',
                f'", "divisor": {line.divisor}, "amount_exact": "',
            )
            for line in result.lines
        ]
        self.notes = json.dumps(list(result.notes), ensure_ascii=False)

    def scaled(self, base: Decimal) -> tuple[Decimal, str]:
        """Σ of the runs' exact amounts [₽] and the details JSON of a debt of principal ``base`` [₽]."""
        rate = self.result.rate_percent
        base_text = str(base)
        total = _ZERO
        items = []
        with engine_context():
            for days, divisor, head, middle in self.parts:
                exact = base * rate * days / (_HUNDRED * divisor) if divisor else _ZERO
                total += exact
                items.append(f'{head}{base_text}{middle}{exact!s}"}}')
        return total, f'{{"lines": [{", ".join(items)}], "notes": {self.notes}}}'


def _details(result: PenaltyResult) -> str:
    """The ``details`` JSON of a penalty line (jsonb): the itemised runs of days and the notes."""
    return json.dumps(
        {
            "lines": [
                {
                    "first_day": line.first_day.isoformat(),
                    "last_day": line.last_day.isoformat(),
                    "first_k": line.first_k,
                    "days": line.days,
                    "base": str(line.base),
                    "divisor": line.divisor,
                    "amount_exact": str(line.amount_exact),
                }
                for line in result.lines
            ],
            "notes": list(result.notes),
        },
        ensure_ascii=False,
    )


def run_penalties(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    tables: PenaltyTables | None = None,
    rules: PenaltyRules | None = None,
) -> PenaltyRunResult:
    """Compute and store the penalty lines of ``building_id`` for closing period ``period``.

    The calculation day is the last day of ``period``; debts of earlier periods only. Earlier lines of
    this closing period are replaced. A debt fully paid before the period began whose penalty was already
    stored is skipped (its penalty cannot change). Raises ``LookupError`` (naming the account) when the
    penalty tables do not cover a day they are asked about.

    Debts without payments share one calendar walk per debt period (:class:`_Walk`); a debt whose walk
    accrues nothing (still inside the 30 free days) and had no earlier penalty stores nothing.
    """
    tables = tables or PenaltyTables.default()
    text = str(period)
    as_of = period.end_day - timedelta(days=1)
    conn.execute(
        "DELETE FROM penalty_lines WHERE building_id = %s AND closing_period = %s", (building_id, text)
    )
    accounts = [row[0] for row in conn.execute(_ACCOUNTS, {"building": building_id})]
    params = {"building": building_id, "period": text, "accounts": accounts}
    payments: dict[tuple[str, str, str], list[tuple[date, int]]] = defaultdict(list)
    for account_no, debt_period, service, paid_on, kopecks in conn.execute(_PAYMENTS, params):
        payments[(account_no, debt_period, service)].append((paid_on, kopecks))
    previous = {
        (a, d, s): (accrued, unpaid, prev_as_of)
        for a, s, d, accrued, unpaid, prev_as_of in conn.execute(_PREVIOUS, params)
    }
    opening = opening_principal(conn, accounts)  # legacy debts: their own due date and cutover
    periods: dict[str, BillingPeriod] = {}
    law_due: dict[str, date] = {}
    walks: dict[tuple[str, date], _Walk] = {}
    rows = []
    added = 0
    for account_no, debt_period, service, principal in conn.execute(_PRINCIPAL, params).fetchall():
        key = (account_no, debt_period, service)
        billing_period = periods.get(debt_period)
        if billing_period is None:
            billing_period = periods[debt_period] = BillingPeriod.parse(debt_period)
        legacy = opening.get(key)
        if legacy is not None:
            due = legacy.due_date  # a legacy debt's period may predate the due-day table
        else:
            due = law_due.get(debt_period) or law_due.setdefault(debt_period, tables.due_date(billing_period))
        if due >= as_of:
            continue
        credited, left = [], principal
        for paid_on, kopecks in payments.get(key, ()):
            part = min(kopecks, left)
            if part > 0:
                credited.append(DebtPayment(paid_on, Decimal(part).scaleb(-2)))
                left -= part
        prev = previous.get(key)
        if prev is None and legacy is not None:  # accrual before the cutover is the legacy system's
            try:
                start = penalty_baseline(legacy, billing_period, principal, tables, rules)
            except LookupError as exc:
                what = f"penalty of account {account_no}, {service}, {debt_period}"
                raise LookupError(f"{what}: {exc}") from exc
            prev = (start, principal, legacy.cutover - timedelta(days=1))
        if prev is not None and prev[1] == 0 and all(p.day <= prev[2] for p in credited):
            continue  # paid off before the previous calculation: nothing changes
        base = Decimal(principal).scaleb(-2)
        walk = None if credited else walks.get((debt_period, due))
        if walk is not None:
            if not (prev and prev[0]) and not walk.accrues:
                continue  # nothing accrues yet (free days, moratorium) and nothing was stored before
            result = walk.result
            exact, details = walk.scaled(base)
            accrued = to_kopecks(round_money(exact))
        else:
            debt = PenaltyDebt(billing_period, base, due, tuple(credited))
            try:
                result = compute_penalty(debt, as_of=as_of, tables=tables, rules=rules)
            except LookupError as exc:
                raise LookupError(
                    f"penalty of account {account_no}, {service}, {debt_period}: {exc}"
                ) from exc
            if not credited:
                walks[(debt_period, due)] = _Walk(result)
            exact, details = result.amount_exact, _details(result)
            accrued = to_kopecks(result.amount)
        amount = accrued - (prev[0] if prev else 0)
        if not accrued and not amount:
            continue
        unpaid = principal - sum(to_kopecks(p.amount) for p in credited if p.day <= as_of)
        last_day = result.rate_day if unpaid == 0 else as_of
        rows.append(
            (
                building_id,
                text,
                account_no,
                service,
                debt_period,
                due,
                as_of,
                principal,
                unpaid,
                result.rate_day,
                result.rate_percent,
                max(0, (last_day - due).days),
                exact,
                accrued,
                amount,
                result.formula,
                details,
            )
        )
        added += amount
    columns = (
        "building_id, closing_period, account_no, service, debt_period, due_date, as_of, principal_kopecks,"
        " unpaid_kopecks, rate_day, rate_percent, days_overdue, accrued_exact, accrued_kopecks,"
        " amount_kopecks, formula, details"
    )
    with conn.cursor() as cur, cur.copy(f"COPY penalty_lines ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return PenaltyRunResult(building_id, text, as_of, len(rows), added)


def close_money(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    tables: PenaltyTables | None = None,
) -> MoneyCloseResult:
    """The money step of the close of ``period`` (call inside the close's transaction, after its charges
    are written): service recalculations, then penalties, then advances applied to the new debts."""
    from meterhub.billing.payments_posting import apply_advances, undo_advance_applications
    from meterhub.billing.service_recalculations import run_service_recalculations

    tables = tables or PenaltyTables.default()
    undo_advance_applications(conn, building_id, period)  # a draft re-run starts from the payments alone
    recalc = run_service_recalculations(conn, building_id, period)
    penalties = run_penalties(conn, building_id, period, tables)
    applied = apply_advances(conn, building_id, period, tables)
    return MoneyCloseResult(len(recalc), sum(line.amount_kopecks for line in recalc), penalties, applied)
