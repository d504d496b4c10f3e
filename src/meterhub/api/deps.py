"""FastAPI dependencies every router uses: the database connection, the caller, and access checks.

- ``get_conn``: a psycopg connection from the app's pool, in **autocommit** mode (each statement
  commits; wrap multi-statement writes in ``with conn.transaction():``), session time zone UTC.
- ``current_user``: the caller from the ``Authorization: Bearer`` header (scripts) or the ``mh_session``
  cookie (cabinet). Cookie-authenticated unsafe methods (POST/PUT/PATCH/DELETE) must carry the CSRF
  token: header ``X-CSRF-Token`` equal to cookie ``mh_csrf`` and to the session's token. 401 otherwise.
- ``account_access``: the path's ``account_no`` when the caller may read it: residents their linked
  accounts (404 for any other, so existence is not revealed), accountants and admins every account,
  engineers and the passport office none (403).
- ``building_access``: the path's ``building_id``: residents the buildings of their linked accounts (404
  otherwise), engineers their assigned buildings (403 otherwise), accountants and admins all.
- ``require_role(*roles)``: 403 unless the caller has one of the roles.

The access-matrix test (tests/api/test_access_matrix.py) reads these dependencies off every route, so a
new route is covered as soon as it uses them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Path, Request, Security, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from meterhub.api.roles import Role, User
from meterhub.api.sessions import Caller, digest, lookup_caller

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Conn",
    "CurrentUser",
    "Role",
    "RoleRequirement",
    "User",
    "account_access",
    "building_access",
    "current_user",
    "ensure_account_access",
    "ensure_building_access",
    "get_conn",
    "get_settings",
    "require_role",
]

SESSION_COOKIE = "mh_session"
CSRF_COOKIE = "mh_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# billing data is not theirs
NO_ACCOUNT_ROLES = frozenset({Role.ENGINEER, Role.PASSPORT_OFFICE, Role.CONTRACTOR, Role.LAWYER})

_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/tokens")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="cabinet session from POST /auth/login"
)


def get_settings(request: Request):
    """The Settings the app was created with."""
    return request.app.state.settings


async def get_conn(request: Request) -> AsyncIterator[psycopg.Connection]:
    """A pooled autocommit connection for this request.

    Taken on the event loop behind a semaphore of the pool's size, so a request waits for a free
    connection without holding a worker thread: a sync dependency blocking in ``pool.getconn`` inside the
    thread pool deadlocks under load (every worker thread waits for a connection while the requests that
    hold the connections wait for a thread to finish). The pool keeps all its connections open
    (min_size = max_size), so ``getconn`` after the semaphore does not wait.
    """
    state = request.app.state
    async with state.conn_slots:
        conn = state.pool.getconn(timeout=10)
        try:
            yield conn
        finally:
            state.pool.putconn(conn)


Conn = Annotated[psycopg.Connection, Depends(get_conn)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


async def _caller(request: Request, conn: psycopg.Connection, token: str, kind: str) -> Caller | None:
    """The caller of this token from the process's short-lived cache (api/caller_cache.py), else read from
    the database in a worker thread (a cached caller costs no thread hop and no round trip)."""
    cache = request.app.state.caller_cache
    key = digest(token)
    caller = cache.get(kind, key)
    if caller is None:
        generation = cache.generation
        caller = await run_in_threadpool(lookup_caller, conn, token, kind)
        if caller is not None:
            cache.put(kind, key, caller, generation)
    return caller


async def current_user(
    request: Request,
    conn: Conn,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    session_token: Annotated[str | None, Security(_cookie)] = None,
) -> User:
    """The authenticated caller (401 when not logged in, expired, or CSRF check fails: 403)."""
    if bearer is not None:
        caller = await _caller(request, conn, bearer.credentials, "bearer")
        if caller is None:
            raise _unauthorized(
                "bearer token unknown or expired; create a new one with POST /api/v1/auth/tokens"
            )
        via = "bearer"
    elif session_token:
        caller = await _caller(request, conn, session_token, "session")
        if caller is None:
            raise _unauthorized("session expired; log in again (сеанс истёк, войдите снова)")
        row = caller.session
        via = "cookie"
        if request.method not in SAFE_METHODS:
            header = request.headers.get(CSRF_HEADER, "")
            cookie = request.cookies.get(CSRF_COOKIE, "")
            if not header or header != cookie or not row.csrf_matches(header):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"CSRF check failed: send header {CSRF_HEADER} equal to cookie {CSRF_COOKIE}",
                )
    else:
        raise _unauthorized("not authenticated: log in (POST /api/v1/auth/login) or send a bearer token")
    user = User(
        id=caller.user_id,
        username=caller.username,
        role=Role(caller.role),
        building_ids=frozenset(caller.building_ids),
        account_nos=frozenset(caller.account_nos),
        full_name=caller.full_name,
        via=via,
    )
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


class RoleRequirement:
    """Dependency: 403 unless the caller has one of ``roles``. Introspected by the access-matrix test."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("require_role needs at least one role")
        self.roles = frozenset(Role(r) for r in roles)

    def __call__(self, user: CurrentUser) -> User:
        if user.role not in self.roles:
            allowed = ", ".join(sorted(r.value for r in self.roles))
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs one of the roles: {allowed}")
        return user

    def __repr__(self) -> str:
        return f"require_role({', '.join(sorted(self.roles))})"


def require_role(*roles: Role) -> RoleRequirement:
    return RoleRequirement(*roles)


def ensure_account_access(conn: psycopg.Connection, user: User, account_no: str) -> str:
    """The rule of ``account_access`` for code that finds the account itself (e.g. from a request id)."""
    if user.role is Role.RESIDENT:
        if account_no in user.account_nos:
            return account_no
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"account {account_no} not found among your accounts")
    if user.role in NO_ACCOUNT_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {user.role} role has no access to accounts")
    if conn.execute("SELECT 1 FROM accounts WHERE account_no = %s", (account_no,)).fetchone() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"account {account_no} not found")
    return account_no


def ensure_building_access(conn: psycopg.Connection, user: User, building_id: str) -> str:
    if user.role is Role.RESIDENT:
        if building_id in user.building_ids:
            return building_id
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"building {building_id} not found among your accounts"
        )
    if user.role is Role.ENGINEER and building_id not in user.building_ids:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"building {building_id} is not assigned to you")
    if conn.execute("SELECT 1 FROM buildings WHERE building_id = %s", (building_id,)).fetchone() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"building {building_id} not found")
    return building_id


async def account_access(
    account_no: Annotated[str, Path(min_length=1, max_length=64, description="лицевой счёт")],
    user: CurrentUser,
    conn: Conn,
) -> str:
    """The path's account number if the caller may read it (see module docstring). A resident's answer
    needs no database (their accounts came with the caller): checked on the event loop; staff's in a
    thread."""
    if user.role is Role.RESIDENT:
        return ensure_account_access(conn, user, account_no)
    return await run_in_threadpool(ensure_account_access, conn, user, account_no)


async def building_access(
    building_id: Annotated[str, Path(min_length=1, max_length=64, description="building (МКД) id")],
    user: CurrentUser,
    conn: Conn,
) -> str:
    if user.role is Role.RESIDENT:
        return ensure_building_access(conn, user, building_id)
    return await run_in_threadpool(ensure_building_access, conn, user, building_id)


AccountNo = Annotated[str, Depends(account_access)]
BuildingId = Annotated[str, Depends(building_access)]
