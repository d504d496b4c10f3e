"""`meterhub import` and `meterhub close` in a subprocess, against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.db

SMALL = Path(__file__).parent.parent / "data" / "billing" / "small"


def _run(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "METERHUB_DATABASE_URL": db_url,
        "METERHUB_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "meterhub.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_import_then_draft_and_final_close(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "premises.csv"
    bad.write_text("building,premise,area\nB1,9,abc\n", encoding="utf-8")
    out = _run(db_url, tmp_path, "import", str(bad))
    assert out.returncode == 1
    assert f"{bad}: row 2, column area: 'abc' is not a number" in out.stderr
    assert "nothing of that file was imported" in out.stderr

    out = _run(db_url, tmp_path, "import", str(SMALL))
    assert out.returncode == 0, out.stderr
    assert "accounts.csv: accounts: 3 rows (3 new, 0 updated)" in out.stdout
    out = _run(db_url, tmp_path, "import", str(SMALL / "accounts.csv"))
    assert "3 rows (0 new, 3 updated)" in out.stdout

    out = _run(db_url, tmp_path, "close", "--period", "2026-01", "--workers", "1")
    assert out.returncode == 0, out.stderr
    assert "B1 2026-01 draft: 3 accounts" in out.stdout
    out = _run(db_url, tmp_path, "close", "--period", "2026-01", "--final", "--workers", "2")
    assert out.returncode == 0, out.stderr
    assert "B1 2026-01 closed" in out.stdout
    out = _run(db_url, tmp_path, "close", "--period", "2026-01", "-b", "B1")
    assert out.returncode == 1
    assert "B1 FAILED: ClosedPeriodError" in out.stderr and "immutable" in out.stderr

    # February's draft: January is closed and its inputs did not change, so by default it is not reloaded;
    # --recheck-all (CloseOptions(recheck="all")) reloads it anyway
    out = _run(db_url, tmp_path, "close", "--period", "2026-02", "--workers", "1")
    assert out.returncode == 0, out.stderr
    assert "B1 2026-02 draft: 3 accounts" in out.stdout and "rechecked" not in out.stdout
    out = _run(db_url, tmp_path, "close", "--period", "2026-02", "--workers", "1", "--recheck-all")
    assert out.returncode == 0, out.stderr
    assert "B1 2026-02 draft: 3 accounts" in out.stdout
    assert "0 recalculation line(s), 11 warning(s), rechecked closed 2026-01\n" in out.stdout
