"""Rate limiting of failed logins and link-code attempts, counted in the database.

Policy: failures are stored in ``api_auth_failures``. A login is refused with 429 (before the password
is checked) when, within ``login_rate_window_seconds``, the username has ``login_max_failures_per_user``
failures or the client address has ``login_max_failures_per_ip`` failures. A successful login clears the
username's failures. Because the counts are in the database, the limits hold across server processes
and restarts. Refused attempts are not counted, so a blocked client is free again when the window
passes; ``Retry-After`` says when.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

__all__ = ["Limit", "check", "clear", "record_failure"]


@dataclass(frozen=True)
class Limit:
    kind: str  # 'login' or 'link_code'
    window_seconds: int
    per_subject: int
    per_ip: int


def check(conn: psycopg.Connection, limit: Limit, subject: str, client_ip: str) -> int | None:
    """None when allowed, else the number of seconds until the next attempt is allowed."""
    row = conn.execute(
        """
        WITH w AS (
            SELECT at, subject = %(subject)s AS by_subject, client_ip = %(ip)s AS by_ip
            FROM api_auth_failures
            WHERE kind = %(kind)s AND at > now() - make_interval(secs => %(window)s)
              AND (subject = %(subject)s OR client_ip = %(ip)s)
        )
        SELECT count(*) FILTER (WHERE by_subject),
               count(*) FILTER (WHERE by_ip),
               (SELECT at FROM w WHERE by_subject ORDER BY at DESC OFFSET %(ns)s - 1 LIMIT 1),
               (SELECT at FROM w WHERE by_ip ORDER BY at DESC OFFSET %(ni)s - 1 LIMIT 1),
               now()
        FROM w
        """,
        {
            "subject": subject,
            "ip": client_ip,
            "kind": limit.kind,
            "window": limit.window_seconds,
            "ns": limit.per_subject,
            "ni": limit.per_ip,
        },
    ).fetchone()
    assert row is not None
    n_subject, n_ip, subject_edge, ip_edge, now = row
    waits = []
    # Blocked until the failure that filled the quota leaves the window.
    if n_subject >= limit.per_subject and subject_edge is not None:
        waits.append((subject_edge - now).total_seconds() + limit.window_seconds)
    if n_ip >= limit.per_ip and ip_edge is not None:
        waits.append((ip_edge - now).total_seconds() + limit.window_seconds)
    if not waits:
        return None
    return max(1, int(max(waits)) + 1)


def record_failure(conn: psycopg.Connection, limit: Limit, subject: str, client_ip: str) -> None:
    conn.execute(
        "INSERT INTO api_auth_failures (kind, subject, client_ip) VALUES (%s, %s, %s)",
        (limit.kind, subject, client_ip),
    )
    conn.execute("DELETE FROM api_auth_failures WHERE at < now() - interval '1 day'")


def clear(conn: psycopg.Connection, limit: Limit, subject: str) -> None:
    conn.execute("DELETE FROM api_auth_failures WHERE kind = %s AND subject = %s", (limit.kind, subject))
