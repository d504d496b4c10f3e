"""One account's ЕПД end to end: the closed small building → PDF → an independent reader (PDFium renders and
extracts text, zxing-cpp decodes the QR code from the page image) → the expected fields to the kopeck.

Hand computation (tests/billing/close_data.py tariffs; the close's own tests check the lines):

LS-2, January 2026 (no payments, no earlier debt):
  maintenance 60 m² × 30.00                                  = 1 800.00
  electricity day 150.5 kWh × 6.00 = 903.00; night 80 × 3.00 =   240.00 + 903.00
  electricity common property 30 kWh × 60/150 = 12 × 5.00    =    60.00
  cold water: meter overdue → 3 persons × 5 m³ = 15 × 50 × 1.5 = 1 125.00
    (without ×1.5: 750.00, excess 375.00)
  cold water common property 0.1 × 30 m² × 60/150 = 1.2 × 50 =    60.00
  wastewater 15 m³ × 40                                       =   600.00
  total 1800 + 903 + 240 + 60 + 1125 + 60 + 600               = 4 788.00 → QR Sum=478800

LS-1, January 2026: 1500.00 + 1488.00 + 372.00 + 50.00 + 325.00 + 50.00 + 260.00 = 4 045.00 charged;
  opening = June 100.00 + December 2 000.00 − 500.00 paid in December = 1 600.00; paid in January
  1 000.00; penalties 10.30 (receipt_data.py) → to pay 1 600.00 + 4 045.00 + 10.30 − 1 000.00 = 4 655.30
  → QR Sum=465530
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from meterhub.billing.imports import ImportFileError, import_file
from meterhub.billing.money.payment_qr import parse_payment_payload
from meterhub.billing.receipts import (
    ReceiptDataError,
    account_link_code,
    list_receipts,
    load_debt_receipt,
    render_debt_receipt_pdf,
    render_receipt_pdf,
    render_receipts_pdf,
)
from meterhub.billing.receipts.pdf import SECTION_TITLES
from meterhub.timeseries.database import connect
from tests.billing.receipts.receipt_data import ISSUED, SECRET, decode_page_qr, load_receipt_world, page_texts

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def world(db_url: str) -> str:
    with connect(db_url) as conn:
        load_receipt_world(conn)
    return db_url


@pytest.fixture()
def conn(world: str):
    with connect(world) as c:
        yield c
        c.rollback()  # tests that change data do it in their own transaction


def test_qr_decoded_from_the_rendered_page_has_the_payee_and_the_total(conn) -> None:
    pdf = render_receipt_pdf(conn, "LS-2", "2026-01", issued_on=ISSUED, link_secret=SECRET)
    raw = decode_page_qr(pdf)
    payload = parse_payment_payload(raw)
    assert raw.startswith(b"ST00012|")  # UTF-8, '|' separator
    assert [k for k, _ in payload.fields[:5]] == ["Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc"]
    assert payload.as_dict() == {
        "Name": "ООО «УК Пример»",
        "PersonalAcc": "40702810900000000001",
        "BankName": "ПАО СБЕРБАНК",
        "BIC": "044525225",
        "CorrespAcc": "30101810400000000225",
        "Sum": "478800",  # 4 788.00 ₽, see the module docstring
        "PayeeINN": "7701234567",
        "KPP": "770101001",
        "Purpose": "Оплата ЖКУ за 01.2026 ЛС LS-2",
        "PersAcc": "LS-2",
        "PaymPeriod": "012026",
        "LastName": "Петров",
        "PayerAddress": "г. Омск, ул. Ленина, д. 1, кв. 2",
        "TechCode": "02",
    }


def test_text_has_every_section_the_charge_table_and_totals_to_the_kopeck(conn) -> None:
    pdf = render_receipt_pdf(conn, "LS-2", "2026-01", issued_on=ISSUED, link_secret=SECRET)
    (text,) = page_texts(pdf)
    for title in SECTION_TITLES:
        assert title in text
    assert not {"\ufffd", "\ufffe", "\x00"} & set(text)  # every glyph maps back to its character
    assert "ПЛАТЁЖНЫЙ ДОКУМЕНТ (ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ) за январь 2026 г." in text
    assert "Плательщик: Петров П. П." in text
    assert "Адрес помещения: г. Омск, ул. Ленина, д. 1, кв. 2" in text
    assert "Площадь: общая 60 кв. м; проживает 3 чел.; собственников 1" in text
    assert "Срок оплаты: до 10.02.2026" in text  # due day 10 for periods before 2026-02
    assert "Р/с: 40702810900000000001" in text and "БИК 044525225" in text
    # Раздел 3 rows: title, unit, volume ind/СОИ, method, tariff, pay ind/СОИ, charged, coefficient,
    # excess, recalculations, benefits, total, total ind, total СОИ
    assert (
        "Холодное водоснабжение куб. м 15 1,2 норматив × 1,5 50 1 125,00 60,00 1 185,00 1,5 375,00 0,00 0,00 "
        "1 185,00 1 125,00 60,00"
    ) in text
    assert "Электроснабжение (день) кВт·ч 150,5 — прибор учёта 6 903,00 0,00 903,00 —" in text
    assert "Электроснабжение (ночь) кВт·ч 80 — прибор учёта 3 240,00" in text
    assert "Содержание жилого помещения кв. м 60 — площадь 30 1 800,00" in text
    # Σ individual 1800 + 903 + 240 + 1125 + 600 = 4668.00; Σ common 60 + 60 = 120.00; excess 375.00
    assert "Итого за период 4 668,00 120,00 4 788,00 375,00 0,00 0,00 4 788,00 4 668,00 120,00" in text
    assert "ИТОГО К ОПЛАТЕ: 4 788,00 руб." in text
    # Раздел 4: normatives, house totals (house meter 1000 kWh, premises 802.5, common property 30)
    assert "Электроснабжение кВт·ч 100 1 1 000,000 802,500 30,000" in text
    assert "W-2 Холодное водоснабжение ИПУ общий 1,000 2,000 1,000 15.01.2026" in text
    assert "E-2 Электроснабжение ИПУ T1 (день) 1 000,000 1 150,500 150,500" in text
    assert f"Код привязки ЛС в личном кабинете: {account_link_code('LS-2', SECRET, '2026-01')}" in text


def test_opening_balance_payments_and_penalties_come_from_the_ledger(conn) -> None:
    pdf = render_receipt_pdf(conn, "LS-1", "2026-01", issued_on=ISSUED)
    (text,) = page_texts(pdf)
    assert "Задолженность на начало периода: 1 600,00" in text  # 100.00 + 2000.00 − 500.00
    assert "Оплачено в расчётном периоде: 1 000,00 Дата последней оплаты: 15.01.2026" in text
    assert "Начислено за расчётный период: 4 045,00" in text
    assert "Пени (неустойка): 10,30" in text
    assert "ИТОГО К ОПЛАТЕ: 4 655,30 руб." in text  # 1600.00 + 4045.00 + 10.30 − 1000.00
    assert "Код привязки" not in text  # no secret given: no code
    assert parse_payment_payload(decode_page_qr(pdf)).get("Sum") == "465530"


def test_windows_1251_payload_round_trips_through_the_page(conn) -> None:
    from meterhub.billing.money.payment_qr import QrCharset

    pdf = render_receipt_pdf(conn, "LS-3", "2026-01", issued_on=ISSUED, charset=QrCharset.WINDOWS_1251)
    raw = decode_page_qr(pdf)
    assert raw.startswith(b"ST00011|")
    payload = parse_payment_payload(raw)
    # LS-3: 1200.00 + 1000.00 + 40.00 + 500.00 + 40.00 + 400.00 = 3180.00
    assert payload.get("Sum") == "318000"
    assert payload.get("LastName") == "Сидорова"


def test_range_of_periods_gives_one_page_per_period(conn) -> None:
    pdf = render_receipts_pdf(conn, "LS-1", "2025-11", "2026-01", issued_on=ISSUED)
    texts = page_texts(pdf)
    assert len(texts) == 2  # 2025-11 has no charges and is skipped
    assert "за декабрь 2025 г." in texts[0] and "ИТОГО К ОПЛАТЕ: 1 600,00 руб." in texts[0]
    assert "за январь 2026 г." in texts[1] and "ИТОГО К ОПЛАТЕ: 4 655,30 руб." in texts[1]
    assert parse_payment_payload(decode_page_qr(pdf, page=0)).get("PaymPeriod") == "122025"


def test_list_receipts_by_period_with_amounts_in_kopecks(conn) -> None:
    listed = list_receipts(conn, "LS-1")
    assert [(r.period, r.status, r.charged_kopecks, r.to_pay_kopecks) for r in listed] == [
        ("2026-01", "closed", 404500, 465530),
        ("2025-12", "closed", 200000, 160000),  # 100.00 + 2000.00 − 500.00 paid in December
        ("2025-06", "closed", 10000, 10000),
    ]
    assert listed[0].to_pay == "4655.30" and listed[0].issued_at is None


def test_debt_receipt_counts_debts_past_due_with_penalties_accrued_to_the_date(conn) -> None:
    # Penalties at 9.5 % (fixed regime 2025–2026), day k = 1 the day after the due date:
    # June 2025, 100.00 unpaid, due 10.07.2025, as of 20.02.2026: k 31…90 → 100 × 0.095 / 300 × 60 = 1.90;
    #   k ≥ 91 from 09.10.2025: 23 + 30 + 31 + 31 + 20 = 135 days → 100 × 0.095 / 130 × 135 = 9.865384…
    #   → 11.765384… → 11.77
    # December 2025, 2000.00 due 10.01.2026, paid 500.00 (20.12) and 1000.00 (15.01) → base 500.00;
    #   k = 31 is 10.02.2026: 11 days to 20.02 → 500 × 0.095 / 300 × 11 = 1.741666… → 1.74
    # January 2026, 4045.00 due 10.02.2026: k = 10 on 20.02 → 0.00
    late = load_debt_receipt(conn, "LS-1", date(2026, 2, 20), issued_on=ISSUED)
    assert [(str(x.period), x.principal, x.penalties) for x in late.lines] == [
        ("2025-06", D("100.00"), D("11.77")),
        ("2025-12", D("500.00"), D("1.74")),
        ("2026-01", D("4045.00"), D("0.00")),
    ]
    assert late.to_pay == D("4658.51")  # 4645.00 + 13.51
    # as of 10.02.2026: January is not overdue yet (the 10th is the last day to pay); June: 125 days at
    # 1/130 → 9.134615… + 1.90 = 11.03; December: one day at 1/300 → 0.158333… → 0.16
    early = load_debt_receipt(conn, "LS-1", date(2026, 2, 10), issued_on=ISSUED)
    assert [(str(x.period), x.principal, x.penalties) for x in early.lines] == [
        ("2025-06", D("100.00"), D("11.03")),
        ("2025-12", D("500.00"), D("0.16")),
    ]
    assert early.to_pay == D("611.19")
    pdf = render_debt_receipt_pdf(conn, "LS-1", date(2026, 2, 20), issued_on=ISSUED)
    (text,) = page_texts(pdf)
    assert "ПЛАТЁЖНЫЙ ДОКУМЕНТ НА ОПЛАТУ ЗАДОЛЖЕННОСТИ по состоянию на 20.02.2026" in text
    assert "12.2025 10.01.2026 500,00 1,74 501,74" in text
    assert "Итого 4 645,00 13,51 4 658,51" in text
    assert "Пени рассчитаны на 20.02.2026" in text
    payload = parse_payment_payload(decode_page_qr(pdf))
    assert payload.get("Sum") == "465851"
    assert payload.get("Purpose") == "Оплата задолженности за ЖКУ на 20.02.2026 ЛС LS-1"


def test_paid_penalties_are_not_asked_again(conn) -> None:
    row = conn.execute(
        "INSERT INTO payments (source, payment_id, account_no, amount_kopecks, paid_on) "
        "VALUES ('test', 'P-PEN', 'LS-1', 1000, '2026-02-01') RETURNING payment_pk"
    ).fetchone()
    conn.execute(
        "INSERT INTO payment_allocations (payment_pk, account_no, booked_period, paid_on, debt_period,"
        " service, kind, amount_kopecks, rule) VALUES (%s, 'LS-1', '2026-02', '2026-02-01', '2025-06',"
        " 'maintenance', 'penalty', 1000, 'named_penalty')",
        (row[0],),
    )
    receipt = load_debt_receipt(conn, "LS-1", date(2026, 2, 20), issued_on=ISSUED)
    assert receipt.lines[0].penalties == D("1.77")  # 11.77 accrued − 10.00 paid


def test_draft_period_is_marked_preliminary(conn) -> None:
    conn.execute("UPDATE billing_periods SET status = 'draft', closed_at = NULL WHERE period = '2025-12'")
    (text,) = page_texts(render_receipt_pdf(conn, "LS-1", "2025-12", issued_on=ISSUED))
    assert "ПРЕДВАРИТЕЛЬНЫЙ РАСЧЁТ: расчётный период не закрыт" in text


def test_building_payee_replaces_the_default(conn) -> None:
    conn.execute(
        "INSERT INTO receipt_payees (applies_to, name, bank_name, bic, settlement_account,"
        " correspondent_account) VALUES ('B1', 'ТСЖ «Ленина, 1»', 'АО «АЛЬФА-БАНК»', '044525593',"
        " '40703810001234567890', '30101810200000000593')"
    )
    payload = parse_payment_payload(
        decode_page_qr(render_receipt_pdf(conn, "LS-2", "2026-01", issued_on=ISSUED))
    )
    assert (payload.get("Name"), payload.get("BIC"), payload.get("PayeeINN")) == (
        "ТСЖ «Ленина, 1»",
        "044525593",
        None,
    )


@pytest.mark.parametrize(
    ("account", "period", "message"),
    [
        ("NO-SUCH", "2026-01", "account 'NO-SUCH' does not exist"),
        ("LS-1", "2026-03", "period 2026-03 has not been computed; run `meterhub close --period 2026-03"),
        ("LS-1", "2026-13", "billing period month must be 1..12, got 13"),
        ("LS-1", "01.2026", "billing period '01.2026' must look like YYYY-MM"),
    ],
)
def test_nothing_to_print_is_a_clear_error(conn, account: str, period: str, message: str) -> None:
    with pytest.raises(ReceiptDataError, match=message.replace("(", r"\(").replace("`", ".")):
        render_receipt_pdf(conn, account, period)


def test_missing_payee_says_what_to_import(conn) -> None:
    conn.execute("DELETE FROM receipt_payees")
    with pytest.raises(ReceiptDataError, match=r"building B1: no payee bank details .* import a payees\.csv"):
        render_receipt_pdf(conn, "LS-1", "2026-01")


def test_payees_import_rejects_bad_bic_and_account_naming_the_column(world: str, tmp_path: Path) -> None:
    path = tmp_path / "payees.csv"
    path.write_text(
        "applies_to,name,inn,kpp,bank_name,bic,settlement_account,correspondent_account\n"
        "B1,ТСЖ,7701234567,770101001,ПАО СБЕРБАНК,04452522,4070281090000000001,30101810400000000225\n",
        encoding="utf-8",
    )
    with connect(world) as conn, pytest.raises(ImportFileError) as info:
        import_file(conn, "payees", path)
    problems = {(p.row, p.column): p.message for p in info.value.problems}
    assert problems[(2, "bic")] == "БИК '04452522' must be exactly 9 digits, e.g. 044525225"
    assert problems[(2, "settlement_account")].startswith("расчётный счёт '4070281090000000001' must be 20")


def test_payees_import_accepts_a_valid_file(world: str, tmp_path: Path) -> None:
    path = tmp_path / "payees.csv"
    path.write_text(
        "applies_to;name;bank_name;bic;settlement_account;correspondent_account\n"
        "B1;ТСЖ «Ленина, 1»;ПАО СБЕРБАНК;044525225;40703810900000000002;30101810400000000225\n",
        encoding="utf-8",
    )
    with connect(world) as conn:
        try:
            result = import_file(conn, "payees", path)
            assert (result.rows, result.inserted) == (1, 1)
            row = conn.execute("SELECT name, kpp FROM receipt_payees WHERE applies_to = 'B1'").fetchone()
            assert row == ("ТСЖ «Ленина, 1»", None)
        finally:
            conn.execute("DELETE FROM receipt_payees WHERE applies_to = 'B1'")
            conn.commit()


def test_recalculations_show_in_the_charge_table_and_in_section_5(conn) -> None:
    conn.execute(
        "INSERT INTO recalculation_lines (building_id, period, corrects_period, account_no, service, kind,"
        " zone, part_start, volume_delta, amount_exact_delta, amount, method_before, method_after, reason)"
        " VALUES"
        " ('B1', '2026-01', '2025-12', 'LS-3', 'cold_water', 'individual', 'single', '2025-12-01', -2.0284,"
        " -101.42, -101.42, 'normative', 'meter', 'поздние показания прибора учёта')"
    )
    conn.execute(
        "INSERT INTO service_recalculation_lines (building_id, period, account_no, service, reason_kind,"
        " basis_kopecks, quantity, amount_exact, amount_kopecks, reason, formula) VALUES"
        " ('B1', '2026-01', 'LS-3', 'wastewater', 'absence', 40000, 12, -50, -5000,"
        " '1 чел., 12 полных дней', 'ПП 354 п. 86')"
    )
    pdf = render_receipt_pdf(conn, "LS-3", "2026-01", issued_on=ISSUED)
    (text,) = page_texts(pdf)
    # cold water: 500.00 + 40.00 common property − 101.42 = 438.58 (individual 500.00 − 101.42 = 398.58)
    assert (
        "Холодное водоснабжение куб. м 10 0,8 норматив 50 500,00 40,00 540,00 — 0,00 -101,42 0,00 438,58 "
        "398,58 40,00" in text
    )
    # wastewater: 400.00 − 50.00 = 350.00
    assert (
        "Водоотведение куб. м 10 — норматив 40 400,00 0,00 400,00 — 0,00 -50,00 0,00 350,00 350,00 0,00"
        in text
    )
    assert "Холодное водоснабжение поздние показания прибора учёта 2025-12 -101,42" in text
    assert "Водоотведение временное отсутствие: 1 чел., 12 полных дней текущий -50,00" in text
    assert "Перерасчёты: -151,42" in text
    assert "ИТОГО К ОПЛАТЕ: 3 028,58 руб." in text  # 3180.00 − 101.42 − 50.00
    assert parse_payment_payload(decode_page_qr(pdf)).get("Sum") == "302858"


def test_common_property_volume_is_printed_readable_and_the_amount_is_untouched(conn) -> None:
    """The issue's ОДН row: an exact 28-digit share of the house volume is printed to the litre (3 decimals
    for m³), rendered by PDFium; the stored volume and the money stay exact."""
    exact = D("0.1720708446866485013623978202")
    with conn.transaction(force_rollback=True):
        conn.execute(
            "UPDATE charge_lines SET volume = %s WHERE account_no = 'LS-2' AND period = '2026-01' "
            "AND service = 'cold_water' AND kind = 'common_property'",
            (exact,),
        )
        pdf = render_receipt_pdf(conn, "LS-2", "2026-01", issued_on=ISSUED, link_secret=SECRET)
        (text,) = page_texts(pdf)
        (stored,) = conn.execute(
            "SELECT volume FROM charge_lines WHERE account_no = 'LS-2' AND period = '2026-01' "
            "AND service = 'cold_water' AND kind = 'common_property'"
        ).fetchone()
    assert stored == exact  # display rounding never reaches the data
    # 0.17207… m³ → 0,172 (half-up at 3 decimals); the amount 60,00 is the stored one, not recomputed
    assert "Холодное водоснабжение куб. м 15 0,172 норматив × 1,5 50 1 125,00 60,00" in text
    assert "1720708446866485013623978202" not in text and "0,17207" not in text


def test_display_precision_per_unit() -> None:
    from meterhub.billing.receipts.labels import display_volume, volume_text

    assert volume_text(D("0.1720708446866485013623978202"), "куб. м") == "0,172"
    assert volume_text(D("0.0005"), "m3") == "0,001"  # half-up
    assert volume_text(D("1250.505"), "кВт·ч") == "1 250,51"
    assert volume_text(D("150.5"), "kWh") == "150,5"  # trailing zeros dropped
    assert volume_text(D("0.123456"), "Гкал") == "0,1235"
    assert volume_text(None, "m3") == "—"
    assert display_volume(D("9274.224000000"), "m3") == D("9274.224")
