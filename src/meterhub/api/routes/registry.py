"""The passport office API (паспортная служба, role ``passport_office`` only): find persons and premises,
register an arrival (the wizard's submit), deregister, print forms, lists, справка orders, the audit log.
Thin: the rules live in :mod:`meterhub.registry`; every read of a person's data is audited there."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, Field, model_validator

from meterhub.api.deps import Conn, require_role
from meterhub.api.registry_errors import constraint_message_ru
from meterhub.api.roles import Role, User
from meterhub.registry.audit import Actor, audit_many
from meterhub.registry.events import EventKind, ReplayError
from meterhub.registry.events_store import (
    Basis,
    NewArrival,
    premise_household,
    record_annulment,
    record_arrival,
    record_deregistration,
    record_extension,
)
from meterhub.registry.forms.store import load_premise
from meterhub.registry.person_data import PersonDataInvalid
from meterhub.registry.persons import IdentityDocument, PersonName
from meterhub.registry.persons_store import PersonNotFound, create_person, find_persons, load_person

Day = date  # fields named `date` would shadow the type inside the models
router = APIRouter(prefix="/registry", tags=["passport office"])
Clerk = Annotated[User, Depends(require_role(Role.PASSPORT_OFFICE))]
PersonId = Annotated[int, Path(ge=1, le=2**62, description="person in the register")]
EventId = Annotated[int, Path(ge=1, le=2**62, description="registration event")]
BuildingQuery = Annotated[str, Query(min_length=1, max_length=64, examples=["B1"])]
PremiseQuery = Annotated[str, Query(min_length=1, max_length=32, examples=["1"])]
OrderId = Annotated[int, Path(ge=1, le=2**62, description="справка order")]


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition value for any file name: an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def known_building(conn: psycopg.Connection, building_id: str) -> str:
    if conn.execute("SELECT 1 FROM buildings WHERE building_id = %s", (building_id,)).fetchone() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"дома «{building_id}» нет в системе; проверьте код")
    return building_id


def clerk_actor(user: User) -> Actor:
    return Actor(user.username, user.role.value)


@contextlib.contextmanager
def register_errors() -> Iterator[None]:
    """The register's refusals as HTTP answers that say what to fix, in Russian (the register's own
    messages are; the database's are translated by :func:`constraint_message_ru`)."""
    try:
        yield
    except PersonNotFound as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    except ReplayError as e:
        raise HTTPException(status.HTTP_409_CONFLICT, str(e)) from None
    except PersonDataInvalid as e:  # before ValueError: per field, in the shape of a validation error
        detail = [
            {"loc": ["body", p.field], "msg": p.message, "msg_ru": p.message_ru, "type": "person_data"}
            for p in e.problems
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
    except LookupError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    except ValueError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from None
    except psycopg.errors.UniqueViolation as e:
        raise HTTPException(status.HTTP_409_CONFLICT, constraint_message_ru(e)) from None
    except (psycopg.errors.CheckViolation, psycopg.errors.ForeignKeyViolation) as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, constraint_message_ru(e)) from None


class PersonFound(BaseModel):
    person_id: int
    full_name: str
    birth_date: Day | None


@router.get("/persons", summary="Find persons by surname (current or former) and first name")
def search_persons(
    user: Clerk, conn: Conn, q: Annotated[str, Query(min_length=2, max_length=100, examples=["Иванов"])]
) -> list[PersonFound]:
    return [
        PersonFound(person_id=p, full_name=n, birth_date=b)
        for p, n, b in find_persons(conn, clerk_actor(user), q)
    ]


class DocumentIn(BaseModel):
    doc_type: Literal[
        "passport_rf",
        "birth_certificate",
        "foreign_passport",
        "residence_permit",
        "temporary_residence_permit",
        "military_id",
        "other",
    ] = "passport_rf"
    series: str = Field("", max_length=20)
    number: str = Field(min_length=1, max_length=30, examples=["123456"])
    issued_by: str = Field("", max_length=300)
    issued_on: Day | None = None
    subdivision_code: str = Field("", pattern=r"^(\d{3}-\d{3})?$")


