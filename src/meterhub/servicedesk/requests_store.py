"""Requests in the database: registration by any channel with deadlines, routing, assignment,
escalation, answers and closing. Status changes go to ``api_request_history`` (what the resident sees);
everything else to ``sd_request_events``. The caller owns the transaction; ``now`` is injected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg

from meterhub.servicedesk.deadlines import HoursKind, WorkCalendar, deadlines_for
from meterhub.servicedesk.notify import notify_applicant, notify_executor
from meterhub.servicedesk.routing import Route, RoutingError, escalation_level, route_request

__all__ = [
    "CABINET_TOPIC_CATEGORY",
    "CHANNELS",
    "NewRequest",
    "RequestError",
    "assign",
    "close_request",
    "escalate_overdue",
    "file_cabinet_request",
    "load_calendar",
    "log_event",
    "register_request",
    "resolve",
    "respond",
]

CHANNELS = {
    "web": "личный кабинет",
    "phone": "телефон",
    "walk_in": "личный приём",
    "email": "электронная почта",
    "letter": "письмо",
    "fax": "факс",
}
CABINET_TOPIC_CATEGORY = {
    "plumbing": "fault",
    "electrical": "fault",
    "heating": "fault",
    "common_areas": "fault",
    "meters": "meter_service",
    "billing": "billing_claim",
    "other": "other",
}
"""The cabinet's topics (api_requests.category) → the deadline category of a request filed on the web."""


class RequestError(ValueError):
    pass


@dataclass(frozen=True)
class NewRequest:
    channel: str
    category: str  # sd_categories.category
    text: str
    account_no: str | None = None
    building_id: str | None = None
    applicant: str = ""
    contact: str = ""
    topic: str = "other"  # the cabinet's topic, kept for the resident's view


def load_calendar(conn: psycopg.Connection, zone: str) -> WorkCalendar:
    week = {wd: (o, c) for wd, o, c in conn.execute("SELECT weekday, opens, closes FROM sd_working_hours")}
    days = conn.execute("SELECT day, kind FROM sd_calendar_days").fetchall()
    return WorkCalendar(
        week=week,
        holidays=frozenset(d for d, k in days if k == "holiday"),
        workdays=frozenset(d for d, k in days if k == "workday"),
        zone=ZoneInfo(zone),
    )


def log_event(
    conn: psycopg.Connection,
    request_id: int,
    kind: str,
    text: str = "",
    *,
    actor: int | None = None,
    executor_id: int | None = None,
    at: datetime | None = None,
) -> None:
    conn.execute(
        "INSERT INTO sd_request_events (request_id, kind, executor_id, text, actor, at)"
        " VALUES (%s, %s, %s, %s, %s, COALESCE(%s, now()))",
        (request_id, kind, executor_id, text, actor, at),
    )


def _status(conn, request_id: int, status: str, comment: str, actor: int | None, now: datetime) -> None:
    conn.execute(
        "UPDATE api_requests SET status = %s, updated_at = %s WHERE request_id = %s",
        (status, now, request_id),
    )
    conn.execute(
        "INSERT INTO api_request_history (request_id, status, comment, changed_by, changed_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (request_id, status, comment, actor, now),
    )


