"""Outgoing correspondence in the API (docs/requests.md): the operator registers an answer to a request
with the year's next number and prints it; the resident reads and prints the letters about their account
in the cabinet."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, Field

from meterhub.api.deps import AccountNo, Conn, get_settings
from meterhub.api.routes.requests import RequestId
from meterhub.api.routes.servicedesk import Operator, _now
from meterhub.core.settings import Settings
from meterhub.servicedesk.letters import Letter, letter_pdf, load_letter, register_letter
from meterhub.servicedesk.requests_store import RequestError

router = APIRouter(prefix="/servicedesk", tags=["servicedesk"])


class LetterIn(BaseModel):
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20000)
    signed_by: str = Field(default="", max_length=300, examples=["Главный инженер И. И. Петров"])
    addressee: str = Field(default="", max_length=300, description="empty: the applicant")


class LetterOut(BaseModel):
    letter_id: int
    letter_no: str = Field(examples=["ИСХ-2026-00001"])
    registered_on: date
    request_id: int | None
    account_no: str | None
    addressee: str
    address: str
    subject: str
    body: str
    signed_by: str


def _pdf(letter: Letter, settings: Settings) -> Response:
    contacts = ", ".join(
        x for x in (settings.company_address, settings.company_phone, settings.company_email) if x
    )
    data = letter_pdf(letter, settings.company_name, contacts)
    name = quote(f"{letter.letter_no}.pdf")
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"},
    )


@router.post(
    "/requests/{request_id}/letters",
    summary="Register an outgoing letter (answer) to the request with the year's next number",
    status_code=status.HTTP_201_CREATED,
    response_model=LetterOut,
)
def create_letter(request_id: RequestId, body: LetterIn, user: Operator, conn: Conn) -> LetterOut:
    now = _now()
    try:
        with conn.transaction():
            letter = register_letter(
                conn,
                request_id=request_id,
                subject=body.subject,
                body=body.body,
                signed_by=body.signed_by,
                addressee=body.addressee,
                on=now.date(),
                now=now,
                actor=user.id,
            )
    except RequestError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return LetterOut(**vars(letter))


@router.get("/requests/{request_id}/letter.pdf", summary="An outgoing letter of the request, printable PDF")
def staff_letter_pdf(
    request_id: RequestId,
    letter_id: Annotated[int, Query(ge=1, le=2**62)],
    user: Operator,
    conn: Conn,
    settings: Annotated[Settings, Depends(get_settings)],
) -> Response:
    letter = load_letter(conn, letter_id)
    if letter is None or letter.request_id != request_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} has no letter {letter_id}")
    return _pdf(letter, settings)


@router.get(
    "/accounts/{account_no}/letters",
    summary="Letters the УК sent about the account (the cabinet)",
    response_model=list[LetterOut],
)
def account_letters(account_no: AccountNo, conn: Conn) -> list[LetterOut]:
    ids = conn.execute(
        "SELECT letter_id FROM sd_letters WHERE account_no = %s ORDER BY registered_on DESC, letter_id DESC",
        (account_no,),
    ).fetchall()
    return [LetterOut(**vars(load_letter(conn, i))) for (i,) in ids]


@router.get("/accounts/{account_no}/letter.pdf", summary="One letter about the account, printable PDF")
def account_letter_pdf(
    account_no: AccountNo,
    letter_id: Annotated[int, Query(ge=1, le=2**62)],
    conn: Conn,
    settings: Annotated[Settings, Depends(get_settings)],
) -> Response:
    letter = load_letter(conn, letter_id)
    if letter is None or letter.account_no != account_no:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no letter {letter_id} for account {account_no}")
    return _pdf(letter, settings)