class PersonIn(BaseModel):
    last_name: str = Field(min_length=1, max_length=100, examples=["Иванов"])
    first_name: str = Field(min_length=1, max_length=100, examples=["Иван"])
    patronymic: str = Field("", max_length=100)
    birth_date: Day | None = None
    birth_place: str = Field("", max_length=300)
    sex: Literal["male", "female"] | None = None
    citizenship: str = Field("Российская Федерация", max_length=100)
    snils: str | None = Field(None, pattern=r"^\d{3}-\d{3}-\d{3} \d{2}$")
    phone: str = Field("", max_length=50)
    document: DocumentIn | None = None


def _create(conn: psycopg.Connection, user: User, p: PersonIn) -> int:
    doc = IdentityDocument(**p.document.model_dump()) if p.document else None
    return create_person(
        conn,
        clerk_actor(user),
        PersonName(p.last_name, p.first_name, p.patronymic),
        birth_date=p.birth_date,
        birth_place=p.birth_place,
        sex=p.sex,
        citizenship=p.citizenship,
        snils=p.snils,
        phone=p.phone,
        document=doc,
    )


@router.post("/persons", status_code=201, summary="Add a person to the register")
def add_person(user: Clerk, conn: Conn, body: PersonIn) -> dict[str, int]:
    with register_errors():
        return {"person_id": _create(conn, user, body)}


@router.get(
    "/persons/{person_id}", summary="A person's card: names, documents, representatives, registrations"
)
def person_card(user: Clerk, conn: Conn, person_id: PersonId) -> dict:
    with register_errors():
        card = load_person(conn, person_id, clerk_actor(user))
    registrations = conn.execute(
        "SELECT DISTINCT building_id, premise_no FROM registry_events WHERE person_id = %s "
        "AND kind IN ('residence', 'stay', 'notice')",
        (person_id,),
    ).fetchall()
    spans = [
        {
            "arrival_id": m.span.arrival_id,
            "building_id": b,
            "premise_no": p,
            "kind": m.span.kind.value,
            "start": m.span.start,
            "end": m.span.end,
            "end_reason": m.span.end_reason,
            "moved_from": m.moved_from,
            "moved_to": m.moved_to,
            "relation_to_head": m.relation_to_head,
        }
        for b, p in registrations
        for m in premise_household(conn, b, p)
        if m.span.person_id == person_id
    ]
    return {
        "person_id": card.person_id,
        "full_name": card.name.full,
        "names": [{"full_name": n.full, "valid_from": n.valid_from, "reason": n.reason} for n in card.names],
        "birth_date": card.birth_date,
        "birth_place": card.birth_place,
        "sex": card.sex,
        "citizenship": card.citizenship,
        "snils": card.snils,
        "phone": card.phone,
        "email": card.email,
        "death_date": card.death_date,
        "documents": [
            {
                "text": d.text,
                "doc_type": d.doc_type,
                "series": d.series,
                "number": d.number,
                "replaced_on": d.replaced_on,
            }
            for d in card.documents
        ],
        "representatives": [
            {"person_id": i, "full_name": n.strip(), "kind": k} for i, n, k in card.representatives
        ],
        "represented": [{"person_id": i, "full_name": n.strip(), "kind": k} for i, n, k in card.represented],
        "registrations": sorted(spans, key=lambda s: s["start"]),
    }


@router.get("/premise", summary="A premise: everyone ever registered (the archive included) and its owners")
def premise_view(
    user: Clerk,
    conn: Conn,
    building_id: BuildingQuery,
    premise_no: PremiseQuery,
    on: Day | None = None,
) -> dict:
    day = on or date.today()
    with register_errors():
        premise = load_premise(conn, building_id, premise_no, day)
        members = premise_household(conn, building_id, premise_no)
    audit_many(
        conn,
        clerk_actor(user),
        "read",
        "premise",
        [m.span.person_id for m in members],
        f"{building_id}/{premise_no}",
    )
    accounts = conn.execute(
        "SELECT account_no FROM accounts WHERE building_id = %s AND premise_no = %s AND opened_on <= %s "
        "AND (closed_on IS NULL OR closed_on > %s) ORDER BY account_no",
        (building_id, premise_no, day, day),
    ).fetchall()
    return {
        "address": premise.full_address,
        "area": premise.area,
        "owners": list(premise.owners),
        "accounts": [a for (a,) in accounts],
        "residents": [
            {
                "arrival_id": m.span.arrival_id,
                "person_id": m.span.person_id,
                "full_name": m.full_name,
                "birth_date": m.birth_date,
                "kind": m.span.kind.value,
                "start": m.span.start,
                "end": m.span.end,
                "current": m.span.covers(day),
                "end_reason": m.span.end_reason,
                "relation_to_head": m.relation_to_head,
                "moved_from": m.moved_from,
                "moved_to": m.moved_to,
            }
            for m in members
        ],
    }


