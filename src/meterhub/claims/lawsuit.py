"""A lawsuit (исковое заявление) after a refused or cancelled court order claims for another price: the
debt of the case's lines still owed on the day the suit is filed plus the penalties on them accrued to that
day (ЖК РФ ст. 155 ч. 14; the price is principal plus penalties, ГПК РФ ст. 91 ч. 1 п. 1), each line split
among the case's debtors by their shares as the application's were (:func:`~.shares.split_lines_by_shares`,
the debtors of each period those the application claimed that period from). The suit's lines are kept per
lawsuit step (``claims_suit_debts``); a later decision's default awards and the money under it read them in
place of the application's.
"""

from __future__ import annotations

from datetime import date

import psycopg

from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.claims.selection import debt_statement
from meterhub.claims.shares import Share, split_lines_by_shares

__all__ = ["SuitLines", "kind_total", "latest_suit_lines", "store_suit_lines", "suit_claim"]

SuitLines = dict[int, dict[tuple[str, str, str], int]]
"""debtor_no → ``(debt period, service, kind) → kopecks``."""


def kind_total(parts: dict[tuple[str, str, str], int], kind: str) -> int:
    """The sum of ``parts`` of ``kind`` (``principal`` or ``penalty``)."""
    return sum(amount for (_, _, k), amount in parts.items() if k == kind)


def suit_claim(
    conn: psycopg.Connection, case_id: int, filed_on: date, tables: PenaltyTables | None = None
) -> SuitLines:
    """What the suit filed on ``filed_on`` claims from each debtor: for every (period, service) the case
    claimed, the principal still owed and the unpaid penalties accrued up to ``filed_on`` inclusive (billing's
    debt statement, the same rates and rounding as the receipts), split by the debtors' shares."""
    (account_no,) = conn.execute(
        "SELECT account_no FROM claims_cases WHERE case_id = %s", (case_id,)
    ).fetchone()  # type: ignore[misc]
    debtors_of: dict[str, list[tuple[int, Share]]] = {}
    pairs: set[tuple[str, str]] = set()
    for period, service, debtor_no, numerator, denominator in conn.execute(
        "SELECT DISTINCT x.debt_period, x.service, d.debtor_no, d.share_numerator, d.share_denominator"
        " FROM claims_case_debts x JOIN claims_case_debtors d USING (case_id, debtor_no)"
        " WHERE x.case_id = %s ORDER BY 1, 3",
        (case_id,),
    ):
        pairs.add((period, service))
        listed = debtors_of.setdefault(period, [])
        if all(n != debtor_no for n, _ in listed):
            listed.append((debtor_no, Share(numerator, denominator)))
    owed: dict[str, dict[tuple[str, str, str], int]] = {}
    for line in debt_statement(conn, account_no, filed_on, tables).lines:
        if (line.period, line.service) in pairs and line.amount > 0:
            owed.setdefault(line.period, {})[(line.period, line.service, line.kind)] = line.amount
    result: SuitLines = {}
    for period, lines in sorted(owed.items()):
        debtors = debtors_of[period]
        for (debtor_no, _), parts in zip(
            debtors, split_lines_by_shares(lines, [share for _, share in debtors]), strict=True
        ):
            result.setdefault(debtor_no, {}).update(parts)
    return result


def store_suit_lines(conn: psycopg.Connection, case_id: int, step_id: int, lines: SuitLines) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO claims_suit_debts (step_id, case_id, debtor_no, debt_period, service, kind,"
            " amount_kopecks) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (step_id, case_id, debtor_no, period, service, kind, amount)
                for debtor_no, parts in sorted(lines.items())
                for (period, service, kind), amount in sorted(parts.items())
            ],
        )


def latest_suit_lines(conn: psycopg.Connection, case_id: int) -> SuitLines | None:
    """The lines of the case's latest lawsuit (``None`` when it has none, or one recorded before the suit's
    own lines were kept)."""
    step = conn.execute(
        "SELECT step_id, details ? 'price_kopecks' FROM claims_case_steps WHERE case_id = %s"
        " AND state = 'lawsuit_filed' ORDER BY happened_on DESC, step_id DESC LIMIT 1",
        (case_id,),
    ).fetchone()
    if step is None or not step[1]:
        return None
    result: SuitLines = {}
    for debtor_no, period, service, kind, amount in conn.execute(
        "SELECT debtor_no, debt_period, service, kind, amount_kopecks FROM claims_suit_debts"
        " WHERE step_id = %s",
        (step[0],),
    ):
        result.setdefault(debtor_no, {})[(period, service, kind)] = int(amount)
    return result
