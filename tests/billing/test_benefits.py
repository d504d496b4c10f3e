"""Benefits (льготы): a veteran's 50 % within the social norm of area, hand-computed, in both regimes —
a discount on the receipt («льготы, субсидии») and, from a later date, cash compensation exported to
social protection (ЕДК) with its reconciliation report (docs/benefits.md).

Hand computation: flat 54.30 m², 3 residents, maintenance 30.00 ₽/m² → P = 54.30 × 30.00 = 1 629.00 ₽.
Social norm 18 m² per person; the veteran alone is covered (c = 1, n = 3):
  his per-capita area 54.30 / 3 = 18.10 m² > 18 m² → within the norm: 18 m²
  L = 0.5 × 1 629.00 × 18 / 54.30 = 0.5 × 540.00 = 270.00 ₽
Discount regime (March 2025): the account owes 1 629.00 − 270.00 = 1 359.00 ₽.
Compensation regime (April 2025): the account owes 1 629.00 (+ March's 1 359.00); the export carries
compensation 270.00 ₽ for the veteran.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.billing.money.ledger import account_balances
from meterhub.billing.money.penalty_run import close_money
from meterhub.billing.receipts import load_receipt, render_receipt_pdf
from meterhub.billing.rules.benefits import BenefitBase, BenefitCategory, BenefitInput, benefit_amount
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.exchange.social_protection import compensation_rows, reconciliation_report, write_export
from tests.billing.money_data import add_building, add_charge, add_period
from tests.billing.receipts.receipt_data import add_payee, page_texts

VETERAN = BenefitCategory(
    "veteran", "Ветеран труда", ("maintenance",), BenefitBase.SOCIAL_NORM_AREA, share=Decimal("0.5"),
    social_norm_m2=Decimal(18),
)  # fmt: skip


def test_veteran_within_the_social_norm_pure() -> None:
    exact, rounded = benefit_amount(VETERAN, BenefitInput(Decimal("1629.00"), 3, Decimal("54.30")))
    assert exact == Decimal("270")
    assert rounded == Decimal("270.00")
    # a small flat: 36 m² for 3 persons → 12 m² each < 18 → L = 0.5 × 1080.00 × 12 / 36 = 180.00
    assert benefit_amount(VETERAN, BenefitInput(Decimal("1080.00"), 3, Decimal(36)))[1] == Decimal("180.00")


@given(
    st.integers(min_value=1, max_value=10**7), st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=30_000), st.booleans(),
)  # fmt: skip
def test_benefit_matches_the_rational_formula(kopecks: int, persons: int, area_dm: int, home: bool) -> None:
    category = BenefitCategory(
        "x", "x", ("maintenance",), BenefitBase.SOCIAL_NORM_AREA, share=Decimal("0.5"),
        social_norm_m2=Decimal(18), household=home,
    )  # fmt: skip
    charge = Decimal(kopecks).scaleb(-2)
    area = Decimal(area_dm).scaleb(-1)
    exact, rounded = benefit_amount(category, BenefitInput(charge, persons, area))
    covered = persons if home else 1
    # exact rational oracle (fractions), independent of the Decimal context
    within = min(covered * Fraction(area) / persons, Fraction(covered * 18))
    oracle = Fraction(1, 2) * Fraction(charge) * within / Fraction(area)
    assert oracle <= Fraction(1, 2) * Fraction(charge) * covered / persons
    assert abs(Fraction(exact) - oracle) < Fraction(1, 10**60)
    half_up = (oracle * 100 + Fraction(1, 2)).__floor__()
    assert rounded == Decimal(half_up).scaleb(-2)


@pytest.mark.db
def test_veteran_discount_then_compensation(conn, tmp_path) -> None:
    add_building(conn, "V1", {"L1": "1"})
    conn.execute("UPDATE premises SET area = 54.30 WHERE building_id = 'V1'")
    conn.execute(
        "INSERT INTO resident_counts (account_no, valid_from, registered) VALUES ('L1', '2020-01-01', 3)"
    )
    for valid_from, regime in (("2025-01-01", "discount"), ("2025-04-01", "compensation")):
        conn.execute(
            "INSERT INTO benefit_categories (category, valid_from, name, legal_basis, share, services, base,"
            " social_norm_m2, regime) VALUES ('veteran', %s, 'Ветеран труда', 'ФЗ «О ветеранах» ст. 22', 0.5,"
            " '{maintenance}', 'social_norm_area', 18, %s)",
            (valid_from, regime),
        )
    conn.execute(
        "INSERT INTO benefit_assignments (account_no, person_name, snils, category, valid_from)"
        " VALUES ('L1', 'Иванов Иван Иванович', '112-233-445 95', 'veteran', '2025-01-01')"
    )
    add_payee(conn)
    for period in ("2025-03", "2025-04"):
        add_period(conn, "V1", period, "draft")
        add_charge(
            conn, "V1", period, "L1", "maintenance", "1629.00", volume="54.30", tariff="30.00", method="area"
        )
        close_money(conn, "V1", BillingPeriod.parse(period))
        add_period(conn, "V1", period, "closed")
    march = account_balances(conn, "2025-03")["L1"]
    (maintenance,) = [b for b in march if b.service == "maintenance"]
    assert (maintenance.charged, maintenance.recalculated, maintenance.closing) == (162_900, -27_000, 135_900)

    receipt = load_receipt(conn, "L1", BillingPeriod(2025, 3), issued_on=date(2025, 4, 2))
    (row,) = receipt.rows
    assert row.benefits == Decimal("270.00") and row.recalculation == 0
    assert row.total == Decimal("1359.00")
    assert receipt.totals.benefits == Decimal("270.00") and receipt.totals.to_pay == Decimal("1359.00")
    assert receipt.recalculations == ()
    text = page_texts(render_receipt_pdf(conn, "L1", "2025-03", issued_on=date(2025, 4, 2)))[0]
    assert "Льготы, субсидии: 270,00" in text

    # April: the category is in the compensation regime — no discount, an export line instead
    april = {b.service: b for b in account_balances(conn, "2025-04")["L1"]}
    assert april["maintenance"].recalculated == 0
    assert april["maintenance"].closing == 135_900 + 162_900
    rows = compensation_rows(conn, "2025-04")
    assert [(r.person_name, r.snils, r.service, r.charged, r.compensation) for r in rows] == [
        ("Иванов Иван Иванович", "112-233-445 95", "maintenance", 162_900, 27_000)
    ]
    assert rows[0].legal_basis == "ФЗ «О ветеранах» ст. 22" and rows[0].debt == 298_800
    path = tmp_path / "edk-2025-04.csv"
    write_export(rows, path)
    assert path.read_text(encoding="utf-8").splitlines()[1] == (
        "2025-04;L1;Иванов Иван Иванович;112-233-445 95;veteran;Ветеран труда;ФЗ «О ветеранах» ст. 22;"
        "maintenance;1629.00;270.00;0.00;2988.00"
    )
    write_export(rows, tmp_path / "edk.xlsx")
    report = reconciliation_report(conn, rows, "2025-04")
    assert report[1] == "veteran;1;1;1629.00;270.00;270.00"
    assert report[-1].endswith("OK")
    assert compensation_rows(conn, "2025-03") == []  # March was a discount


@pytest.mark.db
def test_benefit_files_import(conn, tmp_path) -> None:
    from meterhub.billing.imports import ImportFileError, import_file

    add_building(conn, "V2", {"M1": "1"})
    conn.commit()
    categories = tmp_path / "benefit_categories.csv"
    categories.write_text(
        "category;valid_from;name;legal_basis;share;services;base;social_norm_m2;regime\n"
        "labour;2025-01-01;Ветеран труда;ФЗ «О ветеранах»;0,5;maintenance, heat;social_norm_area;18;"
        "discount\n",
        encoding="utf-8",
    )
    import_file(conn, "benefit_categories", categories)
    assignments = tmp_path / "benefit_assignments.csv"
    assignments.write_text(
        "account;person_name;category;valid_from;valid_to\nM1;Петров П. П.;labour;2025-01-01;\n",
        encoding="utf-8",
    )
    import_file(conn, "benefit_assignments", assignments)
    import_file(conn, "benefit_assignments", assignments)  # re-import updates, never duplicates
    sql = "SELECT services FROM benefit_categories WHERE category = 'labour'"
    assert conn.execute(sql).fetchone() == (["maintenance", "heat"],)
    count = "SELECT count(*) FROM benefit_assignments WHERE account_no = 'M1'"
    assert conn.execute(count).fetchone() == (1,)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "category;valid_from;name;services;base\nx;2025-01-01;X;gas;social_norm_area\n", encoding="utf-8"
    )
    with pytest.raises(ImportFileError) as info:
        import_file(conn, "benefit_categories", bad)
    assert "column services" in str(info.value)
    bad.write_text(
        "category;valid_from;name;services;base\nx;2025-01-01;X;heat;social_norm_area\n", encoding="utf-8"
    )
    with pytest.raises(ImportFileError) as info:
        import_file(conn, "benefit_categories", bad)
    assert "column share" in str(info.value) and "column social_norm_m2" in str(info.value)


@pytest.mark.db
def test_subsidy_recipients_flag_accounts(conn) -> None:
    from meterhub.billing.money.benefits import subsidy_accounts

    add_building(conn, "V3", {"S1": "1", "S2": "2"})
    conn.execute(
        "INSERT INTO subsidy_recipients (account_no, person_name, decision_no, valid_from, valid_to) VALUES"
        " ('S1', 'Сидорова А. А.', 'С-101', '2025-01-01', '2025-07-01')"
    )
    assert subsidy_accounts(conn, ["S1", "S2"], date(2025, 3, 1)) == {"S1": ["С-101"]}
    assert subsidy_accounts(conn, ["S1", "S2"], date(2025, 7, 1)) == {}
