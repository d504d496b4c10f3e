"""`meterhub import` of a migration folder with its reconciliation report, and `meterhub reconcile`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.meterhub_cli import run_cli

pytestmark = pytest.mark.db

MIGRATION = Path(__file__).parent.parent / "data" / "billing" / "migration"


def test_import_prints_and_writes_the_reconciliation(db_url: str, tmp_path: Path) -> None:
    report = tmp_path / "sverka.csv"
    out = run_cli(db_url, tmp_path, "import", str(MIGRATION), "--report", str(report))
    assert out.returncode == 0, out.stderr
    assert "opening_balances.csv: opening_balances: 4 rows (4 new, 0 updated)" in out.stdout
    assert "reconciliation with the legacy system's totals:" in out.stdout
    assert "10 total(s) checked: all equal" in out.stdout
    assert "M1;*;debt;1300.00;1300.00;0.00;yes" in report.read_text(encoding="utf-8-sig")

    again = run_cli(db_url, tmp_path, "import", str(MIGRATION / "opening_balances.csv"))
    assert "4 rows (0 new, 0 updated)" in again.stdout

    out = run_cli(db_url, tmp_path, "reconcile", "--building", "M1")
    assert out.returncode == 0, out.stderr

    totals = tmp_path / "legacy_totals.csv"
    totals.write_text("building,service,debt\nM1,*,1300.01\n", encoding="utf-8")
    out = run_cli(db_url, tmp_path, "import", str(totals))
    assert out.returncode == 0, out.stderr
    assert "legacy_totals: 1 rows (0 new, 1 updated, 2 removed)" in out.stdout
    assert "DIFFERS" in out.stdout
    out = run_cli(db_url, tmp_path, "reconcile", "--out", str(report))
    assert out.returncode == 1
    assert "M1;*;debt;1300.01;1300.00;-0.01;no" in report.read_text(encoding="utf-8-sig")

    bad = tmp_path / "cutover.csv"
    bad.write_text("building,first_period\nM9,2026-13\n", encoding="utf-8")
    out = run_cli(db_url, tmp_path, "import", str(bad))
    assert out.returncode == 1
    assert f"{bad}: row 2, column first_period: '2026-13' is not a billing period" in out.stderr
    assert "nothing of that file was imported" in out.stderr
