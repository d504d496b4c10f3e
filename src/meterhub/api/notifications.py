"""Notifications in the cabinet (уведомления): a new receipt, an answer to a request, a new user linked
to one's account, a password change. Stored per user in ``api_notifications``; one event notifies a user
once (``kind`` + ``subject_key`` unique per user)."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

__all__ = ["account_user_ids", "notify", "notify_new_receipts"]


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
    """Add the notification for each user (once per kind and subject_key); how many were new."""
    added = 0
    for uid in sorted(set(user_ids)):
        added += conn.execute(
            "INSERT INTO api_notifications (user_id, kind, account_no, subject_key, text_ru, link) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, kind, subject_key) DO NOTHING",
            (uid, kind, account_no, subject_key, text_ru, link),
        ).rowcount
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
