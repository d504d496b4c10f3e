"""The legal department's API (roles ``lawyer`` and ``admin``; docs/claims.md): debtors, a debtor's card
with the debt history and the case timeline, batch preparation of applications, the case's steps, court
documents uploaded and downloaded, the printed application, money under a writ, the reports."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, Field

from meterhub.api.deps import Conn, require_role
from meterhub.api.roles import Role, User
from meterhub.claims.awards import Award
from meterhub.claims.reversal import REVERSAL_RULE, reversals_of

router = APIRouter(prefix="/claims", tags=["claims"])
Lawyer = Annotated[User, Depends(require_role(Role.LAWYER, Role.ADMIN))]
CaseId = Annotated[int, Path(ge=1, le=2**62, description="case (дело)")]
DocumentId = Annotated[int, Path(ge=1, le=2**62, description="document of a case")]
AccountNo = Annotated[str, Path(min_length=1, max_length=64, description="лицевой счёт")]
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@contextlib.contextmanager
def claims_errors() -> Iterator[None]:
    """The stage's refusals as answers that say what to fix."""
    from meterhub.claims.lifecycle import TransitionError

    try:
        yield
    except TransitionError as e:
        raise HTTPException(status.HTTP_409_CONFLICT, str(e)) from None
    except LookupError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    except ValueError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(e)) from None


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


@router.get("/debtors", summary="Debtors to claim (without instalment agreements and open cases)")
def list_debtors(
    user: Lawyer,
    conn: Conn,
    as_of: date,
    building_id: Annotated[str | None, Query(max_length=64)] = None,
    min_months: Annotated[int, Query(ge=1, le=600)] = 3,
    min_amount_kopecks: Annotated[int, Query(ge=1)] = 1,
) -> list[dict]:
    from meterhub.claims.selection import select_debtors

    found = select_debtors(
        conn, as_of, building_id=building_id, min_months=min_months, min_amount=min_amount_kopecks
    )
    return [
        {
            "account_no": d.account_no,
            "building_id": d.building_id,
            "premise_no": d.premise_no,
            "owner_name": d.owner_name,
            "months": d.months,
            "oldest": d.oldest,
            "amount_kopecks": d.amount,
            "penalty_kopecks": d.penalty,
        }
        for d in found
    ]


def _timeline(conn, case_id: int) -> list[dict]:
    from meterhub.claims.cases_store import case_timeline

    return [
        {
            "step_id": s.step_id,
            "state": s.state.value,
            "title": s.state.title_ru,
            "happened_on": s.happened_on,
            "note": s.note,
            "details": s.details,
            "actor": s.actor,
            "documents": [{"document_id": d, "kind": k, "file_name": n} for d, k, n in s.documents],
        }
        for s in case_timeline(conn, case_id)
    ]


@router.get("/debtors/{account_no}", summary="A debtor's card: debt history, payments, claims and cases")
def debtor_card(user: Lawyer, conn: Conn, account_no: AccountNo, as_of: date) -> dict:
    from meterhub.billing.money.ledger import payment_history
    from meterhub.claims.pretrial import pretrial_letters
    from meterhub.claims.selection import debt_statement

    row = conn.execute(
        "SELECT a.building_id, a.premise_no, a.owner_name, b.address FROM accounts a"
        " JOIN buildings b USING (building_id) WHERE a.account_no = %s",
        (account_no,),
    ).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"account {account_no} not found")
    with claims_errors():
        statement = debt_statement(conn, account_no, as_of)
    cases = conn.execute(
        "SELECT case_id, state, case_number, principal_kopecks, penalty_kopecks, state_fee_kopecks,"
        " awarded_kopecks FROM claims_cases WHERE account_no = %s ORDER BY case_id",
        (account_no,),
    ).fetchall()
    return {
        "account_no": account_no,
        "building_id": row[0],
        "premise_no": row[1],
        "owner_name": row[2],
        "address": row[3],
        "as_of": as_of,
        "debts": [
            {
                "period": x.period,
                "service": x.service,
                "kind": x.kind,
                "amount_kopecks": x.amount,
                "due_date": x.due_date,
                "limitation_ends": x.limitation_ends,
                "time_barred": x.time_barred,
            }
            for x in statement.lines
        ],
        "payments": [
            {
                "paid_on": p.paid_on,
                "amount_kopecks": p.amount,
                "source": p.source,
                "purpose": p.purpose,
                "reversal": any(a.rule == REVERSAL_RULE for a in p.allocations),
            }
            for p in payment_history(conn, account_no)
        ],
        "reversals": reversals_of(conn, [c[0] for c in cases]),
        "letters": [
            {
                "letter_id": r[0],
                "as_of": r[2],
                "principal_kopecks": r[3],
                "penalty_kopecks": r[4],
                "pay_by": r[5],
                "sent_on": r[6],
                "tracking": r[7],
            }
            for r in pretrial_letters(conn)
            if r[1] == account_no
        ],
        "cases": [
            {
                "case_id": c[0],
                "state": c[1],
                "case_number": c[2],
                "principal_kopecks": c[3],
                "penalty_kopecks": c[4],
                "state_fee_kopecks": c[5],
                "awarded_kopecks": c[6],
                "timeline": _timeline(conn, c[0]),
            }
            for c in cases
        ],
    }


