"""Rules of the loader and the close, with hand-computed values: residents weighted by days, the readings
window (by the 25th), a meter replaced inside the period with monthly readings only, V^кр (cold water
used to prepare hot water in the building).

The small building of tests/billing/close_data.py (Moscow, UTC+3). Each DB test works inside one
transaction that is rolled back, so the tests do not see each other's changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal as D

import psycopg
import pytest

from meterhub.billing.close.loader import load_building_input, readings_window_end
from meterhub.billing.close.period import close_building
from meterhub.billing.close.repository import residents_in_period
from meterhub.billing.rules.building import BuildingInput, compute_building_charges
from meterhub.billing.rules.charges import AccountInput, ChargeKind
from meterhub.billing.rules.common_property import CommonPropertyInput
from meterhub.billing.rules.common_property import CommonPropertyMethod as M
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer
from meterhub.billing.rules.zones import Zone
from meterhub.core import MeterKind
from meterhub.timeseries.database import connect
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, record_replacement
from tests.billing.close_data import MOSCOW, load_small_building, write_reading

# the close's reads run in the TimescaleDB pass too
pytestmark = [pytest.mark.storage, pytest.mark.pg_versions]

JAN, FEB = BillingPeriod(2026, 1), BillingPeriod(2026, 2)


@pytest.fixture(scope="module")
def small(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
    return db_url


@pytest.fixture
def conn(small: str) -> Iterator[psycopg.Connection]:
    """A connection whose work is rolled back at the end of the test."""
    with connect(small) as c:
        c.execute("SELECT 1")  # open the transaction; every close inside it is a savepoint
        yield c
        c.rollback()


def _amounts(conn: psycopg.Connection, account: str, period: BillingPeriod = JAN) -> dict[str, D]:
    rows = conn.execute(
        "SELECT service, amount FROM charge_lines WHERE building_id = 'B1' AND period = %s "
        "AND account_no = %s AND kind = 'individual' AND zone = 'single'",
        (str(period), account),
    ).fetchall()
    return dict(rows)


def _cold_water(loaded, account: str) -> MeterPeriod | None:
    acc = next(a for a in loaded.input.accounts if a.account == account)
    return next(s for s in acc.services if s.service is Service.COLD_WATER).meter


# --- residents weighted by days -------------------------------------------------------------------


@pytest.mark.db
def test_resident_count_changing_mid_month_is_weighted_by_days(conn: psycopg.Connection) -> None:
    # LS-3 (no meters, act of technical impossibility: no ×1.5): 2 persons until Jan 10, 3 from Jan 11.
    conn.execute("UPDATE resident_counts SET valid_to = '2026-01-11' WHERE account_no = 'LS-3'")
    conn.execute(
        "INSERT INTO resident_counts (account_no, valid_from, registered, temporary) "
        "VALUES ('LS-3', '2026-01-11', 2, 1)"
    )
    # n = (2 persons × 10 days + 3 × 21 days) / 31 days = 83/31 = 2.677419…
    with engine_context():
        assert residents_in_period(conn, "B1", JAN)["LS-3"] == D(83) / 31
    close_building(conn, "B1", JAN)
    amounts = _amounts(conn, "LS-3")
    # electricity: 100 kWh/person × 83/31 = 8300/31 = 267.741935… kWh × 5.00 = 1338.709677… → 1338.71
    assert amounts["electricity"] == D("1338.71")
    # cold water: 5 m³/person × 83/31 = 415/31 = 13.387096… m³ × 50.00 = 669.354838… → 669.35
    assert amounts["cold_water"] == D("669.35")
    # wastewater = cold water volume 415/31 m³ × 40.00 = 535.483870… → 535.48
    assert amounts["wastewater"] == D("535.48")
    persons = conn.execute(
        "SELECT persons FROM period_volumes WHERE period = '2026-01' AND account_no = 'LS-3' "
        "AND service = 'electricity'"
    ).fetchone()[0]
    assert round(persons, 6) == D("2.677419")
    # February: 3 persons all month → 300 kWh × 5.00 = 1500.00 (no proration without a change)
    with engine_context():
        assert residents_in_period(conn, "B1", FEB)["LS-3"] == 3


@pytest.mark.db
def test_nobody_residing_all_month_uses_the_owners(conn: psycopg.Connection) -> None:
    # LS-3: 2 persons until Jan 1 only, then nobody → n = 0 → the 2 owners (ПП 354 п. 56(2)):
    # electricity 2 × 100 = 200 kWh × 5.00 = 1000.00
    conn.execute("UPDATE resident_counts SET valid_to = '2026-01-01' WHERE account_no = 'LS-3'")
    close_building(conn, "B1", JAN)
    assert _amounts(conn, "LS-3")["electricity"] == D("1000.00")


# --- readings window (by the 25th) -----------------------------------------------------------------


def test_window_end_is_local_midnight_after_the_day() -> None:
    assert readings_window_end(JAN, "Europe/Moscow", 25) == datetime(2026, 1, 26, tzinfo=MOSCOW)
    # clamped to the month: February has 28 days
    assert readings_window_end(FEB, "Asia/Omsk", 30).isoformat() == "2026-02-28T18:00:00+00:00"
    with pytest.raises(ValueError, match="not a day of a month"):
        readings_window_end(JAN, "Europe/Moscow", 0)


@pytest.mark.db
def test_readings_after_the_window_count_for_the_next_period(conn: psycopg.Connection) -> None:
    # W-1 (LS-1): 10.0 on Dec 25, 16.5 on Jan 25 12:00. A reading on Jan 25 23:30 local is still inside
    # January's window (it ends at Jan 26 00:00 local); one on Jan 26 00:30 is February's.
    write_reading(conn, "W-1", "water_m3", datetime(2026, 1, 25, 23, 30, tzinfo=MOSCOW), 17.0)
    write_reading(conn, "W-1", "water_m3", datetime(2026, 1, 26, 0, 30, tzinfo=MOSCOW), 30.0)
    january = _cold_water(load_building_input(conn, "B1", JAN), "LS-1")
    assert january is not None and january.status is MeterStatus.VALID
    assert january.zone_volumes == {Zone.SINGLE: D("7.0")}  # 17.0 − 10.0
    february = _cold_water(load_building_input(conn, "B1", FEB), "LS-1")
    # February: start = last reading of January's window (17.0), end = last one of February's (30.0)
    assert february is not None and february.zone_volumes == {Zone.SINGLE: D("13.0")}
    close_building(conn, "B1", JAN)
    assert _amounts(conn, "LS-1")["cold_water"] == D("350.00")  # 7.0 m³ × 50.00


@pytest.mark.db
def test_no_reading_in_the_window_means_no_readings_for_the_period(conn: psycopg.Connection) -> None:
    # W-1's only January reading moves to Jan 27: January has no reading in its window → case «б»
    # (a DELETE and an INSERT, not UPDATE … SET ts: TimescaleDB does not move a row to another chunk)
    conn.execute(
        "WITH moved AS (DELETE FROM readings WHERE ts = %s AND series_id = "
        "(SELECT series_id FROM meter_registers WHERE meter_id = 'W-1') RETURNING *) "
        "INSERT INTO readings (series_id, ts, value_int, value_scale, value_float, quality, source) "
        "SELECT series_id, %s, value_int, value_scale, value_float, quality, source FROM moved",
        (datetime(2026, 1, 25, 12, tzinfo=MOSCOW), datetime(2026, 1, 27, 12, tzinfo=MOSCOW)),
    )
    meter = _cold_water(load_building_input(conn, "B1", JAN), "LS-1")
    assert meter is not None and meter.status is MeterStatus.NO_READINGS


# --- meter replacement with monthly readings -------------------------------------------------------


@pytest.mark.db
def test_replacement_combines_final_and_initial_readings(conn: psycopg.Connection) -> None:
    # W-1 is replaced on Jan 15 10:00 local by W-1B (акт замены: final reading 13.0, initial 0.0);
    # W-1B is read on Jan 25: 2.5. The old meter's Jan 25 reading (16.5) is after its removal: not its own.
    replaced = datetime(2026, 1, 15, 10, tzinfo=MOSCOW)
    new = MeterInfo(
        MeterKind.COLD_WATER, "WAP", "1B", (RegisterInfo("water_m3"),), building_id="B1",
        verification_due=date(2032, 1, 1), meter_id="W-1B",
    )  # fmt: skip
    record_replacement(
        conn, "W-1", new, replaced, final_values={"water_m3": 13.0}, initial_values={"water_m3": 0.0}
    )
    conn.execute("UPDATE meter_links SET valid_to = '2026-01-15' WHERE meter_id = 'W-1'")
    conn.execute(
        "INSERT INTO meter_links (meter_id, valid_from, building_id, premise_no, service) "
        "VALUES ('W-1B', '2026-01-15', 'B1', '1', 'cold_water')"
    )
    write_reading(conn, "W-1B", "water_m3", datetime(2026, 1, 25, 12, tzinfo=MOSCOW), 2.5)
    meter = _cold_water(load_building_input(conn, "B1", JAN), "LS-1")
    # V = (13.0 − 10.0) old meter + (2.5 − 0.0) new meter = 5.5 m³
    assert meter is not None and meter.status is MeterStatus.VALID
    assert meter.zone_volumes == {Zone.SINGLE: D("5.5")}
    close_building(conn, "B1", JAN)
    amounts = _amounts(conn, "LS-1")
    assert amounts["cold_water"] == D("275.00")  # 5.5 × 50.00
    assert amounts["wastewater"] == D("220.00")  # 5.5 × 40.00
    # February: the old meter is gone (its chain ended in January's window); W-1B starts from 2.5
    write_reading(conn, "W-1B", "water_m3", datetime(2026, 2, 24, 12, tzinfo=MOSCOW), 6.0)
    february = _cold_water(load_building_input(conn, "B1", FEB), "LS-1")
    assert february is not None and february.zone_volumes == {Zone.SINGLE: D("3.5")}  # 6.0 − 2.5


@pytest.mark.db
def test_replacement_without_the_new_meters_reading_is_no_readings(conn: psycopg.Connection) -> None:
    new = MeterInfo(MeterKind.COLD_WATER, "WAP", "1C", (RegisterInfo("water_m3"),), meter_id="W-1C")
    record_replacement(
        conn, "W-1", new, datetime(2026, 1, 15, tzinfo=MOSCOW),
        final_values={"water_m3": 13.0}, initial_values={"water_m3": 0.0},
    )  # fmt: skip
    conn.execute("UPDATE meter_links SET valid_to = '2026-01-15' WHERE meter_id = 'W-1'")
    conn.execute(
        "INSERT INTO meter_links (meter_id, valid_from, building_id, premise_no, service) "
        "VALUES ('W-1C', '2026-01-15', 'B1', '1', 'cold_water')"
    )
    meter = _cold_water(load_building_input(conn, "B1", JAN), "LS-1")
    assert meter is not None and meter.status is MeterStatus.NO_READINGS


# --- V^кр: cold water used to prepare hot water in the building (ПП 354, Прил. 2, ф. 11) ---------

SINCE = date(2025, 7, 1)
TARIFFS = (
    Tariff(Service.COLD_WATER, SINCE, {Zone.SINGLE: D("50.00")}),
    Tariff(Service.HOT_WATER, SINCE, {Zone.SINGLE: D("200.00")}),
)


def _building(preparation: D | None) -> BuildingInput:
    def metered(cold: str, hot: str) -> tuple[ServiceConsumer, ...]:
        return (
            ServiceConsumer(Service.COLD_WATER, MeterPeriod(MeterStatus.VALID, {Zone.SINGLE: D(cold)})),
            ServiceConsumer(Service.HOT_WATER, MeterPeriod(MeterStatus.VALID, {Zone.SINGLE: D(hot)})),
        )

    return BuildingInput(
        "BK",
        "Europe/Moscow",
        total_area=D(100),
        common_area=D(50),
        accounts=(
            AccountInput("A1", D(60), services=metered("30", "15")),
            AccountInput("A2", D(40), services=metered("30", "10")),
        ),
        tariffs=TARIFFS,
        common_property=(
            CommonPropertyInput(
                Service.COLD_WATER, D("1"), M.ACTUAL, D(100), hot_water_preparation_volume=preparation
            ),
            CommonPropertyInput(Service.HOT_WATER, D("0.04"), M.NORMATIVE),
        ),
    )  # fmt: skip


def _common(charges, service: Service) -> dict[str, D]:
    return {
        line.account: line.amount
        for line in charges.lines
        if line.service is service and line.kind is ChargeKind.COMMON_PROPERTY
    }


def test_cold_water_common_property_subtracts_hot_water_preparation() -> None:
    # V^Д cold = 100 m³; Σ V_u cold = 30 + 30 = 60; V^кр from the hot-water house meter = 30 m³
    # ΔV = 100 − 60 − 30 = 10 m³ (ACTUAL) → A1 10 × 60/100 = 6 m³ × 50 = 300.00; A2 4 m³ → 200.00
    charges = compute_building_charges(_building(D(30)), JAN)
    assert _common(charges, Service.COLD_WATER) == {"A1": D("300.00"), "A2": D("200.00")}
    cold = next(r.house for r in charges.common_property if r.house.service is Service.COLD_WATER)
    assert cold.difference == D(10)


def test_without_a_hot_water_house_meter_vkr_is_the_hot_water_billed() -> None:
    # V^кр = Σ V_u hot (15 + 10 = 25) + hot-water common property (NORMATIVE 0.04 × S_ои 50 = 2) = 27 m³
    # ΔV = 100 − 60 − 27 = 13 m³ → A1 13 × 0.6 = 7.8 m³ × 50 = 390.00; A2 5.2 m³ × 50 = 260.00
    charges = compute_building_charges(_building(None), JAN)
    assert _common(charges, Service.COLD_WATER) == {"A1": D("390.00"), "A2": D("260.00")}
    assert any("V^кр" in w and "27" in w for w in charges.warnings)
    # hot water common property itself: 2 m³ × 0.6 = 1.2 m³ × 200 = 240.00; 0.8 m³ → 160.00
    assert _common(charges, Service.HOT_WATER) == {"A1": D("240.00"), "A2": D("160.00")}


@pytest.mark.db
def test_loader_takes_vkr_from_the_hot_water_house_meter(conn: psycopg.Connection) -> None:
    conn.execute("UPDATE buildings SET prepares_hot_water = true WHERE building_id = 'B1'")
    house_hot = MeterInfo(MeterKind.HOT_WATER, "HHS", "1", (RegisterInfo("water_m3"),), meter_id="H-HOUSE")
    from meterhub.timeseries.meters import register_meter

    register_meter(conn, house_hot)
    conn.execute(
        "INSERT INTO meter_links (meter_id, valid_from, building_id, premise_no, service) "
        "VALUES ('H-HOUSE', '2020-01-01', 'B1', NULL, 'hot_water')"
    )
    write_reading(conn, "H-HOUSE", "water_m3", datetime(2025, 12, 25, 12, tzinfo=MOSCOW), 100.0)
    write_reading(conn, "H-HOUSE", "water_m3", datetime(2026, 1, 25, 12, tzinfo=MOSCOW), 142.25)
    loaded = load_building_input(conn, "B1", JAN)
    cold = next(c for c in loaded.input.common_property if c.service is Service.COLD_WATER)
    assert cold.hot_water_preparation_volume == D("42.25")  # 142.25 − 100.0
    # without that meter's reading the engine derives it (None)
    conn.execute("DELETE FROM readings WHERE series_id = (SELECT series_id FROM meter_registers "
                 "WHERE meter_id = 'H-HOUSE')")  # fmt: skip
    loaded = load_building_input(conn, "B1", JAN)
    cold = next(c for c in loaded.input.common_property if c.service is Service.COLD_WATER)
    assert cold.hot_water_preparation_volume is None