class BasisIn(BaseModel):
    type: str = Field("", max_length=200, examples=["заявление"])
    number: str = Field("", max_length=50)
    date: Day | None = None


class ArrivalIn(BaseModel):
    """The registration wizard's result: where, the person (found or new) and the document it rests on."""

    building_id: str = Field(min_length=1, max_length=64, examples=["B1"])
    premise_no: str = Field(min_length=1, max_length=32, examples=["1"])
    kind: Literal["residence", "stay", "notice"] = "residence"
    date: Day = Field(examples=["2026-01-15"])
    end_date: Day | None = None
    account_no: str | None = None
    person_id: int | None = Field(None, ge=1, description="an existing person; or give `person`")
    person: PersonIn | None = None
    moved_from: str = Field("", max_length=300)
    relation_to_head: str = Field("", max_length=100)
    basis: BasisIn = BasisIn()

    @model_validator(mode="after")
    def _stay_has_an_end(self) -> ArrivalIn:
        if self.kind == "stay" and self.end_date is None:
            raise ValueError("для регистрации по месту пребывания укажите дату окончания (срок пребывания)")
        if self.end_date is not None and self.end_date <= self.date:
            raise ValueError("дата окончания должна быть позже даты регистрации; исправьте дату окончания")
        return self


@router.post("/arrivals", status_code=201, summary="Register a person in a premise (the registration wizard)")
def register_arrival(user: Clerk, conn: Conn, body: ArrivalIn) -> dict[str, int]:
    if (body.person_id is None) == (body.person is None):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "выберите найденного гражданина (person_id) или внесите нового (person) — одно из двух",
        )
    with register_errors(), conn.transaction():
        person_id = body.person_id or _create(conn, user, body.person)  # type: ignore[arg-type]
        event_id = record_arrival(
            conn,
            clerk_actor(user),
            NewArrival(
                person_id,
                body.building_id,
                body.premise_no,
                EventKind(body.kind),
                body.date,
                body.end_date,
                body.account_no,
                body.relation_to_head,
                body.moved_from,
                Basis(body.basis.type, body.basis.number, body.basis.date),
            ),
        )
    return {"person_id": person_id, "event_id": event_id}


class DeregistrationIn(BaseModel):
    date: Day = Field(examples=["2026-03-10"])
    reason: Literal["departure", "death", "court", "stay_ended"] = "departure"
    moved_to: str = Field("", max_length=300)
    basis: BasisIn = BasisIn()


@router.post("/events/{event_id}/deregistration", status_code=201, summary="Deregister (снятие с учёта)")
def deregister(user: Clerk, conn: Conn, event_id: EventId, body: DeregistrationIn) -> dict[str, int]:
    with register_errors():
        new = record_deregistration(
            conn,
            clerk_actor(user),
            event_id,
            body.date,
            body.reason,
            moved_to=body.moved_to,
            basis=Basis(body.basis.type, body.basis.number, body.basis.date),
        )
    return {"event_id": new}


class ExtensionIn(BaseModel):
    date: Day
    new_end: Day


@router.post("/events/{event_id}/extension", status_code=201, summary="Extend a stay to a new end date")
def extend(user: Clerk, conn: Conn, event_id: EventId, body: ExtensionIn) -> dict[str, int]:
    with register_errors():
        return {"event_id": record_extension(conn, clerk_actor(user), event_id, body.date, body.new_end)}


class AnnulmentIn(BaseModel):
    reason: str = Field(min_length=3, max_length=300, examples=["ошибочная запись"])


@router.post("/events/{event_id}/annulment", status_code=201, summary="Withdraw an erroneous event")
def annul(user: Clerk, conn: Conn, event_id: EventId, body: AnnulmentIn) -> dict[str, int]:
    with register_errors():
        return {"event_id": record_annulment(conn, clerk_actor(user), event_id, date.today(), body.reason)}
