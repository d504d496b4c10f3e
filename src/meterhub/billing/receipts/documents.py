"""Public receipt functions (notes/api-contract.md, "Receipts"): one account's PDF for a period, for a range
of periods, its debt receipt as of a date, and the list of its receipts."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg

from meterhub.billing.money.opening_balances import opening_due_dates
from meterhub.billing.money.payment_qr import (
    PaymentPayloadError,
    QrCharset,
    ReceiptPayment,
    receipt_payment_payload,
)
from meterhub.billing.receipts.balances import building_period_balances, outstanding_debts, penalties_as_of
from meterhub.billing.receipts.labels import ru_date
from meterhub.billing.receipts.link_code import account_link_code
from meterhub.billing.receipts.loader import AccountInfo, load_payee, load_receipt, payer_of
from meterhub.billing.receipts.model import DebtLine, DebtReceipt, ReceiptDataError
from meterhub.billing.receipts.pdf import write_debt_receipt, write_receipts
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.registry.counts_store import register_counts_on
from meterhub.registry.payers import register_payer_names

log = logging.getLogger(__name__)

__all__ = [
    "ReceiptSummary",
    "list_receipts",
    "load_debt_receipt",
    "render_debt_receipt_pdf",
    "render_receipt_pdf",
    "render_receipts_pdf",
]


def _period(period: BillingPeriod | str) -> BillingPeriod:
    if isinstance(period, BillingPeriod):
        return period
    try:
        return BillingPeriod.parse(period)
    except ValueError as exc:
        raise ReceiptDataError(str(exc)) from None


def render_receipt_pdf(
    conn: psycopg.Connection,
    account_no: str,
    period: BillingPeriod | str,
    *,
    issued_on: date | None = None,
    link_secret: str | None = None,
    charset: QrCharset = QrCharset.UTF_8,
) -> bytes:
    """The ЕПД of ``account_no`` for ``period`` (``"YYYY-MM"``) as PDF bytes.

    ``issued_on`` defaults to today; ``link_secret`` (``Settings.secret_key``) prints the account-link
    code. Raises :class:`ReceiptDataError` (a ``ValueError``) with the reason when there is nothing to
    print (unknown account, period not computed, no charges, payee requisites missing or invalid).
    """
    receipt = load_receipt(
        conn, account_no, _period(period), issued_on=issued_on or date.today(), link_secret=link_secret,
        charset=charset,
    )  # fmt: skip
    out = io.BytesIO()
    write_receipts(out, [receipt], title=f"ЕПД {account_no} {receipt.period}")
    return out.getvalue()


def render_receipts_pdf(
    conn: psycopg.Connection,
    account_no: str,
    first: BillingPeriod | str,
    last: BillingPeriod | str,
    *,
    issued_on: date | None = None,
    link_secret: str | None = None,
) -> bytes:
    """The receipts of ``account_no`` for every computed period from ``first`` to ``last`` (inclusive), one
    after another in one PDF. Periods without charges for the account are skipped; none at all is an error.
    """
    start, end = _period(first), _period(last)
    if end < start:
        raise ReceiptDataError(f"the range {start}…{end} is empty: the last period is before the first")
    available = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT period FROM charge_lines WHERE account_no = %s AND period BETWEEN %s AND %s",
            (account_no, str(start), str(end)),
        )
    }
    receipts = []
    p = start
    while p <= end:
        if str(p) in available:
            receipts.append(
                load_receipt(
                    conn, account_no, p, issued_on=issued_on or date.today(), link_secret=link_secret
                )
            )
        p = p.next()
    if not receipts:
        raise ReceiptDataError(f"account {account_no}: no computed period with charges in {start}…{end}")
    out = io.BytesIO()
    write_receipts(out, receipts, title=f"ЕПД {account_no} {start}…{end}")
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class ReceiptSummary:
    """One receipt of an account: the period, whether it is final, amounts [kopecks] and its last issue."""

    period: str
    status: str  # closed / draft
    charged_kopecks: int
    to_pay_kopecks: int
    issued_at: datetime | None
    batch_id: int | None

    @property
    def charged(self) -> str:
        return f"{Decimal(self.charged_kopecks).scaleb(-2):.2f}"

    @property
    def to_pay(self) -> str:
        return f"{Decimal(self.to_pay_kopecks).scaleb(-2):.2f}"


def list_receipts(conn: psycopg.Connection, account_no: str) -> list[ReceiptSummary]:
    """The receipts an account has, newest period first: every computed period with charges for it.

    ``to_pay`` is the ledger's closing balance of the period (what that receipt asks, never below 0);
    ``issued_at``/``batch_id`` tell the latest batch that printed it (None: not printed in a batch yet —
    :func:`render_receipt_pdf` still renders it on demand). An unknown account raises
    :class:`ReceiptDataError`.
    """
    row = conn.execute("SELECT building_id FROM accounts WHERE account_no = %s", (account_no,)).fetchone()
    if row is None:
        raise ReceiptDataError(f"account {account_no!r} does not exist; check the number")
    periods = conn.execute(
        """
        SELECT c.period, p.status, sum(c.amount)
        FROM charge_lines c JOIN billing_periods p USING (building_id, period)
        WHERE c.account_no = %s GROUP BY c.period, p.status ORDER BY c.period DESC
        """,
        (account_no,),
    ).fetchall()
    issued = {
        period: (started_at, batch_id)
        for period, started_at, batch_id in conn.execute(
            """
            SELECT DISTINCT ON (r.period) r.period, b.started_at, b.batch_id
            FROM receipt_register r JOIN receipt_batches b USING (batch_id)
            WHERE r.account_no = %s AND b.status = 'done' ORDER BY r.period, b.started_at DESC
            """,
            (account_no,),
        )
    }
    result = []
    for period, status, charged in periods:
        balance = building_period_balances(conn, BillingPeriod.parse(period), account_nos=[account_no])
        closing = balance[account_no].closing
        at, batch = issued.get(period, (None, None))
        result.append(
            ReceiptSummary(period, status, int(charged * 100), int(max(closing, Decimal(0)) * 100), at, batch)
        )
    return result


def load_debt_receipt(
    conn: psycopg.Connection,
    account_no: str,
    as_of: date,
    *,
    issued_on: date | None = None,
    link_secret: str | None = None,
    tables: PenaltyTables | None = None,
    charset: QrCharset = QrCharset.UTF_8,
) -> DebtReceipt:
    """The debt of ``account_no`` as of ``as_of``: every computed period whose due date is before ``as_of``
    with unpaid principal (the ledger: payments posted so far) or penalties, less the unapplied advance.

    Penalties are accrued up to ``as_of`` (:func:`~meterhub.billing.receipts.balances.penalties_as_of`,
    the close's method with ``as_of`` as the calculation day); when the penalty tables do not reach
    ``as_of`` the penalties accrued by the closes are printed instead, and the receipt says so.
    """
    row = conn.execute(
        """
        SELECT a.account_no, a.premise_no, a.owner_name, a.share, a.owners, p.residential, p.area,
               a.building_id, b.address,
               (SELECT r.registered + r.temporary FROM resident_counts r WHERE r.account_no = a.account_no
                  AND r.valid_from <= %(d)s AND (r.valid_to IS NULL OR r.valid_to > %(d)s))
        FROM accounts a JOIN premises p USING (building_id, premise_no) JOIN buildings b USING (building_id)
        WHERE a.account_no = %(a)s
        """,
        {"a": account_no, "d": as_of},
    ).fetchone()
    if row is None:
        raise ReceiptDataError(f"account {account_no!r} does not exist; check the number")
    building_id, address, persons = row[7], row[8], row[9] or 0
    register = register_counts_on(conn, building_id, as_of)
    if register is not None:  # the building keeps the register of residents in meterhub
        persons = register[account_no].total if account_no in register else 0
    info = AccountInfo(*row[:7])
    payer = payer_of(info, address, persons, register_payer_names(conn, building_id, as_of).get(account_no))
    payee_row = load_payee(conn, building_id)
    tables = tables or PenaltyTables.default()
    debts = outstanding_debts(conn, account_no)
    try:
        penalties = penalties_as_of(conn, account_no, as_of, tables)
        penalty_note = (
            f"Пени рассчитаны на {ru_date(as_of)} (ЖК РФ ст. 155 ч. 14) за вычетом оплаченных пеней."
        )
    except LookupError as exc:  # the tables do not reach as_of: the penalties the closes accrued
        log.warning("account %s: penalties as of %s: %s; printing those accrued by the closes", account_no,
                    as_of, exc)  # fmt: skip
        penalties = debts.penalties
        penalty_note = "Пени — начисленные при закрытии расчётных периодов (ЖК РФ ст. 155 ч. 14)."
    lines = []
    legacy_due = {period: due for (_, period), due in opening_due_dates(conn, [account_no]).items()}
    for period in sorted(set(debts.principal) | set(penalties)):
        due = legacy_due.get(str(period)) or tables.due_date(period)
        if due >= as_of:
            continue  # not yet due on as_of: not a debt
        lines.append(
            DebtLine(period, due, debts.principal.get(period, Decimal("0.00")),
                     penalties.get(period, Decimal("0.00")))
        )  # fmt: skip
    receipt_period = lines[-1].period if lines else BillingPeriod(as_of.year, as_of.month)
    to_pay = max(sum((line.total for line in lines), Decimal("0.00")) - debts.advance, Decimal("0.00"))
    payment = ReceiptPayment(
        payee_row.payee, to_pay, account_no, receipt_period,
        purpose=f"Оплата задолженности за ЖКУ на {ru_date(as_of)} ЛС {account_no}"[:160],
        last_name=payer.name.split()[0] if payer.name.strip() else None,
        payer_address=payer.address[:160] or None,
    )  # fmt: skip
    try:
        payload = receipt_payment_payload(payment, charset)
    except PaymentPayloadError as exc:
        raise ReceiptDataError(f"account {account_no}: payment QR code: {exc}") from None
    notes = (
        "Основной долг — начисления и перерасчёты с истёкшим сроком оплаты за вычетом учтённых платежей.",
        penalty_note,
    )
    return DebtReceipt(
        as_of=as_of,
        document_id=f"{account_no}-D{as_of:%Y%m%d}",
        issued_on=issued_on or date.today(),
        payer=payer,
        provider=payee_row.provider,
        payee=payee_row.payee,
        building_id=building_id,
        lines=tuple(lines),
        advance=debts.advance,
        qr_payload=payload,
        link_code=account_link_code(account_no, link_secret, _previous_month(as_of)) if link_secret else None,
        notes=notes,
    )


def _previous_month(day: date) -> str:
    """The link code on a debt receipt is last month's, the latest a regular receipt printed by then
    carries, so revoking the codes printed so far (up to last month) covers it."""
    first = day.replace(day=1) - timedelta(days=1)
    return f"{first:%Y-%m}"


def render_debt_receipt_pdf(
    conn: psycopg.Connection,
    account_no: str,
    as_of: date,
    *,
    issued_on: date | None = None,
    link_secret: str | None = None,
) -> bytes:
    """The debt receipt of ``account_no`` as of ``as_of`` as PDF bytes (see :func:`load_debt_receipt`)."""
    receipt = load_debt_receipt(conn, account_no, as_of, issued_on=issued_on, link_secret=link_secret)
    out = io.BytesIO()
    write_debt_receipt(out, receipt)
    return out.getvalue()
