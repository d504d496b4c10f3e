"""The caller's notifications (уведомления) and the management company's contacts.

Notifications: a new receipt of a linked account (derived when the list is read: every closed period
since the account was linked), an answer to a request (written when staff change its status), a new user
linked to one's account, one's password changed or a link revoked (:mod:`meterhub.api.notifications`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from pydantic import BaseModel, Field

from meterhub.api.deps import Conn, CurrentUser, get_settings
from meterhub.api.email_notices import EMAIL_KINDS, email_kinds, set_email_kinds
from meterhub.api.notifications import notify_new_receipts
from meterhub.core.settings import Settings

router = APIRouter(tags=["auth"])

KIND_NAMES = {
    "receipt": "новая квитанция",
    "request_answer": "ответ по заявке",
    "account_linked": "подключение к лицевому счёту",
    "security": "безопасность",
    "announcement": "объявление",
}
DEFAULT_ACCESS_HOWTO = (
    "Логин и пароль выдаёт управляющая компания: обратитесь в офис с паспортом или напишите на её "
    "электронную почту. Затем войдите и привяжите лицевой счёт кодом с последней квитанции "
    "(«Код привязки ЛС в личном кабинете»)."
)


class NotificationOut(BaseModel):
    id: int
    kind: str
    kind_name: str
    account_no: str | None
    text_ru: str
    link: str
    created_at: datetime
    read: bool


class NotificationsOut(BaseModel):
    unread: int
    items: list[NotificationOut]


class EmailKindOut(BaseModel):
    kind: str
    name: str
    enabled: bool


class EmailNotificationsOut(BaseModel):
    email: str | None = Field(description="where the letters go (the profile's e-mail); null: none set")
    mail_configured: bool = Field(description="whether the server can send e-mail at all")
    kinds: list[EmailKindOut]


class EmailNotificationsIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"kinds": ["receipt", "request_answer"]}]}}

    kinds: list[str] = Field(
        max_length=len(EMAIL_KINDS), description=f"the kinds to get by e-mail, of {sorted(EMAIL_KINDS)}"
    )


class ContactsOut(BaseModel):
    company_name: str = Field(description="управляющая компания")
    company_phone: str
    company_email: str
    company_address: str = Field(description="office address and hours")
    emergency_phone: str = Field(description="аварийно-диспетчерская служба, круглосуточно")
    access_howto_ru: str = Field(description="how a resident gets a login and links an account")
    password_recovery: bool = Field(description="whether recovery by e-mail is configured")


@router.get(
    "/me/notifications", summary="The caller's notifications, newest first", response_model=NotificationsOut
)
def my_notifications(user: CurrentUser, conn: Conn) -> NotificationsOut:
    if user.account_nos:
        notify_new_receipts(conn, user.id, user.account_nos)
    rows = conn.execute(
        "SELECT notification_id, kind, account_no, text_ru, link, created_at, read_at IS NOT NULL "
        "FROM api_notifications WHERE user_id = %s ORDER BY created_at DESC, notification_id DESC LIMIT 100",
        (user.id,),
    ).fetchall()
    items = [
        NotificationOut(
            id=r[0],
            kind=r[1],
            kind_name=KIND_NAMES.get(r[1], r[1]),
            account_no=r[2],
            text_ru=r[3],
            link=r[4],
            created_at=r[5],
            read=r[6],
        )
        for r in rows
    ]
    return NotificationsOut(unread=sum(not n.read for n in items), items=items)


@router.post(
    "/me/notifications/read",
    summary="Mark all of the caller's notifications read",
    status_code=status.HTTP_204_NO_CONTENT,
)
def mark_notifications_read(user: CurrentUser, conn: Conn) -> Response:
    conn.execute(
        "UPDATE api_notifications SET read_at = now() WHERE user_id = %s AND read_at IS NULL", (user.id,)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _email_settings(conn, user_id: int, settings: Settings) -> EmailNotificationsOut:
    (email,) = conn.execute("SELECT email FROM api_users WHERE user_id = %s", (user_id,)).fetchone()
    chosen = email_kinds(conn, user_id)
    return EmailNotificationsOut(
        email=email,
        mail_configured=bool(settings.smtp_host),
        kinds=[EmailKindOut(kind=k, name=name, enabled=k in chosen) for k, (name, _) in EMAIL_KINDS.items()],
    )


@router.get(
    "/me/email-notifications",
    summary="Which notifications the caller also gets by e-mail",
    response_model=EmailNotificationsOut,
)
def my_email_notifications(
    user: CurrentUser, conn: Conn, settings: Annotated[Settings, Depends(get_settings)]
) -> EmailNotificationsOut:
    return _email_settings(conn, user.id, settings)


@router.put(
    "/me/email-notifications",
    summary="Choose the notifications to get by e-mail too (an empty list: none)",
    response_model=EmailNotificationsOut,
    responses={422: {"description": "an unknown kind, or kinds chosen without an e-mail in the profile"}},
)
def set_my_email_notifications(
    body: EmailNotificationsIn,
    user: CurrentUser,
    conn: Conn,
    settings: Annotated[Settings, Depends(get_settings)],
) -> EmailNotificationsOut:
    unknown = sorted(set(body.kinds) - set(EMAIL_KINDS))
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown kinds {unknown}; choose of {sorted(EMAIL_KINDS)} (неизвестный вид уведомлений)",
        )
    with conn.transaction():
        (email,) = conn.execute("SELECT email FROM api_users WHERE user_id = %s", (user.id,)).fetchone()
        if body.kinds and not email:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "set an e-mail first (сначала укажите адрес электронной почты в профиле)",
            )
        if user.account_nos:
            # receipts closed before the consent are cabinet notices only, never a burst of old letters
            notify_new_receipts(conn, user.id, user.account_nos)
        set_email_kinds(conn, user.id, body.kinds)
    return _email_settings(conn, user.id, settings)


@router.get(
    "/contacts",
    summary="Public: the management company's and the emergency service's contacts, how to get access",
    response_model=ContactsOut,
)
def contacts(settings: Annotated[Settings, Depends(get_settings)]) -> ContactsOut:
    return ContactsOut(
        company_name=settings.company_name,
        company_phone=settings.company_phone,
        company_email=settings.company_email,
        company_address=settings.company_address,
        emergency_phone=settings.emergency_phone,
        access_howto_ru=settings.access_howto_ru or DEFAULT_ACCESS_HOWTO,
        password_recovery=bool(settings.smtp_host),
    )
