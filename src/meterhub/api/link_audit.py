"""The audit of account links (``api_link_audit``): who linked a user to a лицевой счёт or unlinked one,
when, and why. Written in the transaction of the change; staff read it on the links page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from meterhub.api.roles import User

__all__ = ["ACTION_NAMES", "LinkEvent", "link_events", "record_link_event"]

ACTION_NAMES = {
    "linked_by_code": "подключён по коду с квитанции",
    "linked_by_staff": "подключён сотрудником",
    "unlinked": "отключён сотрудником",
    "codes_revoked": "коды привязки отозваны",
}


@dataclass(frozen=True)
class LinkEvent:
    at: datetime
    action: str
    user_id: int | None
    username: str
    actor_name: str
    actor_role: str
    reason: str


def record_link_event(
    conn: psycopg.Connection,
    account_no: str,
    action: str,
    actor: User | None,
    *,
    user_id: int | None = None,
    reason: str = "",
    actor_name: str = "",
) -> None:
    """One audit row; ``actor`` None is a command-line change (``actor_name`` says who)."""
    if action not in ACTION_NAMES:
        raise ValueError(f"unknown link action {action!r}")
    username = ""
    if user_id is not None:
        row = conn.execute("SELECT username FROM api_users WHERE user_id = %s", (user_id,)).fetchone()
        username = row[0] if row else ""
    conn.execute(
        "INSERT INTO api_link_audit (account_no, user_id, username, action, actor_id, actor_name, actor_role,"
        " reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            account_no,
            user_id,
            username,
            action,
            actor.id if actor else None,
            (actor.full_name or actor.username) if actor else actor_name or "cli",
            actor.role.value if actor else "",
            reason,
        ),
    )


def link_events(conn: psycopg.Connection, account_no: str, limit: int = 200) -> list[LinkEvent]:
    """The account's link history, newest first."""
    rows = conn.execute(
        "SELECT at, action, user_id, username, actor_name, actor_role, reason FROM api_link_audit"
        " WHERE account_no = %s ORDER BY at DESC, id DESC LIMIT %s",
        (account_no, limit),
    ).fetchall()
    return [LinkEvent(*r) for r in rows]
