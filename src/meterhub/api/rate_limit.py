"""Rate limiting of failed logins, link codes and password checks, atomic in the database.

Policy (docs/api.md, "Login rate limiting"): every attempt is *reserved* before the password is checked —
under transaction-scoped advisory locks on the subject (username, or user id) and on the client address,
the failures of the window are counted and, when no limit is reached, a failure row is inserted and
committed. Only then is the password verified; a success deletes its reservation (and the failures of the
same subject from the same client). So N parallel wrong passwords are checked at most ``per_pair`` times:
the others see the reserved rows and get 429.

Three limits, each over ``window_seconds``:

- ``per_pair``: one subject from one client (the device cookie's id when the browser has one that the
  subject earned by logging in before, else the client address) — the everyday "5 wrong passwords";
- ``per_client``: one client address, any subject (one address guessing many accounts);
- ``per_subject``: one subject from *unknown* clients together (a distributed guess). It never blocks a
  browser the owner logged in from before, so a stranger cannot lock the owner out.

Refused attempts are not counted, so a blocked client is free again when the window passes;
``Retry-After`` says when.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

__all__ = ["Attempt", "Limit", "reserve", "succeeded"]

UNKNOWN_CLIENT_PREFIX = "ip:"


@dataclass(frozen=True)
class Limit:
    kind: str  # 'login', 'link_code', 'password_reset', 'password_change'
    window_seconds: int
    per_pair: int
    per_client: int
    per_subject: int


@dataclass(frozen=True)
class Attempt:
    """A reserved attempt (``wait`` is None) or a refusal (``wait`` seconds until the next try)."""

    wait: int | None
    failure_id: int | None = None
    subject: str = ""
    client_key: str = ""
    kind: str = ""


def client_key_of(client_ip: str, device_id: str | None) -> str:
    return f"dev:{device_id}" if device_id else f"{UNKNOWN_CLIENT_PREFIX}{client_ip}"


def reserve(
    conn: psycopg.Connection, limit: Limit, subject: str, client_ip: str, device_id: str | None = None
) -> Attempt:
    """Reserve one attempt, or refuse it; atomic across requests and server processes."""
    key = client_key_of(client_ip, device_id)
    with conn.transaction():
        # Always the subject's lock first, then the client's: no two transactions wait in a cycle.
        for lock in (f"s:{subject}", f"c:{client_ip}"):
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 17))", (f"mh-limit:{limit.kind}:{lock}",)
            )
        row = conn.execute(
            """
            SELECT count(*) FILTER (WHERE subject = %(s)s AND client_key = %(k)s),
                   count(*) FILTER (WHERE client_ip = %(ip)s),
                   count(*) FILTER (WHERE subject = %(s)s AND client_key LIKE 'ip:%%'),
                   min(at) FILTER (WHERE subject = %(s)s AND client_key = %(k)s),
                   min(at) FILTER (WHERE client_ip = %(ip)s),
                   min(at) FILTER (WHERE subject = %(s)s AND client_key LIKE 'ip:%%'),
                   now()
            FROM api_auth_failures
            WHERE kind = %(kind)s AND at > now() - make_interval(secs => %(w)s)
              AND (subject = %(s)s OR client_ip = %(ip)s)
            """,
            {"s": subject, "k": key, "ip": client_ip, "kind": limit.kind, "w": limit.window_seconds},
        ).fetchone()
        assert row is not None
        n_pair, n_client, n_subject, t_pair, t_client, t_subject, now = row
        blocked = [(n_pair, limit.per_pair, t_pair), (n_client, limit.per_client, t_client)]
        if device_id is None:  # a browser the owner logged in from is not held by strangers' failures
            blocked.append((n_subject, limit.per_subject, t_subject))
        waits = [
            (oldest - now).total_seconds() + limit.window_seconds
            for n, cap, oldest in blocked
            if n >= cap and oldest is not None
        ]
        if waits:
            return Attempt(wait=max(1, int(max(waits)) + 1))
        (failure_id,) = conn.execute(
            "INSERT INTO api_auth_failures (kind, subject, client_ip, client_key) VALUES (%s, %s, %s, %s) "
            "RETURNING id",
            (limit.kind, subject, client_ip, key),
        ).fetchone()
        conn.execute("DELETE FROM api_auth_failures WHERE at < now() - interval '1 day'")
    return Attempt(wait=None, failure_id=failure_id, subject=subject, client_key=key, kind=limit.kind)


def succeeded(conn: psycopg.Connection, attempt: Attempt) -> None:
    """The attempt was right: it is no failure, and the same subject's failures from this client go."""
    conn.execute(
        "DELETE FROM api_auth_failures WHERE id = %s OR (kind = %s AND subject = %s AND client_key = %s)",
        (attempt.failure_id, attempt.kind, attempt.subject, attempt.client_key),
    )
