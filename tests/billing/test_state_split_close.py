"""The close splits a month by a meter state dated inside it (ПП 354 п. 59 «а» from the date of the event).

W-1 (LS-1, 1 resident, cold water 50.00 ₽/m³) metered 3 m³ in each of October–December 2025 (readings on
the 25th: 1 → 4 → 7 → 10 m³), those months closed; January's readings as in close_data (10 on 25.12,
16.5 on 25.01). Hand-computed amounts.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, write_reading

pytestmark = pytest.mark.db


def _cold(conn, period: str) -> list[tuple]:
    return conn.execute(
        "SELECT part_start, method, volume, amount FROM charge_lines WHERE building_id = 'B1' "
        "AND period = %s AND account_no = 'LS-1' AND service = 'cold_water' AND kind = 'individual' "
        "ORDER BY part_start",
        (period,),
    ).fetchall()


@pytest.fixture(scope="module")
def history(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
        for table in ("readings", "hourly_consumption"):
            conn.execute("SELECT meterhub_ensure_partitions(%s, '2025-09-01', '2025-12-31')", (table,))
        for month, value in ((9, 1.0), (10, 4.0), (11, 7.0)):
            write_reading(conn, "W-1", "water_m3", datetime(2025, month, 25, 12, tzinfo=MOSCOW), value)
        conn.commit()
        for month in (10, 11, 12):
            close_building(conn, "B1", BillingPeriod(2025, month), CloseOptions(final=True))
        return db_url


def test_verification_expiring_on_the_15th(history: str) -> None:
    """W-2 (LS-2, 3 residents, premise 2 without an act): verification due 2026-01-15, no metered
    history. Readings 1.0 (25.12), 1.4 (14.01 at 20:00), 2.0 (25.01)."""
    with connect(history) as conn:
        write_reading(conn, "W-2", "water_m3", datetime(2026, 1, 14, 20, tzinfo=MOSCOW), 1.4)
        # and E-1 (LS-1's hourly electricity meter, 0.5 kWh every hour) fails on the 12th
        conn.execute(
            "INSERT INTO meter_states (meter_id, valid_from, state) VALUES ('E-1', '2026-01-12', 'failed')"
        )
        conn.commit()
        close_building(conn, "B1", BillingPeriod(2026, 1))
        electricity = conn.execute(
            "SELECT part_start, method, zone, volume, amount FROM charge_lines "
            "WHERE building_id = 'B1' AND period = '2026-01' AND account_no = 'LS-1' "
            "AND service = 'electricity' AND kind = 'individual' ORDER BY part_start, zone"
        ).fetchall()
        # 1–11 January by the hourly series (two zones, day 7–23 at 6.00, night 23–7 at 3.00):
        # day 11 × 16 × 0.5 = 88 kWh = 528.00, night 11 × 8 × 0.5 = 44 kWh = 132.00; from the 12th the
        # supplier's meter (case «г») without metered history → the normative 1 × 100 kWh × 20/31
        # = 2000/31 kWh at the single price 5.00 = 10000/31 = 322.580… → 322.58 (never ×1.5)
        assert [(p, m, z, a) for p, m, z, _, a in electricity] == [
            (date(2026, 1, 1), "meter", "day", D("528.00")),
            (date(2026, 1, 1), "meter", "night", D("132.00")),
            (date(2026, 1, 12), "normative", "single", D("322.58")),
        ]
        conn.execute("DELETE FROM meter_states WHERE meter_id = 'E-1'")
        conn.commit()
        lines = conn.execute(
            "SELECT part_start, method, volume, coefficient, amount FROM charge_lines "
            "WHERE building_id = 'B1' AND period = '2026-01' AND account_no = 'LS-2' "
            "AND service = 'cold_water' AND kind = 'individual' ORDER BY part_start"
        ).fetchall()
        # 1–14 January metered 1.4 − 1.0 = 0.4 m³ × 50.00 = 20.00; from the 15th (17 of 31 days) no history
        # → the normative with ×1.5: 3 × 5 = 15 m³ × 17/31 = 255/31 m³ × 50.00 × 1.5 = 19125/31 = 616.935…
        assert [(p, m, c, a) for p, m, _, c, a in lines] == [
            (date(2026, 1, 1), "meter", D(1), D("20.00")),
            (date(2026, 1, 15), "normative_x1_5", D("1.5"), D("616.94")),
        ]
        assert lines[0][2] == D("0.4")
        assert abs(lines[1][2] - D(255) / D(31)) < D("1e-6")


def test_failure_on_day_12_then_commissioning_on_day_10(history: str) -> None:
    with connect(history) as conn:
        # the failure act of 12 January records 12.2 m³ (read on the evening of the 11th)
        write_reading(conn, "W-1", "water_m3", datetime(2026, 1, 11, 21, tzinfo=MOSCOW), 12.2)
        conn.execute(
            "INSERT INTO meter_states (meter_id, valid_from, state) VALUES ('W-1', '2026-01-12', 'failed')"
        )
        conn.commit()
        result = close_building(conn, "B1", BillingPeriod(2026, 1), CloseOptions(final=True))
        lines = _cold(conn, "2026-01")
        # metered 12.2 − 10.0 = 2.2 m³ × 50.00 = 110.00; average (3 + 3 + 3)/3 = 3 m³ × 20/31 days
        # = 60/31 m³ × 50.00 = 3000/31 = 96.774… → 96.77
        assert [(p, m, a) for p, m, _, a in lines] == [
            (date(2026, 1, 1), "meter", D("110.00")),
            (date(2026, 1, 12), "average", D("96.77")),
        ]
        assert lines[0][2] == D("2.2")
        assert abs(lines[1][2] - D(60) / D(31)) < D("1e-6")
        assert result.report["meters"].get("state split") == 2  # W-1 and W-2 (its verification, above)
        assert conn.execute(
            "SELECT method FROM period_volumes WHERE building_id = 'B1' AND period = '2026-01' "
            "AND account_no = 'LS-1' AND service = 'cold_water'"
        ).fetchall() == [("average",)]

        # February: failed all month, the second averaged period: 3 m³ × 50.00 = 150.00
        close_building(conn, "B1", BillingPeriod(2026, 2), CloseOptions(final=True))
        assert [(p, m, a) for p, m, _, a in _cold(conn, "2026-02")] == [
            (date(2026, 2, 1), "average", D("150.00"))
        ]

        # the recheck of the closed January (same inputs, same split) books nothing
        assert conn.execute(
            "SELECT count(*) FROM recalculation_lines WHERE building_id = 'B1'"
        ).fetchone() == (0,)

        # March: verified again from 10 March (reading 30.0 at the act, 33.1 in March's window):
        # 1–9 March averaged (third period, within the limit) 3 × 9/31 = 27/31 m³ × 50.00 = 1350/31
        # = 43.548… → 43.55; 10–31 March metered 33.1 − 30.0 = 3.1 m³ × 50.00 = 155.00
        write_reading(conn, "W-1", "water_m3", datetime(2026, 3, 9, 22, tzinfo=MOSCOW), 30.0)
        write_reading(conn, "W-1", "water_m3", datetime(2026, 3, 25, 12, tzinfo=MOSCOW), 33.1)
        conn.execute(
            "INSERT INTO meter_states (meter_id, valid_from, state) VALUES ('W-1', '2026-03-10', 'working')"
        )
        conn.commit()
        close_building(conn, "B1", BillingPeriod(2026, 3), CloseOptions(final=True))
        assert [(p, m, a) for p, m, _, a in _cold(conn, "2026-03")] == [
            (date(2026, 3, 1), "average", D("43.55")),
            (date(2026, 3, 10), "meter", D("155.00")),
        ]


def test_without_a_reading_at_the_event_the_whole_month_is_averaged(history: str) -> None:
    with connect(history) as conn:
        # a failure on 20 April with no reading between the start reading (33.1 on 25.03) and the event:
        # not split, the state on the window's last day (24.04: failed) decides → averaged from the start
        # of the period (п. 59 «а»: the date unknown → the period's start) [I].
        # March ended working, so the run restarted and March is a metered month of the history with its
        # whole volume 27/31 + 3.1 m³: average (3 + 3 + 3 + 27/31 + 3.1)/4 = (12.1 + 27/31)/4 m³
        # × 50.00 = 162.137… → 162.14
        conn.execute(
            "INSERT INTO meter_states (meter_id, valid_from, state) VALUES ('W-1', '2026-04-20', 'failed')"
        )
        conn.commit()
        result = close_building(conn, "B1", BillingPeriod(2026, 4))
        assert [(p, m, a) for p, m, _, a in _cold(conn, "2026-04")] == [
            (date(2026, 4, 1), "average", D("162.14"))
        ]
        assert "state split" not in result.report["meters"]
        assert any("meter W-1 failed since 2026-04-20" in w for w in result.report["warnings"])
