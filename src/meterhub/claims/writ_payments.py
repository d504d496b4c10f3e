"""Money received under a writ or a court order (поступления по исполнительному документу).

Such money pays the debts the case covers and nothing else (not the current month): the part up to what
the case still claims is posted to billing as a payment whose allocation is limited to those debts
(``post_payment(debt_limits=…)``; principal oldest first, then the case's penalties), the next part
reimburses the court costs awarded and not yet recovered (kept per case), and anything beyond is posted to
the account as an ordinary advance. What the case "still claims" of a debt is what it claimed less what
the account no longer owes of it (paid voluntarily or under the writ before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.claims.lifecycle import COLLECTING_STATES, CaseState
from meterhub.claims.selection import debt_statement

__all__ = ["WRIT_SOURCE", "WritReceipt", "case_remaining", "receive_under_writ"]

WRIT_SOURCE = "writ"
"""The ``payments.source`` of money under a writ (its payment id is the case and the reference)."""


@dataclass(frozen=True, slots=True)
class WritReceipt:
    receipt_id: int
    to_debts: int
    to_costs: int
    to_advance: int
    payment_pk: int | None


def case_remaining(
    conn: psycopg.Connection, case_id: int, on_day: date, tables: PenaltyTables | None = None
) -> dict[tuple[str, str], dict[str, int]]:
    """What the case still claims per ``(debt period, kind) → {service: kopecks}``: the claimed amount,
    at most what the account still owes of that debt on ``on_day``."""
    account_no = conn.execute(
        "SELECT account_no FROM claims_cases WHERE case_id = %s", (case_id,)
    ).fetchone()[0]
    owed = {
        (line.period, line.kind, line.service): line.amount
        for line in debt_statement(conn, account_no, on_day, tables).lines
    }
    result: dict[tuple[str, str], dict[str, int]] = {}
    for period, kind, service, claimed in conn.execute(
        "SELECT debt_period, kind, service, sum(amount_kopecks)::bigint FROM claims_case_debts"
        " WHERE case_id = %s GROUP BY 1, 2, 3",
        (case_id,),
    ):
        left = min(claimed, owed.get((period, kind, service), 0))
        if left > 0:
            result.setdefault((period, kind), {})[service] = left
    return result


def _costs_left(conn: psycopg.Connection, case_id: int) -> int:
    awarded, recovered = conn.execute(
        "SELECT (SELECT coalesce(sum(awarded_kopecks), 0) FROM claims_case_costs WHERE case_id = %(c)s),"
        " (SELECT coalesce(sum(to_costs_kopecks), 0) FROM claims_writ_receipts WHERE case_id = %(c)s)",
        {"c": case_id},
    ).fetchone()
    return max(0, int(awarded) - int(recovered))


def receive_under_writ(
    conn: psycopg.Connection,
    case_id: int,
    amount_kopecks: int,
    received_on: date,
    reference: str,
    actor: str,
    tables: PenaltyTables | None = None,
) -> WritReceipt:
    """Record ``amount_kopecks`` received on ``received_on`` under the case's court act (``reference``: the
    bailiffs' or bank's payment order, unique per case) and post it (see the module docstring)."""
    if amount_kopecks <= 0:
        raise ValueError(f"the amount received must be positive, got {amount_kopecks} kopecks")
    reference = reference.strip()
    if not reference:
        raise ValueError("a receipt under a writ needs its reference (номер платёжного поручения)")
    row = conn.execute(
        "SELECT account_no, state, case_number FROM claims_cases WHERE case_id = %s FOR UPDATE", (case_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"case {case_id} does not exist")
    account_no, state, case_number = row
    if CaseState(state) not in COLLECTING_STATES:
        raise ValueError(
            f"case {case_id} is {CaseState(state).title_ru}: money under a court act is received only "
            "after an order or decision and before the case is closed"
        )
    remaining = case_remaining(conn, case_id, received_on, tables)
    to_debts = min(amount_kopecks, sum(sum(services.values()) for services in remaining.values()))
    to_costs = min(amount_kopecks - to_debts, _costs_left(conn, case_id))
    to_account = amount_kopecks - to_costs
    payment_pk = None
    if to_account:
        payment_pk = post_payment(
            conn,
            account_no=account_no,
            amount_kopecks=to_account,
            paid_on=received_on,
            payment_id=f"{case_id}:{reference}",
            source=WRIT_SOURCE,
            purpose=f"Взыскание по исполнительному документу, дело {case_number or case_id}",
            penalties_designated=False,
            tables=tables,
            debt_limits=remaining,
            rule_prefix="writ:",
        )
        if payment_pk is None:
            raise ValueError(f"case {case_id}: receipt {reference!r} was recorded before")
    receipt_id = conn.execute(
        "INSERT INTO claims_writ_receipts (case_id, received_on, amount_kopecks, to_debts_kopecks,"
        " to_costs_kopecks, payment_pk, reference, actor) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING receipt_id",
        (case_id, received_on, amount_kopecks, to_debts, to_costs, payment_pk, reference, actor),
    ).fetchone()[0]
    return WritReceipt(receipt_id, to_debts, to_costs, to_account - to_debts, payment_pk)
