"""Confirming a user's e-mail address by a one-time link (подтверждение адреса электронной почты).

``api_users.email`` is the address in force and ``email_confirmed_at`` whether it is confirmed; only a
confirmed address gets password-reset links and notification letters (letters of an unconfirmed one wait
in the outbox). Setting an address when none is confirmed stores it unconfirmed at once; changing a
confirmed one keeps the old address in force until the new one is confirmed, and the old address is told.
Each letter carries a random token of which only the SHA-256 is stored (``api_email_confirmations``);
it works once, for :data:`CONFIRM_HOURS`, and a newer letter spends the older ones. At most
:data:`LETTERS_PER_HOUR` confirmation letters per user per hour. Every change is audited
(``api_email_audit``). This module does the database work; the routes send the letters.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import LiteralString

import psycopg

from meterhub.api.roles import User
from meterhub.api.sessions import digest

__all__ = [
    "CONFIRM_HOURS",
    "LETTERS_PER_HOUR",
    "AddressTaken",
    "ConfirmationLinkInvalid",
    "EmailChange",
    "EmailEvent",
    "EmailState",
    "change_email",
    "confirm_email",
    "email_events",
    "email_state",
    "new_confirmation",
    "record_email_event",
    "wait_before_next_letter",
]

CONFIRM_HOURS = 24
LETTERS_PER_HOUR = 3


class AddressTaken(ValueError):
    """Another user has this address."""


class ConfirmationLinkInvalid(ValueError):
    """The link is unknown, used or expired."""


@dataclass(frozen=True)
class EmailState:
    email: str | None  # the address in force
    confirmed: bool
    pending_email: str | None  # a new address waiting for its confirmation (the old one still in force)


@dataclass(frozen=True)
class EmailChange:
    """What a change did: the address to send a confirmation link to (None: nothing to confirm) and the
    confirmed address that should be told about the change (None: nobody)."""

    confirm_to: str | None
    tell_old: str | None


@dataclass(frozen=True)
class EmailEvent:
    at: datetime
    action: str
    old_email: str | None
    new_email: str | None
    actor_name: str


def record_email_event(
    conn: psycopg.Connection,
    user_id: int,
    action: str,
    *,
    old: str | None = None,
    new: str | None = None,
    actor: User | None = None,
    actor_name: str = "по ссылке из письма",
) -> None:
    conn.execute(
        "INSERT INTO api_email_audit (user_id, username, action, old_email, new_email, actor_id, actor_name)"
        " SELECT user_id, username, %s, %s, %s, %s, %s FROM api_users WHERE user_id = %s",
        (
            action,
            old,
            new,
            actor.id if actor else None,
            (actor.full_name or actor.username) if actor else actor_name,
            user_id,
        ),
    )


def email_events(conn: psycopg.Connection, user_id: int, limit: int = 200) -> list[EmailEvent]:
    rows = conn.execute(
        "SELECT at, action, old_email, new_email, actor_name FROM api_email_audit WHERE user_id = %s"
        " ORDER BY at DESC, id DESC LIMIT %s",
        (user_id, limit),
    ).fetchall()
    return [EmailEvent(*r) for r in rows]


def _pending(conn: psycopg.Connection, user_id: int) -> str | None:
    row = conn.execute(
        "SELECT email FROM api_email_confirmations WHERE user_id = %s AND used_at IS NULL"
        " AND expires_at > now() ORDER BY created_at DESC LIMIT 1",
        (user_id,),
    ).fetchone()
    return row[0] if row else None


def email_state(conn: psycopg.Connection, user_id: int) -> EmailState:
    email, confirmed_at = conn.execute(
        "SELECT email, email_confirmed_at FROM api_users WHERE user_id = %s", (user_id,)
    ).fetchone()
    pending = _pending(conn, user_id)
    return EmailState(
        email=email,
        confirmed=confirmed_at is not None,
        pending_email=pending if pending and pending != email else None,
    )


def _spend_links(conn: psycopg.Connection, user_id: int) -> None:
    conn.execute(
        "UPDATE api_email_confirmations SET used_at = now() WHERE user_id = %s AND used_at IS NULL",
        (user_id,),
    )


def _check_free(conn: psycopg.Connection, email: str, user_id: int) -> bool:
    """Refuse an address another user has confirmed; True when another user has it unconfirmed (it may
    be a typo of theirs: it must not keep the address from its owner, who confirms it)."""
    row = conn.execute(
        "SELECT email_confirmed_at IS NOT NULL FROM api_users WHERE lower(email) = %s AND user_id <> %s",
        (email, user_id),
    ).fetchone()
    if row is not None and row[0]:
        raise AddressTaken(email)
    return row is not None


def _release_unconfirmed(conn: psycopg.Connection, email: str, user_id: int) -> None:
    """Another user's unconfirmed copy of an address that ``user_id`` has just confirmed is removed."""
    rows = conn.execute(
        "UPDATE api_users SET email = NULL, updated_at = now() WHERE lower(email) = %s AND user_id <> %s"
        " AND email_confirmed_at IS NULL RETURNING user_id",
        (email, user_id),
    ).fetchall()
    for (other,) in rows:
        _spend_links(conn, other)
        record_email_event(
            conn, other, "cleared", old=email, actor_name="адрес подтверждён другим пользователем"
        )


