"""Tariff plan change requests (заявление о смене тарифного плана): the cabinet's tariff advice leads to a
request; staff approve it by finishing the request (``PATCH /requests/{id}`` with ``done``), which writes
the account's plan from the next period (``billing.plan_requests``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from meterhub.api.deps import AccountNo, Conn, CurrentUser
from meterhub.billing.residents.plan_requests import SCHEME_NAMES_RU, PlanRequestError, file_plan_request
from meterhub.billing.rules.zones import ZoneScheme
from meterhub.servicedesk.requests_store import file_cabinet_request

router = APIRouter(tags=["requests"])

_SERVICE_RU = {
    "electricity": "электроснабжение",
    "cold_water": "холодное водоснабжение",
    "hot_water": "горячее водоснабжение",
}


class PlanRequestIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"scheme": "three_zone"}]}}

    scheme: ZoneScheme
    service: str = Field(default="electricity", pattern="^(electricity|cold_water|hot_water)$")


class PlanRequestOut(BaseModel):
    request_id: int
    scheme: ZoneScheme
    scheme_name: str
    effective_from: date = Field(description="the first day of the period the plan would apply from")
    text: str


@router.post(
    "/accounts/{account_no}/tariff-plan-requests",
    summary="Ask to change the account's tariff plan (zone scheme) from the next period; staff approve",
    response_model=PlanRequestOut,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "the scheme is not priced for the building"}},
)
def request_plan_change(
    account_no: AccountNo, body: PlanRequestIn, user: CurrentUser, conn: Conn
) -> PlanRequestOut:
    name = SCHEME_NAMES_RU[body.scheme]
    text = (
        f"Прошу перевести лицевой счёт на тарифный план «{name}» ({_SERVICE_RU[body.service]}) "
        "со следующего расчётного периода."
    )
    with conn.transaction():
        request_id = file_cabinet_request(conn, account_no, "billing", text, user.id, datetime.now(UTC))
        try:
            effective = file_plan_request(
                conn, request_id, account_no, body.service, body.scheme, datetime.now(UTC)
            )
        except PlanRequestError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return PlanRequestOut(
        request_id=request_id, scheme=body.scheme, scheme_name=name, effective_from=effective, text=text
    )
