"""Requests (заявки и обращения): a resident files one with an optional photo and follows its status;
accountants and admins list them and change the status with a comment."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Response, UploadFile, status
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from meterhub.api.deps import AccountNo, Conn, CurrentUser, ensure_account_access, get_settings, require_role
from meterhub.api.notifications import account_user_ids, notify
from meterhub.api.request_workflow import (
    CATEGORY_NAMES,
    STATUS_NAMES,
    Category,
    RequestStatus,
    TransitionError,
    check_transition,
    detect_image_type,
)
from meterhub.api.roles import Role, User
from meterhub.billing.residents.plan_requests import decide_plan_request
from meterhub.core.settings import Settings
from meterhub.servicedesk.requests_store import file_cabinet_request

router = APIRouter(tags=["requests"])

_staff = require_role(Role.ACCOUNTANT, Role.ADMIN)
RequestId = Annotated[int, Path(ge=1, le=2**62, description="request number")]


class HistoryEntry(BaseModel):
    status: RequestStatus
    status_name: str
    comment: str
    changed_by: str | None = Field(description="username of who changed it (null: deleted user)")
    changed_at: datetime


class RequestOut(BaseModel):
    id: int
    account_no: str | None = Field(description="null: registered by staff for a building without an account")
    category: Category
    category_name: str
    text: str
    status: RequestStatus
    status_name: str = Field(examples=["в работе"])
    has_photo: bool
    created_at: datetime
    updated_at: datetime
    answer: str = Field(
        default="",
        description="the latest comment staff wrote (for a rejected request: the reason), shown with the "
        "status without opening the history",
    )
    history: list[HistoryEntry] = Field(default_factory=list, description="oldest first")


class StatusChangeIn(BaseModel):
    model_config = {
        "json_schema_extra": {"examples": [{"status": "in_progress", "comment": "Мастер придёт 12.03"}]}
    }

    status: RequestStatus
    comment: str = Field(default="", max_length=2000)


_SELECT = """
SELECT r.request_id AS id, r.account_no, r.category, r.text, r.status, r.created_at, r.updated_at,
       EXISTS (SELECT 1 FROM api_request_photos p WHERE p.request_id = r.request_id) AS has_photo,
       COALESCE((SELECT h.comment FROM api_request_history h
                  WHERE h.request_id = r.request_id AND h.comment <> '' AND h.id > (
                        SELECT min(h0.id) FROM api_request_history h0 WHERE h0.request_id = r.request_id)
                  ORDER BY h.id DESC LIMIT 1), '') AS answer
  FROM api_requests r
