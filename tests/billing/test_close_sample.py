"""The sample building (simulators/sample_data.py) through ingest, rollup and the close: every account
is billed, the meter replaced mid-month is billed by meter from both meters' hours, the rolled-over
water counter is billed its real consumption, and the lines add up to the time series' totals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from meterhub.billing.close.period import close_building
from meterhub.billing.imports import import_directory
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.cli.sample_loader import load_sample_readings, register_sample_meters
from meterhub.simulators.sample_data import SampleBuilding, generate_building
from meterhub.timeseries.database import connect
from meterhub.timeseries.queries import local_month_bounds, period_totals
from meterhub.timeseries.rollup import process_dirty

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

JAN = BillingPeriod(2026, 1)


def _domain_files(b: SampleBuilding, folder: Path) -> None:
    flats = sorted({m.premise for m in b.meters if m.premise}, key=int)
    area = {p: D(40) + int(p) for p in flats}
    (folder / "buildings.csv").write_text(
        "building,address,time_zone,total_area,common_area\n"
        f"{b.building_id},{b.address.replace(',', ' ')},{b.tz},{sum(area.values())},60\n",
        encoding="utf-8",
    )
    (folder / "premises.csv").write_text(
        "building,premise,area\n" + "".join(f"{b.building_id},{p},{area[p]}\n" for p in flats),
        encoding="utf-8",
    )
    (folder / "accounts.csv").write_text(
        "account,building,premise,opened_on\n"
        + "".join(f"LS-{p},{b.building_id},{p},2020-01-01\n" for p in flats),
        encoding="utf-8",
    )
    (folder / "residents.csv").write_text(
        "account,valid_from,registered\n" + "".join(f"LS-{p},2020-01-01,2\n" for p in flats), encoding="utf-8"
    )
    services = {"electricity": "actual_capped", "cold_water": "actual_capped", "hot_water": "normative"}
    (folder / "building_services.csv").write_text(
        "building,service,common_property_method\n"
        + "".join(f"{b.building_id},{s},{m}\n" for s, m in services.items())
        + f"{b.building_id},wastewater,\n{b.building_id},maintenance,\n",
        encoding="utf-8",
    )
    replaced = {e.old_meter_id: e.ts.date() for e in b.events}
    rows = []
    for m in b.meters:
        if m.kind.value == "heat":
            continue
        start = m.installed_on or date(2020, 1, 1)
        end = replaced.get(m.meter_id, "")
        rows.append(f"{m.meter_id},{start},{end},{b.building_id},{m.premise or ''},{m.kind.value}\n")
    (folder / "meters.csv").write_text(
        "meter_id,valid_from,valid_to,building,premise,service\n" + "".join(rows), encoding="utf-8"
    )
    (folder / "tariffs.csv").write_text(
        "service,valid_from,scheme,basis,price_single,price_day,price_night\n"
        "electricity,2025-01-01,two_zone,per_unit,6.43,7.85,3.47\n"
        "cold_water,2025-01-01,single_rate,per_unit,52.17,,\n"
        "hot_water,2025-01-01,single_rate,per_unit,243.60,,\n"
        "wastewater,2025-01-01,single_rate,per_unit,38.92,,\n"
        "maintenance,2025-01-01,single_rate,per_m2,31.45,,\n",
        encoding="utf-8",
    )
    (folder / "normatives.csv").write_text(
        "service,kind,valid_from,value\n"
        "electricity,per_person,2020-01-01,100\ncold_water,per_person,2020-01-01,4.86\n"
        "hot_water,per_person,2020-01-01,3.51\nwastewater,per_person,2020-01-01,8.37\n"
        "electricity,common_per_m2,2020-01-01,1.2\ncold_water,common_per_m2,2020-01-01,0.03\n"
        "hot_water,common_per_m2,2020-01-01,0.02\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def sample(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, SampleBuilding]:
    # readings from the last local day of December to 2 February, so January is fully covered
    b = generate_building("S-1", apartments=6, start=date(2025, 12, 31), days=33, seed=11)
    folder = tmp_path_factory.mktemp("sample")
    _domain_files(b, folder)
    with connect(db_url) as conn:
        register_sample_meters(conn, b)
        load_sample_readings(conn, b)
        process_dirty(conn)
        conn.commit()
        import_directory(conn, folder)
    return db_url, b


def test_sample_building_closes_with_meter_volumes_matching_the_time_series(sample) -> None:
    url, b = sample
    with connect(url) as conn:
        result = close_building(conn, b.building_id, JAN)
        methods = dict(
            conn.execute(
                "SELECT account_no || '/' || service, min(method) FROM charge_lines "
                "WHERE kind = 'individual' GROUP BY 1"
            ).fetchall()
        )
        volumes = dict(
            conn.execute(
                "SELECT account_no || '/' || service, sum(volume) FROM charge_lines "
                "WHERE kind = 'individual' GROUP BY 1"
            ).fetchall()
        )
        start, end = local_month_bounds(2026, 1, b.tz)
        totals = period_totals(conn, start, end, building_id=b.building_id)
    assert len(result.report["services"]) == 5
    assert all(methods[f"LS-{p}/maintenance"] == "area" for p in range(1, 7))
    event = b.events[0]
    replaced_flat = next(m.premise for m in b.meters if m.meter_id == event.old_meter_id)
    # the replaced meter's month = old meter's hours + new meter's hours (T1 + T2 registers)
    both = sum(
        (
            totals[(mid, reg)].volume
            for mid in (event.old_meter_id, event.new_meter_id)
            for reg in ("energy_import_t1_kwh", "energy_import_t2_kwh")
        ),
        D(0),
    )
    assert methods[f"LS-{replaced_flat}/electricity"] == "meter"
    assert volumes[f"LS-{replaced_flat}/electricity"] == both
    # every metered electricity account is billed exactly its T1 + T2 volume of the month
    for m in b.meters:
        if (
            m.premise
            and m.kind.value == "electricity"
            and m.meter_id not in (event.old_meter_id, event.new_meter_id)
        ):
            key = f"LS-{m.premise}/electricity"
            if methods[key] == "meter":
                expected = totals[(m.meter_id, "energy_import_t1_kwh")].volume
                expected += totals[(m.meter_id, "energy_import_t2_kwh")].volume
                assert volumes[key] == expected
    roll = next(f.split()[1] for f in b.faults if f.startswith("rollover"))
    roll_flat = next(m.premise for m in b.meters if m.meter_id == roll)
    assert methods[f"LS-{roll_flat}/cold_water"] == "meter"
    assert 0 < volumes[f"LS-{roll_flat}/cold_water"] < 50  # not −99 990 m³
    electricity = next(s for s in result.report["services"] if s["service"] == "electricity")
    house = next(m for m in b.meters if m.is_house_meter and m.kind.value == "electricity")
    assert electricity["house_volume"] == sum(
        (totals[(house.meter_id, r)].volume for r in ("energy_import_t1_kwh", "energy_import_t2_kwh")), D(0)
    )
    assert result.total > 0
