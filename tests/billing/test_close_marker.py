"""The change marker of closed periods (billing/close/input_changes.py, migration 0103): the close reloads a
closed period only when a change to its building's inputs was committed after the period was computed.

The small building of tests/billing/close_data.py; W-1 (LS-1's cold-water meter) is read monthly: the
January volume is its reading in January's window (by the 25th) minus the one in December's window,
16.5 − 10.0 = 6.5 m³. Cold water 50.00 ₽/m³, wastewater 40.00 ₽/m³ (= cold water volume, no hot water).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.close.input_changes import prune_input_changes
from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, write_reading

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

JAN, FEB, MAR = BillingPeriod(2026, 1), BillingPeriod(2026, 2), BillingPeriod(2026, 3)
UTC_FEB_1_MSK = datetime(2026, 2, 1, tzinfo=MOSCOW)


def _recalcs(conn, period: BillingPeriod) -> list[tuple]:
    return conn.execute(
        "SELECT corrects_period, account_no, service, volume_delta, amount FROM recalculation_lines "
        "WHERE building_id = 'B1' AND period = %s ORDER BY corrects_period, account_no, service",
        (str(period),),
    ).fetchall()


def _changes(conn) -> int:
    return conn.execute("SELECT count(*) FROM billing_input_changes WHERE building_id = 'B1'").fetchone()[0]


def test_only_periods_whose_inputs_changed_are_reloaded(db_url: str) -> None:
    with connect(db_url, autocommit=True) as conn:
        load_small_building(conn)
        jan = close_building(conn, "B1", JAN, CloseOptions(final=True))
        assert jan.status == "closed"
        snapshot, inputs_from, inputs_to = conn.execute(
            "SELECT input_snapshot IS NOT NULL, inputs_from, inputs_to FROM billing_periods "
            "WHERE building_id = 'B1' AND period = '2026-01'"
        ).fetchone()
        # the inputs reach back to the start of December's readings window (after Nov 25, Moscow) and
        # up to the month end (E-1's hourly series has no gap, so the span is closed)
        assert snapshot
        assert inputs_from == datetime(2025, 11, 26, tzinfo=MOSCOW)
        assert inputs_to == UTC_FEB_1_MSK
        horizon = conn.execute("SELECT watch_until FROM billing_change_horizon WHERE building_id = 'B1'")
        assert horizon.fetchone()[0] == datetime(2026, 2, 1, 1, tzinfo=MOSCOW)  # month end + 1 h

        # 1. nothing changed: February's close does not reload January at all
        feb = close_building(conn, "B1", FEB)
        assert feb.rechecked == () and feb.recalculations == 0

        # 2. live ingest of the open month: not logged (after the horizon), January still not reloaded
        before = _changes(conn)
        write_reading(conn, "W-1", "water_m3", datetime(2026, 2, 10, 12, tzinfo=MOSCOW), 18.0)
        assert _changes(conn) == before
        assert close_building(conn, "B1", FEB).rechecked == ()

        # 2b. a reading exactly at the month end (it closes January's last hour of E-1) is late data of
        # January: logged, January reloaded — its engine input is unchanged (the rollup has not rewritten
        # any hour), so the digest stops there: no engine run, no recalculation
        write_reading(conn, "E-1", "energy_import_kwh", UTC_FEB_1_MSK, 372.0)
        assert _changes(conn) == before + 1
        feb = close_building(conn, "B1", FEB)
        assert feb.rechecked == ("2026-01",) and feb.recalculations == 0

        # 3. a late reading inside January's window (Jan 25 18:00, after the 12:00 one) is January's end
        # reading now: 17.5 − 10.0 = 7.5 m³, +1 m³ → cold water +50.00, wastewater +1 m³ × 40 = +40.00
        write_reading(conn, "W-1", "water_m3", datetime(2026, 1, 25, 18, tzinfo=MOSCOW), 17.5)
        assert _changes(conn) == before + 2
        feb = close_building(conn, "B1", FEB)
        assert feb.rechecked == ("2026-01",)
        assert _recalcs(conn, FEB) == [
            ("2026-01", "LS-1", "cold_water", D(1), D("50.00")),
            ("2026-01", "LS-1", "wastewater", D(1), D("40.00")),
        ]
        # re-running the draft replaces the corrections (January is reloaded again: its marker moved)
        assert close_building(conn, "B1", FEB).recalculations == 2

        # 4. an ingest transaction in flight while February is finally closed: the close cannot know
        # whether it read the old horizon, waits for it (here 0.3 s), gives up and stores no snapshot,
        # so February is always reloaded afterwards
        with connect(db_url) as ingest:
            write_reading(ingest, "W-1", "water_m3", datetime(2026, 2, 20, 12, tzinfo=MOSCOW), 19.0)
            feb = close_building(conn, "B1", FEB, CloseOptions(final=True, change_wait_seconds=0.3))
            ingest.commit()
        assert feb.rechecked == ("2026-01",) and feb.recalculations == 2  # January's correction booked
        row = conn.execute(
            "SELECT input_snapshot IS NULL FROM billing_periods "
            "WHERE building_id = 'B1' AND period = '2026-02'"
        ).fetchone()
        assert row == (True,)
        # February as closed: W-1 17.5 (Jan 25 18:00) → 18.0 (Feb 10) = 0.5 m³; with the reading committed
        # late, 17.5 → 19.0 (Feb 20) = 1.5 m³: +1 m³ → +50.00 and +40.00 in March. January's correction
        # is already booked in February, so nothing more for January.
        mar = close_building(conn, "B1", MAR)
        assert mar.rechecked == ("2026-01", "2026-02")
        assert _recalcs(conn, MAR) == [
            ("2026-02", "LS-1", "cold_water", D(1), D("50.00")),
            ("2026-02", "LS-1", "wastewater", D(1), D("40.00")),
        ]

        # 5. pruning keeps what the snapshots still need: the import's rows (before January's snapshot)
        # go, the late reading's row stays
        assert prune_input_changes(conn, 3) > 0
        assert close_building(conn, "B1", MAR).rechecked == ("2026-01", "2026-02")


def test_domain_changes_mark_every_building_they_touch(db_url: str) -> None:
    """Triggers on the domain tables: a building's own row, a '*' tariff, an update that changes nothing."""
    with connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, "
            "management_method) VALUES ('BX', 'x', 'Europe/Moscow', 10, 1, 'hoa')"
        )
        conn.execute("DELETE FROM billing_input_changes")
        conn.execute("UPDATE buildings SET address = address WHERE building_id = 'BX'")
        assert conn.execute("SELECT count(*) FROM billing_input_changes").fetchone() == (0,)
        conn.execute("UPDATE buildings SET common_area = 2 WHERE building_id = 'BX'")
        conn.execute(
            "INSERT INTO tariffs (service, applies_to, valid_from, scheme, basis, price_single) "
            "VALUES ('cold_water', '*', '2027-01-01', 'single_rate', 'per_unit', 60)"
        )
        rows = conn.execute(
            "SELECT building_id, from_ts = '-infinity', to_ts = 'infinity' FROM billing_input_changes "
            "ORDER BY 1"
        ).fetchall()
    assert rows == [("*", True, True), ("BX", True, True)]
