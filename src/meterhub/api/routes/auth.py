"""Login, logout, the caller, bearer tokens and linking an account by the code on the receipt."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api import rate_limit
from meterhub.api.deps import CSRF_COOKIE, SESSION_COOKIE, Conn, CurrentUser, get_settings
from meterhub.api.link_codes import account_link_code, codes_equal, normalize_code
from meterhub.api.passwords import verify_password
from meterhub.api.roles import Role
from meterhub.api.schemas import UserOut
from meterhub.api.sessions import digest, issue_bearer, issue_session, revoke
from meterhub.api.users_store import get_user_record, link_account, load_user
from meterhub.core.settings import Settings

router = APIRouter(tags=["auth"])

SettingsDep = Annotated[Settings, Depends(get_settings)]


class LoginIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "ivanova", "password": "s3cret-pass"}]}
    )

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="the same value as cookie mh_csrf; send it as X-CSRF-Token")
    expires_at: datetime


class TokenIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "nightly import", "days": 30}]})

    name: str = Field(min_length=1, max_length=100, description="what the token is for")
    days: int | None = Field(default=None, ge=1, le=3650, description="lifetime; default from settings")


class TokenOut(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer <token>`; shown once")
    expires_at: datetime


class LinkIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"account_no": "100001", "code": "7K3M-Q9TD"}]})

    account_no: str = Field(min_length=1, max_length=64, description="лицевой счёт from the receipt")
    code: str = Field(min_length=4, max_length=32, description="код привязки printed on the receipt")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_limit(settings: Settings) -> rate_limit.Limit:
    return rate_limit.Limit(
        "login",
        settings.login_rate_window_seconds,
        settings.login_max_failures_per_user,
        settings.login_max_failures_per_ip,
    )


def _too_many(wait: int, what: str) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many failed {what}; try again in {wait} s (слишком много неудачных попыток)",
        headers={"Retry-After": str(wait)},
    )


@router.post(
    "/auth/login",
    summary="Log in (cabinet): sets the session and CSRF cookies",
    response_model=LoginOut,
    responses={401: {"description": "wrong username or password"}, 429: {"description": "rate-limited"}},
)
def login(body: LoginIn, request: Request, response: Response, conn: Conn, settings: SettingsDep) -> LoginOut:
    username = body.username.strip().lower()
    ip = client_ip(request)
    limit = _login_limit(settings)
    wait = rate_limit.check(conn, limit, username, ip)
    if wait is not None:
        raise _too_many(wait, "logins")
    rec = get_user_record(conn, username=username)
    ok, rehash = verify_password(rec.password_hash if rec and rec.active else None, body.password)
    if not ok or rec is None:
        rate_limit.record_failure(conn, limit, username, ip)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong username or password (неверный логин или пароль)"
        )
    rate_limit.clear(conn, limit, username)
    if rehash:
        conn.execute("UPDATE api_users SET password_hash = %s WHERE user_id = %s", (rehash, rec.id))
    issued = issue_session(conn, rec.id, timedelta(seconds=settings.session_lifetime_seconds), ip)
    max_age = settings.session_lifetime_seconds
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        issued.csrf_token or "",
        max_age=max_age,
        httponly=False,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    user = load_user(conn, rec.id, "cookie")
    assert user is not None
    return LoginOut(user=UserOut.of(user), csrf_token=issued.csrf_token or "", expires_at=issued.expires_at)


@router.post(
    "/auth/logout",
    summary="Log out: ends this session (or revokes this bearer token) and clears the cookies",
    status_code=status.HTTP_204_NO_CONTENT,
)
def logout(request: Request, response: Response, user: CurrentUser, conn: Conn) -> Response:
    if user.via == "cookie":
        revoke(conn, request.cookies.get(SESSION_COOKIE, ""))
    else:
        auth = request.headers.get("authorization", "")
        revoke(conn, auth.split(" ", 1)[-1].strip())
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", summary="The logged-in user, role, buildings and linked accounts", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)


@router.post(
    "/auth/tokens",
    summary="Create a bearer token for scripts (shown once)",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
)
def create_token(
    body: TokenIn, request: Request, user: CurrentUser, conn: Conn, settings: SettingsDep
) -> TokenOut:
    days = body.days or settings.token_lifetime_days
    issued = issue_bearer(conn, user.id, timedelta(days=days), body.name, client_ip(request))
    return TokenOut(token=issued.token, expires_at=issued.expires_at)


@router.post(
    "/me/accounts",
    summary="Link an account (лицевой счёт) by its number and the one-time code on the receipt",
    response_model=UserOut,
    responses={
        400: {"description": "wrong code, or the code was used already"},
        403: {"description": "only residents link accounts"},
        429: {"description": "too many wrong codes"},
    },
)
def link_my_account(
    body: LinkIn, request: Request, user: CurrentUser, conn: Conn, settings: SettingsDep
) -> UserOut:
    if user.role is not Role.RESIDENT:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only residents link accounts; staff see accounts by role"
        )
    account_no = body.account_no.strip()
    ip = client_ip(request)
    limit = rate_limit.Limit(
        "link_code",
        settings.login_rate_window_seconds,
        settings.link_max_failures_per_user,
        settings.login_max_failures_per_ip,
    )
    subject = str(user.id)
    wait = rate_limit.check(conn, limit, subject, ip)
    if wait is not None:
        raise _too_many(wait, "link codes")
    wrong = HTTPException(
        status.HTTP_400_BAD_REQUEST,
        "account number or code is wrong; check the receipt (неверный номер счёта или код привязки)",
    )
    exists = conn.execute("SELECT 1 FROM accounts WHERE account_no = %s", (account_no,)).fetchone()
    if exists is None or not codes_equal(body.code, account_link_code(account_no, settings.secret_key)):
        rate_limit.record_failure(conn, limit, subject, ip)
        raise wrong
    if account_no in user.account_nos:
        return UserOut.of(user)
    code_digest = digest(normalize_code(body.code))
    with conn.transaction():
        redeemed = conn.execute(
            "INSERT INTO api_link_code_redemptions (account_no, code_digest, user_id) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (account_no, code_digest, user.id),
        ).rowcount
        if not redeemed:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                "this code was used already; ask the management company to link the account "
                "(код уже использован — обратитесь в управляющую компанию)",
            )
        link_account(conn, user.id, account_no, "receipt_code")
    fresh = load_user(conn, user.id, user.via)
    assert fresh is not None
    return UserOut.of(fresh)
