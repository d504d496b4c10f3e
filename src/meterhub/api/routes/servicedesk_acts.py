"""Acts of undersupply in the API (docs/requests.md, ПП 354 пп. 104–110): the operator draws up an act
from a request about a missing or poor-quality service, confirms it when the service is restored (the
billing close then recalculates the interruption) or cancels it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field

from meterhub.api.deps import Conn
from meterhub.api.routes.requests import RequestId
from meterhub.api.routes.servicedesk import Operator, _now
from meterhub.servicedesk.acts_store import ActDraft, cancel_act, confirm_act, draw_up_act
from meterhub.servicedesk.requests_store import RequestError

router = APIRouter(prefix="/servicedesk", tags=["servicedesk"])
ActId = Annotated[int, Query(ge=1, le=2**62, description="the act's id")]


class ActIn(BaseModel):
    service: str = Field(min_length=1, max_length=40, examples=["cold_water"])
    kind: Literal["interruption", "poor_quality"]
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    whole_building: bool = Field(default=False, description="the act covers the building, not the premise")
    findings: str = Field(default="", max_length=4000)


class ConfirmActIn(BaseModel):
    ended_at: AwareDatetime | None = Field(default=None, description="when the service was restored")


def _act(conn, act_id: int, request_id: int) -> dict:
    row = conn.execute(
        "SELECT act_id, act_no, premise_no, service, kind, started_at, ended_at, status, event_id, findings"
        " FROM sd_acts WHERE act_id = %s AND request_id = %s",
        (act_id, request_id),
    ).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} has no act {act_id}")
    keys = (
        "act_id",
        "act_no",
        "premise_no",
        "service",
        "kind",
        "started_at",
        "ended_at",
        "status",
        "billing_event_id",
        "findings",
    )
    return dict(zip(keys, row, strict=True))


@router.post(
    "/requests/{request_id}/acts",
    summary="Draw up an act of undersupply from a request",
    status_code=status.HTTP_201_CREATED,
)
def draw_up(request_id: RequestId, body: ActIn, user: Operator, conn: Conn) -> dict:
    where = conn.execute(
        "SELECT r.building_id, a.premise_no FROM api_requests r LEFT JOIN accounts a USING (account_no)"
        " WHERE r.request_id = %s",
        (request_id,),
    ).fetchone()
    if where is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} not found")
    premise = None if body.whole_building else where[1]
    draft = ActDraft(
        where[0], premise, body.service, body.kind, body.started_at, body.ended_at, body.findings, request_id
    )
    try:
        with conn.transaction():
            act_id, _ = draw_up_act(conn, draft, actor=user.id)
    except (RequestError, ValueError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return _act(conn, act_id, request_id)


@router.post("/requests/{request_id}/acts/confirm", summary="Confirm an act: the close recalculates it")
def confirm(request_id: RequestId, act_id: ActId, body: ConfirmActIn, user: Operator, conn: Conn) -> dict:
    _act(conn, act_id, request_id)
    try:
        with conn.transaction():
            confirm_act(conn, act_id, _now(), ended_at=body.ended_at, actor=user.id)
    except (RequestError, ValueError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _act(conn, act_id, request_id)


@router.post("/requests/{request_id}/acts/cancel", summary="Cancel an act (a confirmed one leaves billing)")
def cancel(request_id: RequestId, act_id: ActId, user: Operator, conn: Conn) -> dict:
    _act(conn, act_id, request_id)
    with conn.transaction():
        cancel_act(conn, act_id, actor=user.id)
    return _act(conn, act_id, request_id)
