"""Announcements in the API (docs/requests.md): the operator publishes a planned outage or a campaign for
a building, a street or everyone; residents see the current ones of their account's building and choose
whether to get them by e-mail or SMS."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import AwareDatetime, BaseModel, Field

from meterhub.api.deps import AccountNo, Conn, require_role
from meterhub.api.notifications import notify
from meterhub.api.roles import Role, User
from meterhub.api.routes.servicedesk import Operator, _now
from meterhub.servicedesk.announcements import (
    Announcement,
    announcements_for_building,
    publish_announcement,
    set_optin,
)
from meterhub.servicedesk.requests_store import RequestError

router = APIRouter(prefix="/servicedesk", tags=["servicedesk"])
Resident = Annotated[User, Depends(require_role(Role.RESIDENT))]


class AnnouncementIn(BaseModel):
    kind: Literal["planned_outage", "campaign"]
    title: str = Field(min_length=1, max_length=200, examples=["Отключение горячей воды"])
    body: str = Field(min_length=1, max_length=4000)
    service: str | None = Field(default=None, max_length=40)
    building_id: str | None = Field(default=None, max_length=40, description="one building, or")
    street: str | None = Field(default=None, min_length=2, max_length=100, description="every building on it")
    starts_at: AwareDatetime
    ends_at: AwareDatetime


@router.post(
    "/announcements",
    summary="Publish an announcement; opted-in residents get it by e-mail/SMS",
    status_code=status.HTTP_201_CREATED,
)
def publish(body: AnnouncementIn, user: Operator, conn: Conn) -> dict:
    try:
        with conn.transaction():
            done = publish_announcement(conn, Announcement(**body.model_dump()), actor=user.id)
            notify(
                conn,
                done.resident_user_ids,
                "announcement",
                f"{body.title}: {body.body}"[:500],
                subject_key=str(done.announcement_id),
                link="/cabinet/requests",
            )
    except RequestError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return {
        "announcement_id": done.announcement_id,
        "buildings": done.buildings,
        "residents": len(done.resident_user_ids),
        "sent_by_email_or_sms": done.queued,
    }


@router.get(
    "/accounts/{account_no}/announcements", summary="Current and coming announcements of the building"
)
def account_announcements(account_no: AccountNo, conn: Conn) -> list[dict]:
    (building,) = conn.execute(
        "SELECT building_id FROM accounts WHERE account_no = %s", (account_no,)
    ).fetchone()
    return announcements_for_building(conn, building, _now())


class OptinIn(BaseModel):
    by_email: bool = False
    by_sms: bool = False
    phone: str = Field(default="", max_length=30, pattern=r"^$|^\+?[0-9][0-9 ()-]{6,}$")


@router.get("/announcement-optin", summary="Whether I get announcements by e-mail or SMS")
def get_optin(conn: Conn, user: Resident) -> OptinIn:
    row = conn.execute(
        "SELECT by_email, by_sms, phone FROM sd_announcement_optins WHERE user_id = %s", (user.id,)
    ).fetchone()
    return OptinIn(by_email=row[0], by_sms=row[1], phone=row[2]) if row else OptinIn()


@router.put("/announcement-optin", summary="Get announcements by e-mail and/or SMS (or stop)")
def put_optin(body: OptinIn, conn: Conn, user: Resident) -> OptinIn:
    try:
        with conn.transaction():
            set_optin(conn, user.id, body.by_email, body.by_sms, body.phone)
    except RequestError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return body
