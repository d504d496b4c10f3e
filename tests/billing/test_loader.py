"""The loader on the small building: several house meters summed, a suspect hour invalidates a meter,
the averaging history and its counter come from closed periods (decision 6: per zone)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.close.loader import load_building_input
from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.imports import import_file
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.volumes import MeterStatus
from meterhub.timeseries.database import connect
from tests.billing.close_data import (
    MOSCOW,
    load_small_building,
    month_bounds,
    series_id,
    window_times,
    write_hourly,
    write_reading,
)

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]


@pytest.fixture(scope="module")
def history(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Oct–Dec 2025 closed with E-1 metered hourly (0.5 kWh every hour); January loaded."""
    folder = tmp_path_factory.mktemp("extra")
    (folder / "meters.csv").write_text(
        "meter_id,valid_from,building,service,manufacturer,serial,registers\n"
        "E-HOUSE2,2020-01-01,B1,electricity,EHS,2,energy_import_kwh\n",
        encoding="utf-8",
    )
    with connect(db_url) as conn:
        load_small_building(conn)
        import_file(conn, "meters", folder / "meters.csv")
        for table in ("readings", "hourly_consumption"):
            conn.execute("SELECT meterhub_ensure_partitions(%s, '2025-09-01', '2025-12-31')", (table,))
        start, end = window_times(2026, 1)  # inside the readings windows (by the 25th)
        write_reading(conn, "E-HOUSE2", "energy_import_kwh", start, 5.0)
        write_reading(conn, "E-HOUSE2", "energy_import_kwh", end, 105.0)
        for month in (10, 11, 12):
            write_hourly(conn, "E-1", "energy_import_kwh", *month_bounds(2025, month), 500_000)
        conn.commit()
        for month in (10, 11, 12):
            close_building(conn, "B1", BillingPeriod(2025, month), CloseOptions(final=True))
    return db_url


def _electricity(loaded, account: str):
    acc = next(a for a in loaded.input.accounts if a.account == account)
    return next(s for s in acc.services if s.service is Service.ELECTRICITY)


def test_house_meters_are_summed(history: str) -> None:
    with connect(history) as conn:
        loaded = load_building_input(conn, "B1", BillingPeriod(2026, 1))
    electricity = next(c for c in loaded.input.common_property if c.service is Service.ELECTRICITY)
    assert electricity.house_volume == D(1100)  # E-HOUSE 1000 + E-HOUSE2 (105 − 5) = 100


def test_suspect_hour_makes_the_meter_invalid_and_the_average_uses_closed_months(history: str) -> None:
    with connect(history) as conn:
        conn.execute(
            "UPDATE hourly_consumption SET quality = 3 WHERE series_id = %s AND hour = %s",
            (series_id(conn, "E-1", "energy_import_kwh"), datetime(2026, 1, 5, 3, tzinfo=MOSCOW)),
        )
        conn.commit()
        loaded = load_building_input(conn, "B1", BillingPeriod(2026, 1))
        consumer = _electricity(loaded, "LS-1")
        assert consumer.meter is not None and consumer.meter.status is MeterStatus.NO_READINGS
        # metered months per zone from the closed lines: Oct 31 d → day 16 h × 31 × 0.5 = 248, night 124;
        # Nov 30 d → 240, 120; Dec 31 d → 248, 124
        assert [dict(m) for m in consumer.meter.history] == [
            {"day": D(248), "night": D(124)},
            {"day": D(240), "night": D(120)},
            {"day": D(248), "night": D(124)},
        ]
        assert consumer.meter.consecutive_average_periods == 0
        assert loaded.meters["suspect_data"] == 1
        assert any("E-1: 1 suspect hour(s)" in w for w in loaded.warnings)
        result = close_building(conn, "B1", BillingPeriod(2026, 1), CloseOptions(final=True))
        lines = conn.execute(
            "SELECT zone, volume, amount, method FROM charge_lines WHERE period = '2026-01' "
            "AND account_no = 'LS-1' AND service = 'electricity' AND kind = 'individual' ORDER BY zone"
        ).fetchall()
        # average day (248 + 240 + 248) / 3 = 245.333… × 6.00 = 1472.00; night 368 / 3 × 3.00 = 368.00
        assert [(z, round(v, 6), a, m) for z, v, a, m in lines] == [
            ("day", D("245.333333"), D("1472.00"), "average"),
            ("night", D("122.666667"), D("368.00"), "average"),
        ]
        services = {s["service"]: s for s in result.report["services"]}
        assert services["electricity"]["accounts_by_method"] == {"average": 1, "meter": 1, "normative": 1}
        # February without E-1 data: averaged again, now the second consecutive period
        february = load_building_input(conn, "B1", BillingPeriod(2026, 2))
        assert _electricity(february, "LS-1").meter.consecutive_average_periods == 1
