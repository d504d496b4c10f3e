"""The service desk API (docs/requests.md): the operator registers requests from the phone, letters and
visits, finds the account, routes, controls deadlines and reads reports; a contractor sees and answers
only its own executor's queue; a resident confirms and rates a finished request. Thin: the rules are in
:mod:`meterhub.servicedesk`."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Depends, File, HTTPException, Query, Response, UploadFile, status
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from meterhub.api.deps import Conn, CurrentUser, get_settings, require_role
from meterhub.api.notifications import notify_request_answer
from meterhub.api.roles import Role, User
from meterhub.api.routes.requests import RequestId, _visible_request
from meterhub.core.settings import Settings
from meterhub.servicedesk.lookup import find_accounts
from meterhub.servicedesk.reports import control_list, requests_report
from meterhub.servicedesk.requests_store import (
    CHANNELS,
    NewRequest,
    RequestError,
    assign,
    close_request,
    escalate_overdue,
    log_event,
    register_request,
    resolve,
    respond,
)

router = APIRouter(prefix="/servicedesk", tags=["servicedesk"])
Operator = Annotated[User, Depends(require_role(Role.OPERATOR, Role.ADMIN))]
Desk = Annotated[User, Depends(require_role(Role.OPERATOR, Role.ADMIN, Role.CONTRACTOR))]


def _now() -> datetime:
    return datetime.now(UTC)


def _unprocessable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


def _own_executor(conn: psycopg.Connection, user: User) -> int | None:
    """A contractor's executor (403 when the user is not linked to one); None for the operator."""
    if user.role is not Role.CONTRACTOR:
        return None
    row = conn.execute("SELECT executor_id FROM sd_executor_users WHERE user_id = %s", (user.id,)).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this contractor login is not linked to an executor")
    return row[0]


def _desk_request(conn: psycopg.Connection, user: User, request_id: int) -> None:
    """404 unless the request exists and (for a contractor) is in its executor's queue."""
    own = _own_executor(conn, user)
    row = conn.execute("SELECT executor_id FROM api_requests WHERE request_id = %s", (request_id,)).fetchone()
    if row is None or (own is not None and row[0] != own):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} not found in your queue")


class AccountHitOut(BaseModel):
    account_no: str
    building_id: str
    premise_no: str
    address: str
    matched: Literal["account", "phone", "address"]


@router.get(
    "/lookup", summary="Find an account by number, phone or address words", response_model=list[AccountHitOut]
)
def lookup(
    q: Annotated[str, Query(min_length=2, max_length=100)], user: Operator, conn: Conn
) -> list[AccountHitOut]:
    return [AccountHitOut(**vars(h)) for h in find_accounts(conn, q)]


@router.get("/categories", summary="Request categories with their deadlines")
def categories(user: Desk, conn: Conn) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT category, name_ru, response_hours, resolution_hours, hours_kind, undersupply, source"
            " FROM sd_categories ORDER BY name_ru"
        ).fetchall()


@router.get("/executors", summary="Departments, contractors and the emergency service")
def executors(user: Operator, conn: Conn) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT executor_id, name, kind, email, phone FROM sd_executors WHERE active ORDER BY name"
        ).fetchall()


class NewRequestIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "channel": "phone",
                    "category": "fault",
                    "account_no": "LS-1",
                    "text": "Течёт стояк",
                    "applicant": "Иванов И. И.",
                    "contact": "+79001234567",
                }
            ]
        }
    }
    channel: Literal["phone", "walk_in", "email", "letter", "fax"]
    category: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=4000)
    account_no: str | None = Field(default=None, max_length=40)
    building_id: str | None = Field(default=None, max_length=40)
    applicant: str = Field(default="", max_length=200)
    contact: str = Field(default="", max_length=200)


@router.post(
    "/requests",
    summary="Register a request from the phone, a visit, a letter, fax or e-mail",
    status_code=status.HTTP_201_CREATED,
)
def create(body: NewRequestIn, user: Operator, conn: Conn) -> dict:
    topic = "billing" if body.category == "billing_claim" else "other"
    new = NewRequest(
        body.channel,
        body.category,
        body.text,
        body.account_no,
        body.building_id,
        body.applicant,
        body.contact,
        topic,
    )
    try:
        with conn.transaction():
            request_id = register_request(conn, new, _now(), actor=user.id)
    except RequestError as exc:
        raise _unprocessable(exc) from None
    return request_card(request_id, user, conn)


_CARD = """
SELECT r.request_id AS id, r.account_no, r.building_id, COALESCE(b.address, '') AS address,
       r.channel, r.sd_category AS category, COALESCE(c.name_ru, r.sd_category) AS category_name,
       r.text, r.status, r.applicant, r.contact, r.executor_id, x.name AS executor,
       r.created_at, r.response_due_at, r.resolution_due_at, r.responded_at, r.resolved_at, r.closed_at,
       r.escalation_level, r.rating, r.resident_confirmed
  FROM api_requests r
  LEFT JOIN buildings b ON b.building_id = r.building_id
  LEFT JOIN sd_categories c ON c.category = r.sd_category
  LEFT JOIN sd_executors x ON x.executor_id = r.executor_id
"""


