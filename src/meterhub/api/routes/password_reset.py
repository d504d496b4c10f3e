"""Password recovery by e-mail (восстановление пароля): a one-time link with a random token.

``POST /auth/password-reset {login}`` (username or e-mail) always answers 202 with the same text, so it
does not tell whether an account exists; when it does, is active and has a confirmed e-mail
(:mod:`meterhub.api.email_confirm`; an unconfirmed address gets nothing), a link
``{public_url}/cabinet/recover?token=…`` valid ``password_reset_minutes`` is sent. Only the token's
SHA-256 digest is stored. ``POST /auth/password-reset/confirm {token, new_password}`` sets the password
once (the password policy applies), ends every session and token of the user and spends every other
pending link. Requests are rate-limited per login and per client address like logins.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api.deps import Conn, get_settings
from meterhub.api.mailer import send_mail
from meterhub.api.notifications import notify
from meterhub.api.passwords import PasswordPolicyError
from meterhub.api.routes.auth import reserve_attempt
from meterhub.api.sessions import digest
from meterhub.api.users_store import set_password
from meterhub.core.settings import Settings

router = APIRouter(tags=["auth"])
log = logging.getLogger(__name__)

SettingsDep = Annotated[Settings, Depends(get_settings)]
SENT = (
    "if the login or e-mail belongs to an account with an e-mail address, a link was sent "
    "(если логин или адрес указан в кабинете, мы отправили письмо со ссылкой)"
)


class ResetRequestIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"login": "ivanova@example.ru"}]})

    login: str = Field(min_length=1, max_length=254, description="username or e-mail")


class ResetConfirmIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "x" * 43, "new_password": "Ветер-в-поле-42"}]}
    )

    token: str = Field(min_length=20, max_length=200)
    new_password: str = Field(min_length=1, max_length=256)


class Accepted(BaseModel):
    detail: str


def _reset_text(settings: Settings, username: str, link: str) -> str:
    return (
        f"Здравствуйте!\n\nКто-то (возможно, вы) попросил восстановить пароль от личного кабинета, логин "
        f"«{username}».\n\nЧтобы задать новый пароль, откройте ссылку (она действует "
        f"{settings.password_reset_minutes} мин и только один раз):\n{link}\n\n"
        "Если вы не просили восстановить пароль, просто удалите это письмо: пароль останется прежним.\n"
    )


@router.post(
    "/auth/password-reset",
    summary="Public: e-mail a one-time password-reset link (the answer is the same whether or not the "
    "account exists)",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        404: {"description": "recovery by e-mail is not configured on this server"},
        429: {"description": "too many requests"},
        503: {"description": "the mail server does not answer"},
    },
)
def request_reset(body: ResetRequestIn, request: Request, conn: Conn, settings: SettingsDep) -> Accepted:
    if not settings.smtp_host:
        raise HTTPException(  # not offered on this server (404): no 5xx for anybody's input
            status.HTTP_404_NOT_FOUND,
            "password recovery by e-mail is not configured; ask the management company "
            "(восстановление по почте не настроено — обратитесь в управляющую компанию)",
        )
    login = body.login.strip().lower()
    # every request counts (a reservation never released): each may send a letter
    reserve_attempt(conn, settings, request, "password_reset", login, per_pair=3, per_subject=5)
    row = conn.execute(
        "SELECT user_id, username, email FROM api_users "
        "WHERE active AND email IS NOT NULL AND email_confirmed_at IS NOT NULL "
        "AND (username = %s OR lower(email) = %s)",
        (login, login),
    ).fetchone()
    if row is None:
        return Accepted(detail=SENT)
    user_id, username, email = row
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO api_password_resets (token_digest, user_id, expires_at) VALUES (%s, %s, now() + %s)",
        (digest(token), user_id, timedelta(minutes=settings.password_reset_minutes)),
    )
    link = f"{settings.public_url.rstrip('/')}/cabinet/recover?token={token}"
    try:
        send_mail(
            settings,
            email,
            "Восстановление пароля от личного кабинета",
            _reset_text(settings, username, link),
        )
    except OSError as exc:  # the SMTP server is down: say so (it is not about the account)
        log.warning("password reset e-mail to user %s failed: %s", user_id, exc)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the mail server does not answer; try again later "
            "(почтовый сервер не отвечает, попробуйте позже)",
        ) from None
    return Accepted(detail=SENT)


@router.post(
    "/auth/password-reset/confirm",
    summary="Public: set a new password with the one-time token from the e-mail",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        400: {"description": "the link is unknown, used or expired"},
        422: {"description": "the new password is too weak, with the reason"},
    },
)
def confirm_reset(body: ResetConfirmIn, conn: Conn) -> Response:
    with conn.transaction():
        row = conn.execute(
            "SELECT user_id FROM api_password_resets WHERE token_digest = %s AND used_at IS NULL "
            "AND expires_at > now() FOR UPDATE",
            (digest(body.token),),
        ).fetchone()
        if row is None:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                "the link is invalid, used or expired; ask for a new one "
                "(ссылка недействительна или устарела — запросите новую)",
            )
        try:
            set_password(conn, row[0], body.new_password)  # also spends every pending link of the user
        except PasswordPolicyError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
        notify(
            conn,
            [row[0]],
            "security",
            "Пароль восстановлен по ссылке из письма; все сеансы и токены завершены",
            subject_key=f"reset:{digest(body.token)}",
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
