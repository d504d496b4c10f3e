"""Announcements (объявления): planned outages (плановые отключения) and information campaigns for one
building, the buildings of a street (matched in their address) or all buildings. Publishing resolves the
buildings, and queues an e-mail and/or SMS for every resident of them who opted in
(``sd_announcement_optins``); the cabinet shows the current and coming ones of the account's building."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from meterhub.servicedesk.notify import queue_notification
from meterhub.servicedesk.requests_store import RequestError

__all__ = ["Announcement", "Published", "announcements_for_building", "publish_announcement", "set_optin"]

KIND_NAMES = {"planned_outage": "Плановое отключение", "campaign": "Информация"}


@dataclass(frozen=True)
class Announcement:
    kind: str
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime
    building_id: str | None = None
    street: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class Published:
    announcement_id: int
    buildings: list[str]
    resident_user_ids: list[int]  # every active resident linked to an account there (cabinet notifications)
    queued: int  # e-mails and SMS to those who opted in


def publish_announcement(conn: psycopg.Connection, a: Announcement, *, actor: int | None = None) -> Published:
    if a.kind not in KIND_NAMES:
        raise RequestError(f"kind must be one of {sorted(KIND_NAMES)}")
    if a.ends_at <= a.starts_at:
        raise RequestError("the announcement must end after it starts")
    if a.building_id and a.street:
        raise RequestError("give a building or a street, not both")
    if a.building_id:
        buildings = [
            r[0]
            for r in conn.execute(
                "SELECT building_id FROM buildings WHERE building_id = %s", (a.building_id,)
            )
        ]
    elif a.street:
        pattern = "%" + a.street.strip().lower().replace("%", r"\%") + "%"
        buildings = [
            r[0]
            for r in conn.execute(
                "SELECT building_id FROM buildings WHERE lower(address) LIKE %s ORDER BY building_id",
                (pattern,),
            )
        ]
    else:
        buildings = [r[0] for r in conn.execute("SELECT building_id FROM buildings ORDER BY building_id")]
    if not buildings:
        raise RequestError("no building matches; check the building id or the street")
    (aid,) = conn.execute(
        "INSERT INTO sd_announcements (kind, title, body, service, building_id, street, starts_at, ends_at,"
        " created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING announcement_id",
        (
            a.kind,
            a.title.strip(),
            a.body.strip(),
            a.service,
            a.building_id,
            a.street,
            a.starts_at,
            a.ends_at,
            actor,
        ),
    ).fetchone()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO sd_announcement_buildings VALUES (%s, %s)", [(aid, b) for b in buildings]
        )
    residents = conn.execute(
        # an e-mail only to a confirmed address (docs/api.md, "E-mail addresses are confirmed")
        "SELECT DISTINCT u.user_id, CASE WHEN u.email_confirmed_at IS NOT NULL THEN u.email END,"
        " o.by_email, o.by_sms, o.phone FROM api_users u"
        " JOIN api_user_accounts ua USING (user_id) JOIN accounts ac ON ac.account_no = ua.account_no"
        " LEFT JOIN sd_announcement_optins o ON o.user_id = u.user_id"
        " WHERE u.active AND u.role = 'resident' AND ac.building_id = ANY(%s) ORDER BY u.user_id",
        (buildings,),
    ).fetchall()
    subject = f"{KIND_NAMES[a.kind]}: {a.title.strip()}"
    (zone_name,) = conn.execute(
        "SELECT time_zone FROM buildings WHERE building_id = %s", (buildings[0],)
    ).fetchone()
    zone = ZoneInfo(zone_name)
    start, end = a.starts_at.astimezone(zone), a.ends_at.astimezone(zone)
    when = f"с {start:%d.%m.%Y %H:%M} по {end:%d.%m.%Y %H:%M} (время {zone_name})"
    queued = 0
    for _uid, email, by_email, by_sms, phone in residents:
        if by_email and email:
            queue_notification(conn, "email", email, subject, f"{subject}\n{when}\n\n{a.body.strip()}", None)
            queued += 1
        if by_sms and phone:
            queue_notification(conn, "sms", phone, subject, f"{subject} {when}", None)
            queued += 1
    return Published(aid, buildings, [r[0] for r in residents], queued)


def announcements_for_building(conn: psycopg.Connection, building_id: str, now: datetime) -> list[dict]:
    """Current and coming announcements of a building, the soonest first."""
    rows = conn.execute(
        "SELECT a.announcement_id, a.kind, a.title, a.body, a.service, a.starts_at, a.ends_at"
        " FROM sd_announcements a JOIN sd_announcement_buildings ab USING (announcement_id)"
        " WHERE ab.building_id = %s AND a.ends_at > %s ORDER BY a.starts_at, a.announcement_id",
        (building_id, now),
    ).fetchall()
    keys = ("announcement_id", "kind", "title", "body", "service", "starts_at", "ends_at")
    return [dict(zip(keys, r, strict=True)) | {"kind_name": KIND_NAMES[r[1]]} for r in rows]


def set_optin(conn: psycopg.Connection, user_id: int, by_email: bool, by_sms: bool, phone: str) -> None:
    if by_sms and not phone.strip():
        raise RequestError("give a phone number for SMS")
    conn.execute(
        "INSERT INTO sd_announcement_optins (user_id, by_email, by_sms, phone) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (user_id) DO UPDATE SET by_email = EXCLUDED.by_email, by_sms = EXCLUDED.by_sms,"
        " phone = EXCLUDED.phone, updated_at = now()",
        (user_id, by_email, by_sms, phone.strip()),
    )
