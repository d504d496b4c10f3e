"""Cabinet sessions and bearer tokens: random tokens handed to the client, SHA-256 digests stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

__all__ = [
    "Caller",
    "IssuedSession",
    "SessionRow",
    "digest",
    "issue_bearer",
    "issue_session",
    "lookup",
    "lookup_caller",
    "revoke",
]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedSession:
    token: str
    csrf_token: str | None
    expires_at: datetime


@dataclass(frozen=True)
class SessionRow:
    user_id: int
    kind: str
    csrf_digest: str | None
    expires_at: datetime

    def csrf_matches(self, csrf_token: str) -> bool:
        return self.csrf_digest is not None and hmac.compare_digest(self.csrf_digest, digest(csrf_token))


def _insert(
    conn: psycopg.Connection,
    user_id: int,
    kind: str,
    lifetime: timedelta,
    *,
    name: str = "",
    csrf: str | None = None,
    client_ip: str | None = None,
) -> IssuedSession:
    token = secrets.token_urlsafe(32)
    (expires_at,) = conn.execute(
        "INSERT INTO api_sessions (token_digest, user_id, kind, csrf_digest, name, expires_at, client_ip) "
        "VALUES (%s, %s, %s, %s, %s, now() + %s, %s) RETURNING expires_at",
        (digest(token), user_id, kind, digest(csrf) if csrf else None, name, lifetime, client_ip),
    ).fetchone()
    # Expired rows are removed whenever someone logs in: no separate cleanup job is needed.
    conn.execute("DELETE FROM api_sessions WHERE expires_at < now() - interval '1 day'")
    return IssuedSession(token, csrf, expires_at)


def issue_session(
    conn: psycopg.Connection, user_id: int, lifetime: timedelta, client_ip: str | None
) -> IssuedSession:
    """A cookie session with its CSRF token (double submit: cookie mh_csrf == header X-CSRF-Token)."""
    return _insert(conn, user_id, "session", lifetime, csrf=secrets.token_urlsafe(24), client_ip=client_ip)


def issue_bearer(
    conn: psycopg.Connection, user_id: int, lifetime: timedelta, name: str, client_ip: str | None = None
) -> IssuedSession:
    return _insert(conn, user_id, "bearer", lifetime, name=name, client_ip=client_ip)


# A request reads its session; it writes last_used_at only when it is older than this, so a browsing
# resident does not turn every GET into a committed write (WAL flush) under load.
TOUCH_INTERVAL = "1 minute"

_CALLER = f"""
WITH s AS (
    SELECT user_id, kind, csrf_digest, expires_at FROM api_sessions
    WHERE token_digest = %(d)s AND kind = %(k)s AND expires_at > now()
), touch AS (
    UPDATE api_sessions SET last_used_at = now()
    WHERE token_digest = %(d)s AND kind = %(k)s AND last_used_at < now() - interval '{TOUCH_INTERVAL}'
    RETURNING 1
)
SELECT s.user_id, s.kind, s.csrf_digest, s.expires_at, u.username, u.role, u.full_name,
       COALESCE((SELECT array_agg(a.account_no ORDER BY a.account_no)
                 FROM api_user_accounts a WHERE a.user_id = u.user_id), '{{}}'),
       CASE WHEN u.role = 'resident' THEN
                COALESCE((SELECT array_agg(DISTINCT ac.building_id) FROM api_user_accounts a
                          JOIN accounts ac USING (account_no) WHERE a.user_id = u.user_id), '{{}}')
            ELSE COALESCE((SELECT array_agg(b.building_id)
                           FROM api_user_buildings b WHERE b.user_id = u.user_id), '{{}}')
       END,
       (SELECT count(*) FROM touch)
FROM s JOIN api_users u USING (user_id)
WHERE u.active
"""


@dataclass(frozen=True)
class Caller:
    """A live session or token with its active user, read in one statement (:func:`lookup_caller`)."""

    session: SessionRow
    user_id: int
    username: str
    role: str
    full_name: str
    account_nos: tuple[str, ...]
    building_ids: tuple[str, ...]


def lookup_caller(conn: psycopg.Connection, token: str, kind: str) -> Caller | None:
    """The session or token of this kind with its active user, its accounts and buildings (residents:
    the buildings of their accounts; staff: assigned ones); None when unknown, expired or disabled."""
    row = conn.execute(_CALLER, {"d": digest(token), "k": kind}).fetchone()
    if row is None:
        return None
    user_id, kind_, csrf, expires, username, role, full_name, accounts, buildings, _ = row
    session = SessionRow(user_id, kind_, csrf, expires)
    return Caller(session, user_id, username, role, full_name, tuple(accounts), tuple(buildings))


def lookup(conn: psycopg.Connection, token: str, kind: str) -> SessionRow | None:
    """The live session or token of this kind, touching last_used_at; None when unknown or expired."""
    row = conn.execute(
        "UPDATE api_sessions SET last_used_at = now() "
        "WHERE token_digest = %s AND kind = %s AND expires_at > now() "
        "RETURNING user_id, kind, csrf_digest, expires_at",
        (digest(token), kind),
    ).fetchone()
    return SessionRow(*row) if row else None


def revoke(conn: psycopg.Connection, token: str) -> None:
    conn.execute("DELETE FROM api_sessions WHERE token_digest = %s", (digest(token),))
