"""`meterhub registry keep|import|list|export` in a subprocess, against a real database."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook

from tests.cli.meterhub_cli import SMALL, run_cli

pytestmark = pytest.mark.db


def test_registry_commands(db_url: str, tmp_path: Path) -> None:
    assert run_cli(db_url, tmp_path, "import", str(SMALL)).returncode == 0
    out = run_cli(db_url, tmp_path, "registry", "keep", "B1", "--from", "2026-01-01", "--absences")
    assert out.returncode == 0, out.stderr
    assert "temporary absences from stays registered elsewhere" in out.stdout
    with psycopg.connect(db_url) as conn:
        assert conn.execute(
            "SELECT absences_from_register FROM registry_buildings WHERE building_id = 'B1'"
        ).fetchone() == (True,)

    def takes_absences() -> bool:
        with psycopg.connect(db_url) as conn:
            sql = "SELECT absences_from_register FROM registry_buildings WHERE building_id = 'B1'"
            return conn.execute(sql).fetchone()[0]

    # without either flag the setting stays as it was (re-keeping with another authority must not
    # switch absences off behind the accountant's back)
    out = run_cli(db_url, tmp_path, "registry", "keep", "B1", "--from", "2026-01-01", "--authority", "ОВМ")
    assert out.returncode == 0, out.stderr
    assert "temporary absences from stays registered elsewhere" in out.stdout and takes_absences()
    out = run_cli(db_url, tmp_path, "registry", "keep", "B1", "--from", "2026-01-01", "--no-absences")
    assert out.returncode == 0, out.stderr
    assert "temporary absences" not in out.stdout and not takes_absences()
    assert run_cli(db_url, tmp_path, "registry", "keep", "NOPE", "--from", "2026-01-01").returncode == 1
    out = run_cli(db_url, tmp_path, "registry", "keep", "B1", "--from", "01.01.2026")
    assert out.returncode == 2 and "--from '01.01.2026': give a date as YYYY-MM-DD" in out.stderr
    cards = tmp_path / "cards.csv"
    cards.write_text(
        "legacy_id,last_name,first_name,birth_date,building_id,premise_no,kind,registered_on\n"
        "A1,Ершов,Иван,1980-01-01,B1,1,постоянная,2020-01-01\n"
        "A2,Ершова,Нина,15.15.1980,B1,1,постоянная,2020-01-01\n",
        "utf-8",
    )
    out = run_cli(db_url, tmp_path, "registry", "import", str(cards))
    assert (
        out.returncode == 1
        and "cards.csv, строка 3: «Дата рождения» (birth_date): «15.15.1980» — не дата" in out.stderr
    )
    assert "persons created: 1, registrations: 1" in out.stdout
    listing = tmp_path / "l.xlsx"
    out = run_cli(db_url, tmp_path, "registry", "list", "B1", "--xlsx", str(listing), "--on", "2026-02-01")
    assert out.returncode == 0, out.stderr
    assert load_workbook(listing).active["B2"].value == "Ершов Иван"
    out = run_cli(db_url, tmp_path, "registry", "export", "B1", "--xlsx", str(tmp_path / "r.xlsx"))
    assert out.returncode == 0 and "Граждане" in load_workbook(tmp_path / "r.xlsx").sheetnames