def _store_email(conn: psycopg.Connection, statement: LiteralString, email: str, user_id: int) -> None:
    """Write a user's address. The check above cannot see another user's address committed after it
    (two users setting one address at the same moment): the unique index then refuses the second
    writer, which is the same answer as the check's (the transaction is aborted; the caller's
    ``conn.transaction()`` rolls it back)."""
    try:
        conn.execute(statement, (email, user_id))
    except psycopg.errors.UniqueViolation as exc:
        raise AddressTaken(email) from exc


def change_email(conn: psycopg.Connection, user: User, email: str | None) -> EmailChange:
    """Set (``email`` lower case) or clear the user's address; call inside a transaction."""
    old, confirmed_at = conn.execute(
        "SELECT email, email_confirmed_at FROM api_users WHERE user_id = %s FOR UPDATE", (user.id,)
    ).fetchone()
    if email is None:
        _spend_links(conn, user.id)
        if old is None:
            return EmailChange(None, None)
        conn.execute(
            "UPDATE api_users SET email = NULL, email_confirmed_at = NULL, updated_at = now()"
            " WHERE user_id = %s",
            (user.id,),
        )
        record_email_event(conn, user.id, "cleared", old=old, actor=user)
        return EmailChange(None, old if confirmed_at else None)
    held_elsewhere = _check_free(conn, email, user.id)
    if email == old:
        if confirmed_at is not None:  # the confirmed address again: a pending change is withdrawn
            _spend_links(conn, user.id)
            return EmailChange(None, None)
        return EmailChange(email, None)  # still unconfirmed: a new link
    if confirmed_at is not None or held_elsewhere:
        # the old address stays in force until the new one is confirmed; an address another user typed
        # unconfirmed waits too (it becomes this user's when confirmed)
        record_email_event(conn, user.id, "change_requested", old=old, new=email, actor=user)
        return EmailChange(email, old if confirmed_at is not None else None)
    _store_email(
        conn,
        "UPDATE api_users SET email = %s, email_confirmed_at = NULL, updated_at = now() WHERE user_id = %s",
        email,
        user.id,
    )
    record_email_event(conn, user.id, "set", old=old, new=email, actor=user)
    return EmailChange(email, None)


def wait_before_next_letter(conn: psycopg.Connection, user_id: int) -> int | None:
    """Seconds until the user may get another confirmation letter; None: now."""
    rows = conn.execute(
        "SELECT created_at, now() FROM api_email_confirmations WHERE user_id = %s"
        " AND created_at > now() - interval '1 hour' ORDER BY created_at DESC LIMIT %s",
        (user_id, LETTERS_PER_HOUR),
    ).fetchall()
    if len(rows) < LETTERS_PER_HOUR:
        return None
    oldest, now = rows[-1]
    return max(1, int((oldest + timedelta(hours=1) - now).total_seconds()) + 1)


def new_confirmation(conn: psycopg.Connection, user_id: int, email: str) -> str:
    """A new link's token for ``email`` (older links of the user are spent)."""
    _spend_links(conn, user_id)
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO api_email_confirmations (token_digest, user_id, email, expires_at)"
        " VALUES (%s, %s, %s, now() + %s)",
        (digest(token), user_id, email, timedelta(hours=CONFIRM_HOURS)),
    )
    return token


def confirm_email(conn: psycopg.Connection, token: str) -> tuple[int, str]:
    """Follow a link: the address becomes the user's confirmed address; (user id, address)."""
    row = conn.execute(
        "SELECT user_id, email FROM api_email_confirmations WHERE token_digest = %s AND used_at IS NULL"
        " AND expires_at > now() FOR UPDATE",
        (digest(token),),
    ).fetchone()
    if row is None:
        raise ConfirmationLinkInvalid(token)
    user_id, email = row
    if _check_free(conn, email, user_id):
        _release_unconfirmed(conn, email, user_id)
    (old,) = conn.execute("SELECT email FROM api_users WHERE user_id = %s FOR UPDATE", (user_id,)).fetchone()
    _store_email(
        conn,
        "UPDATE api_users SET email = %s, email_confirmed_at = now(), updated_at = now() WHERE user_id = %s",
        email,
        user_id,
    )
    _spend_links(conn, user_id)
    record_email_event(conn, user_id, "confirmed", old=old if old != email else None, new=email)
    return user_id, email