class BatchIn(BaseModel):
    accounts: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=500)
    as_of: date
    filed_on: date | None = None
    include_time_barred: bool = False


@router.post("/cases", status_code=201, summary="Prepare court-order applications for a batch of accounts")
def prepare_batch(user: Lawyer, conn: Conn, body: BatchIn) -> list[dict]:
    """One case per account (each in its own transaction): its id, or why it was not prepared."""
    from meterhub.claims.cases_store import attach_document, prepare_case
    from meterhub.claims.documents import application_document
    from meterhub.claims.pdf import render_application_pdf

    result = []
    for account in body.accounts:
        try:
            with conn.transaction():
                case_id = prepare_case(
                    conn,
                    account,
                    as_of=body.as_of,
                    actor=user.username,
                    filed_on=body.filed_on,
                    include_time_barred=body.include_time_barred,
                )
                pdf = render_application_pdf(application_document(conn, case_id))
                attach_document(
                    conn,
                    case_id,
                    "application",
                    f"zayavlenie_{account}_{case_id}.pdf",
                    "application/pdf",
                    pdf,
                    user.username,
                )
            result.append({"account_no": account, "case_id": case_id})
        except (LookupError, ValueError) as e:
            result.append({"account_no": account, "error": str(e)})
    return result


@router.get("/cases", summary="Cases, optionally by state and building")
def list_cases(
    user: Lawyer,
    conn: Conn,
    state: Annotated[str | None, Query(max_length=32)] = None,
    building_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict]:
    rows = conn.execute(
        "SELECT case_id, account_no, building_id, state, case_number, as_of, principal_kopecks,"
        " penalty_kopecks,"
        " state_fee_kopecks, awarded_kopecks FROM claims_cases"
        " WHERE (%(s)s::text IS NULL OR state = %(s)s) AND (%(b)s::text IS NULL OR building_id = %(b)s)"
        " ORDER BY case_id",
        {"s": state, "b": building_id},
    ).fetchall()
    keys = (
        "case_id",
        "account_no",
        "building_id",
        "state",
        "case_number",
        "as_of",
        "principal_kopecks",
        "penalty_kopecks",
        "state_fee_kopecks",
        "awarded_kopecks",
    )
    return [dict(zip(keys, r, strict=True)) for r in rows]


@router.get("/cases/{case_id}", summary="A case: debtors with their shares, costs, money received, timeline")
def get_case(user: Lawyer, conn: Conn, case_id: CaseId) -> dict:
    from meterhub.claims.lifecycle import CaseState, next_states

    case = conn.execute(
        "SELECT account_no, state, case_number, court_name, as_of, period_from, period_to, principal_kopecks,"
        " penalty_kopecks, state_fee_kopecks, fee_schedule, awarded_kopecks FROM claims_cases"
        " WHERE case_id = %s",
        (case_id,),
    ).fetchone()
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"case {case_id} not found")
    keys = (
        "account_no",
        "state",
        "case_number",
        "court_name",
        "as_of",
        "period_from",
        "period_to",
        "principal_kopecks",
        "penalty_kopecks",
        "state_fee_kopecks",
        "fee_schedule",
        "awarded_kopecks",
    )
    debtors = conn.execute(
        "SELECT debtor_no, full_name, birth_date, share_numerator || '/' || share_denominator,"
        " representative,"
        " principal_kopecks, penalty_kopecks, state_fee_kopecks, joint_group, organization, inn, ogrn,"
        " legal_address FROM claims_case_debtors WHERE case_id = %s ORDER BY debtor_no",
        (case_id,),
    ).fetchall()
    dkeys = (
        "debtor_no",
        "full_name",
        "birth_date",
        "share",
        "representative",
        "principal_kopecks",
        "penalty_kopecks",
        "state_fee_kopecks",
        "joint_group",
        "organization",
        "inn",
        "ogrn",
        "legal_address",
    )
    costs = conn.execute(
        "SELECT kind, paid_kopecks, paid_on, awarded_kopecks, note FROM claims_case_costs WHERE case_id = %s"
        " ORDER BY cost_id",
        (case_id,),
    ).fetchall()
    receipts = conn.execute(
        "SELECT received_on, amount_kopecks, to_debts_kopecks, to_costs_kopecks, reference, debtor_no"
        " FROM claims_writ_receipts"
        " WHERE case_id = %s ORDER BY receipt_id",
        (case_id,),
    ).fetchall()
    return {
        "case_id": case_id,
        **dict(zip(keys, case, strict=True)),
        "debtors": [dict(zip(dkeys, d, strict=True)) for d in debtors],
        "costs": [
            dict(zip(("kind", "paid_kopecks", "paid_on", "awarded_kopecks", "note"), c, strict=True))
            for c in costs
        ],
        "receipts": [
            dict(
                zip(
                    (
                        "received_on",
                        "amount_kopecks",
                        "to_debts_kopecks",
                        "to_costs_kopecks",
                        "reference",
                        "debtor_no",
                    ),
                    r,
                    strict=True,
                )
            )
            for r in receipts
        ],
        "suit": _suit(conn, case_id),
        "reversals": reversals_of(conn, [case_id]),
        "court_act": _court_act(conn, case_id),
        "timeline": _timeline(conn, case_id),
        "next_states": [{"state": n.value, "title": n.title_ru} for n in next_states(CaseState(case[1]))],
    }