@router.get("/requests/{request_id}", summary="A request with its deadlines, status history and events")
def request_card(request_id: RequestId, user: Desk, conn: Conn) -> dict:
    _desk_request(conn, user, request_id)
    with conn.cursor(row_factory=dict_row) as cur:
        card = cur.execute(_CARD + " WHERE r.request_id = %s", (request_id,)).fetchone()
        card["channel_name"] = CHANNELS.get(card["channel"], card["channel"])
        card["events"] = cur.execute(
            "SELECT e.kind, e.text, x.name AS executor, u.username AS actor, e.at FROM sd_request_events e"
            " LEFT JOIN sd_executors x USING (executor_id) LEFT JOIN api_users u ON u.user_id = e.actor"
            " WHERE e.request_id = %s ORDER BY e.id",
            (request_id,),
        ).fetchall()
        card["attachments"] = cur.execute(
            "SELECT attachment_id, filename, content_type, size_bytes FROM sd_attachments"
            " WHERE request_id = %s ORDER BY attachment_id",
            (request_id,),
        ).fetchall()
        card["acts"] = cur.execute(
            "SELECT act_id, act_no, premise_no, service, kind, started_at, ended_at, status FROM sd_acts"
            " WHERE request_id = %s ORDER BY act_id",
            (request_id,),
        ).fetchall()
        card["letters"] = cur.execute(
            "SELECT letter_id, letter_no, registered_on, subject FROM sd_letters WHERE request_id = %s"
            " ORDER BY letter_id",
            (request_id,),
        ).fetchall()
    return card


@router.get("/queue", summary="Open requests, oldest deadline first (a contractor: its own only)")
def queue(
    user: Desk,
    conn: Conn,
    executor_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    state: Literal["open", "unassigned", "done", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict]:
    own = _own_executor(conn, user)
    where, params = [], []
    if own is not None or executor_id is not None:
        where.append("r.executor_id = %s")
        params.append(own if own is not None else executor_id)
    where.append(
        {
            "open": "r.status IN ('new', 'in_progress')",
            "unassigned": "r.status IN ('new', 'in_progress') AND r.executor_id IS NULL",
            "done": "r.status = 'done'",
            "all": "true",
        }[state]
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            _CARD
            + " WHERE "
            + " AND ".join(where)
            + " ORDER BY r.resolution_due_at NULLS LAST, r.request_id LIMIT %s",
            (*params, limit),
        ).fetchall()


class AssignIn(BaseModel):
    executor_id: int = Field(ge=1, le=2**62)
    comment: str = Field(default="", max_length=2000)


@router.post("/requests/{request_id}/assign", summary="Assign or re-assign a request to an executor")
def assign_request(request_id: RequestId, body: AssignIn, user: Operator, conn: Conn) -> dict:
    try:
        with conn.transaction():
            assign(conn, request_id, body.executor_id, _now(), actor=user.id, comment=body.comment)
    except RequestError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND if "not found" in str(exc) else 409, str(exc)) from None
    return request_card(request_id, user, conn)


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


@router.post(
    "/requests/{request_id}/answer", summary="Answer the resident (the first answer is the response)"
)
def answer(request_id: RequestId, body: TextIn, user: Desk, conn: Conn) -> dict:
    _desk_request(conn, user, request_id)
    with conn.transaction():
        respond(conn, request_id, body.text, _now(), actor=user.id)
        notify_request_answer(conn, request_id, "ответ", body.text)  # the cabinet (and e-mail if asked)
    return request_card(request_id, user, conn)


@router.post("/requests/{request_id}/comment", summary="An internal comment (the resident does not see it)")
def comment(request_id: RequestId, body: TextIn, user: Desk, conn: Conn) -> dict:
    _desk_request(conn, user, request_id)
    with conn.transaction():
        log_event(conn, request_id, "comment", body.text, actor=user.id)
    return request_card(request_id, user, conn)


@router.post("/requests/{request_id}/resolve", summary="The work is done; the resident may confirm and rate")
def resolve_request(request_id: RequestId, body: TextIn, user: Desk, conn: Conn) -> dict:
    _desk_request(conn, user, request_id)
    current = conn.execute("SELECT status FROM api_requests WHERE request_id = %s", (request_id,)).fetchone()[
        0
    ]
    if current not in ("new", "in_progress"):
        raise HTTPException(status.HTTP_409_CONFLICT, f"request {request_id} is {current}, not open")
    with conn.transaction():
        resolve(conn, request_id, body.text, _now(), actor=user.id)
        notify_request_answer(conn, request_id, "выполнена", body.text)
    return request_card(request_id, user, conn)


