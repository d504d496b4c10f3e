"""п. 61 true-up in the close: three months billed by the average, then a reading arrives.

The small building of tests/billing/close_data.py (Moscow, UTC+3 all year, no DST). Apartment 1's cold
water meter W-1 (register readings at 12:00 local on the 25th, the readings window "by the 25th"),
tariff 50.00 ₽/m³. Each test runs in one transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal as D

import psycopg
import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, write_reading

pytestmark = pytest.mark.db

OCT, NOV, DEC = (BillingPeriod(2025, m) for m in (10, 11, 12))
JAN, FEB, MAR, APR, MAY, JUN = (BillingPeriod(2026, m) for m in range(1, 7))


@pytest.fixture(scope="module")
def small(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
        for table in ("readings", "hourly_consumption"):
            conn.execute(
                "SELECT meterhub_ensure_partitions(%s, %s, %s)",
                (table, datetime(2025, 8, 1, tzinfo=MOSCOW), datetime(2026, 8, 1, tzinfo=MOSCOW)),
            )
        conn.commit()
    return db_url


@pytest.fixture
def conn(small: str) -> Iterator[psycopg.Connection]:
    with connect(small) as c:
        c.execute("SELECT 1")
        yield c
        c.rollback()


def _cold_water(conn: psycopg.Connection, period: BillingPeriod) -> tuple[str, D, D]:
    return _service(conn, period, "cold_water")


def _service(conn: psycopg.Connection, period: BillingPeriod, service: str) -> tuple[str, D, D]:
    row = conn.execute(
        "SELECT method, sum(volume), sum(amount) FROM charge_lines WHERE building_id = 'B1' "
        "AND period = %s AND account_no = 'LS-1' AND service = %s AND kind = 'individual' "
        "GROUP BY method",
        (str(period), service),
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def _true_up(conn: psycopg.Connection, period: BillingPeriod) -> list[tuple]:
    return conn.execute(
        "SELECT corrects_period, account_no, service, zone, volume_delta, amount, method_before, "
        "method_after, reason FROM recalculation_lines WHERE building_id = 'B1' AND period = %s "
        "AND source = 'true_up' ORDER BY corrects_period, service",
        (str(period),),
    ).fetchall()


def _three_averaged_months(conn: psycopg.Connection) -> None:
    # W-1 readings (m³): Sep 25 0.0, Oct 25 3.0, Nov 25 6.5; Dec 25 10.0 and Jan 25 16.5 are in the
    # building's data → metered Oct 3.0, Nov 3.5, Dec 3.5, Jan 6.5
    for ts, value in (
        (datetime(2025, 9, 25, 12), 0.0),
        (datetime(2025, 10, 25, 12), 3.0),
        (datetime(2025, 11, 25, 12), 6.5),
    ):
        write_reading(conn, "W-1", "water_m3", ts.replace(tzinfo=MOSCOW), value)
    for p in (OCT, NOV, DEC, JAN, FEB, MAR, APR):
        close_building(conn, "B1", p, CloseOptions(final=True))


def test_three_averaged_months_then_a_reading_books_the_true_up(conn: psycopg.Connection) -> None:
    _three_averaged_months(conn)
    # Feb–Apr without readings: average of the 4 metered months (3.0 + 3.5 + 3.5 + 6.5) / 4 = 4.125 m³,
    # 4.125 × 50.00 = 206.25 ₽ each (п. 59 «б», averaged periods 1–3 of 3)
    for p in (FEB, MAR, APR):
        assert _cold_water(conn, p) == ("average", D("4.125"), D("206.25"))
        assert _service(conn, p, "wastewater") == ("average", D("4.125"), D("165.00"))
    # the reading arrives in May's window: May 25 12:00, 30.0 m³
    write_reading(conn, "W-1", "water_m3", datetime(2026, 5, 25, 12, tzinfo=MOSCOW), 30.0)
    result = close_building(conn, "B1", MAY)
    # last valid reading Jan 25 12:00 = 16.5; the run ends at the end of April's window, Apr 26 00:00:
    #   Jan 25 12:00 → Apr 26 00:00 = 6.5 + 28 + 31 + 25 = 90.5 days; Jan 25 12:00 → May 25 12:00 = 120 days
    #   register at Apr 26 00:00 = 16.5 + (30.0 − 16.5) × 90.5 / 120 = 16.5 + 10.18125 = 26.68125
    # May by meter: 30.0 − 26.68125 = 3.31875 m³ × 50.00 = 165.9375 → 165.94 ₽
    assert _cold_water(conn, MAY) == ("meter", D("3.31875"), D("165.94"))
    # actual over Feb–Apr 10.18125 − charged 3 × 4.125 = 12.375 → −2.19375 m³, spread equally
    # (equal averages): −0.73125 m³ per month × 50.00 = −36.5625 → −36.56 ₽ per month
    # wastewater (no own meter) = cold water, averaged too (4.125 × 40.00 = 165.00 ₽): the same
    # −0.73125 m³ × 40.00 = −29.25 ₽ per month
    lines = _true_up(conn, MAY)
    assert [(c, a, s, z, v, amt, mb, ma) for c, a, s, z, v, amt, mb, ma, _ in lines] == [
        row
        for p in (FEB, MAR, APR)
        for row in (
            (str(p), "LS-1", "cold_water", "single", D("-0.73125"), D("-36.56"), "average", "meter"),
            (str(p), "LS-1", "wastewater", "single", D("-0.73125"), D("-29.25"), "average", "meter"),
        )
    ]
    cold = [r for r in lines if r[2] == "cold_water"]
    assert all("п. 61" in r[-1] and "2026-02, 2026-03, 2026-04" in r[-1] for r in cold)
    assert all("п. 61" in r[-1] and "водоотведение" in r[-1] for r in lines if r[2] == "wastewater")
    assert result.recalculations >= 6
    lines = cold
    # Σ averaged + true-up = the measured consumption of the run: 12.375 − 2.19375 = 10.18125
    assert D("12.375") + sum(r[4] for r in lines) == D("10.18125")

    # a draft re-run replaces the lines (no doubling)
    close_building(conn, "B1", MAY)
    assert len(_true_up(conn, MAY)) == 6
    # closed May is metered: June has no averaged run before it, so nothing is trued-up again
    close_building(conn, "B1", MAY, CloseOptions(final=True))
    write_reading(conn, "W-1", "water_m3", datetime(2026, 6, 25, 12, tzinfo=MOSCOW), 34.0)
    close_building(conn, "B1", JUN)
    assert _true_up(conn, JUN) == []
    assert _cold_water(conn, JUN) == ("meter", D("4.0"), D("200.00"))  # 34.0 − 30.0 = 4.0 × 50.00
    # the recheck of a corrected period does not net (or reverse) the true-up lines
    assert conn.execute(
        "SELECT count(*) FROM recalculation_lines WHERE building_id = 'B1' AND period = %s "
        "AND source = 'recheck' AND corrects_period IN ('2026-02', '2026-03', '2026-04')",
        (str(JUN),),
    ).fetchone() == (0,)


def test_without_the_last_valid_reading_nothing_is_trued_up(conn: psycopg.Connection) -> None:
    _three_averaged_months(conn)
    conn.execute(
        "DELETE FROM readings WHERE series_id = (SELECT series_id FROM meter_registers "
        "WHERE meter_id = 'W-1') AND ts = %s",
        (datetime(2026, 1, 25, 12, tzinfo=MOSCOW),),
    )
    write_reading(conn, "W-1", "water_m3", datetime(2026, 5, 25, 12, tzinfo=MOSCOW), 30.0)
    close_building(conn, "B1", MAY)
    assert _true_up(conn, MAY) == []


def _zones(conn: psycopg.Connection, period: BillingPeriod) -> dict[str, tuple[str, D, D]]:
    rows = conn.execute(
        "SELECT zone, method, sum(volume), sum(amount) FROM charge_lines WHERE building_id = 'B1' "
        "AND period = %s AND account_no = 'LS-2' AND service = 'electricity' AND kind = 'individual' "
        "GROUP BY zone, method",
        (str(period),),
    ).fetchall()
    return {z: (m, v, a) for z, m, v, a in rows}


def test_two_zone_meter_is_trued_up_per_zone(conn: psycopg.Connection) -> None:
    # E-2 (apartment 2, LS-2) T1/T2 registers; tariff day 6.00, night 3.00 ₽/kWh.
    # T1: Sep 25 700, Oct 25 800, Nov 25 900, Dec 25 1000, Jan 25 1150.5 → 100, 100, 100, 150.5
    # T2: Sep 25 380, Oct 25 420, Nov 25 460, Dec 22 500, Jan 25 580 → 40, 40, 40, 80
    for register, values in (
        ("energy_import_t1_kwh", (700.0, 800.0, 900.0)),
        ("energy_import_t2_kwh", (380.0, 420.0, 460.0)),
    ):
        for month, value in zip((9, 10, 11), values, strict=True):
            write_reading(conn, "E-2", register, datetime(2025, month, 25, 12, tzinfo=MOSCOW), value)
    _three_averaged_months(conn)
    # averages: day 450.5 / 4 = 112.625 × 6.00 = 675.75 ; night 200 / 4 = 50 × 3.00 = 150.00
    for p in (FEB, MAR, APR):
        assert _zones(conn, p) == {
            "day": ("average", D("112.625"), D("675.75")),
            "night": ("average", D("50"), D("150.00")),
        }
    write_reading(conn, "E-2", "energy_import_t1_kwh", datetime(2026, 5, 25, 12, tzinfo=MOSCOW), 1600.5)
    write_reading(conn, "E-2", "energy_import_t2_kwh", datetime(2026, 5, 25, 12, tzinfo=MOSCOW), 760.0)
    close_building(conn, "B1", MAY)
    # run end (Apr 26 00:00) = 90.5 / 120 of the span since Jan 25 12:00:
    #   T1 1150.5 + 450 × 90.5/120 = 1150.5 + 339.375 = 1489.875 → May day 1600.5 − 1489.875 = 110.625
    #   T2 580 + 180 × 90.5/120 = 580 + 135.75 = 715.75 → May night 760 − 715.75 = 44.25
    assert _zones(conn, MAY) == {
        "day": ("meter", D("110.625"), D("663.75")),  # 110.625 × 6.00
        "night": ("meter", D("44.25"), D("132.75")),  # 44.25 × 3.00
    }
    # day: 339.375 − 3 × 112.625 = +1.5 → +0.5 kWh × 6.00 = +3.00 per month
    # night: 135.75 − 3 × 50 = −14.25 → −4.75 kWh × 3.00 = −14.25 per month
    rows = [r for r in _true_up(conn, MAY) if r[1] == "LS-2"]
    assert sorted((c, z, v, amt) for c, _, _, z, v, amt, *_ in rows) == sorted(
        row
        for p in (FEB, MAR, APR)
        for row in ((str(p), "day", D("0.5"), D("3.00")), (str(p), "night", D("-4.75"), D("-14.25")))
    )
