"""One's e-mail address and its confirmation by a link (подтверждение адреса).

``GET /me/email`` — the address in force, whether it is confirmed, a new address waiting for its link.
``PUT /me/email {email}`` — set, change or clear it; a new address gets a one-time confirmation link
``{public_url}/cabinet/confirm-email?token=…`` (valid 24 h); a confirmed address stays in force until the
new one is confirmed and is told of the change. ``POST /me/email/confirmation`` sends the link again
(at most 3 letters an hour). ``POST /auth/email-confirm {token}`` (public: the link may be opened in
another browser) confirms. Staff (admin) read the audit: ``GET /admin/users/{id}/email-history``.
The rules and the storage are in :mod:`meterhub.api.email_confirm`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api.deps import Conn, CurrentUser, get_settings, require_role
from meterhub.api.email_confirm import (
    CONFIRM_HOURS,
    AddressTaken,
    ConfirmationLinkInvalid,
    change_email,
    confirm_email,
    email_events,
    email_state,
    new_confirmation,
    wait_before_next_letter,
)
from meterhub.api.email_notices import queue_fixed_letter, send_letter
from meterhub.api.mailer import send_mail
from meterhub.api.roles import Role, User
from meterhub.core.settings import Settings

router = APIRouter(tags=["auth"])
log = logging.getLogger(__name__)

SettingsDep = Annotated[Settings, Depends(get_settings)]
Admin = Annotated[User, Depends(require_role(Role.ADMIN))]
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,63}$"
ACTION_NAMES = {
    "set": "указан адрес",
    "change_requested": "запрошена смена адреса",
    "confirmed": "адрес подтверждён",
    "cleared": "адрес удалён",
    "confirmed_on_upgrade": "считается подтверждённым (на него уже приходили письма)",
}
TAKEN = "another user has this e-mail (этот адрес указан у другого пользователя)"


class EmailIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ivanova@example.ru"}]})

    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)


class EmailOut(BaseModel):
    email: str | None = Field(description="the address in force (null: none)")
    confirmed: bool = Field(description="whether the address in force is confirmed (only then: letters)")
    pending_email: str | None = Field(
        description="a new address waiting for its confirmation link (the old one stays in force until then)"
    )
    mail_configured: bool = Field(description="whether the server can send e-mail at all")


class ConfirmIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"token": "x" * 43}]})

    token: str = Field(min_length=20, max_length=200)


class ConfirmedOut(BaseModel):
    email: str


class EmailEventOut(BaseModel):
    at: datetime
    action: str
    action_name: str
    old_email: str | None
    new_email: str | None
    actor_name: str


def _out(conn, user_id: int, settings: Settings) -> EmailOut:
    state = email_state(conn, user_id)
    return EmailOut(
        email=state.email,
        confirmed=state.confirmed,
        pending_email=state.pending_email,
        mail_configured=bool(settings.smtp_host),
    )


def _mail_down(exc: OSError, user_id: int) -> HTTPException:
    log.warning("e-mail confirmation letter for user %s failed: %s", user_id, exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "the mail server does not answer; the address is saved, send the letter again later "
        "(почтовый сервер не отвечает; адрес сохранён, отправьте письмо ещё раз позже)",
    )


def _too_many(wait: int) -> HTTPException:
    minutes = max(1, (wait + 59) // 60)
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many confirmation letters; try again in {wait} s "
        f"(слишком много писем для подтверждения, повторите через {minutes} мин)",
        headers={"Retry-After": str(wait)},
    )


def _send_link(conn, settings: Settings, user: User, email: str) -> None:
    """A new confirmation link to ``email`` (inside the caller's transaction); 429 over the limit."""
    wait = wait_before_next_letter(conn, user.id)
    if wait is not None:
        raise _too_many(wait)
    token = new_confirmation(conn, user.id, email)
    if not settings.smtp_host:
        return  # nothing can be sent (nor is any letter used) on this server
    link = f"{settings.public_url.rstrip('/')}/cabinet/confirm-email?token={token}"
    send_mail(
        settings,
        email,
        "Подтверждение адреса электронной почты",
        f"Здравствуйте!\n\nЭтот адрес указан в личном кабинете, логин «{user.username}». Чтобы получать "
        "на него ссылки для восстановления пароля и уведомления, подтвердите его — откройте ссылку "
        f"(она действует {CONFIRM_HOURS} ч и только один раз):\n{link}\n\n"
        "Если вы не указывали этот адрес, просто удалите письмо: без подтверждения писем на него не будет.\n"
        f"\n{settings.company_name}\n",
    )


CHANGE_NOTICE_KIND = "email_changed"  # an outbox kind of its own: no consent, a fixed recipient


def _queue_tell_old(conn, settings: Settings, user: User, old: str, new: str | None) -> int:
    """Queue the notice to the confirmed address ``old`` that it was changed or cleared (in the change's
    transaction, so it is never lost); the letter's outbox id."""
    what = (
        f"указан новый адрес {new}. Он начнёт действовать, когда его подтвердят по ссылке из письма; "
        "до тех пор письма приходят сюда."
        if new
        else "адрес электронной почты удалён: письма на этот адрес больше не придут."
    )
    return queue_fixed_letter(
        conn,
        user.id,
        CHANGE_NOTICE_KIND,
        old,
        "Изменение адреса электронной почты в личном кабинете",
        f"Здравствуйте!\n\nВ личном кабинете (логин «{user.username}») {what}\n\n"
        "Если это сделали не вы, смените пароль в профиле и обратитесь в управляющую компанию.\n"
        f"\n{settings.company_name}\n",
    )


@router.get(
    "/me/email",
    summary="One's e-mail for password recovery and notifications, whether it is confirmed",
    response_model=EmailOut,
)
def my_email(user: CurrentUser, conn: Conn, settings: SettingsDep) -> EmailOut:
    return _out(conn, user.id, settings)


@router.put(
    "/me/email",
    summary="Set, change or clear one's e-mail; a new address is e-mailed a confirmation link",
    response_model=EmailOut,
    responses={
        409: {"description": "another user has that e-mail"},
        429: {"description": "too many confirmation letters this hour"},
        503: {"description": "the mail server does not answer (the address is saved)"},
    },
)
def set_my_email(body: EmailIn, user: CurrentUser, conn: Conn, settings: SettingsDep) -> EmailOut:
    email = body.email.strip().lower() if body.email else None
    failed: OSError | None = None
    with conn.transaction():
        try:
            change = change_email(conn, user, email)
        except AddressTaken:
            raise HTTPException(status.HTTP_409_CONFLICT, TAKEN) from None
        if change.confirm_to:
            try:
                _send_link(conn, settings, user, change.confirm_to)
            except OSError as exc:  # the address change is kept; the resident sends the letter again
                failed = exc
        notice = None
        if change.tell_old and settings.smtp_host:
            notice = _queue_tell_old(conn, settings, user, change.tell_old, email)
    if notice is not None and failed is None:
        # at once (unless the server just failed the link); a failure stays in the outbox row and
        # `meterhub notify send` retries it like every other letter
        result = send_letter(conn, settings, notice, now=lambda: datetime.now(UTC))
        if result.retry or result.failed:
            log.warning(
                "change notice to the old address of user %s not sent yet: %s", user.id, result.line()
            )
    if failed is not None:
        raise _mail_down(failed, user.id)
    return _out(conn, user.id, settings)


@router.post(
    "/me/email/confirmation",
    summary="Send the confirmation link again (to the new or the unconfirmed address)",
    response_model=EmailOut,
    responses={
        409: {"description": "nothing to confirm"},
        429: {"description": "too many confirmation letters this hour"},
        503: {"description": "the mail server does not answer"},
    },
)
def resend_confirmation(user: CurrentUser, conn: Conn, settings: SettingsDep) -> EmailOut:
    with conn.transaction():
        state = email_state(conn, user.id)
        target = state.pending_email or (state.email if not state.confirmed else None)
        if target is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "nothing to confirm (нет адреса, ожидающего подтверждения)",
            )
        try:
            _send_link(conn, settings, user, target)
        except OSError as exc:
            raise _mail_down(exc, user.id) from None
    return _out(conn, user.id, settings)


