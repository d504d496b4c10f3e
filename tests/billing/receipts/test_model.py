"""Pure parts of the receipt: Russian number formats, link codes, Раздел 3 rows, payee validation, the model's
consistency check and the PDF of a long receipt (no database)."""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.billing.money.payment_qr import Payee, parse_payment_payload
from meterhub.billing.receipts import (
    ChargeRow,
    Payer,
    Provider,
    Receipt,
    ReceiptDataError,
    Totals,
    account_link_code,
    validate_payee,
    verify_account_link_code,
    write_receipts,
)
from meterhub.billing.receipts.labels import money, number
from meterhub.billing.receipts.rows import charge_rows
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.receipts.receipt_data import decode_page_qr, page_texts

PAYEE = Payee(
    "ООО «УК Пример»", "40702810900000000001", "ПАО СБЕРБАНК", "044525225", "30101810400000000225",
    inn="7701234567", kpp="770101001",
)  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "text"),
    [("0", "0,00"), ("5.5", "5,50"), ("1234.56", "1 234,56"), ("12013", "12 013,00"),
     ("-1000000.01", "-1 000 000,01"), ("999.999", "1 000,00")],
)  # fmt: skip
def test_money_is_printed_the_russian_way(amount: str, text: str) -> None:
    assert money(D(amount)) == text


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_money_text_reads_back_to_the_same_kopecks(kopecks: int) -> None:
    amount = D(kopecks).scaleb(-2)
    assert D(money(amount).replace(" ", "").replace(",", ".")) == amount


def test_numbers_drop_trailing_zeros_unless_places_are_given() -> None:
    assert number(D("150.50000000000000")) == "150,5"
    assert number(D("1000.000000")) == "1 000"
    assert number(D("802.5"), 3) == "802,500"
    assert number(None) == "—"


def test_link_code_is_the_hmac_of_the_account_and_period_in_crockford_base32() -> None:
    # first 5 bytes of HMAC-SHA256(secret, "meterhub-link:LS-1:2026-01") as 8 base32 digits (no I, L, O, U)
    mac = hmac.new(b"s3cret", b"meterhub-link:LS-1:2026-01", hashlib.sha256).digest()
    n = int.from_bytes(mac[:5], "big")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    expected = "".join(alphabet[(n >> (5 * i)) & 31] for i in reversed(range(8)))
    code = account_link_code("LS-1", "s3cret", "2026-01")
    assert code == f"{expected[:4]}-{expected[4:]}"
    assert account_link_code("LS-2", "s3cret", "2026-01") != code
    assert account_link_code("LS-1", "other", "2026-01") != code
    assert account_link_code("LS-1", "s3cret", "2026-02") != code  # every receipt has a new code
    with pytest.raises(ValueError, match="YYYY-MM"):
        account_link_code("LS-1", "s3cret", "2026-13")


def test_link_code_verification_tolerates_case_and_dashes_only() -> None:
    code = account_link_code("LS-1", "s3cret", "2026-01")
    assert verify_account_link_code("LS-1", code.lower().replace("-", " "), "s3cret", "2026-01")
    assert not verify_account_link_code("LS-2", code, "s3cret", "2026-01")
    assert not verify_account_link_code("LS-1", code, "s3cret", "2026-02")
    with pytest.raises(ValueError, match="secret is empty"):
        account_link_code("LS-1", "", "2026-01")


def test_charge_rows_join_common_property_of_the_same_tariff_and_place_recalculations() -> None:
    one, zero = D(1), D("0.00")
    lines = [
        # service, kind, zone, volume, unit, tariff, coefficient, method, amount, excess
        ("electricity", "individual", "day", D("248"), "kWh", D("6"), one, "meter", D("1488.00"), zero),
        ("electricity", "individual", "night", D("124"), "kWh", D("3"), one, "meter", D("372.00"), zero),
        ("electricity", "common_property", "single", D("10"), "kWh", D("5"), one, "actual_capped",
         D("50.00"), zero),
        ("cold_water", "individual", "single", D("15"), "m3", D("50"), D("1.5"), "normative_x1_5",
         D("1125.00"), D("375.00")),
        ("cold_water", "common_property", "single", D("1.2"), "m3", D("50"), one, "normative", D("60.00"),
         zero),
    ]  # fmt: skip
    rows = charge_rows(lines, {"cold_water": D("-101.42"), "wastewater": D("20.00")})
    assert [
        (r.title, r.volume_individual, r.volume_common, r.charged, r.recalculation, r.total) for r in rows
    ] == [
        ("Электроснабжение", None, D("10"), D("50.00"), zero, D("50.00")),
        ("Электроснабжение (день)", D("248"), None, D("1488.00"), zero, D("1488.00")),
        ("Электроснабжение (ночь)", D("124"), None, D("372.00"), zero, D("372.00")),
        # 1125.00 + 60.00 = 1185.00; − 101.42 recalculation = 1083.58
        ("Холодное водоснабжение", D("15"), D("1.2"), D("1185.00"), D("-101.42"), D("1083.58")),
        ("Водоотведение", None, None, zero, D("20.00"), D("20.00")),
    ]
    cold = rows[3]
    assert (cold.coefficient, cold.excess, cold.method) == (D("1.5"), D("375.00"), "норматив × 1,5")
    assert rows[0].method == "ОДПУ ≤ норматив"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bic", "04452522", "bic: БИК '04452522' must be exactly 9 digits"),
        ("bic", "04452522A", "bic: БИК '04452522A' must be exactly 9 digits"),
        (
            "personal_account",
            "4070281090000000001",
            "settlement_account: расчётный счёт '4070281090000000001'",
        ),
        ("personal_account", "00702810900000000001", "must be 20 characters: 5 digits \\(the first not 0\\)"),
        (
            "correspondent_account",
            "3010181040000000022",
            "correspondent_account: корр. счёт '3010181040000000022'",
        ),
        ("inn", "77012345", "inn: ИНН '77012345' must be 10 digits"),
        ("bank_name", "Б" * 46, "bank_name: .* must be 1–45 characters"),
    ],
)
def test_bad_bank_requisites_are_refused_naming_the_field(field: str, value: str, message: str) -> None:
    from dataclasses import replace

    with pytest.raises(ReceiptDataError, match=f"^receipt_payees row '\\*': .*{message}"):
        validate_payee(replace(PAYEE, **{field: value}), "receipt_payees row '*'")


