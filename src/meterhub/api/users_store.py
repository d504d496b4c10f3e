"""Users, their buildings and linked accounts in the database (the I/O edge of auth)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row

from meterhub.api.passwords import check_password_policy, hash_password
from meterhub.api.roles import Role, User

__all__ = [
    "UserError",
    "UserRecord",
    "assign_buildings",
    "create_user",
    "delete_user",
    "get_user_record",
    "link_account",
    "list_users",
    "load_user",
    "normalize_username",
    "set_password",
    "unlink_account",
    "update_user",
]

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


class UserError(ValueError):
    """A user operation that cannot be done, with what to do instead."""


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    role: Role
    full_name: str
    active: bool
    password_hash: str
    building_ids: tuple[str, ...]
    account_nos: tuple[str, ...]


def normalize_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise UserError(
            f"username {username!r}: 2–64 characters, latin letters, digits and . _ @ - "
            "(starting with a letter or digit)"
        )
    return name


def _records(conn: psycopg.Connection, where: str, params: tuple) -> list[UserRecord]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"""
            SELECT u.user_id, u.username, u.role, u.full_name, u.active, u.password_hash,
                   COALESCE((SELECT array_agg(building_id ORDER BY building_id)
                             FROM api_user_buildings b WHERE b.user_id = u.user_id), '{{}}') AS building_ids,
                   COALESCE((SELECT array_agg(account_no ORDER BY account_no)
                             FROM api_user_accounts a WHERE a.user_id = u.user_id), '{{}}') AS account_nos
            FROM api_users u WHERE {where} ORDER BY u.username
            """,
            params,
        ).fetchall()
    return [
        UserRecord(
            id=r["user_id"],
            username=r["username"],
            role=Role(r["role"]),
            full_name=r["full_name"],
            active=r["active"],
            password_hash=r["password_hash"],
            building_ids=tuple(r["building_ids"]),
            account_nos=tuple(r["account_nos"]),
        )
        for r in rows
    ]


def get_user_record(
    conn: psycopg.Connection, *, user_id: int | None = None, username: str | None = None
) -> UserRecord | None:
    if user_id is not None:
        found = _records(conn, "u.user_id = %s", (user_id,))
    elif username is not None:
        found = _records(conn, "u.username = %s", (username.strip().lower(),))
    else:
        raise TypeError("user_id or username")
    return found[0] if found else None


def list_users(conn: psycopg.Connection, role: Role | None = None) -> list[UserRecord]:
    if role is None:
        return _records(conn, "true", ())
    return _records(conn, "u.role = %s", (role.value,))


def load_user(conn: psycopg.Connection, user_id: int, via: str) -> User | None:
    """The request's User (active users only); residents get the buildings of their accounts."""
    rec = get_user_record(conn, user_id=user_id)
    if rec is None or not rec.active:
        return None
    buildings = set(rec.building_ids)
    if rec.role is Role.RESIDENT:
        buildings = set()
        if rec.account_nos:
            rows = conn.execute(
                "SELECT DISTINCT building_id FROM accounts WHERE account_no = ANY(%s)",
                (list(rec.account_nos),),
            ).fetchall()
            buildings = {r[0] for r in rows}
    return User(
        id=rec.id,
        username=rec.username,
        role=rec.role,
        building_ids=frozenset(buildings),
        account_nos=frozenset(rec.account_nos),
        full_name=rec.full_name,
        via=via,
    )


def create_user(
    conn: psycopg.Connection, username: str, password: str, role: Role, full_name: str = ""
) -> UserRecord:
    name = normalize_username(username)
    check_password_policy(password, name)
    try:
        row = conn.execute(
            "INSERT INTO api_users (username, password_hash, role, full_name) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (username) DO NOTHING RETURNING user_id",
            (name, hash_password(password), Role(role).value, full_name),
        ).fetchone()
    except psycopg.errors.CheckViolation as exc:  # pragma: no cover - normalize_username guards it
        raise UserError(str(exc)) from exc
    if row is None:
        raise UserError(f"user {name!r} already exists; use `meterhub users passwd` to change the password")
    rec = get_user_record(conn, user_id=row[0])
    assert rec is not None
    return rec


def update_user(
    conn: psycopg.Connection,
    user_id: int,
    *,
    role: Role | None = None,
    full_name: str | None = None,
    active: bool | None = None,
) -> UserRecord:
    sets, params = [], []
    for col, value in (("role", role.value if role else None), ("full_name", full_name), ("active", active)):
        if value is not None:
            sets.append(f"{col} = %s")
            params.append(value)
    if sets:
        conn.execute(
            f"UPDATE api_users SET {', '.join(sets)}, updated_at = now() WHERE user_id = %s",
            (*params, user_id),
        )
        if active is False or role is not None:
            conn.execute("DELETE FROM api_sessions WHERE user_id = %s", (user_id,))
    rec = get_user_record(conn, user_id=user_id)
    if rec is None:
        raise UserError(f"no user with id {user_id}")
    return rec


def set_password(
    conn: psycopg.Connection, user_id: int, password: str, *, keep_session: str | None = None
) -> None:
    """Change the password and end every session and token of the user (but the session whose token
    digest is ``keep_session``: the one that changed its own password)."""
    row = conn.execute("SELECT username FROM api_users WHERE user_id = %s", (user_id,)).fetchone()
    check_password_policy(password, row[0] if row else "")
    cur = conn.execute(
        "UPDATE api_users SET password_hash = %s, updated_at = now() WHERE user_id = %s",
        (hash_password(password), user_id),
    )
    if cur.rowcount == 0:
        raise UserError(f"no user with id {user_id}")
    conn.execute(
        "DELETE FROM api_sessions WHERE user_id = %s AND token_digest IS DISTINCT FROM %s",
        (user_id, keep_session),
    )
    conn.execute(
        "UPDATE api_password_resets SET used_at = now() WHERE user_id = %s AND used_at IS NULL", (user_id,)
    )


def delete_user(conn: psycopg.Connection, user_id: int) -> bool:
    return conn.execute("DELETE FROM api_users WHERE user_id = %s", (user_id,)).rowcount > 0


def assign_buildings(conn: psycopg.Connection, user_id: int, building_ids: list[str]) -> None:
    """Replace the user's assigned buildings."""
    known = {
        r[0]
        for r in conn.execute(
            "SELECT building_id FROM buildings WHERE building_id = ANY(%s)", (building_ids,)
        ).fetchall()
    }
    missing = sorted(set(building_ids) - known)
    if missing:
        raise UserError(
            f"unknown building(s): {', '.join(missing)} (import buildings first: meterhub import)"
        )
    conn.execute("DELETE FROM api_user_buildings WHERE user_id = %s", (user_id,))
    for b in sorted(set(building_ids)):
        conn.execute("INSERT INTO api_user_buildings (user_id, building_id) VALUES (%s, %s)", (user_id, b))


def link_account(conn: psycopg.Connection, user_id: int, account_no: str, linked_by: str) -> bool:
    """Link an account to a user; False when it was linked already."""
    if conn.execute("SELECT 1 FROM accounts WHERE account_no = %s", (account_no,)).fetchone() is None:
        raise UserError(f"no account {account_no!r}")
    cur = conn.execute(
        "INSERT INTO api_user_accounts (user_id, account_no, linked_by) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        (user_id, account_no, linked_by),
    )
    return cur.rowcount > 0


def unlink_account(conn: psycopg.Connection, user_id: int, account_no: str) -> bool:
    return (
        conn.execute(
            "DELETE FROM api_user_accounts WHERE user_id = %s AND account_no = %s", (user_id, account_no)
        ).rowcount
        > 0
    )
