"""Paying a receipt: the amount, the due date, the receipt's ГОСТ Р 56042 QR code to scan with a bank's
app (the same payload as the printed ЕПД), and the management company's payment page when configured."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, Field

from meterhub.api.deps import AccountNo, Conn, get_settings
from meterhub.api.routes.accounts import due_date_of
from meterhub.api.schemas import Money, money
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.core.settings import Settings

router = APIRouter(tags=["receipts"])

PeriodQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM; default: the latest receipt"),
]


class PaymentOut(BaseModel):
    period: str
    to_pay: Money = Field(description="what the receipt asks (never below 0)")
    due_date: date | None
    qr_payload: str = Field(description="the ГОСТ Р 56042-2014 payload printed on the receipt (ST00012|…)")
    qr_svg_url: str = Field(description="the same QR code as an SVG image for the screen")
    payment_url: str | None = Field(
        description="the management company's payment page with the account and amount filled in (null when "
        "METERHUB_PAYMENT_URL is not set)"
    )


def _receipt(conn, account_no: str, period: str | None):
    from meterhub.billing.receipts import ReceiptDataError, list_receipts, load_receipt

    periods = [r.period for r in list_receipts(conn, account_no)]
    if not periods:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"{account_no} has no receipts yet (квитанций ещё нет)"
        )
    chosen = period or max(periods)
    if chosen not in periods:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no receipt of {account_no} for {chosen} (receipts: {', '.join(periods)})",
        )
    try:
        return load_receipt(conn, account_no, BillingPeriod.parse(chosen), issued_on=date.today())
    except ReceiptDataError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"cannot prepare the payment: {exc}") from None


def payment_link(template: str | None, account_no: str, amount: Decimal) -> str | None:
    """The configured page with ``{account_no}`` and ``{amount}`` (``1234.56``) filled in, URL-quoted."""
    if not template:
        return None
    return template.replace("{account_no}", quote(account_no, safe="")).replace("{amount}", f"{amount:.2f}")


@router.get(
    "/accounts/{account_no}/payment",
    summary="How to pay a receipt: amount, due date, the receipt's QR payload and the payment page",
    response_model=PaymentOut,
    responses={404: {"description": "no receipt (for that period)"}},
)
def payment(
    account_no: AccountNo,
    conn: Conn,
    settings: Annotated[Settings, Depends(get_settings)],
    period: PeriodQuery = None,
) -> PaymentOut:
    receipt = _receipt(conn, account_no, period)
    amount = receipt.totals.qr_amount
    chosen = str(receipt.period)
    return PaymentOut(
        period=chosen,
        to_pay=money(amount),
        due_date=due_date_of(chosen),
        qr_payload=receipt.qr_payload.decode("utf-8", "replace"),
        qr_svg_url=f"/api/v1/accounts/{account_no}/payment/qr.svg?period={chosen}",
        payment_url=payment_link(settings.payment_url, account_no, amount),
    )


@router.get(
    "/accounts/{account_no}/payment/qr.svg",
    summary="The receipt's payment QR code as SVG (scan it in a bank's app)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the QR code"}},
)
def payment_qr_svg(account_no: AccountNo, conn: Conn, period: PeriodQuery = None) -> Response:
    import segno

    receipt = _receipt(conn, account_no, period)
    code = segno.make_qr(receipt.qr_payload, error="m", mode="byte", boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, xmldecl=False, title="QR-код для оплаты")
    return Response(content=out.getvalue(), media_type="image/svg+xml")
