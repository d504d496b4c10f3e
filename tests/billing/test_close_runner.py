"""Parallel close: buildings run in worker processes; a failing building is reported, the others finish."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from meterhub.billing.close.runner import BuildingFailure, run_close
from meterhub.billing.imports import import_file
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import load_small_building

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]


def test_parallel_close_reports_the_failing_buildings_and_finishes_the_others(
    db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "buildings.csv").write_text(
        "building,address,time_zone,total_area,common_area\nB2,ул. Мира 2,Asia/Omsk,100,10\n",
        encoding="utf-8",
    )
    (tmp_path / "premises.csv").write_text("building,premise,area\nB2,1,100\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text("account,building,premise,opened_on\nLS-B2,B2,1,2020-01-01\n")
    # B2 bills hot water, for which no tariff exists: its close must fail with the engine's message
    (tmp_path / "services.csv").write_text("building,service\nB2,hot_water\n", encoding="utf-8")
    with connect(db_url) as conn:
        load_small_building(conn)
        for entity, name in (
            ("buildings", "buildings"),
            ("premises", "premises"),
            ("accounts", "accounts"),
            ("building_services", "services"),
        ):
            import_file(conn, entity, tmp_path / f"{name}.csv")
    seen: list[object] = []
    run = run_close(db_url, BillingPeriod(2026, 1), ["B2", "B1", "NOPE"], workers=2, progress=seen.append)
    assert len(seen) == 3
    assert [r.building for r in run.results] == ["B1"]
    assert run.results[0].total == D("12013.00")
    failures = {f.building: f.reason for f in run.failures}
    assert set(failures) == {"B2", "NOPE"}
    assert "no hot_water tariff" in failures["B2"]
    assert "NOPE" in failures["NOPE"] and "import it first" in failures["NOPE"]
    assert all(isinstance(f, BuildingFailure) for f in run.failures)
    with connect(db_url) as conn:
        written = conn.execute("SELECT building_id, count(*) FROM charge_lines GROUP BY 1").fetchall()
        periods = conn.execute("SELECT building_id, status FROM billing_periods ORDER BY 1").fetchall()
    assert written == [("B1", 20)]
    assert periods == [("B1", "draft")]  # B2's transaction was rolled back, period row included
