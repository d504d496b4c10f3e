"""A receipt with several payees (docs/suppliers.md): the small building closed by the real close, its
services split between the УК, two РСО and the capital-repair operator, each payee with its own bank
details and its own ГОСТ Р 56042 QR code — decoded from the rendered page by zxing-cpp (an independent
reader). Then a payment through a bank with a commission, and the supplier balance against the ledger.

Hand computation, LS-2, January 2026 (the charges as in test_receipt_pdf.py, plus the capital-repair
contribution the operator bills, 60 m² × 5.00 = 300.00):
  УК (own payee):      maintenance 1 800.00                                   → Sum=180000
  «Энергосбыт»:        electricity 903.00 + 240.00 + 60.00 (common property) = 1 203.00 → Sum=120300
  «Водоканал»:         cold water 1 125.00 + 60.00 + wastewater 600.00      = 1 785.00 → Sum=178500
  Фонд капремонта:     capital repair                                         300.00 → Sum=30000
  receipt total 1 800.00 + 1 203.00 + 1 785.00 + 300.00 = 5 088.00 (= 4 788.00 + 300.00)
"""

from __future__ import annotations

from datetime import date

import pytest

from meterhub.billing.money.ledger import account_balances
from meterhub.billing.money.payment_qr import parse_payment_payload
from meterhub.billing.money.posting import post_payment
from meterhub.billing.money.suppliers.store import record_commissions, supplier_balances
from meterhub.billing.receipts import load_receipt, render_receipt_pdf
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.receipts.receipt_data import ISSUED, load_receipt_world

pytestmark = pytest.mark.db

SUPPLIERS = [
    ("energo", "АО «Энергосбыт»", "resource_supplier", "7705000001", "40702810100000000011"),
    ("vodokanal", "МУП «Водоканал»", "resource_supplier", "7705000002", "40702810100000000022"),
    ("fkr", "НО «Фонд капремонта»", "capital_repair_operator", "7705000003", "40604810100000000033"),
]


@pytest.fixture(scope="module")
def world(db_url: str) -> str:
    with connect(db_url) as conn:
        load_receipt_world(conn)
        for supplier, name, kind, inn, account in SUPPLIERS:
            conn.execute(
                "INSERT INTO suppliers (supplier_id, name, kind, inn, kpp, bank_name, bic,"
                " settlement_account, correspondent_account) VALUES (%s, %s, %s, %s, '770501001',"
                " 'ПАО СБЕРБАНК', '044525225', %s, '30101810400000000225')",
                (supplier, name, kind, inn, account),
            )
        for service, supplier in (
            ("electricity", "energo"),
            ("cold_water", "vodokanal"),
            ("wastewater", "vodokanal"),
            ("capital_repair", "fkr"),
        ):
            conn.execute(
                "INSERT INTO service_suppliers VALUES ('B1', %s, '2025-01-01', %s)", (service, supplier)
            )
        conn.execute(  # the operator's own charge for January (the close does not compute it)
            "INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start,"
            " part_end, volume, unit, tariff, coefficient, method, formula, amount_exact, amount, excess)"
            " VALUES ('B1', '2026-01', 'LS-2', 'capital_repair', 'individual', 'single', '2026-01-01',"
            " '2026-02-01', 60, 'm2', 5, 1, 'area', 'operator', 300, 300, 0)"
        )
        conn.execute(
            "INSERT INTO agent_contracts (source, valid_from, percent, minimum_kopecks, borne_by)"
            " VALUES ('sber', '2025-01-01', 1.5, 0, 'supplier')"
        )
        conn.commit()
    return db_url


