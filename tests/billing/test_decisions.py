"""The binding rule decisions 1–12 of billing-rules.md ("Decisions for meterhub"), one test (or more) each.

Every expected value is computed by hand from the rule's text and written out here with its arithmetic —
never taken from the engine. The database tests use the small building of tests/billing/close_data.py
(Moscow; LS-1 1 resident with the cold-water meter W-1, LS-3 2 residents in premise 3 with an act of
technical impossibility; cold water 50.00 ₽/m³ by normative 5 m³/person, wastewater 40.00 ₽/m³, derived
from cold water) closed by the real close, or buildings written straight into the money tables
(tests/billing/money_data.py). Each database test runs in a transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal as D

import psycopg
import pytest

from meterhub.billing.close import CloseOptions, close_building
from meterhub.billing.periods import BillingPeriod
from meterhub.billing.service_recalculations import run_service_recalculations
from meterhub.billing.tariffs import Service
from meterhub.billing.volumes import (
    IndividualVolume,
    VolumeMethod,
    wastewater_volume,
)
from meterhub.billing.zones import Zone
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, write_reading
from tests.billing.money_data import add_building, add_charge, add_period

OCT, NOV, DEC = (BillingPeriod(2025, m) for m in (10, 11, 12))
JAN, FEB, MAR, APR, MAY, JUN, JUL = (BillingPeriod(2026, m) for m in range(1, 8))


@pytest.fixture(scope="module")
def small(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
        conn.execute(
            "SELECT meterhub_ensure_partitions(%s, %s, %s)",
            ("readings", datetime(2025, 8, 1, tzinfo=MOSCOW), datetime(2026, 9, 1, tzinfo=MOSCOW)),
        )
        conn.commit()
    return db_url


@pytest.fixture
def conn(small: str) -> Iterator[psycopg.Connection]:
    with connect(small) as c:
        c.execute("SELECT 1")
        yield c
        c.rollback()


def _individual(conn: psycopg.Connection, period: BillingPeriod, account: str, service: str) -> tuple:
    return conn.execute(
        "SELECT min(method), sum(volume), sum(amount) FROM charge_lines WHERE building_id = 'B1' "
        "AND period = %s AND account_no = %s AND service = %s AND kind = 'individual'",
        (str(period), account, service),
    ).fetchone()


def _recalculations(conn: psycopg.Connection, building: str, period: BillingPeriod) -> dict:
    return {
        (a, s, k): amount
        for a, s, k, amount in conn.execute(
            "SELECT account_no, service, reason_kind, amount_kopecks FROM service_recalculation_lines"
            " WHERE building_id = %s AND period = %s",
            (building, str(period)),
        )
    }


# --- Decision 4: interruption hours over the monthly total ----------------------------------------------


@pytest.mark.db
def test_decision_4_interruption_hours_over_the_monthly_total(conn: psycopg.Connection) -> None:
    add_building(conn, "D4", {"D4-1": "1"})
    add_period(conn, "D4", "2025-11", "draft")
    add_charge(conn, "D4", "2025-11", "D4-1", "cold_water", "1000.00")
    # one cold-water outage of 30 h (03.11 06:00 → 04.11 12:00); permitted 8 h a month, 4 h at once
    conn.execute(
        "INSERT INTO service_events (building_id, premise_no, service, kind, started_at, ended_at)"
        " VALUES ('D4', NULL, 'cold_water', 'interruption', %s, %s)",
        (datetime(2025, 11, 3, 6, tzinfo=MOSCOW), datetime(2025, 11, 4, 12, tzinfo=MOSCOW)),
    )
    (line,) = run_service_recalculations(conn, "D4", BillingPeriod(2025, 11))
    # hours over the monthly total: 30 − 8 = 22 h (over the single limit would be 30 − 4 = 26 h: not used)
    # ΔP = 1000.00 × 0.15 % × 22 = 33.00 ₽ (26 h would give 39.00)
    assert line.quantity == 22
    assert line.amount_kopecks == -3300
    assert "22 ч" in line.reason


# --- Decision 8: after the averaging limit the normative continues -------------------------------------


@pytest.mark.db
def test_decision_8_normative_continues_after_the_averaging_limit(conn: psycopg.Connection) -> None:
    # W-1 (LS-1 cold water) readings: Sep 25 0.0, Oct 25 3.0, Nov 25 6.5, and in the building's data
    # Dec 25 10.0, Jan 25 16.5 → metered Oct 3.0, Nov 3.5, Dec 3.5, Jan 6.5 m³; nothing read after January.
    for ts, value in (
        (datetime(2025, 9, 25, 12), 0.0),
        (datetime(2025, 10, 25, 12), 3.0),
        (datetime(2025, 11, 25, 12), 6.5),
    ):
        write_reading(conn, "W-1", "water_m3", ts.replace(tzinfo=MOSCOW), value)
    for p in (OCT, NOV, DEC, JAN, FEB, MAR, APR, MAY, JUN, JUL):
        close_building(conn, "B1", p, CloseOptions(final=True))
    # Feb–Apr: average (3.0 + 3.5 + 3.5 + 6.5) / 4 = 4.125 m³ × 50.00 = 206.25 ₽ (п. 59 «б», 3 of 3)
    for p in (FEB, MAR, APR):
        assert _individual(conn, p, "LS-1", "cold_water") == ("average", D("4.125"), D("206.25"))
    # May, June, July: the normative 1 person × 5 m³ = 5 m³ × 50.00 = 250.00 ₽ (no ×1.5: readings not
    # submitted, case «б»). June and July must not restart the averaging (206.25 ₽) after May's normative.
    for p in (MAY, JUN, JUL):
        assert _individual(conn, p, "LS-1", "cold_water") == ("normative", D(5), D("250.00"))
    # wastewater follows: May–July 5 m³ × 40.00 = 200.00 ₽
    assert _individual(conn, JUL, "LS-1", "wastewater") == ("normative", D(5), D("200.00"))
    # readings come back in August's window: metered again (readings restart the count)
    write_reading(conn, "W-1", "water_m3", datetime(2026, 8, 25, 12, tzinfo=MOSCOW), 40.0)
    write_reading(conn, "W-1", "water_m3", datetime(2026, 7, 25, 12, tzinfo=MOSCOW), 37.0)
    close_building(conn, "B1", BillingPeriod(2026, 8))
    # 40.0 − 37.0 = 3.0 m³ × 50.00 = 150.00 ₽
    assert _individual(conn, BillingPeriod(2026, 8), "LS-1", "cold_water") == ("meter", D("3.0"), D("150.00"))


# --- Decision 12: wastewater follows its water components ----------------------------------------------


@pytest.mark.db
def test_decision_12_wastewater_absence_follows_cold_water(conn: psycopg.Connection) -> None:
    # LS-3 (premise 3, act of technical impossibility): 2 residents, cold water by normative 2 × 5 = 10 m³
    # × 50.00 = 500.00 ₽; wastewater (no own meter) = cold water 10 m³ × 40.00 = 400.00 ₽.
    # One of them away 05.01–18.01.2026: full days 06..17 = 12 (departure and return days excluded).
    conn.execute(
        "INSERT INTO absence_periods (account_no, departed_on, returned_on) VALUES ('LS-3', '2026-01-05',"
        " '2026-01-18')"
    )
    close_building(conn, "B1", JAN)
    assert _individual(conn, JAN, "LS-3", "cold_water") == ("normative", D(10), D("500.00"))
    assert _individual(conn, JAN, "LS-3", "wastewater")[1:] == (D(10), D("400.00"))
    got = _recalculations(conn, "B1", JAN)
    # cold water: 500.00 × 1 person × 12 days / (2 persons × 31 days) = 96.7741… → −96.77 ₽
    assert got[("LS-3", "cold_water", "absence")] == -9677
    # wastewater: the cold-water volume reduction 10 × 12 / (2 × 31) = 1.935483… m³ × 40.00 = 77.4193…
    # → −77.42 ₽ (before Decision 12 wastewater was never reduced)
    assert got[("LS-3", "wastewater", "absence")] == -7742
    # LS-1 (no act) gets no absence recalculation at all
    assert not [k for k in got if k[0] == "LS-1" and k[2] == "absence"]


def test_decision_12_wastewater_never_gets_the_coefficient() -> None:
    # cold water by normative with ×1.5 (formula 4(1)): volume 3 × 4.86 = 14.58 m³, coefficient 1.5;
    # hot water metered 2.5 m³. Wastewater = 14.58 + 2.5 = 17.08 m³ with coefficient 1 (not 1.5).
    cold = IndividualVolume(
        Service.COLD_WATER,
        VolumeMethod.NORMATIVE_X1_5,
        "ф. 4(1)",
        {Zone.SINGLE: D("14.58")},
        coefficient=D("1.5"),
        persons=3,
        normative=D("4.86"),
    )
    hot = IndividualVolume(Service.HOT_WATER, VolumeMethod.METER, "ф. 1", {Zone.SINGLE: D("2.5")})
    waste = wastewater_volume([cold, hot])
    assert waste.total == D("17.08")
    assert waste.coefficient == 1
    assert waste.method is VolumeMethod.NORMATIVE