def register_request(
    conn: psycopg.Connection, new: NewRequest, now: datetime, *, actor: int | None = None
) -> int:
    """Store a request with its deadlines and route it; returns its number. A category without a route
    stays unassigned (the operator's queue shows it) rather than being refused."""
    if new.channel not in CHANNELS:
        raise RequestError(f"unknown channel {new.channel!r}; one of {sorted(CHANNELS)}")
    if not new.text.strip():
        raise RequestError("the request has no text")
    building = new.building_id
    if new.account_no is not None:
        row = conn.execute(
            "SELECT building_id FROM accounts WHERE account_no = %s", (new.account_no,)
        ).fetchone()
        if row is None:
            raise RequestError(f"unknown account {new.account_no!r}")
        building = row[0]
    if building is None:
        raise RequestError("a request needs an account or a building")
    zone = conn.execute("SELECT time_zone FROM buildings WHERE building_id = %s", (building,)).fetchone()
    if zone is None:
        raise RequestError(f"unknown building {building!r}")
    cat = conn.execute(
        "SELECT response_hours, resolution_hours, hours_kind FROM sd_categories WHERE category = %s",
        (new.category,),
    ).fetchone()
    if cat is None:
        raise RequestError(f"unknown category {new.category!r}; see sd_categories")
    due = deadlines_for(
        now, Decimal(cat[0]), Decimal(cat[1]), HoursKind(cat[2]), load_calendar(conn, zone[0])
    )
    (request_id,) = conn.execute(
        "INSERT INTO api_requests (account_no, category, text, created_by, created_at, updated_at, channel,"
        " sd_category, building_id, applicant, contact, registered_by, response_due_at, resolution_due_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING request_id",
        (
            new.account_no,
            new.topic,
            new.text.strip()[:4000],
            actor if new.channel == "web" else None,
            now,
            now,
            new.channel,
            new.category,
            building,
            new.applicant,
            new.contact,
            actor,
            due.response_due,
            due.resolution_due,
        ),
    ).fetchone()
    conn.execute(
        "INSERT INTO api_request_history (request_id, status, changed_by, changed_at)"
        " VALUES (%s, 'new', %s, %s)",
        (request_id, actor, now),
    )
    log_event(conn, request_id, "registered", CHANNELS[new.channel], actor=actor, at=now)
    routes = [
        Route(c, b, e)
        for c, b, e in conn.execute(
            "SELECT r.category, r.building_id, r.executor_id FROM sd_routes r"
            " JOIN sd_executors x USING (executor_id) WHERE x.active"
        )
    ]
    try:
        executor = route_request(new.category, building, routes)
    except RoutingError as exc:
        log_event(conn, request_id, "comment", f"не назначен исполнитель: {exc}", at=now)
    else:
        assign(conn, request_id, executor, now, comment="по маршруту категории")
    return request_id


def file_cabinet_request(
    conn: psycopg.Connection, account_no: str, topic: str, text: str, user_id: int, now: datetime
) -> int:
    """A request a resident files in the cabinet (channel web) on one of the cabinet's topics."""
    category = CABINET_TOPIC_CATEGORY.get(topic, "other")
    new = NewRequest("web", category, text, account_no=account_no, topic=topic)
    return register_request(conn, new, now, actor=user_id)


def assign(
    conn: psycopg.Connection,
    request_id: int,
    executor_id: int,
    now: datetime,
    *,
    actor: int | None = None,
    comment: str = "",
) -> None:
    """Give the request to an executor (the first time: assignment, later: re-assignment); a new
    request goes into work."""
    row = conn.execute(
        "SELECT executor_id, status FROM api_requests WHERE request_id = %s FOR UPDATE", (request_id,)
    ).fetchone()
    if row is None:
        raise RequestError(f"request {request_id} not found")
    name = conn.execute("SELECT name FROM sd_executors WHERE executor_id = %s", (executor_id,)).fetchone()
    if name is None:
        raise RequestError(f"executor {executor_id} not found")
    if row[1] in ("closed", "rejected"):
        raise RequestError(f"request {request_id} is {row[1]}; reopen it first")
    conn.execute("UPDATE api_requests SET executor_id = %s WHERE request_id = %s", (executor_id, request_id))
    kind = "assigned" if row[0] is None else "reassigned"
    log_event(conn, request_id, kind, comment or name[0], actor=actor, executor_id=executor_id, at=now)
    what = "новая заявка" if kind == "assigned" else "заявка передана вам"
    notify_executor(conn, request_id, executor_id, what)
    if row[1] == "new":
        _status(conn, request_id, "in_progress", f"передана исполнителю: {name[0]}", actor, now)