def _page_qrs(pdf: bytes) -> list[bytes]:
    import pypdfium2 as pdfium
    import zxingcpp

    document = pdfium.PdfDocument(pdf)
    try:
        images = [page.render(scale=300 / 72, grayscale=True).to_pil() for page in document]
    finally:
        document.close()
    return [
        bytes(r.bytes)
        for image in images
        for r in zxingcpp.read_barcodes(image)
        if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def test_receipt_has_a_qr_per_payee_summing_to_the_total(world: str) -> None:
    with connect(world) as conn:
        pdf = render_receipt_pdf(conn, "LS-2", "2026-01", issued_on=ISSUED)
        receipt = load_receipt(conn, "LS-2", BillingPeriod(2026, 1), issued_on=ISSUED)
    decoded = {}
    for raw in _page_qrs(pdf):
        fields = parse_payment_payload(raw).as_dict()
        decoded[fields["PersonalAcc"]] = (fields["Name"], int(fields["Sum"]), fields["PayeeINN"])
    assert decoded == {
        "40702810900000000001": ("ООО «УК Пример»", 180000, "7701234567"),
        "40702810100000000011": ("АО «Энергосбыт»", 120300, "7705000001"),
        "40702810100000000022": ("МУП «Водоканал»", 178500, "7705000002"),
        "40604810100000000033": ("НО «Фонд капремонта»", 30000, "7705000003"),
    }
    assert sum(s for _, s, _ in decoded.values()) == 508800
    assert receipt.totals.to_pay * 100 == 508800
    assert receipt.payee_parts[0].payee.name == "ООО «УК Пример»"
    assert receipt.payee_parts[0].own


def test_payment_with_commission_reconciles_with_the_ledger(world: str) -> None:
    with connect(world) as conn:
        # LS-2 pays its January receipt in full in February through Sberbank (1.5 % borne by the suppliers)
        post_payment(
            conn,
            account_no="LS-2",
            amount_kopecks=508800,
            paid_on=date(2026, 2, 10),
            payment_id="sb-1",
            source="sber",
            period=BillingPeriod(2026, 1),
        )
        assert record_commissions(conn) == 1
        # 5 088.00 × 1.5 % = 76.32; split 1800/1203/1785/300 of 5088 by the largest remainder:
        #  7632·180000/508800 = 2700.0 → 2700; ·120300/… = 1804.5 → 1804; ·178500/… = 2677.5 → 2677;
        #  ·30000/… = 450.0 → 450; Σ 7631, 1 kopeck left, remainders .5 and .5 → the earlier payee in receipt
        #  order (electricity before cold water, decision 10): energo 1805
        balances = {b.supplier_id: b for b in supplier_balances(conn, "2026-02")}
        assert balances["energo"].paid == 120300 and balances["energo"].withheld == 1805
        assert balances["vodokanal"].paid == 178500 and balances["vodokanal"].withheld == 2677
        assert balances["fkr"].paid == 30000 and balances["fkr"].withheld == 450
        assert balances["(unassigned)"].paid == 180000 and balances["(unassigned)"].withheld == 2700
        for period in ("2026-01", "2026-02"):
            rows = supplier_balances(conn, period)
            ledger = [b for bs in account_balances(conn, period).values() for b in bs]
            charged = sum(b.charged + b.recalculated + b.penalties for b in ledger)
            assert sum(b.charged for b in rows) == charged
            assert sum(b.paid for b in rows) == sum(b.paid for b in ledger)
        assert sum(b.withheld for b in supplier_balances(conn, "2026-02")) == 7632
        conn.rollback()


def test_supplier_export_of_a_resource_supplier(world: str, tmp_path) -> None:
    from openpyxl import load_workbook

    from meterhub.exchange.suppliers import CHARGE_COLUMNS, supplier_export

    with connect(world) as conn:
        export = supplier_export(conn, "vodokanal", "2026-01")
    assert {row[5] for row in export.charges} == {"cold_water", "wastewater"}
    ls2 = sum(row[-1] for row in export.charges if row[4] == "LS-2")
    assert ls2 * 100 == 178500  # 1 125.00 + 60.00 + 600.00, see the module docstring
    assert export.readings and {row[4] for row in export.readings} == {"cold_water"}
    assert export.payments == []  # nothing was paid in January for its services
    files = export.write(tmp_path / "vodokanal-2026-01.csv")
    assert [f.name for f in files] == [
        "vodokanal-2026-01-charges.csv",
        "vodokanal-2026-01-payments.csv",
        "vodokanal-2026-01-readings.csv",
    ]
    assert files[0].read_text(encoding="utf-8").splitlines()[0] == ";".join(CHARGE_COLUMNS)
    (xlsx,) = export.write(tmp_path / "vodokanal.xlsx")
    assert load_workbook(xlsx).sheetnames == ["charges", "payments", "readings"]


def test_payment_by_one_payees_qr_pays_only_its_services(world: str) -> None:
    from meterhub.billing.money.suppliers.payee_payments import post_payment_to_payee

    with connect(world) as conn:
        # LS-2 scans only the «Энергосбыт» QR code: 1 203.00 for January's electricity
        pk = post_payment_to_payee(
            conn, supplier_id="energo", account_no="LS-2", amount_kopecks=120300, paid_on=date(2026, 2, 11),
            payment_id="qr-energo", source="qr", period=BillingPeriod(2026, 1),
        )  # fmt: skip
        parts = conn.execute(
            "SELECT service, kind, sum(amount_kopecks) FROM payment_allocations WHERE payment_pk = %s"
            " GROUP BY 1, 2 ORDER BY 1",
            (pk,),
        ).fetchall()
        assert parts == [("electricity", "principal", 120300)]
        balances = {b.supplier_id: b for b in supplier_balances(conn, "2026-02")}
        assert balances["energo"].paid == 120300 and "vodokanal" not in balances
        conn.rollback()
