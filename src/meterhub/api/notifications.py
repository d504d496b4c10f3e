"""Notifications in the cabinet (уведомления): a new receipt, an answer to a request or an accepted
reading, a new user linked to one's account, a password change or a link revoked. Stored per user in
``api_notifications``; one event notifies a user once (``kind`` + ``subject_key`` unique per user). A
new notification of a user who wants that kind by e-mail also queues a letter in the same transaction
(:mod:`meterhub.api.email_notices`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import psycopg

from meterhub.api.email_notices import queue_email

__all__ = [
    "account_user_ids",
    "notify",
    "notify_new_receipts",
    "notify_reading_accepted",
    "notify_request_answer",
]


def notify(
    conn: psycopg.Connection,
    user_ids: Iterable[int],
    kind: str,
    text_ru: str,
    *,
    account_no: str | None = None,
    subject_key: str = "",
    link: str = "",
) -> int:
    """Add the notification for each user (once per kind and subject_key), queueing its e-mail for those
    who want it; how many were new."""
    added = 0
    for uid in sorted(set(user_ids)):
        row = conn.execute(
            "INSERT INTO api_notifications (user_id, kind, account_no, subject_key, text_ru, link) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, kind, subject_key) DO NOTHING "
            "RETURNING notification_id",
            (uid, kind, account_no, subject_key, text_ru, link),
        ).fetchone()
        if row is not None:
            added += 1
            queue_email(conn, row[0])
    return added


def account_user_ids(conn: psycopg.Connection, account_no: str) -> list[int]:
    """Active users linked to the account."""
    rows = conn.execute(
        "SELECT a.user_id FROM api_user_accounts a JOIN api_users u USING (user_id) "
        "WHERE a.account_no = %s AND u.active",
        (account_no,),
    ).fetchall()
    return [r[0] for r in rows]


def notify_new_receipts(conn: psycopg.Connection, user_id: int, account_nos: Iterable[str]) -> int:
    """A notification for every final receipt (closed period) of the user's accounts closed after the
    account was linked — derived when the user looks, so no job has to remember it."""
    rows = conn.execute(
        """
        SELECT c.account_no, c.period
        FROM api_user_accounts a
        JOIN LATERAL (
            SELECT ac.account_no, p.period, p.closed_at
            FROM accounts ac JOIN billing_periods p ON p.building_id = ac.building_id
            WHERE ac.account_no = a.account_no AND p.status = 'closed' AND p.closed_at > a.linked_at
        ) c ON true
        WHERE a.user_id = %s AND a.account_no = ANY(%s)
        ORDER BY c.period
        """,
        (user_id, list(account_nos)),
    ).fetchall()
    added = 0
    for account_no, period in rows:
        added += notify(
            conn,
            [user_id],
            "receipt",
            f"Новая квитанция за {period[5:]}.{period[:4]} по лицевому счёту {account_no}",
            account_no=account_no,
            subject_key=f"{account_no}:{period}",
            link=f"/cabinet/receipts?account={account_no}",
        )
    return added


def notify_reading_accepted(
    conn: psycopg.Connection,
    user_id: int,
    account_no: str,
    meter_name: str,
    values: dict[str, Decimal],
    counts_for: str,
    submission_id: int,
) -> int:
    """The management company's answer to a reading submission (показания приняты), for the submitter.

    Kind ``request_answer`` (an answer to what the resident sent): migration 0505 of the service desk
    fixes the notification kinds after the api migrations on a new database, so no kind is added here.
    """

    def label(register: str) -> str:
        return "показание" if register in ("", "T") else f"тариф {register}"

    parts = "; ".join(f"{label(k)} {_number(v)}" for k, v in sorted(values.items()))
    return notify(
        conn,
        [user_id],
        "request_answer",
        f"Показания счётчика {meter_name} приняты ({parts}) и учтутся в квитанции за "
        f"{counts_for[5:]}.{counts_for[:4]}",
        account_no=account_no,
        subject_key=f"reading:{submission_id}",
        link=f"/cabinet/readings?account={account_no}",
    )


def _number(value: Decimal) -> str:
    """``12545.670`` → ``12 545,67`` (as submitted, trailing zeros dropped, thousands spaced)."""
    text = f"{value.normalize():f}"
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    head = len(whole) % 3 or 3
    grouped = " ".join([whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)])
    return f"{sign}{grouped}" + (f",{frac}" if frac else "")


def notify_request_answer(conn: psycopg.Connection, request_id: int, what: str, text: str) -> int:
    """The service desk answered or resolved a request: tell the users of its account (a request
    registered for a building only has nobody to tell in the cabinet)."""
    row = conn.execute("SELECT account_no FROM api_requests WHERE request_id = %s", (request_id,)).fetchone()
    if row is None or row[0] is None:
        return 0
    account_no = row[0]
    return notify(
        conn,
        account_user_ids(conn, account_no),
        "request_answer",
        f"Заявка № {request_id} — {what}: {text.strip()}"[:1000],
        account_no=account_no,
        subject_key=f"{request_id}:{what}:{datetime.now(UTC).isoformat()}",
        link=f"/cabinet/requests?account={account_no}",
    )
