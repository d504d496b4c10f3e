"""Cabinet sessions and bearer tokens: random tokens handed to the client, SHA-256 digests stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

__all__ = ["IssuedSession", "SessionRow", "digest", "issue_bearer", "issue_session", "lookup", "revoke"]


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
