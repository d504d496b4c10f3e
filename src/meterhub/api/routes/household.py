"""A resident's household (зарегистрированные в помещении) and справка orders, in the cabinet.

Residents only, their own linked accounts: the persons registered in the account's premise today — name,
year of birth, kind of registration and dates, never documents — and each view is audited. An order of a
справка goes to the passport office (``/registry/orders``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from meterhub.api.deps import AccountNo, Conn, require_role
from meterhub.api.roles import Role, User
from meterhub.registry.audit import Actor, audit, audit_many
from meterhub.registry.events_store import premise_household

router = APIRouter(tags=["household"])
Resident = Annotated[User, Depends(require_role(Role.RESIDENT))]
KINDS_RU = {"residence": "по месту жительства", "stay": "по месту пребывания", "notice": "временно проживает"}
ORDER_KINDS_RU = {
    "registration": "справка о регистрации",
    "family": "справка о составе семьи (выписка из домовой книги)",
    "period": "справка о периоде проживания",
}


class HouseholdMember(BaseModel):
    full_name: str
    birth_year: int | None
    kind: str
    kind_name: str
    since: date
    until: date | None = Field(description="a stay's end (exclusive); null: open")


class Household(BaseModel):
    kept: bool = Field(description="whether the management company keeps the register of this building here")
    members: list[HouseholdMember]


def _premise(conn, account_no: str) -> tuple[str, str]:
    return conn.execute(
        "SELECT building_id, premise_no FROM accounts WHERE account_no = %s", (account_no,)
    ).fetchone()


@router.get("/accounts/{account_no}/household", summary="Persons registered in the account's premise today")
def household(account_no: AccountNo, user: Resident, conn: Conn) -> Household:
    building, premise = _premise(conn, account_no)
    kept = conn.execute("SELECT 1 FROM registry_buildings WHERE building_id = %s", (building,)).fetchone()
    today = date.today()
    members = [m for m in premise_household(conn, building, premise) if m.span.covers(today)]
    audit_many(
        conn,
        Actor(user.username, user.role.value),
        "read",
        "household",
        [m.span.person_id for m in members],
        account_no,
    )
    return Household(
        kept=kept is not None,
        members=[
            HouseholdMember(
                full_name=m.full_name,
                birth_year=m.birth_date.year if m.birth_date else None,
                kind=m.span.kind.value,
                kind_name=KINDS_RU[m.span.kind.value],
                since=m.span.start,
                until=m.span.end,
            )
            for m in members
        ],
    )


class OrderIn(BaseModel):
    kind: Literal["registration", "family", "period"] = "family"
    comment: str = Field("", max_length=1000, examples=["для школы, 2 экземпляра"])


class OrderOut(BaseModel):
    order_id: int
    kind: str
    kind_name: str
    comment: str
    status: str
    ordered_at: datetime
    staff_note: str


@router.get("/accounts/{account_no}/certificate-orders", summary="My справка orders")
def my_orders(account_no: AccountNo, user: Resident, conn: Conn) -> list[OrderOut]:
    rows = conn.execute(
        "SELECT order_id, kind, comment, status, ordered_at, staff_note FROM registry_certificate_orders "
        "WHERE account_no = %s ORDER BY ordered_at DESC LIMIT 100",
        (account_no,),
    ).fetchall()
    return [
        OrderOut(
            order_id=o, kind=k, kind_name=ORDER_KINDS_RU[k], comment=c, status=s, ordered_at=t, staff_note=n
        )
        for o, k, c, s, t, n in rows
    ]


@router.post("/accounts/{account_no}/certificate-orders", status_code=201, summary="Order a справка")
def order(account_no: AccountNo, user: Resident, conn: Conn, body: OrderIn) -> OrderOut:
    with conn.transaction():
        o, t = conn.execute(
            "INSERT INTO registry_certificate_orders (account_no, kind, comment, ordered_by) "
            "VALUES (%s, %s, %s, %s) "
            "RETURNING order_id, ordered_at",
            (account_no, body.kind, body.comment, user.username),
        ).fetchone()
        audit(
            conn,
            Actor(user.username, user.role.value),
            "create",
            "certificate_order",
            None,
            f"{account_no}: {body.kind}",
        )
    return OrderOut(
        order_id=o,
        kind=body.kind,
        kind_name=ORDER_KINDS_RU[body.kind],
        comment=body.comment,
        status="new",
        ordered_at=t,
        staff_note="",
    )
