"""A failed cold-water meter with a metered history (issue 15: "a failed meter is only 'no readings', so the
×1.5 after the averaging limit is lost"): three averaged months, then the normative with ×1.5 (ПП 354
п. 59 «а», п. 60; decisions 8 and 11); the same meter being replaced by the consumer gets no ×1.5, and
a meter that merely has no readings (case «б») gets the normative without it. Hand-computed amounts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, write_reading

pytestmark = pytest.mark.db


def _cold(conn, period: str) -> tuple[D, str]:
    row = conn.execute(
        "SELECT amount, method FROM charge_lines WHERE building_id = 'B1' AND period = %s "
        "AND account_no = 'LS-1' AND service = 'cold_water' AND kind = 'individual'",
        (period,),
    ).fetchone()
    return row[0], row[1]


@pytest.fixture(scope="module")
def history(db_url: str) -> str:
    """W-1 (LS-1, 1 resident) metered 3 m³ in each of October–December 2025 (readings on the 25th:
    1 → 4 → 7 → 10 m³), those months closed; January's readings as in close_data (10 → 16.5)."""
    with connect(db_url) as conn:
        load_small_building(conn)
        for table in ("readings", "hourly_consumption"):
            conn.execute("SELECT meterhub_ensure_partitions(%s, '2025-09-01', '2025-12-31')", (table,))
        for month, value in ((9, 1.0), (10, 4.0), (11, 7.0)):
            write_reading(conn, "W-1", "water_m3", datetime(2025, month, 25, 12, tzinfo=MOSCOW), value)
        conn.commit()
        for month in (10, 11, 12):
            close_building(conn, "B1", BillingPeriod(2025, month), CloseOptions(final=True))
            assert _cold(conn, f"2025-{month:02d}") == (D("150.00"), "meter")  # 3 m³ × 50.00
    return db_url


def test_failed_meter_averages_three_months_then_normative_times_one_and_a_half(history: str) -> None:
    with connect(history) as conn:
        conn.execute(
            "INSERT INTO meter_states (meter_id, valid_from, state) VALUES ('W-1', '2026-01-05', 'failed')"
        )
        conn.commit()
        got = {}
        for month in (1, 2, 3, 4):
            close_building(conn, "B1", BillingPeriod(2026, month), CloseOptions(final=month < 4))
            got[month] = _cold(conn, f"2026-{month:02d}")
        # January's readings (6.5 m³) are not used: the meter failed on 5 January. Average of the three
        # metered months (3 + 3 + 3) / 3 = 3 m³ × 50.00 = 150.00 for January, February, March (limit 3);
        # April: the normative with ×1.5 (no act, not being replaced): 1 × 5 m³ × 50.00 × 1.5 = 375.00
        # (without the state the meter would be case «б» and April 1 × 5 × 50.00 = 250.00)
        assert got == {
            1: (D("150.00"), "average"),
            2: (D("150.00"), "average"),
            3: (D("150.00"), "average"),
            4: (D("375.00"), "normative_x1_5"),
        }
        # the consumer is replacing it from 1 April: the April draft is the normative without ×1.5
        conn.execute(
            "INSERT INTO meter_states (meter_id, valid_from, state) "
            "VALUES ('W-1', '2026-04-01', 'being_replaced')"
        )
        conn.commit()
        close_building(conn, "B1", BillingPeriod(2026, 4))
        assert _cold(conn, "2026-04") == (D("250.00"), "normative")
        # dating the state changes nothing in the closed months: no recalculation lines for January–March
        assert conn.execute(
            "SELECT count(*) FROM recalculation_lines WHERE building_id = 'B1'"
        ).fetchone() == (0,)


def test_a_repaired_meter_is_not_trued_up_against_its_failed_register(history: str) -> None:
    """п. 61 trues up averaged months when readings come back (case «б»); the register of a meter that
    failed (case «а») says nothing about those months, so nothing is trued up when it works again."""
    with connect(history) as conn:
        conn.execute(
            "UPDATE meter_states SET state = 'working' WHERE meter_id = 'W-1' AND valid_from = '2026-04-01'"
        )
        # readings again: 50.0 in March's window (after the repair at the end of March) and 53.0 in April's
        write_reading(conn, "W-1", "water_m3", datetime(2026, 3, 20, 12, tzinfo=MOSCOW), 50.0)
        write_reading(conn, "W-1", "water_m3", datetime(2026, 4, 20, 12, tzinfo=MOSCOW), 53.0)
        conn.commit()
        result = close_building(conn, "B1", BillingPeriod(2026, 4))
        # April by meter: 53 − 50 = 3 m³ × 50.00 = 150.00; January–March stay averaged (150.00 each): the
        # 40 m³ the failed register moved since December (10 → 50) are not booked as a true-up
        assert _cold(conn, "2026-04") == (D("150.00"), "meter")
        assert result.report["recalculations"]["lines"] == 0
        assert conn.execute(
            "SELECT count(*) FROM recalculation_lines WHERE building_id = 'B1'"
        ).fetchone() == (0,)