def _receipt(rows: tuple[ChargeRow, ...], charged: D, to_pay_paid: D = D("0.00")) -> Receipt:
    from meterhub.billing.money.payment_qr import ReceiptPayment, receipt_payment_payload

    period = BillingPeriod(2026, 1)
    totals = Totals(
        opening=D("0.00"), charged=charged, recalculated=D("0.00"), penalties=D("0.00"), paid=to_pay_paid
    )
    payer = Payer("LS-9", "Тестов Т. Т.", "г. Омск, ул. Ленина, д. 1, кв. 9", "9", D("45.5"), True, 2, 1)
    payload = receipt_payment_payload(ReceiptPayment(PAYEE, totals.qr_amount, "LS-9", period))
    return Receipt(
        period=period, status="closed", document_id="LS-9-202601", issued_on=date(2026, 2, 3),
        due_date=date(2026, 2, 10), payer=payer, provider=Provider("ООО «УК Пример»"), payee=PAYEE,
        building_id="B1", rows=rows, recalculations=(), totals=totals, references=(), readings=(),
        qr_payload=payload,
    )  # fmt: skip


def _row(i: int, amount: D) -> ChargeRow:
    return ChargeRow(
        "maintenance", f"Услуга № {i}", "кв. м", D("1"), None, "площадь", amount, amount, D("0.00"), None,
        D("0.00"), D("0.00"),
    )  # fmt: skip


def test_rows_that_do_not_add_up_to_the_ledger_are_refused() -> None:
    with pytest.raises(
        ReceiptDataError, match=r"the charge rows add up to 10\.00 ₽ but the ledger says 11\.00"
    ):
        _receipt((_row(1, D("10.00")),), D("11.00"))


def test_a_long_receipt_continues_on_the_next_page_with_its_header() -> None:
    rows = tuple(_row(i, D("1.01")) for i in range(90))  # 90 × 1.01 = 90.90
    out = io.BytesIO()
    pages = write_receipts(out, [_receipt(rows, D("90.90"))])
    texts = page_texts(out.getvalue())
    assert pages == len(texts) == 2
    assert "ЛС LS-9, 01.2026 (продолжение)" in texts[1]
    assert "Виды услуг" in texts[1]  # the table header is repeated
    assert "Услуга № 89" in texts[1] and "Итого за период" in texts[1]
    assert "ИТОГО К ОПЛАТЕ: 90,90 руб." in texts[0]
    assert parse_payment_payload(decode_page_qr(out.getvalue())).get("Sum") == "9090"


def test_overpayment_prints_zero_to_pay_in_the_qr() -> None:
    out = io.BytesIO()
    write_receipts(out, [_receipt((_row(1, D("10.00")),), D("10.00"), to_pay_paid=D("25.00"))])
    (text,) = page_texts(out.getvalue())
    assert "ПЕРЕПЛАТА (к оплате 0,00): 15,00 руб." in text
    assert parse_payment_payload(decode_page_qr(out.getvalue())).get("Sum") == "0"


def test_the_bundled_font_is_embedded() -> None:
    out = io.BytesIO()
    write_receipts(out, [_receipt((_row(1, D("10.00")),), D("10.00"))])
    assert b"DejaVuSansCondensed" in out.getvalue() or b"MeterhubSans" in out.getvalue()
    assert b"/FontFile2" in out.getvalue()  # the TrueType program itself (subset), not a reference


@given(st.lists(st.lists(st.integers(0, 1), min_size=7, max_size=7), min_size=1, max_size=9))
def test_qr_rectangles_cover_exactly_the_dark_modules(matrix: list[list[int]]) -> None:
    from meterhub.billing.receipts.drawing import qr_rectangles

    covered = [[0] * 7 for _ in matrix]
    for col, row, width, height in qr_rectangles(matrix):
        for r in range(row, row + height):
            for c in range(col, col + width):
                covered[r][c] += 1
    assert covered == matrix  # every dark module once, no light module