@router.post(
    "/requests/{request_id}/attachments",
    summary="Attach a file (a letter's scan, a photo)",
    status_code=status.HTTP_201_CREATED,
)
def attach(
    request_id: RequestId,
    user: Desk,
    conn: Conn,
    settings: Annotated[Settings, Depends(get_settings)],
    file: Annotated[UploadFile, File(description="PDF, JPEG, PNG …")],
) -> dict:
    _desk_request(conn, user, request_id)
    data = file.file.read(settings.upload_max_bytes + 1)
    if not data or len(data) > settings.upload_max_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the file must be 1 byte to {settings.upload_max_bytes // 1024} KiB",
        )
    name = (file.filename or "file")[:200]
    with conn.transaction():
        conn.execute(
            "INSERT INTO sd_attachments (request_id, filename, content_type, size_bytes, sha256, data,"
            " uploaded_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                request_id,
                name,
                file.content_type or "application/octet-stream",
                len(data),
                hashlib.sha256(data).hexdigest(),
                data,
                user.id,
            ),
        )
        log_event(conn, request_id, "attachment", name, actor=user.id)
    return request_card(request_id, user, conn)


@router.get("/requests/{request_id}/attachments", summary="Download one attachment of a request")
def attachment(
    request_id: RequestId, attachment_id: Annotated[int, Query(ge=1, le=2**62)], user: Desk, conn: Conn
) -> Response:
    _desk_request(conn, user, request_id)
    row = conn.execute(
        "SELECT filename, content_type, data FROM sd_attachments"
        " WHERE request_id = %s AND attachment_id = %s",
        (request_id, attachment_id),
    ).fetchone()
    if row is None:
        raise HTTPException(404, f"no attachment {attachment_id} in request {request_id}")
    disposition = f"attachment; filename*=UTF-8''{quote(row[0])}"
    return Response(bytes(row[2]), media_type=row[1], headers={"Content-Disposition": disposition})


class CloseIn(BaseModel):
    confirmed: bool = Field(description="the resident confirmed the work (false: closed without an answer)")
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


@router.post(
    "/requests/{request_id}/close", summary="Close a done request (the operator, after the resident)"
)
def close(request_id: RequestId, body: CloseIn, user: Operator, conn: Conn) -> dict:
    try:
        with conn.transaction():
            close_request(
                conn,
                request_id,
                _now(),
                confirmed=body.confirmed,
                rating=body.rating,
                comment=body.comment,
                actor=user.id,
            )
    except RequestError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return request_card(request_id, user, conn)


class ConfirmIn(BaseModel):
    accepted: bool = Field(description="true: the work is done, close it; false: not done, reopen")
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


@router.post(
    "/requests/{request_id}/confirm", summary="The resident confirms and rates a done request, or reopens it"
)
def confirm(request_id: RequestId, body: ConfirmIn, user: CurrentUser, conn: Conn) -> dict:
    if user.role is not Role.RESIDENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the resident who filed it confirms a request")
    row = _visible_request(conn, user, request_id)
    if row["status"] != "done":
        raise HTTPException(status.HTTP_409_CONFLICT, f"request {request_id} is not done yet")
    now = _now()
    with conn.transaction():
        if body.accepted:
            close_request(
                conn, request_id, now, confirmed=True, rating=body.rating, comment=body.comment, actor=user.id
            )
        else:
            conn.execute(
                "UPDATE api_requests SET status = 'in_progress', resolved_at = NULL, updated_at = %s"
                " WHERE request_id = %s",
                (now, request_id),
            )
            conn.execute(
                "INSERT INTO api_request_history (request_id, status, comment, changed_by, changed_at)"
                " VALUES (%s, 'in_progress', %s, %s, %s)",
                (request_id, body.comment or "житель не подтвердил выполнение", user.id, now),
            )
    status_now = conn.execute(
        "SELECT status FROM api_requests WHERE request_id = %s", (request_id,)
    ).fetchone()[0]
    return {"id": request_id, "status": status_now}


@router.get("/control", summary="Open requests overdue or at risk, most urgent first")
def control(
    user: Desk, conn: Conn, executor_id: Annotated[int | None, Query(ge=1, le=2**62)] = None
) -> list[dict]:
    own = _own_executor(conn, user)
    rows = control_list(conn, _now(), executor_id=own if own is not None else executor_id)
    return [vars(r) | {"state": r.state.value} for r in rows]


@router.post("/escalate", summary="Escalate late requests now (the scheduler also runs it)")
def escalate(user: Operator, conn: Conn) -> list[dict]:
    with conn.transaction():
        raised = escalate_overdue(conn, _now())
    return [{"request_id": r, "level": level} for r, level in raised]


@router.get("/reports", summary="Requests by category, channel, building or executor, with the share on time")
def reports(
    user: Operator,
    conn: Conn,
    by: Literal["category", "channel", "building", "executor"] = "category",
    start: date | None = None,
    end: date | None = None,
) -> list[dict]:
    today = datetime.now(UTC).date()
    first = start or today.replace(day=1)
    last = end or today
    if last < first:
        raise HTTPException(422, "end is before start")
    rows = requests_report(
        conn,
        by,
        datetime.combine(first, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
        _now(),
    )
    return [vars(r) | {"share_on_time": r.share_on_time} for r in rows]
