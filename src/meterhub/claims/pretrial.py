"""The register of pre-trial claims (реестр направленных претензий): a letter per debtor with the amounts
it states, the deadline to pay, and when and how it was sent."""

from __future__ import annotations

from datetime import date

import psycopg

from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.claims.selection import debt_statement

__all__ = ["mark_letter_sent", "pretrial_letters", "register_pretrial_letter"]


def register_pretrial_letter(
    conn: psycopg.Connection,
    account_no: str,
    as_of: date,
    pay_by: date,
    actor: str,
    tables: PenaltyTables | None = None,
) -> int:
    """Record a claim stating the account's debt on ``as_of`` with the deadline ``pay_by``; its id."""
    if pay_by <= as_of:
        raise ValueError(f"the deadline to pay {pay_by} must be after the statement's day {as_of}")
    statement = debt_statement(conn, account_no, as_of, tables)
    if not statement.lines:
        raise ValueError(f"account {account_no} owes nothing overdue on {as_of}: no claim to send")
    return conn.execute(
        "INSERT INTO claims_pretrial_letters (account_no, as_of, principal_kopecks, penalty_kopecks, pay_by,"
        " created_by) VALUES (%s, %s, %s, %s, %s, %s) RETURNING letter_id",
        (account_no, as_of, statement.total("principal"), statement.total("penalty"), pay_by, actor),
    ).fetchone()[0]


def mark_letter_sent(conn: psycopg.Connection, letter_id: int, sent_on: date, tracking: str = "") -> None:
    if (
        conn.execute(
            "UPDATE claims_pretrial_letters SET sent_on = %s, tracking = %s WHERE letter_id = %s RETURNING 1",
            (sent_on, tracking.strip(), letter_id),
        ).fetchone()
        is None
    ):
        raise LookupError(f"pre-trial letter {letter_id} does not exist")


def pretrial_letters(conn: psycopg.Connection, building_id: str | None = None) -> list[tuple]:
    """``(letter_id, account_no, as_of, principal, penalty, pay_by, sent_on, tracking, created_by)``."""
    return conn.execute(
        "SELECT l.letter_id, l.account_no, l.as_of, l.principal_kopecks, l.penalty_kopecks, l.pay_by,"
        " l.sent_on, l.tracking, l.created_by"
        " FROM claims_pretrial_letters l JOIN accounts a USING (account_no)"
        " WHERE %s::text IS NULL OR a.building_id = %s ORDER BY l.as_of, l.letter_id",
        (building_id, building_id),
    ).fetchall()
