"""The loader reads the register meters that change state inside the month at their change days in one
read for all meters whose changes fall on the same days; each meter's parts still come from its own
readings (ПП 354 п. 59 «а»).

The small building (close_data): W-1 (LS-1) and W-2 (LS-2) cold water read on 25.12 (10.0 and 1.0 m³)
and 25.01 (16.5 and 2.0 m³). Both fail on 12 January and work again from the 15th (W-2's verification,
due on the 15th, renewed: its next due date is written), so both split on the same two days. Readings
written here: W-1 12.2 (11.01 21:00) and 13.0 (14.01 20:00), W-2 1.2 and 1.4 at the same times.
Hand-computed: W-1 metered 12.2 − 10.0 = 2.2 m³ (1–11 January) and 16.5 − 13.0 = 3.5 m³ (15–31);
W-2 1.2 − 1.0 = 0.2 m³ and 2.0 − 1.4 = 0.6 m³; 12–14 January failed for both.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.close.loader import load_building_input
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.volumes import MeterStatus
from meterhub.billing.rules.zones import Zone
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, write_reading

pytestmark = pytest.mark.db


def test_two_meters_changing_state_on_the_same_days_each_split_by_its_own_readings(db_url: str) -> None:
    with connect(db_url) as conn:
        load_small_building(conn)
        for meter, at_11th, at_14th in (("W-1", 12.2, 13.0), ("W-2", 1.2, 1.4)):
            write_reading(conn, meter, "water_m3", datetime(2026, 1, 11, 21, tzinfo=MOSCOW), at_11th)
            write_reading(conn, meter, "water_m3", datetime(2026, 1, 14, 20, tzinfo=MOSCOW), at_14th)
            conn.execute(
                "INSERT INTO meter_states (meter_id, valid_from, state) VALUES (%s, '2026-01-12', 'failed'), "
                "(%s, '2026-01-15', 'working')",
                (meter, meter),
            )
        conn.execute("UPDATE meters SET verification_due = '2032-01-15' WHERE meter_id = 'W-2'")
        conn.commit()
        loaded = load_building_input(conn, "B1", BillingPeriod(2026, 1))
    assert loaded.meters["state split"] == 2
    expected = {"LS-1": (D("2.2"), D("3.5")), "LS-2": (D("0.2"), D("0.6"))}
    for account in loaded.input.accounts:
        if account.account not in expected:
            continue
        cold = next(c for c in account.services if c.service is Service.COLD_WATER)
        assert cold.meter is not None
        parts = [(p.start, p.end, p.status, dict(p.zone_volumes or {})) for p in cold.meter.parts]
        before, after = expected[account.account]
        assert parts == [
            (date(2026, 1, 1), date(2026, 1, 12), MeterStatus.VALID, {Zone.SINGLE: before}),
            (date(2026, 1, 12), date(2026, 1, 15), MeterStatus.FAILED, {}),
            (date(2026, 1, 15), date(2026, 2, 1), MeterStatus.VALID, {Zone.SINGLE: after}),
        ]
