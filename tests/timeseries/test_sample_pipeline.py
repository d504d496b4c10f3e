"""The sample building through ingest and VEE: each injected fault ends up where it should."""

from __future__ import annotations

from datetime import date

import pytest

from meterhub.cli.sample_loader import load_sample_readings, register_sample_meters
from meterhub.simulators.sample_data import generate_building
from meterhub.timeseries.queries import local_month_bounds, period_totals
from meterhub.timeseries.rollup import process_dirty

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]


@pytest.fixture(scope="module")
def loaded(db_url):
    from meterhub.timeseries.database import connect

    b = generate_building("B-T", apartments=8, days=10, start=date(2026, 1, 1), seed=3)
    with connect(db_url) as c:
        register_sample_meters(c, b)
        report = load_sample_readings(c, b)
        process_dirty(c)
        c.commit()
    return b, report


def test_everything_lands_once(loaded, conn):
    b, report = loaded
    assert report.result.inserted == b.reading_count and report.result.rejected == 0
    assert conn.execute("SELECT count(*) FROM readings").fetchone()[0] == b.reading_count
    assert conn.execute("SELECT count(*) FROM series_dirty").fetchone()[0] == 0


def test_faults_are_flagged_exactly_where_injected(loaded, conn):
    b, _ = loaded
    flags = conn.execute(
        "SELECT mr.meter_id, f.reason FROM reading_flags f JOIN meter_registers mr USING (series_id)"
    ).fetchall()
    spike = next(f.split()[1] for f in b.faults if f.startswith("spike"))
    back = next(f.split()[1] for f in b.faults if f.startswith("backwards"))
    assert sorted(flags) == sorted([(spike, "jump"), (back, "backwards")])


def test_rollover_and_replacement_give_no_negative_volume_and_balance_holds(loaded, conn):
    b, _ = loaded
    assert conn.execute("SELECT min(volume_micro) FROM hourly_consumption").fetchone()[0] >= 0
    start, end = local_month_bounds(2026, 1, b.tz)
    totals = period_totals(conn, start, end, building_id=b.building_id)
    roll = next(f.split()[1] for f in b.faults if f.startswith("rollover"))
    vol = totals[(roll, "water_m3")].volume
    assert 0 < vol < 20  # ten days of one flat's cold water, not −99 990 m³
    # T1 + T2 equal the total register for every two-tariff meter (same reads, same hours)
    for m in b.meters:
        if "energy_import_t1_kwh" in m.registers and (m.meter_id, "energy_import_kwh") in totals:
            t = totals[(m.meter_id, "energy_import_kwh")].volume
            t12 = (
                totals[(m.meter_id, "energy_import_t1_kwh")].volume
                + totals[(m.meter_id, "energy_import_t2_kwh")].volume
            )
            if m.meter_id not in {f.split()[1] for f in b.faults if f.startswith("spike")}:
                assert abs(t - t12) <= 0.02 * m.multiplier, m.meter_id