def respond(
    conn: psycopg.Connection, request_id: int, text: str, now: datetime, *, actor: int | None
) -> None:
    """The executor's or operator's answer to the resident (first one sets responded_at); the resident
    sees it in the cabinet's history."""
    if not text.strip():
        raise RequestError("an answer needs text")
    status = conn.execute(
        "UPDATE api_requests SET responded_at = COALESCE(responded_at, %s) WHERE request_id = %s"
        " RETURNING status",
        (now, request_id),
    ).fetchone()
    if status is None:
        raise RequestError(f"request {request_id} not found")
    log_event(conn, request_id, "responded", text, actor=actor, at=now)
    notify_applicant(conn, request_id, text)
    conn.execute(
        "INSERT INTO api_request_history (request_id, status, comment, changed_by, changed_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (request_id, status[0], text, actor, now),
    )


def resolve(
    conn: psycopg.Connection, request_id: int, text: str, now: datetime, *, actor: int | None
) -> None:
    """The work is done (status done); the resident may confirm and rate it."""
    conn.execute(
        "UPDATE api_requests SET resolved_at = %s, responded_at = COALESCE(responded_at, %s)"
        " WHERE request_id = %s",
        (now, now, request_id),
    )
    log_event(conn, request_id, "resolved", text, actor=actor, at=now)
    notify_applicant(conn, request_id, f"выполнено. {text}".strip())
    _status(conn, request_id, "done", text, actor, now)


def close_request(
    conn: psycopg.Connection,
    request_id: int,
    now: datetime,
    *,
    confirmed: bool,
    rating: int | None = None,
    comment: str = "",
    actor: int | None = None,
) -> None:
    """Close a done request with the resident's confirmation (or its absence: closed by the operator
    after the resident did not answer) and an optional rating 1–5. A resident who does not confirm
    reopens it instead (status back in work)."""
    row = conn.execute(
        "SELECT status FROM api_requests WHERE request_id = %s FOR UPDATE", (request_id,)
    ).fetchone()
    if row is None:
        raise RequestError(f"request {request_id} not found")
    if row[0] != "done":
        raise RequestError(f"request {request_id} is {row[0]}; only a done request can be closed")
    if rating is not None and not 1 <= rating <= 5:
        raise RequestError("rating must be 1 to 5")
    conn.execute(
        "UPDATE api_requests SET closed_at = %s, rating = %s, resident_confirmed = %s WHERE request_id = %s",
        (now, rating, confirmed, request_id),
    )
    log_event(conn, request_id, "closed", comment, actor=actor, at=now)
    _status(conn, request_id, "closed", comment or "закрыта", actor, now)


def escalate_overdue(conn: psycopg.Connection, now: datetime) -> list[tuple[int, int]]:
    """Raise the escalation level of open requests whose deadlines passed; returns (request, new level)
    for each one raised (each level once)."""
    raised = []
    rows = conn.execute(
        "SELECT request_id, response_due_at, resolution_due_at, responded_at IS NOT NULL, escalation_level,"
        " executor_id FROM api_requests WHERE status IN ('new', 'in_progress')"
        " AND response_due_at IS NOT NULL AND response_due_at < %s FOR UPDATE",
        (now,),
    ).fetchall()
    for request_id, response_due, resolution_due, responded, level, executor in rows:
        new_level = escalation_level(response_due, resolution_due, now, responded)
        if new_level > level:
            conn.execute(
                "UPDATE api_requests SET escalation_level = %s WHERE request_id = %s", (new_level, request_id)
            )
            what = "просрочен ответ" if new_level == 1 else "просрочено исполнение"
            log_event(
                conn, request_id, "escalated", f"уровень {new_level}: {what}", executor_id=executor, at=now
            )
            if executor is not None:
                notify_executor(conn, request_id, executor, f"эскалация, {what}")
            raised.append((request_id, new_level))
    return raised
