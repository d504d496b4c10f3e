"""`meterhub import` and `meterhub close` in a subprocess, against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.meterhub_cli import SMALL, run_cli

pytestmark = pytest.mark.db


def test_import_then_draft_and_final_close(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "premises.csv"
    bad.write_text("building,premise,area\nB1,9,abc\n", encoding="utf-8")
    out = run_cli(db_url, tmp_path, "import", str(bad))
    assert out.returncode == 1
    assert f"{bad}: row 2, column area: 'abc' is not a number" in out.stderr
    assert "nothing of that file was imported" in out.stderr

    out = run_cli(db_url, tmp_path, "import", str(SMALL))
    assert out.returncode == 0, out.stderr
    assert "accounts.csv: accounts: 3 rows (3 new, 0 updated)" in out.stdout
    out = run_cli(db_url, tmp_path, "import", str(SMALL / "accounts.csv"))
    assert "3 rows (0 new, 3 updated)" in out.stdout

    out = run_cli(db_url, tmp_path, "close", "--period", "2026-01", "--workers", "1")
    assert out.returncode == 0, out.stderr
    assert "B1 2026-01 draft: 3 accounts" in out.stdout
    out = run_cli(db_url, tmp_path, "close", "--period", "2026-01", "--final", "--workers", "2")
    assert out.returncode == 0, out.stderr
    assert "B1 2026-01 closed" in out.stdout
    out = run_cli(db_url, tmp_path, "close", "--period", "2026-01", "-b", "B1")
    assert out.returncode == 1
    assert "B1 FAILED: ClosedPeriodError" in out.stderr and "immutable" in out.stderr

    # February's draft: January is closed and its inputs did not change, so by default it is not reloaded;
    # --recheck-all (CloseOptions(recheck="all")) reloads it anyway
    out = run_cli(db_url, tmp_path, "close", "--period", "2026-02", "--workers", "1")
    assert out.returncode == 0, out.stderr
    assert "B1 2026-02 draft: 3 accounts" in out.stdout and "rechecked" not in out.stdout
    out = run_cli(db_url, tmp_path, "close", "--period", "2026-02", "--workers", "1", "--recheck-all")
    assert out.returncode == 0, out.stderr
    assert "B1 2026-02 draft: 3 accounts" in out.stdout
    assert "0 recalculation line(s), 11 warning(s), rechecked closed 2026-01\n" in out.stdout