def _suit(conn, case_id: int) -> list[dict] | None:
    """What the latest lawsuit claims from each debtor (its price recalculated to the day it was filed),
    or None without a lawsuit."""
    from meterhub.claims.lawsuit import kind_total, latest_suit_lines

    suit = latest_suit_lines(conn, case_id)
    if suit is None:
        return None
    return [
        {
            "debtor_no": debtor_no,
            "principal_kopecks": kind_total(parts, "principal"),
            "penalty_kopecks": kind_total(parts, "penalty"),
        }
        for debtor_no, parts in sorted(suit.items())
    ]


def _court_act(conn, case_id: int) -> dict | None:
    """The latest court order or decision with what it awards each defendant."""
    from meterhub.claims.awards import LIABILITY_RU, defendants
    from meterhub.claims.cases_store import court_act_awards
    from meterhub.claims.lifecycle import DECISION_STATES

    step = conn.execute(
        "SELECT step_id, state, happened_on FROM claims_case_steps WHERE case_id = %s AND state = ANY(%s)"
        " ORDER BY happened_on DESC, step_id DESC LIMIT 1",
        (case_id, [s.value for s in DECISION_STATES]),
    ).fetchone()
    if step is None:
        return None
    names = dict(
        conn.execute("SELECT debtor_no, full_name FROM claims_case_debtors WHERE case_id = %s", (case_id,))
    )
    awards = court_act_awards(conn, step[0])
    return {
        "step_id": step[0],
        "state": step[1],
        "happened_on": step[2],
        "awards": [
            {
                "award_no": i,
                "liability": a.liability,
                "liability_ru": LIABILITY_RU[a.liability],
                "amount_kopecks": a.amount_kopecks,
                "costs_kopecks": a.costs_kopecks,
                "debtors": [{"debtor_no": d, "full_name": names[d]} for d in a.debtor_nos],
            }
            for i, a in enumerate(awards, 1)
        ],
        "defendants": [
            {
                "debtor_no": d.debtor_no,
                "full_name": names[d.debtor_no],
                "liability": d.liability,
                "amount_kopecks": d.amount_kopecks,
                "jointly_with": [names[x] for x in d.jointly_with],
            }
            for d in defendants(awards)
        ],
    }


class AwardIn(BaseModel):
    """What the court act orders: one debtor by share, or several debtors solidarily (the amount once)."""

    liability: Literal["share", "solidary"] = "share"
    debtors: list[int] = Field(min_length=1, max_length=50, description="debtor numbers of the case")
    amount_kopecks: int = Field(ge=1, le=10**13, description="debt and penalties awarded")
    costs_kopecks: int = Field(0, ge=0, le=10**13, description="court costs awarded")


class StepIn(BaseModel):
    state: str = Field(max_length=32)
    happened_on: date
    note: str = Field("", max_length=2000)
    case_number: str | None = Field(None, max_length=100)
    court: str | None = Field(None, max_length=300)
    awarded_kopecks: int | None = Field(None, ge=0)
    in_force_on: date | None = None
    proceeding: str = Field("", max_length=100)
    office: str = Field("", max_length=300)
    awards: list[AwardIn] | None = Field(
        None,
        max_length=50,
        description="a court order or decision: what it awards each defendant (default: what was claimed, "
        "each by share); required instead of awarded_kopecks when the case has several debtors",
    )


