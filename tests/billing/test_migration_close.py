"""The first closes after a migration use what was imported (tests/data/billing/migration, docs/migration.md):
the opening debt on the receipt, penalties from the legacy due date counted from the cutover, the last
legacy reading as the first period's start, averages from the legacy meter history, AVERAGE common
property from the house history, the overpayment applied, debtors with the legacy due dates, and
opening balances frozen once the first period is closed.

Building M1 switches to meterhub with June 2026 (cutover 01.06.2026). Expected values are computed by
hand below from the CSV files, the tariffs (cold water 50.00 ₽/m³; electricity day 7.85, night 3.47
₽/kWh) and the penalty rules (rate 9.5 %, 1/300 from day 31 after the due date, 1/130 from day 91).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.imports import ImportFileError, import_directory, import_file
from meterhub.billing.money.debtors import debtors
from meterhub.billing.money.ledger import account_balances
from meterhub.billing.money.opening_balances import BeforeCutoverError
from meterhub.billing.money.posting import post_payment
from meterhub.billing.receipts.documents import load_debt_receipt
from meterhub.billing.receipts.loader import load_receipt
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.core.readings import Reading
from meterhub.timeseries.database import connect
from meterhub.timeseries.ingest import ReadingWriter

pytestmark = pytest.mark.db

MIGRATION = Path(__file__).parent.parent / "data" / "billing" / "migration"
JUN, JUL = BillingPeriod(2026, 6), BillingPeriod(2026, 7)


@pytest.fixture(scope="module")
def closed(db_url: str) -> str:
    with connect(db_url) as conn:
        import_directory(conn, MIGRATION)
        # LS-2 pays its legacy May debt (300.00) on 05.06.2026, naming May 2026
        post_payment(
            conn,
            account_no="LS-2",
            amount_kopecks=30_000,
            paid_on=date(2026, 6, 5),
            payment_id="jun-1",
            source="bank",
            period=BillingPeriod(2026, 5),
        )
        # CW-1's June reading (the May one, 412.300 on 24.05, came with the meter history)
        june_reading = datetime(2026, 6, 20, 12, tzinfo=ZoneInfo("Europe/Moscow"))
        ReadingWriter(conn).write([Reading("CW-1", "water_m3", june_reading, 419.85, "m3")])
        conn.commit()
        close_building(conn, "M1", JUN, CloseOptions(final=True))
        close_building(conn, "M1", JUL)  # draft
    return db_url


def _charges(conn, period: str) -> dict[tuple[str, str, str, str], tuple[Decimal, Decimal, str]]:
    rows = conn.execute(
        "SELECT account_no, service, kind, zone, volume, amount, method FROM charge_lines WHERE period = %s",
        (period,),
    ).fetchall()
    return {(a, s, k, z): (v, amount, m) for a, s, k, z, v, amount, m in rows}


def test_averages_come_from_the_legacy_meter_history(closed: str) -> None:
    with connect(closed) as conn:
        june = _charges(conn, "2026-06")
    # CW-1 is billed by meter from its first meterhub period: the June reading 419.850 minus the last
    # legacy reading 412.300 (imported with the history) = 7.55 m³ × 50.00 = 377.50 ₽
    cold = june[("LS-1", "cold_water", "individual", "single")]
    assert cold == (Decimal("7.55"), Decimal("377.50"), "meter")
    # E-1 has no reading in June: the mean of its six legacy months, two-zone, per zone (decision 6;
    # billing-rules.md I-3): day (210+190+205+195+200+200)/6 = 200 kWh × 7.85 = 1 570.00;
    # night (100+95+105+98+102+100)/6 = 100 kWh × 3.47 = 347.00
    assert june[("LS-1", "electricity", "individual", "day")][1:] == (Decimal("1570.00"), "average")
    assert june[("LS-1", "electricity", "individual", "night")][1:] == (Decimal("347.00"), "average")
    assert june[("LS-1", "electricity", "individual", "day")][0] == 200
    # CW-3: the legacy system averaged March–May (3 periods, the limit): June goes to the normative,
    # 1 person × 5 m³ × 50.00 = 250.00 ₽ (п. 60; premise 3 has an act of technical impossibility: no ×1.5)
    normative = june[("LS-3", "cold_water", "individual", "single")]
    assert normative == (Decimal("5"), Decimal("250.00"), "normative")


def test_average_common_property_from_the_house_history(closed: str) -> None:
    with connect(closed) as conn:
        (method, distributed) = conn.execute(
            "SELECT method, distributed FROM period_common_property WHERE period = '2026-06'"
            " AND service = 'cold_water'"
        ).fetchone()
        june = _charges(conn, "2026-06")
    # ΔV of the six legacy months: 1.6, 1.2, 1.4, 1.8, 1.5, 2.1 → mean 9.6 / 6 = 1.6 m³ (under the cap
    # 0.1 × 20 m² = 2 m³); each flat 1.6 × 50 / 150 = 0.5333… m³ × 50.00 = 26.666… → 26.67 ₽
    assert (method, distributed) == ("average", Decimal("1.6"))
    for account in ("LS-1", "LS-2", "LS-3"):
        assert june[(account, "cold_water", "common_property", "single")][1] == Decimal("26.67")


def test_penalty_of_the_legacy_debt_from_the_cutover(closed: str) -> None:
    with connect(closed) as conn:
        lines = conn.execute(
            "SELECT closing_period, account_no, debt_period, due_date, accrued_kopecks, amount_kopecks"
            " FROM penalty_lines ORDER BY closing_period, account_no"
        ).fetchall()
    # LS-1's March debt 1 000.00, legacy due date 20.04.2026 (the law's would be 15.04): day 31 = 21.05.
    # Up to 31.05 (before the cutover) 11 days → 1000 × 0.095 × 11 / 300 = 3.483… → 3.48 (the legacy
    # system's; its unpaid part is the imported 12.34). Up to 30.06: 41 days → 12.983… → 12.98; June adds
    # 12.98 − 3.48 = 9.50. July (draft): day 90 = 19.07, so 60 days at 1/300 = 19.00 and 20.07–31.07 =
    # 12 days at 1/130 = 1000 × 0.095 × 12 / 130 = 8.769… → 27.769… → 27.77; July adds 27.77 − 12.98 = 14.79.
    # LS-2's May debt (due 15.06) was paid on 05.06: no penalty.
    assert lines == [
        ("2026-06", "LS-1", "2026-03", date(2026, 4, 20), 1298, 950),
        ("2026-07", "LS-1", "2026-03", date(2026, 4, 20), 2777, 1479),
    ]


def test_receipt_shows_the_opening_debt(closed: str) -> None:
    with connect(closed) as conn:
        balances = {a: rows for a, rows in account_balances(conn, JUN, building_id="M1").items()}
        receipt = load_receipt(conn, "LS-1", JUN, issued_on=date(2026, 7, 1))
        june = _charges(conn, "2026-06")
    ls1_charged = sum(amount for (a, *_), (_, amount, _) in june.items() if a == "LS-1")
    # 377.50 + 26.67 + 1 570.00 + 347.00 (no maintenance in this building)
    assert ls1_charged == Decimal("2321.17")
    totals = receipt.totals
    assert (totals.opening, totals.charged, totals.penalties, totals.paid) == (
        Decimal("1012.34"),
        Decimal("2321.17"),
        Decimal("9.50"),
        Decimal("0.00"),
    )
    assert totals.to_pay == Decimal("3343.01")  # 1 012.34 + 2 321.17 + 9.50
    # LS-2 paid its 300.00 legacy debt in June: opening 300.00, paid 300.00
    ls2 = {b.service: (b.opening, b.paid) for b in balances["LS-2"]}
    assert ls2["cold_water"] == (30_000, 30_000)


def test_debt_receipt_of_a_legacy_debt(closed: str) -> None:
    with connect(closed) as conn:
        receipt = load_debt_receipt(conn, "LS-1", date(2026, 7, 10))
    # March: 1 000.00 due 20.04 (legacy); penalty = the legacy 12.34 + days from the cutover: up to 10.07
    # 51 days at 1/300 (from 21.05) = 1000 × 0.095 × 51 / 300 = 16.15, less 3.48 up to 31.05 → 12.67;
    # 12.34 + 12.67 = 25.01. June (due 15.07) is not yet a debt on 10.07.
    assert [(x.period, x.due_date, x.principal, x.penalties) for x in receipt.lines] == [
        (BillingPeriod(2026, 3), date(2026, 4, 20), Decimal("1000.00"), Decimal("25.01"))
    ]


def test_overpayment_pays_the_first_charges(closed: str) -> None:
    with connect(closed) as conn:
        june = _charges(conn, "2026-06")
        rows = account_balances(conn, JUN, account_nos=["LS-3"])["LS-3"]
    charged = {s: amount for (a, s, *_), (_, amount, _) in june.items() if a == "LS-3" and s == "cold_water"}
    # cold water 250.00 + 26.67; electricity by normative 100 kWh × 6.43 = 643.00; 919.67 in all
    total = sum(amount for (a, *_), (_, amount, _) in june.items() if a == "LS-3")
    assert charged and total == Decimal("919.67")
    assert sum(b.opening for b in rows) == -50_000
    # the 500.00 overpayment is used up by June's charges: 919.67 − 500.00 = 419.67 still owed
    assert sum(b.closing for b in rows) == 41_967
    assert {b.service: b.closing for b in rows}.get("advance", 0) == 0


def test_debtors_use_the_legacy_due_date(closed: str) -> None:
    with connect(closed) as conn:
        july = debtors(conn, date(2026, 7, 1), building_id="M1")
        between = debtors(conn, date(2026, 4, 17), building_id="M1")
        after = debtors(conn, date(2026, 4, 21), building_id="M1")
    # 01.07: LS-1 owes March (1 000.00, overdue since 20.04) and penalties 12.34 + 9.50; June is due 15.07
    assert [(d.account_no, d.amount, d.months, d.oldest) for d in july] == [("LS-1", 100_000, 1, "2026-03")]
    assert july[0].penalty >= 1234 + 950
    # 17.04 is after the law's 15.04 but before the legacy due date 20.04: not yet a debtor
    assert between == []
    assert [d.account_no for d in after] == ["LS-1"]


def test_a_period_before_the_cutover_is_not_computed(closed: str) -> None:
    with connect(closed) as conn:
        with pytest.raises(BeforeCutoverError, match="2026-05 is before its first meterhub period 2026-06"):
            close_building(conn, "M1", BillingPeriod(2026, 5))
        earlier = conn.execute("SELECT count(*) FROM billing_periods WHERE period < '2026-06'").fetchone()
    assert earlier == (0,)


def test_opening_balances_are_frozen_after_the_first_final_close(closed: str, tmp_path: Path) -> None:
    changed = tmp_path / "opening_balances.csv"
    text = (MIGRATION / "opening_balances.csv").read_text(encoding="utf-8")
    changed.write_text(text.replace("1 000,00", "1 100,00"), encoding="utf-8")
    with connect(closed) as conn:
        with pytest.raises(ImportFileError) as err:
            import_file(conn, "opening_balances", changed)
        same = import_file(conn, "opening_balances", MIGRATION / "opening_balances.csv")
        with pytest.raises(ImportFileError) as moved:
            cutover = _write(tmp_path / "cutover.csv", "building,first_period\nM1,2026-05\n")
            import_file(conn, "cutover", cutover)
    assert "building M1 has closed period 2026-06: its opening balances are frozen" in str(err.value)
    assert (same.inserted, same.updated, same.deleted) == (0, 0, 0)
    assert "its cutover 2026-06 cannot move" in str(moved.value)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_corrected_history_after_a_close_is_a_recalculation_on_recheck(closed: str, tmp_path: Path) -> None:
    # E-1's December 2025 day volume was 270 kWh, not 210: June's average day volume becomes
    # (270+190+205+195+200+200)/6 = 210 kWh, +10 kWh × 7.85 = +78.50 ₽, booked in July as a recalculation
    history = tmp_path / "meter_history.csv"
    text = (MIGRATION / "meter_history.csv").read_text(encoding="utf-8")
    history.write_text(text.replace("E-1,2025-12,day,210,meter", "E-1,2025-12,day,270,meter"), "utf-8")
    with connect(closed) as conn:
        import_file(conn, "meter_history", history)
        close_building(conn, "M1", JUL)  # the default recheck: the legacy tables are not watched
        before = conn.execute("SELECT count(*) FROM recalculation_lines WHERE period = '2026-07'").fetchone()
        close_building(conn, "M1", JUL, CloseOptions(recheck="all"))
        lines = conn.execute(
            "SELECT corrects_period, account_no, service, zone, volume_delta, amount FROM recalculation_lines"
            " WHERE period = '2026-07' ORDER BY service, zone"
        ).fetchall()
    assert before == (0,)
    assert ("2026-06", "LS-1", "electricity", "day", Decimal(10), Decimal("78.50")) in lines
    assert {(a, s) for _, a, s, *_ in lines} == {("LS-1", "electricity")}
