"""`meterhub import` of a migration from a legacy system (docs/migration.md): the files of
tests/data/billing/migration, idempotency, snapshot replacement, errors naming file/row/column, the
overpayment held as an advance and the reconciliation report against the legacy totals."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.billing.imports import ImportFileError, import_directory, import_file
from meterhub.billing.imports.legacy_specs import kopecks, period
from meterhub.billing.imports.migration_report import format_report, reconcile, write_report_csv
from meterhub.billing.money.ledger import account_balances, payment_history
from meterhub.timeseries.database import connect

MIGRATION = Path(__file__).parent.parent / "data" / "billing" / "migration"
_TABLES = (
    "legacy_cutovers",
    "opening_debts",
    "legacy_payments",
    "legacy_meter_volumes",
    "legacy_house_volumes",
    "legacy_totals",
)


def _snapshot(conn) -> dict[str, list]:
    state = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall() for t in _TABLES}
    state["payments"] = conn.execute(
        "SELECT source, payment_id, account_no, amount_kopecks, paid_on FROM payments ORDER BY 2"
    ).fetchall()
    state["allocations"] = conn.execute(
        "SELECT account_no, booked_period, service, kind, amount_kopecks FROM payment_allocations ORDER BY 1"
    ).fetchall()
    return state


@pytest.fixture(scope="module")
def imported(db_url: str) -> str:
    with connect(db_url) as conn:
        import_directory(conn, MIGRATION)
    return db_url


@pytest.mark.db
def test_every_file_is_imported_as_written(imported: str) -> None:
    with connect(imported) as conn:
        assert conn.execute("SELECT first_period, system FROM legacy_cutovers").fetchall() == [
            ("2026-06", "СТАРТ КС")
        ]
        debts = conn.execute(
            "SELECT account_no, service, period, kind, amount_kopecks, due_date FROM opening_debts"
            " ORDER BY 1, 4"
        ).fetchall()
        # LS-2's May debt has no due date in the file: May 2026 is due on the 15th of June (177-ФЗ)
        assert debts == [
            ("LS-1", "cold_water", "2026-03", "penalty", 1234, date(2026, 4, 15)),
            ("LS-1", "cold_water", "2026-03", "principal", 100_000, date(2026, 4, 20)),
            ("LS-2", "cold_water", "2026-05", "principal", 30_000, date(2026, 6, 15)),
        ]
        # the overpayment is an advance payment the day before the cutover, booked in its legacy period
        advance = conn.execute(
            "SELECT p.source, p.amount_kopecks, p.paid_on, a.service, a.kind, a.booked_period,"
            " a.amount_kopecks FROM payments p JOIN payment_allocations a USING (payment_pk)"
            " WHERE p.account_no = 'LS-3'"
        ).fetchall()
        assert advance == [
            ("opening_balance", 50_000, date(2026, 5, 31), "advance", "advance", "2026-05", 50_000)
        ]
        assert conn.execute("SELECT count(*), sum(volume) FROM legacy_meter_volumes").fetchone() == (
            24,
            Decimal("1873.5"),
        )


@pytest.mark.db
def test_opening_balance_of_the_first_period(imported: str) -> None:
    with connect(imported) as conn:
        balances = account_balances(conn, "2026-06", building_id="M1")
    opening = {a: {b.service: b.opening for b in rows} for a, rows in balances.items()}
    # 1 000.00 principal + 12.34 unpaid legacy penalty; 300.00; an overpayment of 500.00 as a credit
    assert opening == {
        "LS-1": {"cold_water": 101_234},
        "LS-2": {"cold_water": 30_000},
        "LS-3": {"advance": -50_000},
    }


@pytest.mark.db
def test_legacy_payments_in_the_payment_history(imported: str) -> None:
    with connect(imported) as conn:
        history = payment_history(conn, "LS-1")
        ls2 = payment_history(conn, "LS-2")
    assert [(p.payment_id, p.amount, p.paid_on, p.source) for p in history] == [
        ("P-2", 15_000, date(2026, 5, 7), "legacy"),
        ("P-1", 80_000, date(2026, 4, 5), "legacy"),
    ]
    assert history[1].period_named == "2026-03" and history[1].allocations == ()
    assert [(p.source, p.period_named) for p in ls2] == [("legacy:Сбербанк", "2026-04")]


@pytest.mark.db
def test_reimport_changes_nothing(imported: str) -> None:
    with connect(imported) as conn:
        before = _snapshot(conn)
        results = import_directory(conn, MIGRATION)
        after = _snapshot(conn)
    legacy = [r for r in results if r.entity in ("cutover", "opening_balances", "meter_history")]
    assert {(r.entity, r.inserted, r.deleted) for r in legacy} == {
        ("cutover", 0, 0),
        ("opening_balances", 0, 0),
        ("meter_history", 0, 0),
    }
    assert all(getattr(r, "updated", 0) == 0 for r in legacy)
    assert after == before


@pytest.mark.db
def test_reconciliation_all_equal(imported: str, tmp_path: Path) -> None:
    with connect(imported) as conn:
        lines = reconcile(conn)
    got = {(line.service, line.measure): (line.legacy, line.imported) for line in lines}
    assert got == {
        ("*", "debt"): (Decimal("1300.00"), Decimal("1300.00")),
        ("*", "penalties"): (Decimal("12.34"), Decimal("12.34")),
        ("*", "advance"): (Decimal("500.00"), Decimal("500.00")),
        ("*", "balance"): (Decimal("812.34"), Decimal("812.34")),
        ("*", "paid"): (Decimal("2950.00"), Decimal("2950.00")),
        ("cold_water", "debt"): (Decimal("1300.00"), Decimal("1300.00")),
        ("cold_water", "penalties"): (Decimal("12.34"), Decimal("12.34")),
        ("cold_water", "volume"): (Decimal("73.5"), Decimal("73.5")),  # 43.5 (CW-1) + 30 (CW-3)
        ("cold_water", "house_volume"): (Decimal("186.4"), Decimal("186.4")),
        ("electricity", "volume"): (Decimal("1800"), Decimal("1800")),  # day 1 200 + night 600
    }
    assert all(line.ok for line in lines)
    assert format_report(lines).endswith("10 total(s) checked: all equal")
    out = tmp_path / "report.csv"
    write_report_csv(lines, out)
    text = out.read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "building;service;measure;legacy;imported;difference;ok"
    assert "M1;*;balance;812.34;812.34;0.00;yes" in text


@pytest.mark.db
def test_a_row_left_out_is_removed_and_a_difference_is_reported(imported: str, tmp_path: Path) -> None:
    folder = tmp_path / "corrected"
    shutil.copytree(MIGRATION, folder)
    rows = (folder / "opening_balances.csv").read_text(encoding="utf-8").splitlines()
    (folder / "opening_balances.csv").write_text(
        "\n".join(r for r in rows if not r.startswith("LS-2")) + "\n", encoding="utf-8"
    )
    with connect(imported) as conn:
        try:
            result = import_file(conn, "opening_balances", folder / "opening_balances.csv")
            assert (result.inserted, result.updated, result.deleted) == (0, 0, 1)
            lines = {(x.service, x.measure): x for x in reconcile(conn, "M1")}
            assert lines[("*", "debt")].difference == Decimal("-300.00")
            assert lines[("*", "balance")].difference == Decimal("-300.00")
            assert "DIFFERS" in format_report(list(lines.values()))
        finally:
            import_file(conn, "opening_balances", MIGRATION / "opening_balances.csv")
        assert all(x.ok for x in reconcile(conn, "M1"))


@pytest.mark.db
def test_bad_rows_are_named_and_nothing_is_imported(imported: str, tmp_path: Path) -> None:
    bad = tmp_path / "opening_balances.csv"
    bad.write_text(
        "account,service,period,kind,amount,due_date\n"
        "LS-1,cold_water,2026-02,principal,10.00,\n"  # good, but the file has errors: not imported
        "LS-1,cold_water,2026-06,principal,10.00,\n"  # the first meterhub period itself
        "LS-9,cold_water,2026-04,principal,10.00,\n"  # unknown account
        "LS-2,cold_water,2026-04,principal,10.005,\n"  # a fraction of a kopeck
        "LS-2,,2026-04,principal,10.00,\n"  # principal without a service
        "LS-2,cold_water,13.2026,principal,1.00,\n",  # not a period
        encoding="utf-8",
    )
    with connect(imported) as conn:
        before = _snapshot(conn)
        with pytest.raises(ImportFileError) as err:
            import_file(conn, "opening_balances", bad)
        assert _snapshot(conn) == before
    messages = [str(p) for p in err.value.problems]
    assert messages == [
        f"{bad}: row 3, column period: period 2026-06 is not before building M1's first meterhub period "
        "2026-06; meterhub computes that period itself",
        f"{bad}: row 4, column account: LS-9 not found; import accounts first",
        f"{bad}: row 5, column amount: '10.005' has more than two decimals (kopecks); "
        "give rubles like 1234.56",
        f"{bad}: row 6, column service: a principal row needs the service it is owed for",
        f"{bad}: row 7, column period: '13.2026' is not a billing period "
        "(use YYYY-MM or MM.YYYY, e.g. 2026-03)",
    ]


@pytest.mark.db
def test_history_and_payments_must_precede_the_cutover(imported: str, tmp_path: Path) -> None:
    payments = tmp_path / "legacy_payments.csv"
    payments.write_text("account,paid_on,payment_id,amount\nLS-1,2026-06-01,X,5.00\n", encoding="utf-8")
    history = tmp_path / "meter_history.csv"
    history.write_text(
        "meter_id,period,zone,volume\nE-1,2026-01,day,1\nE-1,2026-01,single,1\nNOPE,2026-01,single,1\n",
        encoding="utf-8",
    )
    with connect(imported) as conn:
        with pytest.raises(ImportFileError) as paid:
            import_file(conn, "legacy_payments", payments)
        with pytest.raises(ImportFileError) as zones:
            import_file(conn, "meter_history", history)
    assert [str(p) for p in paid.value.problems] == [
        f"{payments}: row 2, column paid_on: paid on 2026-06 is not before building M1's first meterhub "
        "period 2026-06; post it with `meterhub payments import`"
    ]
    assert [str(p) for p in zones.value.problems] == [
        f"{history}: row 2, column zone: meter E-1, 2026-01: zones day, single mix schemes; use single, "
        "or day+night, or peak+semi_peak+night",
        f"{history}: row 4, column meter_id: NOPE not found; import the meter first (meters.csv, linked to "
        "its premise)",
    ]


@pytest.mark.db
def test_a_moved_meter_s_history_follows_its_links(imported: str, tmp_path: Path) -> None:
    meters = tmp_path / "meters.csv"
    meters.write_text(
        "meter_id,valid_from,valid_to,building,premise,service,manufacturer,serial\n"
        "MV-1,2020-01-01,2026-03-01,M1,1,cold_water,WAP,900\n"
        "MV-1,2026-03-01,,M1,2,cold_water,WAP,900\n",
        encoding="utf-8",
    )
    history = tmp_path / "meter_history.csv"
    original = (MIGRATION / "meter_history.csv").read_text(encoding="utf-8")
    history.write_text(original + "MV-1,2026-02,single,1.5,meter\nMV-1,2026-03,single,2.5,meter\n", "utf-8")
    with connect(imported) as conn:
        import_file(conn, "meters", meters)
        try:
            result = import_file(conn, "meter_history", history)
            rows = conn.execute(
                "SELECT account_no, service, period, volume FROM legacy_account_volumes"
                " WHERE period IN ('2026-02', '2026-03') AND service = 'cold_water' AND volume IN (1.5, 2.5)"
                " ORDER BY period"
            ).fetchall()
        finally:
            import_file(conn, "meter_history", MIGRATION / "meter_history.csv")
    assert (result.inserted, result.deleted) == (2, 0)
    # February: the link to premise 1 (LS-1) was in force; from March the one to premise 2 (LS-2)
    assert rows == [
        ("LS-1", "cold_water", "2026-02", Decimal("1.5")),
        ("LS-2", "cold_water", "2026-03", Decimal("2.5")),
    ]


@pytest.mark.db
def test_an_xlsx_export_reads_like_the_csv(imported: str, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Account", "Paid_on", "Payment_id", "Amount", "Period", "Agent", "Purpose"])
    sheet.append(["LS-1", datetime(2026, 4, 5), "P-1", 800.0, "2026-03", None, "Оплата ЖКУ за 03.2026"])
    sheet.append(["LS-1", datetime(2026, 5, 7), "P-2", 150, None, None, None])
    sheet.append(["LS-2", datetime(2026, 5, 10), "P-3", 2000.00, "04.2026", "Сбербанк", None])
    path = tmp_path / "legacy_payments.xlsx"
    book.save(path)
    with connect(imported) as conn:
        before = _snapshot(conn)
        result = import_file(conn, "legacy_payments", path)
        assert _snapshot(conn) == before  # the same payments as legacy_payments.csv: nothing changes
    assert (result.rows, result.inserted, result.updated, result.deleted) == (3, 0, 0, 0)


@pytest.mark.db
def test_the_last_legacy_reading_is_stored_once(imported: str, tmp_path: Path) -> None:
    with connect(imported) as conn:
        stored = conn.execute(
            "SELECT m.meter_id, m.register, r.ts, r.value, r.source FROM reading_values r"
            " JOIN meter_registers m USING (series_id)"
        ).fetchall()
        # 12:00 in Moscow on the read_on date, source 2 (import)
        assert stored == [("CW-1", "water_m3", datetime(2026, 5, 24, 9, tzinfo=UTC), 412.3, 2)]
        changed = tmp_path / "meter_history.csv"
        changed.write_text(
            "meter_id,period,zone,volume,reading,read_on\n"
            "CW-1,2026-05,single,9.9,412.4,2026-05-24\n"
            "CW-3,2026-05,single,5,100,2026-05-25\n",
            encoding="utf-8",
        )
        with pytest.raises(ImportFileError) as err:
            import_file(conn, "meter_history", changed)
        water = tmp_path / "water" / "meter_history.csv"
        water.parent.mkdir()
        water.write_text(
            "meter_id,period,zone,volume,reading\nCW-3,2026-05,day,5,100\nCW-3,2026-05,night,0,1\n",
            encoding="utf-8",
        )
        with pytest.raises(ImportFileError) as zone:
            import_file(conn, "meter_history", water)
        assert conn.execute("SELECT count(*) FROM readings").fetchone() == (1,)
    assert [str(p) for p in err.value.problems] == [
        f"{changed}: row 2, column reading: meter CW-1 already has water_m3 = 412.3 at "
        "2026-05-24T09:00:00+00:00; a stored reading is not rewritten — correct it as a replacement or "
        "leave this reading out"
    ]
    assert str(zone.value.problems[0]) == (
        f"{water}: row 2, column zone: meter CW-3 (cold_water) has no register for zone day (its registers: "
        "water_m3); give the reading's zone as the meter counts it"
    )


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=12))
def test_period_parser_accepts_both_spellings(year: int, month: int) -> None:
    expected = f"{year:04d}-{month:02d}"
    assert period(f"{year:04d}-{month}") == expected
    assert period(f"{month:02d}.{year:04d}") == expected


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2))
def test_kopecks_are_exact_for_two_decimals(amount: Decimal) -> None:
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",")  # "1 234,56", as a Russian export writes
    assert kopecks(text) == int(amount * 100)
    assert kopecks(str(amount)) == int(amount * 100)