@router.post("/cases/{case_id}/steps", status_code=201, summary="Record a step of the case")
def add_step(user: Lawyer, conn: Conn, case_id: CaseId, body: StepIn) -> dict:
    from meterhub.claims.cases_store import record_step
    from meterhub.claims.lifecycle import CaseState

    if body.state not in {s.value for s in CaseState}:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"unknown state {body.state!r}")
    details = {k: v for k, v in (("proceeding", body.proceeding), ("office", body.office)) if v}
    with claims_errors(), conn.transaction():
        step_id = record_step(
            conn,
            case_id,
            body.state,
            body.happened_on,
            user.username,
            note=body.note,
            case_number=body.case_number,
            court=body.court,
            awarded_kopecks=body.awarded_kopecks,
            in_force_on=body.in_force_on,
            details=details,
            awards=None
            if body.awards is None
            else [
                Award(a.liability, tuple(a.debtors), a.amount_kopecks, a.costs_kopecks) for a in body.awards
            ],
        )
    return {"step_id": step_id}


@router.post("/cases/{case_id}/documents", status_code=201, summary="Upload a court document to the case")
async def upload_document(
    user: Lawyer,
    conn: Conn,
    case_id: CaseId,
    kind: Annotated[str, Form(min_length=1, max_length=64)],
    file: Annotated[UploadFile, File(description="the court's order, decision, writ … at most 20 MB")],
) -> dict:
    from meterhub.claims.cases_store import attach_document

    data = await file.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "a document may have at most 20 MB")
    with claims_errors(), conn.transaction():
        document_id = attach_document(
            conn,
            case_id,
            kind,
            file.filename or "document",
            file.content_type or "application/octet-stream",
            data,
            user.username,
        )
    return {"document_id": document_id}


@router.get(
    "/cases/{case_id}/documents/{document_id}",
    summary="Download a document of the case",
    response_class=Response,
)
def download_document(user: Lawyer, conn: Conn, case_id: CaseId, document_id: DocumentId) -> Response:
    row = conn.execute(
        "SELECT file_name, mime, content FROM claims_case_documents WHERE case_id = %s AND document_id = %s",
        (case_id, document_id),
    ).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"document {document_id} of case {case_id} not found")
    return Response(bytes(row[2]), media_type=row[1], headers={"Content-Disposition": _attachment(row[0])})


class WritIn(BaseModel):
    amount_kopecks: int = Field(gt=0)
    received_on: date
    reference: str = Field(min_length=1, max_length=100)
    debtor_no: int | None = Field(
        default=None,
        gt=0,
        description="the debtor the money came from; required when the act has several awards",
    )


@router.post("/cases/{case_id}/writ-receipts", status_code=201, summary="Money received under the court act")
def writ_receipt(user: Lawyer, conn: Conn, case_id: CaseId, body: WritIn) -> dict:
    from meterhub.claims.writ_payments import receive_under_writ

    with claims_errors(), conn.transaction():
        r = receive_under_writ(
            conn,
            case_id,
            body.amount_kopecks,
            body.received_on,
            body.reference,
            user.username,
            debtor_no=body.debtor_no,
        )
    return {
        "receipt_id": r.receipt_id,
        "award_no": r.award_no,
        "to_debts_kopecks": r.to_debts,
        "to_costs_kopecks": r.to_costs,
        "to_advance_kopecks": r.to_advance,
    }


class ReversalIn(BaseModel):
    debtor_no: int = Field(gt=0, description="the debtor the money is returned to")
    amount_kopecks: int = Field(gt=0, le=10**13)
    ruled_on: date = Field(description="the day of the ruling (определение о повороте исполнения)")
    ruling_number: str = Field("", max_length=100)
    court_name: str = Field("", max_length=300)
    returned_on: date | None = Field(None, description="the day the money went back (default: ruled_on)")
    note: str = Field("", max_length=1000)


@router.post(
    "/cases/{case_id}/reversals",
    status_code=201,
    summary="A ruling reversing execution of a cancelled order (поворот исполнения, ГПК РФ ст. 443–444)",
)
def reversal(user: Lawyer, conn: Conn, case_id: CaseId, body: ReversalIn) -> dict:
    from meterhub.claims.reversal import reverse_execution

    with claims_errors(), conn.transaction():
        r = reverse_execution(
            conn,
            case_id,
            debtor_no=body.debtor_no,
            amount_kopecks=body.amount_kopecks,
            ruled_on=body.ruled_on,
            actor=user.username,
            ruling_number=body.ruling_number,
            court_name=body.court_name,
            returned_on=body.returned_on,
            note=body.note,
        )
    return {
        "reversal_id": r.reversal_id,
        "from_debts_kopecks": r.from_debts,
        "from_costs_kopecks": r.from_costs,
    }


@router.get(
    "/reports.xlsx", summary="Reports and the ФССП reconciliation list (XLSX)", response_class=Response
)
def reports(user: Lawyer, conn: Conn) -> Response:
    from meterhub.claims.reports import reports_xlsx

    return Response(
        reports_xlsx(conn), media_type=XLSX, headers={"Content-Disposition": _attachment("claims.xlsx")}
    )
