"""Bearer tokens for scripts and the caller's own sessions: create (from a cabinet session only, within
the role's longest lifetime), list, revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api.client_address import client_ip
from meterhub.api.deps import SESSION_COOKIE, Conn, CurrentUser, get_settings
from meterhub.api.roles import Role
from meterhub.api.sessions import digest, issue_bearer
from meterhub.core.settings import Settings

router = APIRouter(tags=["auth"])

SettingsDep = Annotated[Settings, Depends(get_settings)]


class TokenIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "nightly import", "days": 30}]})

    name: str = Field(min_length=1, max_length=100, description="what the token is for")
    days: int | None = Field(
        default=None, ge=1, le=3650, description="lifetime; default and maximum depend on the role"
    )


class TokenOut(BaseModel):
    id: int = Field(description="revoke with DELETE /auth/tokens/{id}")
    token: str = Field(description="send as `Authorization: Bearer <token>`; shown once")
    expires_at: datetime


class SessionOut(BaseModel):
    id: int
    kind: str = Field(description="session (a cabinet login) or bearer (a script's token)")
    kind_name: str = Field(description="сеанс в браузере / токен для программ")
    name: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    client_ip: str | None
    current: bool = Field(description="the session or token of this request")


def max_token_days(settings: Settings, role: Role) -> int:
    """The longest bearer token a role may create [days]."""
    return {
        Role.RESIDENT: settings.token_max_days_resident,
        Role.ENGINEER: settings.token_max_days_engineer,
        Role.ACCOUNTANT: settings.token_max_days_accountant,
        Role.ADMIN: settings.token_max_days_admin,
    }[role]


def _current_digest(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return digest(auth.split(" ", 1)[1].strip())
    return digest(request.cookies.get(SESSION_COOKIE, ""))


@router.post(
    "/auth/tokens",
    summary="Create a bearer token for scripts (shown once); only from a cabinet session",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "a token cannot create tokens"},
        422: {"description": "longer than the role allows"},
    },
)
def create_token(
    body: TokenIn, request: Request, user: CurrentUser, conn: Conn, settings: SettingsDep
) -> TokenOut:
    if user.via != "cookie":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "a token cannot create tokens; log in (POST /api/v1/auth/login) and create it from the session",
        )
    longest = max_token_days(settings, user.role)
    if body.days is not None and body.days > longest:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            f"a {user.role.value}'s token lives at most {longest} days; ask for fewer "
            f"(не более {longest} дн.)",
        )
    days = body.days or min(settings.token_lifetime_days, longest)
    issued = issue_bearer(conn, user.id, timedelta(days=days), body.name, client_ip(request))
    (token_id,) = conn.execute(
        "SELECT session_id FROM api_sessions WHERE token_digest = %s", (digest(issued.token),)
    ).fetchone()
    return TokenOut(id=token_id, token=issued.token, expires_at=issued.expires_at)


@router.get(
    "/auth/tokens",
    summary="The caller's live cabinet sessions and bearer tokens (never the secrets)",
    response_model=list[SessionOut],
)
def list_my_tokens(request: Request, user: CurrentUser, conn: Conn) -> list[SessionOut]:
    current = _current_digest(request)
    rows = conn.execute(
        "SELECT session_id, kind, name, created_at, last_used_at, expires_at, client_ip, token_digest "
        "FROM api_sessions WHERE user_id = %s AND expires_at > now() ORDER BY created_at DESC",
        (user.id,),
    ).fetchall()
    return [
        SessionOut(
            id=r[0],
            kind=r[1],
            kind_name="сеанс в браузере" if r[1] == "session" else "токен для программ",
            name=r[2],
            created_at=r[3],
            last_used_at=r[4],
            expires_at=r[5],
            client_ip=r[6],
            current=r[7] == current,
        )
        for r in rows
    ]


@router.delete(
    "/auth/tokens/{token_id}",
    summary="Revoke one of the caller's sessions or tokens",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such session or token of yours"}},
)
def revoke_my_token(
    token_id: Annotated[int, Path(ge=1, le=2**62, description="id from GET /auth/tokens")],
    user: CurrentUser,
    conn: Conn,
) -> Response:
    deleted = conn.execute(
        "DELETE FROM api_sessions WHERE session_id = %s AND user_id = %s", (token_id, user.id)
    ).rowcount
    if not deleted:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no session or token {token_id} of yours")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
