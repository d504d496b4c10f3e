"""Login, logout, the caller and the self-service password change."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api import rate_limit
from meterhub.api.client_address import DEVICE_COOKIE, client_ip, device_id_for, new_device_cookie
from meterhub.api.deps import CSRF_COOKIE, SESSION_COOKIE, Conn, CurrentUser, get_settings
from meterhub.api.notifications import notify
from meterhub.api.passwords import PasswordPolicyError, verify_password
from meterhub.api.schemas import UserOut
from meterhub.api.sessions import digest, issue_session, revoke
from meterhub.api.users_store import get_user_record, load_user, set_password
from meterhub.core.settings import Settings

router = APIRouter(tags=["auth"])

SettingsDep = Annotated[Settings, Depends(get_settings)]
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (RFC 6265bis)


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


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"current_password": "old-pass-1", "new_password": "new-long-pass"}]}
    )

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


def reserve_attempt(
    conn,
    settings: Settings,
    request: Request,
    kind: str,
    subject: str,
    *,
    per_pair: int,
    per_subject: int,
    device: str | None = None,
) -> rate_limit.Attempt:
    """Reserve one attempt of ``kind`` for ``subject`` from this client (per client address: the login
    limit), or refuse with 429 and Retry-After (:mod:`meterhub.api.rate_limit`)."""
    limit = rate_limit.Limit(
        kind,
        settings.login_rate_window_seconds,
        per_pair=per_pair,
        per_client=settings.login_max_failures_per_ip,
        per_subject=per_subject,
    )
    attempt = rate_limit.reserve(conn, limit, subject, client_ip(request), device)
    if attempt.wait is not None:
        raise too_many(attempt.wait)
    return attempt


def too_many(wait: int) -> HTTPException:
    minutes = max(1, (wait + 59) // 60)
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many failed attempts; try again in {wait} s "
        f"(слишком много неудачных попыток, повторите через {minutes} мин)",
        headers={"Retry-After": str(wait)},
    )


def set_session_cookies(response: Response, settings: Settings, token: str, csrf: str) -> None:
    for name, value, http_only in ((SESSION_COOKIE, token, True), (CSRF_COOKIE, csrf, False)):
        response.set_cookie(
            name,
            value,
            max_age=settings.session_lifetime_seconds,
            httponly=http_only,
            samesite="lax",
            secure=settings.cookie_secure,
            path="/",
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
    device = device_id_for(request, settings.secret_key, username)
    attempt = reserve_attempt(
        conn,
        settings,
        request,
        "login",
        username,
        per_pair=settings.login_max_failures_per_user,
        per_subject=settings.login_max_failures_per_account,
        device=device,
    )
    rec = get_user_record(conn, username=username)
    ok, rehash = verify_password(rec.password_hash if rec and rec.active else None, body.password)
    if not ok or rec is None:  # the reserved attempt stays as a failure
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong username or password (неверный логин или пароль)"
        )
    rate_limit.succeeded(conn, attempt)
    if rehash:
        conn.execute("UPDATE api_users SET password_hash = %s WHERE user_id = %s", (rehash, rec.id))
    issued = issue_session(conn, rec.id, timedelta(seconds=settings.session_lifetime_seconds), ip)
    set_session_cookies(response, settings, issued.token, issued.csrf_token or "")
    if device is None:
        response.set_cookie(
            DEVICE_COOKIE,
            new_device_cookie(settings.secret_key, username),
            max_age=DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
            path="/api/v1/auth/",
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


@router.put(
    "/me/password",
    summary="Change one's own password (cabinet session only); ends every other session and token",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        400: {"description": "the current password is wrong"},
        403: {"description": "a bearer token cannot change the password"},
        422: {"description": "the new password is too weak, with the reason"},
        429: {"description": "too many wrong current passwords"},
    },
)
def change_my_password(
    body: PasswordChangeIn, request: Request, user: CurrentUser, conn: Conn, settings: SettingsDep
) -> Response:
    if user.via != "cookie":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "change the password in the cabinet, not with a token (смените пароль в личном кабинете)",
        )
    per_user = settings.login_max_failures_per_user
    attempt = reserve_attempt(
        conn, settings, request, "password_change", str(user.id), per_pair=per_user, per_subject=per_user
    )
    rec = get_user_record(conn, user_id=user.id)
    ok, _ = verify_password(rec.password_hash if rec else None, body.current_password)
    if not ok:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "the current password is wrong (текущий пароль введён неверно)"
        )
    rate_limit.succeeded(conn, attempt)
    if body.new_password == body.current_password:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "the new password is the same as the current one (новый пароль совпадает с текущим)",
        )
    try:
        with conn.transaction():
            keep = digest(request.cookies.get(SESSION_COOKIE, ""))
            set_password(conn, user.id, body.new_password, keep_session=keep)
            notify(
                conn,
                [user.id],
                "security",
                "Пароль изменён; другие сеансы и токены завершены",
                subject_key=f"password:{datetime.now().isoformat()}",
            )
    except PasswordPolicyError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
