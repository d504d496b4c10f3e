"""The period close over compressed TimescaleDB chunks: the small building's January (tests/billing/
close_data.py) with every chunk of readings and hourly consumption compressed gives the charges computed
by hand in test_close.py, and a late correction in a compressed hour becomes a recalculation line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, series_id
from tests.billing.test_close import _amounts
from tests.timescaledb_server.launcher import compress_all, decompression_limited

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.timescaledb_only]

JAN, FEB = BillingPeriod(2026, 1), BillingPeriod(2026, 2)
LIMIT = 1000  # decompressed rows per DML transaction; E-1's January alone is 744 hours


@pytest.fixture(scope="module")
def compressed(db_url: str, storage_path) -> str:
    if storage_path.value != "timescaledb":
        pytest.skip(f"needs TimescaleDB's compression; this database is on {storage_path}")
    with connect(db_url) as conn:
        load_small_building(conn)
        conn.autocommit = True
        compress_all(conn, "readings", "hourly_consumption")
        left = conn.execute(
            "SELECT count(*) FROM timescaledb_information.chunks WHERE NOT is_compressed "
            "AND hypertable_name IN ('readings', 'hourly_consumption')"
        ).fetchone()[0]
        assert left == 0
    return db_url


@pytest.fixture()
def conn(compressed: str) -> Iterator:
    with decompression_limited(compressed, LIMIT) as c:
        yield c


def test_january_over_compressed_chunks_is_charged_as_by_hand(conn) -> None:
    result = close_building(conn, "B1", JAN, CloseOptions(final=True))
    amounts = _amounts(conn, JAN)
    ind = "individual"
    # hourly meter E-1 from compressed hours: 0.5 kWh × 496 day hours × 6.00 and × 248 night hours × 3.00
    assert amounts[("LS-1", "electricity", ind, "day")] == D("1488.00")
    assert amounts[("LS-1", "electricity", ind, "night")] == D("372.00")
    # register meters from compressed readings: T1 150.5 kWh × 6.00, T2 80 kWh × 3.00, W-1 6.5 m³ × 50
    assert amounts[("LS-2", "electricity", ind, "day")] == D("903.00")
    assert amounts[("LS-2", "electricity", ind, "night")] == D("240.00")
    assert amounts[("LS-1", "cold_water", ind, "single")] == D("325.00")
    assert result.total == D("12013.00")  # the hand total of test_close.py


def test_a_late_correction_in_a_compressed_hour_is_recalculated_next_month(conn) -> None:
    status = conn.execute("SELECT status FROM billing_periods WHERE period = '2026-01'").fetchone()
    if status != ("closed",):
        close_building(conn, "B1", JAN, CloseOptions(final=True))
    hour = datetime(2026, 1, 10, 12, tzinfo=MOSCOW)  # day zone; 1.5 kWh instead of 0.5
    sid = series_id(conn, "E-1", "energy_import_kwh")
    conn.execute(
        "UPDATE hourly_consumption SET volume_micro = 1500000 WHERE series_id = %s AND hour = %s", (sid, hour)
    )
    conn.execute(
        "INSERT INTO series_dirty_log (series_ids, from_ts, to_ts) VALUES (%s, %s, %s)", ([sid], hour, hour)
    )
    conn.commit()
    close_building(conn, "B1", FEB)
    rows = conn.execute(
        "SELECT account_no, service, zone, volume_delta, amount, corrects_period FROM recalculation_lines "
        "WHERE period = '2026-02'"
    ).fetchall()
    assert rows == [("LS-1", "electricity", "day", D("1"), D("6.00"), "2026-01")]  # +1 kWh × 6.00
    closed = conn.execute("SELECT sum(amount) FROM charge_lines WHERE period = '2026-01'").fetchone()
    assert closed == (D("12013.00"),)
