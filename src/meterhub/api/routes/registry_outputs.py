"""The passport office API, its outputs (role ``passport_office`` only): printed forms as editable fields and
PDF, lists by parameters and the population register as XLSX, residents' справка orders, the audit log.
Shares the router prefix, role and error mapping of :mod:`meterhub.api.routes.registry`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, Field

from meterhub.api.deps import Conn
from meterhub.api.roles import User
from meterhub.api.routes.registry import (
    BuildingQuery,
    Clerk,
    Day,
    OrderId,
    clerk_actor,
    content_disposition,
    known_building,
    register_errors,
)
from meterhub.registry.audit import audit, audit_entries, audit_many
from meterhub.registry.forms import render_form_pdf
from meterhub.registry.forms.store import FormRequest, prepare_form
from meterhub.registry.lists import ListFilter, list_rows, list_xlsx, population_register_xlsx, select

router = APIRouter(prefix="/registry", tags=["passport office"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FormIn(BaseModel):
    kind: Literal["form6", "form9", "form10", "registration", "family", "period"] = "form10"
    arrival_id: int | None = None
    building_id: str | None = None
    premise_no: str | None = None
    person_id: int | None = None
    first: Day | None = None
    last: Day | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="the clerk's edits, by field key")


def _form(conn: psycopg.Connection, user: User, body: FormIn):
    request = FormRequest(
        body.kind, body.arrival_id, body.building_id, body.premise_no, body.person_id, body.first, body.last
    )
    with register_errors():
        return prepare_form(conn, clerk_actor(user), request, date.today()).edited(body.fields)


@router.post("/forms/fields", summary="A form filled from the register, as editable fields")
def form_fields(user: Clerk, conn: Conn, body: FormIn) -> dict:
    doc = _form(conn, user, body)
    return {
        "kind": doc.kind,
        "title": doc.title,
        "fields": [{"key": f.key, "label": f.label, "value": f.value} for f in (*doc.fields, *doc.closing)],
        "table": {"headers": doc.table.headers, "rows": doc.table.rows} if doc.table else None,
    }


@router.post("/forms/pdf", summary="The form as PDF, with the clerk's edits", response_class=Response)
def form_pdf(user: Clerk, conn: Conn, body: FormIn) -> Response:
    pdf = render_form_pdf(_form(conn, user, body))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{body.kind}.pdf"'},
    )


def _filter(
    on: Day | None = None,
    age_min: Annotated[int | None, Query(ge=0, le=150)] = None,
    age_max: Annotated[int | None, Query(ge=0, le=150)] = None,
    registered_from: Day | None = None,
    registered_to: Day | None = None,
    ending_within_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    minors_without_representative: bool = False,
) -> ListFilter:
    return ListFilter(
        on or date.today(),
        age_min,
        age_max,
        registered_from,
        registered_to,
        ending_within_days=ending_within_days,
        minors_without_representative=minors_without_representative,
    )


@router.get("/lists", summary="A list by parameters")
def list_json(
    user: Clerk, conn: Conn, building_id: BuildingQuery, f: Annotated[ListFilter, Depends(_filter)]
):
    rows = select(list_rows(conn, known_building(conn, building_id), f.on), f)
    audit_many(
        conn, clerk_actor(user), "read", "list", [r.person_id for r in rows], f"{building_id}: {f.describe()}"
    )
    return {
        "description": f.describe(),
        "rows": [
            {
                "person_id": r.person_id,
                "full_name": r.full_name,
                "birth_date": r.birth_date,
                "age": r.age_on(f.on),
                "premise_no": r.premise_no,
                "kind": r.kind.value,
                "start": r.start,
                "end": r.end,
                "relation_to_head": r.relation_to_head,
                "has_representative": r.has_representative,
            }
            for r in rows
        ],
    }


@router.get("/lists.xlsx", summary="A list by parameters as XLSX", response_class=Response)
def list_export(
    user: Clerk, conn: Conn, building_id: BuildingQuery, f: Annotated[ListFilter, Depends(_filter)]
):
    data, _ = list_xlsx(conn, clerk_actor(user), known_building(conn, building_id), f)
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": content_disposition(f"list-{building_id}.xlsx")},
    )


@router.get(
    "/population-register.xlsx", summary="The electronic population register", response_class=Response
)
def population_register(user: Clerk, conn: Conn, building_id: BuildingQuery) -> Response:
    data = population_register_xlsx(conn, clerk_actor(user), known_building(conn, building_id), date.today())
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": content_disposition(f"register-{building_id}.xlsx")},
    )


@router.get("/orders", summary="Справка orders from residents")
def orders(user: Clerk, conn: Conn, only_new: bool = False) -> list[dict]:
    rows = conn.execute(
        "SELECT o.order_id, o.account_no, a.building_id, a.premise_no, o.kind, o.comment, o.ordered_by, "
        "o.ordered_at, o.status, o.handled_by, o.handled_at, o.staff_note FROM registry_certificate_orders o "
        "JOIN accounts a USING (account_no) WHERE NOT %s OR o.status = 'new' "
        "ORDER BY o.ordered_at DESC LIMIT 500",
        (only_new,),
    ).fetchall()
    keys = (
        "order_id",
        "account_no",
        "building_id",
        "premise_no",
        "kind",
        "comment",
        "ordered_by",
        "ordered_at",
        "status",
        "handled_by",
        "handled_at",
        "staff_note",
    )
    return [dict(zip(keys, r, strict=True)) for r in rows]


class OrderUpdate(BaseModel):
    status: Literal["issued", "refused"]
    note: str = Field("", max_length=1000)


@router.post("/orders/{order_id}", summary="Mark a справка order issued or refused")
def handle_order(user: Clerk, conn: Conn, order_id: OrderId, body: OrderUpdate) -> dict[str, str]:
    row = conn.execute(
        "UPDATE registry_certificate_orders "
        "SET status = %s, staff_note = %s, handled_by = %s, handled_at = now() "
        "WHERE order_id = %s AND status = 'new' RETURNING order_id",
        (body.status, body.note, user.username, order_id),
    ).fetchone()
    if row is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"заказа справки № {order_id} нет или он уже обработан; обновите список"
        )
    audit(conn, clerk_actor(user), "change", "certificate_order", None, f"order {order_id}: {body.status}")
    return {"status": body.status}


@router.get("/audit", summary="The audit log of personal data (newest first)")
def audit_log(
    user: Clerk,
    conn: Conn,
    person_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict]:
    return [e.__dict__ for e in audit_entries(conn, person_id=person_id, limit=limit)]
