"""``meterhub claims`` end to end in a subprocess on a real database: court districts imported, the claimant
set, a batch of applications for a building's debtors (PDFs written and attached), the case's steps, money
under the order, the timeline and the report."""

from __future__ import annotations

import io
from pathlib import Path

import psycopg
import pytest

from tests.claims.claims_data import city_with_co_owners
from tests.cli.meterhub_cli import run_cli

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def city(db_url: str) -> str:
    from meterhub.timeseries.database import connect

    with connect(db_url) as c:
        city_with_co_owners(c)
        c.execute("DELETE FROM claims_court_districts")
        c.execute("UPDATE accounts SET owner_name = 'Кузнецов Олег Павлович' WHERE account_no = 'X4'")
        c.commit()
    return db_url


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_claims_from_the_command_line(city: str, tmp_path: Path) -> None:
    courts = tmp_path / "courts.csv"
    courts.write_text("building_id;court_name;court_address\nCL;Судебный участок № 7;г. Тест, ул. Новая, 2\n")
    assert "1 buildings" in _ok(run_cli(city, tmp_path, "claims", "courts", str(courts)))
    bad = tmp_path / "bad.csv"
    bad.write_text("building_id,court_name\nNOPE,Участок\n")
    result = run_cli(city, tmp_path, "claims", "courts", str(bad))
    assert result.returncode == 1 and "line 2: building 'NOPE' does not exist" in result.stderr

    debtors = _ok(run_cli(city, tmp_path, "claims", "debtors", "--as-of", "2025-04-30", "--building", "CL"))
    assert "X1" in debtors and "X2" not in debtors and "3 debtors" in debtors

    # pre-trial claims for the building's debtors ("-"): the three debtors listed above
    letters = tmp_path / "letters"
    args = ("claims", "pretrial", "-", "--building", "CL", "--as-of", "2025-04-30", "--pay-by", "2025-05-30")
    _ok(run_cli(city, tmp_path, *args, "--out", str(letters)))
    assert sorted(p.name.split("_")[1] for p in letters.glob("pretenziya_*.pdf")) == ["X1", "X3", "X4"]

    out = tmp_path / "pdf"
    batch = _ok(
        run_cli(
            city,
            tmp_path,
            "claims",
            "prepare",
            "-",
            "--building",
            "CL",
            "--as-of",
            "2025-04-30",
            "--out",
            str(out),
        )
    )
    assert sorted(p.name.split("_")[1] for p in out.glob("zayavlenie_*.pdf")) == ["X1", "X3", "X4"]
    case_id = next(line.split()[2] for line in batch.splitlines() if line.startswith("X1:"))

    _ok(run_cli(city, tmp_path, "claims", "step", case_id, "filed", "--on", "2025-05-05"))
    wrong = run_cli(city, tmp_path, "claims", "step", case_id, "decision", "--on", "2025-05-06")
    assert wrong.returncode == 1 and "cannot go to decision" in wrong.stderr
    _ok(
        run_cli(
            city,
            tmp_path,
            "claims",
            "step",
            case_id,
            "order_issued",
            "--on",
            "2025-05-20",
            "--number",
            "2-77/2025",
            # each co-owner by his share: the mother 1 750.00 + 14.97, the son's penalties refused
            "--award",
            "1:1764.97:1000.00",
            "--award",
            "2:1750.00:1000.00",
        )
    )
    with psycopg.connect(city) as conn:
        rows = conn.execute(
            "SELECT debtor_no, amount_kopecks, liability FROM court_decisions WHERE case_number = '2-77/2025'"
            " ORDER BY debtor_no"
        ).fetchall()
        awarded = conn.execute(
            "SELECT awarded_kopecks FROM claims_cases WHERE case_id = %s", (case_id,)
        ).fetchone()
    assert rows == [(1, 176497, "share"), (2, 175000, "share")] and awarded == (351497,)
    _ok(
        run_cli(
            city,
            tmp_path,
            "claims",
            "step",
            case_id,
            "enforcement",
            "--on",
            "2025-06-01",
            "--proceeding",
            "1/25/77001-ИП",
            "--office",
            "ОСП Тестовое",
        )
    )
    order = tmp_path / "prikaz.pdf"
    order.write_bytes(b"%PDF-1.4 court order scan")
    _ok(run_cli(city, tmp_path, "claims", "attach", case_id, str(order), "--kind", "court_order"))
    money = _ok(
        run_cli(
            city, tmp_path, "claims", "writ", case_id, "1000.00", "--on", "2025-06-15", "--reference", "ПП 5",
            "--debtor", "1",
        )
    )  # fmt: skip
    assert "debts 1 000.00, court costs 0.00, advance 0.00" in money
    # two defendants by share: the money must say whose it is
    unnamed = run_cli(
        city, tmp_path, "claims", "writ", case_id, "10.00", "--on", "2025-06-16", "--reference", "ПП 6"
    )
    assert unnamed.returncode != 0 and "name the debtor" in unnamed.stderr
    timeline = _ok(run_cli(city, tmp_path, "claims", "timeline", case_id))
    assert [line.split("\t")[1] for line in timeline.splitlines()] == [
        "подготовлено",
        "заявление подано",
        "вынесен судебный приказ",
        "на исполнении (ФССП / банк)",
    ]
    assert "prikaz.pdf" in timeline.splitlines()[-1] and "zayavlenie_X1" in timeline.splitlines()[0]

    report = tmp_path / "report.xlsx"
    _ok(run_cli(city, tmp_path, "claims", "report", "--out", str(report)))
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(report.read_bytes()))
    rows = [[c.value for c in r] for r in book["Сверка ФССП"].iter_rows(min_row=2)]
    assert [(r[1], r[7], r[8]) for r in rows] == [("2-77/2025", "1/25/77001-ИП", "ОСП Тестовое")]

    # the order under enforcement is cancelled; a ruling returns 400.00 of the 1 000.00 collected from
    # debtor 1 — all of it paid debts, in this order: January cold water 500.00, hot water 250.00 (receipt
    # order), February cold water 250.00 — so the 400.00 comes out of the line paid last first: February's
    # 250.00, then 150.00 of January's hot water
    _ok(run_cli(city, tmp_path, "claims", "step", case_id, "order_cancelled", "--on", "2025-07-01"))
    back = _ok(
        run_cli(
            city, tmp_path, "claims", "reversal", case_id, "400.00", "--debtor", "1", "--ruled", "2025-07-20",
            "--number", "13-1/2025",
        )
    )  # fmt: skip
    assert "returned 400.00 — out of debts 400.00 (owed again), out of court costs 0.00" in back
    with psycopg.connect(city) as conn:
        lines = conn.execute(
            "SELECT a.debt_period, a.service, a.kind, a.amount_kopecks FROM payment_allocations a"
            " JOIN payments p USING (payment_pk) WHERE p.amount_kopecks < 0 AND p.payment_id = %s"
            " ORDER BY 1, 2",
            (f"{case_id}:reversal:1",),
        ).fetchall()
    assert lines == [
        ("2025-01", "hot_water", "principal", -15000),
        ("2025-02", "cold_water", "principal", -25000),
    ]
