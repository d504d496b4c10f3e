"""Selecting debtors for claims and the debt statement of an account as of a day (from the ledger).

:func:`select_debtors` is billing's debtors list (months in debt, amount, building) without the accounts
under a running instalment agreement (соглашение о рассрочке) or with an open case. :func:`debt_statement`
gives an account's overdue principal per period and service and the penalties accrued to the day less what
was paid of them (billing's :func:`~meterhub.billing.money.penalty_debts.penalties_accrued_to`), each period
flagged when it is time-barred (:mod:`.time_bar`, the account's earlier court-order applications suspending
the term).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from meterhub.billing.money.debtors import Debtor, debtors
from meterhub.billing.money.ledger import outstanding_by_debt
from meterhub.billing.money.opening_balances import opening_due_dates
from meterhub.billing.money.penalty_debts import penalties_accrued_to
from meterhub.billing.rules.payment_allocation import service_receipt_key
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.claims.lifecycle import CLOSED_STATES
from meterhub.claims.time_bar import Suspension, limitation_ends

__all__ = ["DebtLine", "DebtStatement", "debt_statement", "select_debtors"]


@dataclass(frozen=True, slots=True)
class DebtLine:
    period: str
    service: str
    kind: str
    """``principal`` or ``penalty``."""
    amount: int
    """[kopecks]"""
    due_date: date
    limitation_ends: date | None
    """The last day a claim for the period is timely (``None`` while an application is pending)."""
    time_barred: bool


@dataclass(frozen=True, slots=True)
class DebtStatement:
    account_no: str
    as_of: date
    lines: tuple[DebtLine, ...]

    def total(self, kind: str | None = None, *, include_time_barred: bool = True) -> int:
        return sum(
            line.amount
            for line in self.lines
            if (kind is None or line.kind == kind) and (include_time_barred or not line.time_barred)
        )

    @property
    def periods(self) -> list[str]:
        return sorted({line.period for line in self.lines})


def _closed_states() -> list[str]:
    return sorted(s.value for s in CLOSED_STATES)


def select_debtors(
    conn: psycopg.Connection,
    as_of: date,
    *,
    building_id: str | None = None,
    min_months: int = 1,
    min_amount: int = 1,
    tables: PenaltyTables | None = None,
) -> list[Debtor]:
    """Billing's debtors on ``as_of`` less those under an instalment agreement running on that day or with
    a case not closed; largest debt first."""
    excluded = {
        row[0]
        for row in conn.execute(
            "SELECT account_no FROM claims_instalments WHERE signed_on <= %s AND ends_on >= %s"
            " UNION SELECT account_no FROM claims_cases WHERE NOT (state = ANY(%s))",
            (as_of, as_of, _closed_states()),
        )
    }
    found = debtors(
        conn, as_of, building_id=building_id, min_months=min_months, min_amount=min_amount, tables=tables
    )
    return [d for d in found if d.account_no not in excluded]


def _suspensions(conn: psycopg.Connection, account_no: str) -> dict[str, list[Suspension]]:
    """Per debt period, the earlier applications that covered it: filed → cancelled / returned."""
    rows = conn.execute(
        """
        SELECT d.debt_period, c.case_id,
               min(s.happened_on) FILTER (WHERE s.state = 'filed'),
               min(s.happened_on) FILTER (WHERE s.state IN ('order_cancelled', 'closed_returned',
                                                            'closed_withdrawn', 'lawsuit_filed')),
               bool_or(s.state = 'order_cancelled')
          FROM claims_cases c
          JOIN (SELECT DISTINCT case_id, debt_period FROM claims_case_debts) d USING (case_id)
          JOIN claims_case_steps s USING (case_id)
         WHERE c.account_no = %s GROUP BY d.debt_period, c.case_id
        """,
        (account_no,),
    ).fetchall()
    result: dict[str, list[Suspension]] = {}
    for period, _, filed, ended, cancelled in rows:
        if filed is not None:
            result.setdefault(period, []).append(Suspension(filed, ended, bool(cancelled)))
    return result


def debt_statement(
    conn: psycopg.Connection, account_no: str, as_of: date, tables: PenaltyTables | None = None
) -> DebtStatement:
    """The overdue principal (due before ``as_of``) and the unpaid penalties accrued up to ``as_of`` of
    ``account_no``, per period and service, in period and receipt order."""
    tables = tables or PenaltyTables.default()
    owed = outstanding_by_debt(conn, [account_no])[account_no]
    legacy_due = {p: d for (_, p), d in opening_due_dates(conn, [account_no]).items()}
    accrued = penalties_accrued_to(conn, account_no, as_of, tables)
    paid_penalty: dict[tuple[str, str], int] = {
        (period, service): kopecks
        for period, service, kopecks in conn.execute(
            "SELECT debt_period, service, sum(amount_kopecks)::bigint FROM payment_allocations"
            " WHERE account_no = %s AND kind = 'penalty' GROUP BY debt_period, service",
            (account_no,),
        )
    }
    suspensions = _suspensions(conn, account_no)
    lines = []

    def due_of(period: str) -> date:
        return legacy_due.get(period) or tables.due_date(BillingPeriod.parse(period))

    def line(period: str, service: str, kind: str, amount: int) -> DebtLine:
        due = due_of(period)
        ends = limitation_ends(due, suspensions.get(period, ()))
        return DebtLine(period, service, kind, amount, due, ends, ends is not None and as_of > ends)

    for (period, kind), services in sorted(owed.items()):
        if kind != "principal" or due_of(period) >= as_of:
            continue
        for service in sorted(services, key=service_receipt_key):
            if services[service] > 0:
                lines.append(line(period, service, "principal", services[service]))
    for period in sorted(accrued):
        for service in sorted(accrued[period], key=service_receipt_key):
            unpaid = accrued[period][service] - paid_penalty.get((period, service), 0)
            if unpaid > 0:
                lines.append(line(period, service, "penalty", unpaid))
    lines.sort(key=lambda x: (x.period, x.kind != "principal", service_receipt_key(x.service)))
    return DebtStatement(account_no, as_of, tuple(lines))
