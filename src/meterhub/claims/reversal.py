"""Поворот исполнения (reversal of execution, ГПК РФ ст. 443–445): money collected under a court order
that is later cancelled is returned to the debtor by the court's ruling (определение о повороте исполнения).

The ruling names the debtor the money goes back to and the amount; it may return what was collected from
him under the cancelled order — the part that paid debts and the part that reimbursed court costs (money
beyond his award went to the account's advance and is refunded as an overpayment, not here). The returned
amount is taken **last paid first**: from his receipts newest first, in each the costs part (taken after
the debts) and then the debt lines in the reverse of the order they were paid (the writ paid principal
oldest first, then penalties). What stays paid is then exactly what the kept money would have paid had
only it been collected — the oldest debts first, as a payment without a designation pays (ГК РФ ст. 319.1
п. 3) — and a second ruling returns only what the first left in place.

The debts part is posted to billing as a **negative writ payment** (source ``writ``, its allocation lines
the negated debt lines with rule ``writ:reversal``): the ledger and the debt statement owe those debts again,
and billing's penalties treat the returned payment as never made (the execution is undone, ст. 443), so they
accrue over the whole delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from meterhub.billing.money.posting import booked_period

__all__ = ["REVERSAL_RULE", "Reversal", "reversals_of", "reverse_execution"]

REVERSAL_RULE = "writ:reversal"


@dataclass(frozen=True, slots=True)
class Reversal:
    reversal_id: int
    from_debts: int
    """[kopecks] returned out of the debts the money had paid (they are owed again)."""
    from_costs: int
    """[kopecks] returned out of the court costs it had reimbursed."""
    payment_pk: int | None
    """The negative writ payment in billing (``None`` when only costs were returned)."""


# One part of the collected money still in place: (receipt, part, debt period, service, kopecks left).
_Part = tuple[int, str, str | None, str, int]


def _parts_in_place(
    conn: psycopg.Connection, case_id: int, debtor_no: int, order_step: int, cancelled: date
) -> list[_Part]:
    """The debtor's money under the cancelled order still in place, in the order it was applied (oldest
    receipt first; in each its debt lines in allocation order, then its costs part)."""
    receipts = conn.execute(
        "SELECT receipt_id, payment_pk, to_costs_kopecks FROM claims_writ_receipts"
        " WHERE case_id = %(c)s AND received_on <= %(d)s"
        " AND (award_step_id = %(s)s OR award_step_id IS NULL)"
        " AND (debtor_no = %(n)s OR (debtor_no IS NULL AND"
        "      (SELECT count(*) FROM claims_case_debtors WHERE case_id = %(c)s) = 1))"
        " ORDER BY received_on, receipt_id",
        {"c": case_id, "d": cancelled, "s": order_step, "n": debtor_no},
    ).fetchall()
    returned: dict[tuple[int, str, str | None, str], int] = {}
    for receipt_id, part, period, service, amount in conn.execute(
        "SELECT l.receipt_id, l.part, l.debt_period, l.service, sum(l.amount_kopecks)::bigint"
        " FROM claims_reversal_lines l JOIN claims_execution_reversals r USING (reversal_id)"
        " WHERE r.case_id = %s GROUP BY 1, 2, 3, 4",
        (case_id,),
    ):
        returned[(receipt_id, part, period, service)] = int(amount)
    parts: list[_Part] = []
    for receipt_id, payment_pk, to_costs in receipts:
        lines: list[tuple[str, str | None, str, int]] = []
        if payment_pk is not None:
            for kind, period, service, amount in conn.execute(
                "SELECT kind, debt_period, service, amount_kopecks FROM payment_allocations"
                " WHERE payment_pk = %s AND kind <> 'advance' AND applied_in IS NULL AND rule LIKE 'writ:%%'"
                " ORDER BY allocation_id",
                (payment_pk,),
            ):
                lines.append((kind, period, service, int(amount)))
        if to_costs:
            lines.append(("costs", None, "", int(to_costs)))
        taken: dict[tuple[str, str | None, str], int] = {}
        for kind, period, service, amount in lines:
            key = (kind, period, service)
            back = min(amount, returned.get((receipt_id, *key), 0) - taken.get(key, 0))
            taken[key] = taken.get(key, 0) + max(back, 0)
            left = amount - max(back, 0)
            if left > 0:
                parts.append((receipt_id, kind, period, service, left))
    return parts


def reverse_execution(
    conn: psycopg.Connection,
    case_id: int,
    *,
    debtor_no: int,
    amount_kopecks: int,
    ruled_on: date,
    actor: str,
    ruling_number: str = "",
    court_name: str = "",
    returned_on: date | None = None,
    note: str = "",
) -> Reversal:
    """Record the court's ruling returning ``amount_kopecks`` to debtor ``debtor_no`` of the case whose
    court order was cancelled, and post the debts part to billing as a negative writ payment on
    ``returned_on`` (default: the ruling's day). See the module docstring for what is returned first."""
    if amount_kopecks <= 0:
        raise ValueError(f"the amount returned must be positive, got {amount_kopecks} kopecks")
    returned_on = returned_on or ruled_on
    if returned_on < ruled_on:
        raise ValueError("the money is returned on or after the day of the ruling")
    row = conn.execute(
        "SELECT account_no, case_number FROM claims_cases WHERE case_id = %s FOR UPDATE", (case_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"case {case_id} does not exist")
    account_no, case_number = row
    if (
        conn.execute(
            "SELECT 1 FROM claims_case_debtors WHERE case_id = %s AND debtor_no = %s", (case_id, debtor_no)
        ).fetchone()
        is None
    ):
        raise ValueError(f"case {case_id} has no debtor {debtor_no}")
    cancelled = conn.execute(
        "SELECT happened_on, step_id FROM claims_case_steps WHERE case_id = %s AND state = 'order_cancelled'"
        " ORDER BY happened_on DESC, step_id DESC LIMIT 1",
        (case_id,),
    ).fetchone()
    if cancelled is None:
        raise ValueError(
            f"case {case_id}: its court order was not cancelled; execution is reversed only after the act "
            "it followed is cancelled (ГПК РФ ст. 443) — record the step order_cancelled first"
        )
    if ruled_on < cancelled[0]:
        raise ValueError(
            f"case {case_id}: the ruling of {ruled_on:%d.%m.%Y} is before the order was cancelled "
            f"({cancelled[0]:%d.%m.%Y})"
        )
    order_step = conn.execute(
        "SELECT step_id FROM claims_case_steps WHERE case_id = %s AND state = 'order_issued' AND step_id < %s"
        " ORDER BY happened_on DESC, step_id DESC LIMIT 1",
        (case_id, cancelled[1]),
    ).fetchone()
    parts = _parts_in_place(conn, case_id, debtor_no, order_step[0] if order_step else -1, cancelled[0])
    in_place = sum(p[4] for p in parts)
    if amount_kopecks > in_place:
        raise ValueError(
            f"case {case_id}: of the money collected from debtor {debtor_no} under the cancelled order "
            f"{in_place / 100:.2f} ₽ paid debts and court costs and was not returned yet; the ruling returns "
            f"{amount_kopecks / 100:.2f} ₽ — money beyond his award went to the account's advance and is "
            "refunded as an overpayment"
        )
    left = amount_kopecks
    taken: list[_Part] = []
    for receipt_id, part, period, service, amount in reversed(parts):
        if not left:
            break
        back = min(amount, left)
        taken.append((receipt_id, part, period, service, back))
        left -= back
    from_costs = sum(p[4] for p in taken if p[1] == "costs")
    from_debts = amount_kopecks - from_costs
    payment_pk = None
    reversal_id = conn.execute(
        "INSERT INTO claims_execution_reversals (case_id, debtor_no, ruled_on, ruling_number, court_name,"
        " returned_on, amount_kopecks, from_debts_kopecks, from_costs_kopecks, note, actor)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING reversal_id",
        (
            case_id,
            debtor_no,
            ruled_on,
            ruling_number.strip(),
            court_name.strip(),
            returned_on,
            amount_kopecks,
            from_debts,
            from_costs,
            note,
            actor,
        ),
    ).fetchone()[0]  # type: ignore[index]
    if from_debts:
        payment_pk = _post_return(
            conn,
            account_no,
            case_id,
            reversal_id,
            from_debts,
            returned_on,
            case_number,
            ruling_number,
            ruled_on,
            [p for p in taken if p[1] != "costs"],
        )
        conn.execute(
            "UPDATE claims_execution_reversals SET payment_pk = %s WHERE reversal_id = %s",
            (payment_pk, reversal_id),
        )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO claims_reversal_lines (reversal_id, receipt_id, part, debt_period, service,"
            " amount_kopecks) VALUES (%s, %s, %s, %s, %s, %s)",
            [(reversal_id, r, part, period, service, amount) for r, part, period, service, amount in taken],
        )
    return Reversal(reversal_id, from_debts, from_costs, payment_pk)


def _post_return(
    conn: psycopg.Connection,
    account_no: str,
    case_id: int,
    reversal_id: int,
    amount: int,
    returned_on: date,
    case_number: str | None,
    ruling_number: str,
    ruled_on: date,
    lines: list[_Part],
) -> int:
    """The negative writ payment: the account's money returned, each debt line it had paid negated."""
    payment_pk = conn.execute(
        "INSERT INTO payments (source, payment_id, account_no, amount_kopecks, paid_on, purpose)"
        " VALUES ('writ', %s, %s, %s, %s, %s) RETURNING payment_pk",
        (
            f"{case_id}:reversal:{reversal_id}",
            account_no,
            -amount,
            returned_on,
            f"Поворот исполнения судебного приказа по делу {case_number or case_id}: определение"
            f" {ruling_number.strip() or 'б/н'} от {ruled_on:%d.%m.%Y}, возврат должнику",
        ),
    ).fetchone()[0]  # type: ignore[index]
    booked = str(booked_period(conn, account_no, returned_on))
    summed: dict[tuple[str, str, str], int] = {}
    for _, kind, period, service, back in lines:
        key = (period or "", kind, service)
        summed[key] = summed.get(key, 0) + back
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO payment_allocations (payment_pk, account_no, booked_period, paid_on, debt_period,"
            " service, kind, amount_kopecks, rule) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (payment_pk, account_no, booked, returned_on, period, service, kind, -back, REVERSAL_RULE)
                for (period, kind, service), back in sorted(summed.items())
            ],
        )
    return int(payment_pk)


def reversals_of(conn: psycopg.Connection, case_ids: list[int]) -> list[dict]:
    """The rulings reversing execution in ``case_ids``, oldest first (for the case page and debtor's card)."""
    keys = (
        "reversal_id",
        "case_id",
        "debtor_no",
        "full_name",
        "ruled_on",
        "ruling_number",
        "court_name",
        "returned_on",
        "amount_kopecks",
        "from_debts_kopecks",
        "from_costs_kopecks",
        "actor",
    )
    rows = conn.execute(
        "SELECT r.reversal_id, r.case_id, r.debtor_no, d.full_name, r.ruled_on, r.ruling_number,"
        " r.court_name, r.returned_on, r.amount_kopecks, r.from_debts_kopecks, r.from_costs_kopecks, r.actor"
        " FROM claims_execution_reversals r JOIN claims_case_debtors d USING (case_id, debtor_no)"
        " WHERE r.case_id = ANY(%s) ORDER BY r.ruled_on, r.reversal_id",
        (case_ids,),
    ).fetchall()
    return [dict(zip(keys, row, strict=True)) for row in rows]