"""


def _out(row: dict, history: list[HistoryEntry] | None = None) -> RequestOut:
    return RequestOut(
        **row,
        category_name=CATEGORY_NAMES[Category(row["category"])],
        status_name=STATUS_NAMES[RequestStatus(row["status"])],
        history=history or [],
    )


def _history(conn: psycopg.Connection, request_id: int) -> list[HistoryEntry]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT h.status, h.comment, u.username AS changed_by, h.changed_at FROM api_request_history h "
            "LEFT JOIN api_users u ON u.user_id = h.changed_by WHERE h.request_id = %s ORDER BY h.id",
            (request_id,),
        ).fetchall()
    return [HistoryEntry(**r, status_name=STATUS_NAMES[RequestStatus(r["status"])]) for r in rows]


def _load(conn: psycopg.Connection, request_id: int) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE r.request_id = %s", (request_id,)).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} not found")
    return row


def _visible_request(conn: psycopg.Connection, user, request_id: int) -> dict:
    """The request if its account is the caller's (residents get 404 for others' requests)."""
    row = _load(conn, request_id)
    if row["account_no"] is None and user.role in (Role.ACCOUNTANT, Role.ADMIN, Role.OPERATOR):
        return row  # registered by staff for a building, without an account
    try:
        ensure_account_access(conn, user, row["account_no"] or "")
    except HTTPException as exc:
        if exc.status_code == status.HTTP_404_NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} not found") from None
        raise
    return row


@router.post(
    "/accounts/{account_no}/requests",
    summary="File a request (заявка): category, text and an optional photo (JPEG, PNG or WebP)",
    response_model=RequestOut,
    status_code=status.HTTP_201_CREATED,
    responses={413: {"description": "photo too large"}, 415: {"description": "photo is not JPEG/PNG/WebP"}},
)
def create_request(
    account_no: AccountNo,
    user: CurrentUser,
    conn: Conn,
    category: Annotated[Category, Form(description="what the request is about")],
    text: Annotated[
        str, Form(min_length=1, max_length=4000, description="the request in the resident's words")
    ],
    settings: Annotated[Settings, Depends(get_settings)],
    photo: Annotated[UploadFile | None, File(description="optional photo, JPEG/PNG/WebP")] = None,
) -> RequestOut:
    if not text.strip():
        raise HTTPException(422, "text is empty (опишите проблему)")
    data, kind = None, None
    if photo is not None and photo.filename:
        data = photo.file.read(settings.upload_max_bytes + 1)
        if len(data) > settings.upload_max_bytes:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"photo is larger than {settings.upload_max_bytes // 1024} KiB; send a smaller one",
            )
        kind = detect_image_type(data[:16]) if data else None
        if kind is None:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "photo must be a JPEG, PNG or WebP image"
            )
    with conn.transaction():
        request_id = file_cabinet_request(conn, account_no, category.value, text, user.id, datetime.now(UTC))
        if data is not None:
            conn.execute(
                "INSERT INTO api_request_photos (request_id, content_type, size_bytes, sha256, data) "
                "VALUES (%s, %s, %s, %s, %s)",
                (request_id, kind, len(data), hashlib.sha256(data).hexdigest(), data),
            )
    return _out(_load(conn, request_id), _history(conn, request_id))


@router.get(
    "/accounts/{account_no}/requests",
    summary="Requests of an account, newest first",
    response_model=list[RequestOut],
)
def list_account_requests(account_no: AccountNo, conn: Conn) -> list[RequestOut]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _SELECT + " WHERE r.account_no = %s ORDER BY r.created_at DESC, r.request_id DESC", (account_no,)
        ).fetchall()
    return [_out(r) for r in rows]


@router.get(
    "/requests",
    summary="All requests for staff, filtered by status and building, oldest open first",
    response_model=list[RequestOut],
    dependencies=[Depends(_staff)],
)
def list_requests(
    conn: Conn,
    status_filter: Annotated[RequestStatus | None, Query(alias="status")] = None,
    building_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[RequestOut]:
    where, params = [], []
    if status_filter is not None:
        where.append("r.status = %s")
        params.append(status_filter.value)
    if building_id is not None:
        where.append("r.account_no IN (SELECT account_no FROM accounts WHERE building_id = %s)")
        params.append(building_id)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY r.created_at, r.request_id LIMIT %s OFFSET %s"
    with conn.cursor(row_factory=dict_row) as cur:
        return [_out(r) for r in cur.execute(sql, (*params, limit, offset)).fetchall()]


@router.get(
    "/requests/{request_id}",
    summary="One request with its status history",
    response_model=RequestOut,
    responses={404: {"description": "no such request among the caller's accounts"}},
)
def get_request(request_id: RequestId, user: CurrentUser, conn: Conn) -> RequestOut:
    row = _visible_request(conn, user, request_id)
    return _out(row, _history(conn, request_id))


@router.get(
    "/requests/{request_id}/photo",
    summary="The photo attached to a request",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}, 404: {}},
)
def get_request_photo(request_id: RequestId, user: CurrentUser, conn: Conn) -> Response:
    _visible_request(conn, user, request_id)
    row = conn.execute(
        "SELECT content_type, data FROM api_request_photos WHERE request_id = %s", (request_id,)
    ).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} has no photo")
    return Response(content=bytes(row[1]), media_type=row[0], headers={"Cache-Control": "private, no-store"})


@router.patch(
    "/requests/{request_id}",
    summary="Change the status of a request (staff) with a comment the resident sees",
    response_model=RequestOut,
    responses={409: {"description": "that status change is not allowed"}},
)
def change_request_status(
    request_id: RequestId,
    body: StatusChangeIn,
    user: Annotated[User, Depends(_staff)],
    conn: Conn,
) -> RequestOut:
    with conn.transaction():
        row = conn.execute(
            "SELECT status FROM api_requests WHERE request_id = %s FOR UPDATE", (request_id,)
        ).fetchone()
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} not found")
        try:
            check_transition(RequestStatus(row[0]), body.status, body.comment)
        except TransitionError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        conn.execute(
            "UPDATE api_requests SET status = %s, updated_at = now(),"
            " resolved_at = CASE WHEN %s = 'done' THEN now() ELSE resolved_at END,"
            " closed_at = CASE WHEN %s = 'closed' THEN now() ELSE closed_at END WHERE request_id = %s",
            (body.status.value, body.status.value, body.status.value, request_id),
        )
        comment = body.comment.strip()
        if body.status in (RequestStatus.DONE, RequestStatus.REJECTED):  # a tariff plan request: decide it
            note = decide_plan_request(conn, request_id, body.status is RequestStatus.DONE, datetime.now(UTC))
            comment = f"{comment}\n{note}".strip() if note else comment
        conn.execute(
            "INSERT INTO api_request_history (request_id, status, comment, changed_by) "
            "VALUES (%s, %s, %s, %s)",
            (request_id, body.status.value, comment, user.id),
        )
        (account_no,) = conn.execute(
            "SELECT account_no FROM api_requests WHERE request_id = %s", (request_id,)
        ).fetchone()
        status_name = STATUS_NAMES[body.status]
        comment = f": {body.comment.strip()}" if body.comment.strip() else ""
        if account_no is not None:  # a request registered for a building has nobody to notify in the cabinet
            notify(
                conn,
                account_user_ids(conn, account_no),
                "request_answer",
                f"Заявка № {request_id} — {status_name}{comment}",
                account_no=account_no,
                subject_key=f"{request_id}:{body.status.value}:{datetime.now().isoformat()}",
                link=f"/cabinet/requests?account={account_no}",
            )
    return _out(_load(conn, request_id), _history(conn, request_id))
