"""The passport office API, records around a person (role ``passport_office`` only): owners with shares and
title documents with a scan, legal representatives, the basic data, a change of name, a replaced identity
document."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Path, Response, UploadFile, status
from pydantic import BaseModel, Field

from meterhub.api.deps import Conn
from meterhub.api.routes.registry import (
    BuildingQuery,
    Clerk,
    Day,
    DocumentIn,
    PersonId,
    PremiseQuery,
    clerk_actor,
    content_disposition,
    register_errors,
)
from meterhub.registry.owners_store import (
    MAX_SCAN_BYTES,
    NewOwnership,
    add_ownership,
    end_ownership,
    owners_of,
    scan,
    set_organization_details,
)
from meterhub.registry.persons import IdentityDocument, PersonName
from meterhub.registry.persons_store import add_representative, change_name, replace_document, update_person

router = APIRouter(prefix="/registry", tags=["passport office"])
OwnershipId = Annotated[int, Path(ge=1, le=2**62, description="an ownership (собственник и доля)")]


@router.get("/owners", summary="Owners of a premise, ended ownerships included")
def list_owners(
    user: Clerk,
    conn: Conn,
    building_id: BuildingQuery,
    premise_no: PremiseQuery,
) -> list[dict]:
    return owners_of(conn, building_id, premise_no)


@router.post("/owners", status_code=201, summary="Add an owner with a share and the title document (scan)")
async def add_owner(
    user: Clerk,
    conn: Conn,
    building_id: Annotated[str, Form(min_length=1, max_length=64, examples=["B1"])],
    premise_no: Annotated[str, Form(min_length=1, max_length=32, examples=["1"])],
    acquired_on: Annotated[Day, Form(examples=["2015-03-01"])],
    person_id: Annotated[int | None, Form(ge=1)] = None,
    organization: Annotated[str, Form(max_length=300)] = "",
    share: Annotated[str, Form(pattern=r"^\d+/\d+$|^1$", examples=["1/2"])] = "1",
    title_type: Annotated[str, Form(max_length=200)] = "",
    title_number: Annotated[str, Form(max_length=100)] = "",
    title_date: Annotated[Day | None, Form()] = None,
    registry_entry: Annotated[str, Form(max_length=100)] = "",
    joint_group: Annotated[
        int | None,
        Form(ge=1, le=1000, description="общая совместная собственность: one number for the joint owners"),
    ] = None,
    scan_file: Annotated[UploadFile | None, File(description="PDF, JPEG, PNG or TIFF, at most 10 MB")] = None,
    organization_inn: Annotated[str, Form(max_length=20, description="ИНН организации, 10 цифр")] = "",
    organization_ogrn: Annotated[str, Form(max_length=20, description="ОГРН, 13 цифр")] = "",
    organization_address: Annotated[str, Form(max_length=500, description="адрес юридического лица")] = "",
) -> dict[str, int]:
    denominator = share.partition("/")[2]
    if denominator and int(denominator) == 0:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Доля: знаменатель не может быть 0; запишите дробью, например 1/2",
        )
    data = None
    if scan_file is not None and scan_file.filename:
        data = await scan_file.read(MAX_SCAN_BYTES + 1)
    with register_errors():
        ownership = NewOwnership(
            building_id,
            premise_no,
            acquired_on,
            person_id,
            organization,
            Fraction(share),
            title_type,
            title_number,
            title_date,
            registry_entry,
            data,
            scan_file.filename if data else "",
            scan_file.content_type or "" if data else "",
            joint_group,
            organization_inn,
            organization_ogrn,
            organization_address,
        )
        return {"ownership_id": add_ownership(conn, clerk_actor(user), ownership)}


class OrganizationDetails(BaseModel):
    inn: str = Field("", max_length=20, description="ИНН организации, 10 цифр")
    ogrn: str = Field("", max_length=20, description="ОГРН, 13 цифр")
    address: str = Field("", max_length=500, description="адрес юридического лица (место нахождения)")


@router.put(
    "/owners/{ownership_id}/organization",
    summary="An organisation owner's ИНН, ОГРН and legal address (check digits validated)",
)
def put_organization_details(
    user: Clerk, conn: Conn, ownership_id: OwnershipId, body: OrganizationDetails
) -> dict[str, str]:
    with register_errors():
        set_organization_details(
            conn, clerk_actor(user), ownership_id, inn=body.inn, ogrn=body.ogrn, address=body.address
        )
    return {"inn": body.inn.strip(), "ogrn": body.ogrn.strip(), "address": body.address.strip()}


class OwnershipEnd(BaseModel):
    lost_on: date


@router.post("/owners/{ownership_id}/end", summary="An owner loses the ownership (продажа, дарение …)")
def end_owner(user: Clerk, conn: Conn, ownership_id: OwnershipId, body: OwnershipEnd) -> dict[str, str]:
    with register_errors():
        end_ownership(conn, clerk_actor(user), ownership_id, body.lost_on)
    return {"lost_on": body.lost_on.isoformat()}


@router.get("/owners/{ownership_id}/scan", summary="The title document's scan", response_class=Response)
def owner_scan(user: Clerk, conn: Conn, ownership_id: OwnershipId) -> Response:
    found = scan(conn, clerk_actor(user), ownership_id)
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"к праву собственности № {ownership_id} скан документа не приложен"
        )
    data, name, mime = found
    return Response(
        data,
        media_type=mime,
        headers={
            "Content-Disposition": content_disposition(name or "scan", inline=True),
            "X-Content-Type-Options": "nosniff",
        },
    )


class RepresentativeIn(BaseModel):
    representative_id: int = Field(ge=1)
    kind: Literal["parent", "adoptive_parent", "guardian", "trustee"] = "parent"
    basis: str = Field("", max_length=300, examples=["свидетельство о рождении"])
    valid_from: Day | None = None


@router.post("/persons/{person_id}/representatives", status_code=201, summary="Link a legal representative")
def link_representative(
    user: Clerk, conn: Conn, person_id: PersonId, body: RepresentativeIn
) -> dict[str, int]:
    if body.representative_id == person_id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "гражданин не может быть законным представителем самого себя; выберите другого представителя",
        )
    with register_errors():
        add_representative(
            conn, clerk_actor(user), body.representative_id, person_id, body.kind, body.basis, body.valid_from
        )
    return {"represented_id": person_id, "representative_id": body.representative_id}


class PersonDataIn(BaseModel):
    """Only the fields sent are changed; ``snils: null`` clears it."""

    birth_date: Day | None = None
    birth_place: str = Field("", max_length=300)
    sex: Literal["male", "female"] | None = None
    citizenship: str = Field("Российская Федерация", min_length=1, max_length=100)
    snils: str | None = Field(None, pattern=r"^\d{3}-\d{3}-\d{3} \d{2}$", examples=["112-233-445 95"])
    phone: str = Field("", max_length=50, examples=["+7 912 000-00-00"])
    email: str = Field("", max_length=200, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")


@router.patch("/persons/{person_id}", summary="Edit a person's basic data (birth, СНИЛС, contacts)")
def edit_person(user: Clerk, conn: Conn, person_id: PersonId, body: PersonDataIn) -> dict[str, dict]:
    changes = body.model_dump(exclude_unset=True)
    with register_errors():
        changed = update_person(conn, clerk_actor(user), person_id, changes)
    return {"changed": {field: {"old": old, "new": new} for field, (old, new) in changed.items()}}


class NameChange(BaseModel):
    last_name: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)
    patronymic: str = Field("", max_length=100)
    valid_from: Day
    reason: str = Field("", max_length=200, examples=["вступление в брак"])
    basis: str = Field("", max_length=300, examples=["свидетельство о заключении брака"])


@router.post("/persons/{person_id}/names", status_code=201, summary="A change of name (the old one stays)")
def new_name(user: Clerk, conn: Conn, person_id: PersonId, body: NameChange) -> dict[str, str]:
    name = PersonName(body.last_name, body.first_name, body.patronymic, body.valid_from, body.reason)
    with register_errors():
        change_name(conn, clerk_actor(user), person_id, name, basis=body.basis)
    return {"full_name": name.full}


class DocumentReplacement(DocumentIn):
    replaced_on: Day
    reason: str = Field(min_length=2, max_length=200, examples=["достижение 45 лет"])


@router.post(
    "/persons/{person_id}/documents", status_code=201, summary="A new identity document replaces the old"
)
def new_document(user: Clerk, conn: Conn, person_id: PersonId, body: DocumentReplacement) -> dict[str, str]:
    values = body.model_dump(exclude={"replaced_on", "reason"})
    with register_errors():
        replace_document(
            conn,
            clerk_actor(user),
            person_id,
            IdentityDocument(**values),
            on=body.replaced_on,
            reason=body.reason,
        )
    return {"number": body.number}