@router.post(
    "/auth/email-confirm",
    summary="Public: confirm an e-mail address with the one-time token from the letter",
    response_model=ConfirmedOut,
    responses={
        400: {"description": "the link is unknown, used or expired"},
        409: {"description": "another user has confirmed that address meanwhile"},
    },
)
def confirm(body: ConfirmIn, conn: Conn) -> ConfirmedOut:
    with conn.transaction():
        try:
            _, email = confirm_email(conn, body.token)
        except ConfirmationLinkInvalid:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                "the link is invalid, used or expired; send a new one from the profile "
                "(ссылка недействительна или устарела — отправьте письмо ещё раз из профиля)",
            ) from None
        except AddressTaken:
            raise HTTPException(status.HTTP_409_CONFLICT, TAKEN) from None
    return ConfirmedOut(email=email)


@router.get(
    "/admin/users/{user_id}/email-history",
    summary="Admin: the audit of a user's e-mail address (set, change requested, confirmed, cleared)",
    response_model=list[EmailEventOut],
)
def email_history(
    user_id: Annotated[int, Path(ge=1, le=2**63 - 1)], _: Admin, conn: Conn
) -> list[EmailEventOut]:
    return [
        EmailEventOut(
            at=e.at,
            action=e.action,
            action_name=ACTION_NAMES.get(e.action, e.action),
            old_email=e.old_email,
            new_email=e.new_email,
            actor_name=e.actor_name,
        )
        for e in email_events(conn, user_id)
    ]
