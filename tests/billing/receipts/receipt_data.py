"""Helpers for the receipt tests: the closed small building with a payee and money, and PDF readers.

Data (on top of tests/billing/close_data.py, January 2026 closed with the real close):

* payee '*': ООО «УК Пример», Сбербанк requisites of billing-rules.md §5.3;
* June and December 2025 closed for B1 *after* the January close (so the close does not recompute them),
  each with one hand-chosen charge line of LS-1's maintenance: June 100.00 ₽ (never paid), December
  2 000.00 ₽;
* payments of LS-1: 500.00 on 2025-12-20 (booked in 2025-12 against December) and 1 000.00 on
  2026-01-15 (booked in 2026-01 against December);
* the penalty line the January close books for the June debt (due 10.07.2025, 9.5 %, as of 31.01.2026):
  k = 31…90 (10.08–08.10.2025) 100 × 0.095 / 300 × 60 = 1.90; k ≥ 91 (09.10.2025–31.01.2026, 115 days)
  100 × 0.095 / 130 × 115 = 8.403846…; total 10.303846… → 10.30 ₽ (the December debt is not 30 days
  overdue on 31.01.2026).

The PDF readers are independent of the writer: pypdfium2 (PDFium, Chromium's PDF engine) renders pages
and extracts text; zxing-cpp decodes the QR code from the rendered page image.
"""

from __future__ import annotations

from datetime import date

import psycopg

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.close_data import load_small_building

SECRET = "test-secret-key-for-link-codes-0123456789"
ISSUED = date(2026, 2, 3)

PAYEE_ROW = {
    "name": "ООО «УК Пример»",
    "inn": "7701234567",
    "kpp": "770101001",
    "address": "г. Омск, ул. Мира, д. 5",
    "phone": "+7 3812 00-00-00",
    "email": "uk@example.ru",
    "website": "uk.example.ru",
    "bank_name": "ПАО СБЕРБАНК",
    "bic": "044525225",
    "settlement_account": "40702810900000000001",
    "correspondent_account": "30101810400000000225",
}


def add_payee(conn: psycopg.Connection, applies_to: str = "*", **overrides: str) -> None:
    row = {**PAYEE_ROW, **overrides, "applies_to": applies_to}
    columns = ", ".join(row)
    conn.execute(
        f"INSERT INTO receipt_payees ({columns}) VALUES ({', '.join(['%s'] * len(row))})", tuple(row.values())
    )


def _payment(
    conn: psycopg.Connection, pid: str, account: str, kopecks: int, paid_on: date, debt: str
) -> None:
    row = conn.execute(
        "INSERT INTO payments (source, payment_id, account_no, amount_kopecks, paid_on, period_named) "
        "VALUES ('test', %s, %s, %s, %s, %s) RETURNING payment_pk",
        (pid, account, kopecks, paid_on, debt),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO payment_allocations (payment_pk, account_no, booked_period, paid_on, debt_period,"
        " service, kind, amount_kopecks, rule)"
        " VALUES (%s, %s, %s, %s, %s, 'maintenance', 'principal', %s, 'named_period')",
        (row[0], account, f"{paid_on:%Y-%m}", paid_on, debt, kopecks),
    )


def load_receipt_world(conn: psycopg.Connection) -> None:
    """The small building, January 2026 closed, payee, December 2025, payments and a penalty (see above)."""
    load_small_building(conn)
    close_building(conn, "B1", BillingPeriod(2026, 1), CloseOptions(final=True))
    add_payee(conn)
    for period, start, end, tariff, amount in (
        ("2025-06", "2025-06-01", "2025-07-01", 2, "100.00"),
        ("2025-12", "2025-12-01", "2026-01-01", 40, "2000.00"),
    ):
        conn.execute(
            "INSERT INTO billing_periods (building_id, period, status, computed_at, closed_at) "
            "VALUES ('B1', %s, 'closed', now(), now())",
            (period,),
        )
        conn.execute(
            "INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start,"
            " part_end, volume, unit, tariff, coefficient, method, formula, amount_exact, amount, excess)"
            " VALUES ('B1', %s, 'LS-1', 'maintenance', 'individual', 'single', %s, %s, 50, 'm2', %s, 1,"
            " 'area', 'test', %s, %s, 0)",
            (period, start, end, tariff, amount, amount),
        )
    _payment(conn, "P-1", "LS-1", 50000, date(2025, 12, 20), "2025-12")
    _payment(conn, "P-2", "LS-1", 100000, date(2026, 1, 15), "2025-12")
    conn.execute(
        "INSERT INTO penalty_lines (building_id, closing_period, account_no, service, debt_period, due_date,"
        " as_of, principal_kopecks, unpaid_kopecks, rate_day, rate_percent, days_overdue, accrued_exact,"
        " accrued_kopecks, amount_kopecks, formula, details) VALUES ('B1', '2026-01', 'LS-1', 'maintenance',"
        " '2025-06', '2025-07-10', '2026-01-31', 10000, 10000, '2026-01-31', 9.5, 205, 10.303846, 1030, 1030,"
        " 'test', '[]')"
    )
    conn.commit()


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page as PDFium extracts it, whitespace runs collapsed to one space."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    finally:
        document.close()


def decode_page_qr(pdf: bytes, page: int = 0, dpi: int = 300) -> bytes:
    """Render ``page`` at ``dpi`` with PDFium and decode its one QR code with zxing-cpp → raw bytes."""
    import pypdfium2 as pdfium
    import zxingcpp

    document = pdfium.PdfDocument(pdf)
    try:
        image = document[page].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()
    results = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(results) == 1, f"expected one QR code on page {page}, found {len(results)}"
    return bytes(results[0].bytes)
