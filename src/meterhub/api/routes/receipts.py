"""Receipts (ЕПД): the list of an account's receipts, a period's PDF and the debt receipt PDF.

Rendering is :mod:`meterhub.billing.receipts`; this router only checks access and maps its errors.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field

from meterhub.api.deps import AccountNo, Conn, get_settings
from meterhub.api.payment_state import STATE_NAMES, paid_since, payment_state
from meterhub.api.routes.accounts import due_date_of
from meterhub.api.schemas import Money, money
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.core.settings import Settings

router = APIRouter(tags=["receipts"])

# Debts older than this are not in the system; a debt "as of" a future day would be a forecast.
EARLIEST_DEBT_DATE = date(2000, 1, 1)
PDF_RESPONSE = {200: {"content": {"application/pdf": {}}, "description": "the PDF"}}


class ReceiptOut(BaseModel):
    period: str = Field(examples=["2026-01"])
    status: str = Field(description="closed (final) or draft (the period is not closed yet)")
    charged: Money
    to_pay: Money = Field(
        description="what the receipt asks: the closing balance of the period, never below 0"
    )
    issued_at: datetime | None = Field(description="when a batch last printed it (null: rendered on demand)")
    due_date: date | None = Field(
        description="pay by this day (billing's penalty tables: day N of the next month; null if unknown)"
    )
    paid_after: Money = Field(description="paid since the period ended (goes to this receipt's amount first)")
    payment_state: str = Field(description="nothing_due, paid, partly_paid or unpaid")
    payment_state_name: str = Field(description="«оплачена», «оплачена частично», «не оплачена», …")
    pdf_url: str


def _receipts_module():
    try:
        from meterhub.billing import receipts
    except ImportError as exc:  # the receipts package is part of the server install; say what is wrong
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"receipts are not available on this server: {exc}"
        ) from None
    return receipts


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content=content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/accounts/{account_no}/receipts",
    summary="Receipts of an account by period, newest first",
    response_model=list[ReceiptOut],
)
def list_account_receipts(account_no: AccountNo, conn: Conn) -> list[ReceiptOut]:
    receipts = _receipts_module()
    payments = conn.execute(
        "SELECT paid_on, amount_kopecks FROM payments WHERE account_no = %s ORDER BY paid_on", (account_no,)
    ).fetchall()
    out = []
    for r in receipts.list_receipts(conn, account_no):
        after = paid_since(payments, BillingPeriod.parse(r.period).end_day)
        state = payment_state(r.to_pay_kopecks, after)
        out.append(
            ReceiptOut(
                period=r.period,
                status=r.status,
                charged=money(r.charged_kopecks),
                to_pay=money(r.to_pay_kopecks),
                issued_at=r.issued_at,
                due_date=due_date_of(r.period),
                paid_after=money(after),
                payment_state=state,
                payment_state_name=STATE_NAMES[state],
                pdf_url=f"/api/v1/accounts/{account_no}/receipts/{r.period}.pdf",
            )
        )
    return out


@router.get(
    "/accounts/{account_no}/receipts/debt.pdf",
    summary="Debt receipt (квитанция на задолженность) as of a date, as PDF",
    response_class=Response,
    responses={
        **PDF_RESPONSE,
        409: {"description": "nothing to print, with the reason"},
        422: {"description": "as_of before 2000 or after today"},
    },
)
def debt_receipt_pdf(
    account_no: AccountNo,
    conn: Conn,
    settings: Annotated[Settings, Depends(get_settings)],
    as_of: Annotated[date | None, Query(description="debt as of this day (default: today)")] = None,
) -> Response:
    receipts = _receipts_module()
    today = date.today()
    day = as_of or today
    if not EARLIEST_DEBT_DATE <= day <= today:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            f"as_of must be between {EARLIEST_DEBT_DATE:%d.%m.%Y} and today ({today:%d.%m.%Y}) "
            f"(дата задолженности — с {EARLIEST_DEBT_DATE:%d.%m.%Y} по сегодняшний день)",
        )
    try:
        content = receipts.render_debt_receipt_pdf(conn, account_no, day, link_secret=settings.secret_key)
    except receipts.ReceiptDataError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"cannot print the debt receipt: {exc}") from None
    return _pdf(content, f"debt-{account_no}-{day.isoformat()}.pdf")


@router.get(
    "/accounts/{account_no}/receipts/{period}.pdf",
    summary="The receipt (ЕПД) of a period as PDF",
    response_class=Response,
    responses={
        **PDF_RESPONSE,
        404: {"description": "no receipt for that period"},
        409: {"description": "the receipt cannot be printed, with the reason"},
    },
)
def receipt_pdf(
    account_no: AccountNo,
    period: Annotated[
        str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM", examples=["2026-01"])
    ],
    conn: Conn,
    settings: Annotated[Settings, Depends(get_settings)],
) -> Response:
    receipts = _receipts_module()
    available = {r.period for r in receipts.list_receipts(conn, account_no)}
    if period not in available:
        known = ", ".join(sorted(available)) or "none yet"
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no receipt of {account_no} for {period} (receipts: {known})"
        )
    try:
        content = receipts.render_receipt_pdf(conn, account_no, period, link_secret=settings.secret_key)
    except receipts.ReceiptDataError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"cannot print the receipt: {exc}") from None
    return _pdf(content, f"receipt-{account_no}-{period}.pdf")
