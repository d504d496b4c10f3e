"""`meterhub payments|export|debtors|absences|interruptions` in a subprocess, against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.meterhub_cli import SMALL, run_cli

pytestmark = pytest.mark.db


def test_money_commands(db_url: str, tmp_path: Path) -> None:
    assert run_cli(db_url, tmp_path, "import", str(SMALL)).returncode == 0
    absences = tmp_path / "absences.csv"
    absences.write_text("account;departed_on;returned_on;persons\nLS-3;05.01.2026;18.01.2026;1\n", "utf-8")
    out = run_cli(db_url, tmp_path, "absences", "import", str(absences))
    assert out.returncode == 0, out.stderr
    assert "1 absences stored" in out.stdout
    events = tmp_path / "events.csv"
    events.write_text(
        "building,service,kind,started_at,ended_at\nB1,cold_water,leak,2026-01-03T09:00,x\n", "utf-8"
    )
    out = run_cli(db_url, tmp_path, "interruptions", "import", str(events))
    assert out.returncode == 1 and "line 2: kind must be interruption or poor_quality" in out.stderr
    events.write_text(
        "building,service,kind,started_at,ended_at\nB1,cold_water,interruption,2026-01-03T09:00,2026-01-03T21:00\n",
        "utf-8",
    )
    assert run_cli(db_url, tmp_path, "interruptions", "import", str(events)).returncode == 0
    out = run_cli(db_url, tmp_path, "close", "--period", "2026-01", "--final", "--workers", "1")
    assert out.returncode == 0, out.stderr

    registry = tmp_path / "sber.csv"
    registry.write_bytes(
        "Лицевой счёт;Сумма;Дата платежа;Период;Номер платежа\n"
        "LS-1;100,00;12.02.2026;01.2026;S-1\n"
        "LS-9;5,00;12.02.2026;;S-2\n".encode("cp1251")
    )
    out = run_cli(db_url, tmp_path, "payments", "import", str(registry))
    assert out.returncode == 0, out.stderr
    assert "sber.csv (sber): 1 posted (100.00 ₽), 1 to suspense, 0 already posted" in out.stdout
    out = run_cli(db_url, tmp_path, "payments", "import", str(registry), "--source", "sber")
    assert out.returncode == 1 and "already imported" in out.stderr

    out = run_cli(db_url, tmp_path, "payments", "suspense")
    assert "unknown account 'LS-9'" in out.stdout and "1 unresolved row(s)" in out.stdout
    suspense_id = out.stdout.split("#", 1)[1].split(" ", 1)[0]
    out = run_cli(
        db_url, tmp_path, "payments", "resolve", suspense_id, "--account", "LS-2", "--date", "2026-02-12"
    )
    assert out.returncode == 0, out.stderr
    assert "0 unresolved row(s)" in run_cli(db_url, tmp_path, "payments", "suspense").stdout

    target = tmp_path / "charges.csv"
    out = run_cli(db_url, tmp_path, "export", "charges", "--period", "2026-01", "-o", str(target))
    assert out.returncode == 0, out.stderr
    text = target.read_bytes().decode("cp1251")
    assert text.startswith("Лицевой счёт;Сумма;Дата;Период;Номер платежа;")
    assert ";10.02.2026;01.2026;LS-1-012026;Оплата ЖКУ за 01.2026 ЛС LS-1;" in text

    out = run_cli(db_url, tmp_path, "debtors", "--as-of", "2026-03-01")
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()[1:]]
    # January 2026 is overdue on 01.03.2026 (due 10.02); largest debt first; nothing at 1/300 yet.
    assert [(r[0], r[4], r[5], r[6]) for r in rows] == [
        ("LS-2", "1", "2026-01", "0.00"),
        ("LS-3", "1", "2026-01", "0.00"),
        ("LS-1", "1", "2026-01", "0.00"),
    ]
    assert "debtor(s), total" in out.stderr
    out = run_cli(db_url, tmp_path, "debtors", "--as-of", "2026-03-01", "--accrued")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split("\t")[6:8] == ["penalty ₽", "penalty to date ₽"]
    # on 01.03.2026 January is 19 days late: nothing accrued yet, billed or not
    assert [line.split("\t")[6:8] for line in lines[1:]] == [["0.00", "0.00"]] * 3
