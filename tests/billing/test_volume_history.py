"""volume_history: the averaging history of an account × service from closed charge lines.

Expected values are written by hand from the rows inserted here (docs/billing-close.md "The averaging
history read"): a month's method is its latest part's, metered months are Σ volume per zone over the
tariff parts, zones in name order, counts run back from the month before the period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import psycopg
import pytest

from meterhub.billing.close.results_store import MeterHistory, volume_history
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.zones import Zone
from tests.billing.money_data import add_building, add_period


def _line(
    conn: psycopg.Connection,
    period: str,
    account: str,
    service: str,
    zone: str,
    part_start: date,
    volume: str,
    method: str,
    kind: str = "individual",
) -> None:
    conn.execute(
        "INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start,"
        " part_end, volume, unit, tariff, coefficient, method, formula, amount_exact, amount,"
        " amount_without_coefficient, excess)"
        " VALUES ('VH', %s, %s, %s, %s, %s, %s, %s, %s, 'u', 1, 1, %s, 'test', 0, 0, NULL, 0)",
        (period, account, service, kind, zone, part_start, part_start, D(volume), method),
    )


@pytest.mark.db
def test_volume_history_by_hand(conn: psycopg.Connection) -> None:
    add_building(conn, "VH", {"VH-1": "1", "VH-2": "2"})
    for p in ("2025-09", "2025-10", "2025-11", "2025-12"):
        add_period(conn, "VH", p, "closed")
    add_period(conn, "VH", "2025-08", "draft")
    # VH-1 electricity: October metered, two tariff parts of the day zone (1.5 + 1.25) and night 1;
    # November split by a meter failure on the 16th (metered, then average: the month is average);
    # December average. Zones inserted night first: the history lists them by name (day, night).
    _line(conn, "2025-10", "VH-1", "electricity", "night", date(2025, 10, 1), "1", "meter")
    _line(conn, "2025-10", "VH-1", "electricity", "day", date(2025, 10, 1), "1.5", "meter")
    _line(conn, "2025-10", "VH-1", "electricity", "day", date(2025, 10, 20), "1.25", "meter")
    _line(conn, "2025-11", "VH-1", "electricity", "single", date(2025, 11, 1), "2", "meter")
    _line(conn, "2025-11", "VH-1", "electricity", "single", date(2025, 11, 16), "2", "average")
    _line(conn, "2025-12", "VH-1", "electricity", "single", date(2025, 12, 1), "3", "average")
    # VH-1 cold water: September (outside a 3-month window) metered 9, October average, November
    # normative, December metered 4
    _line(conn, "2025-09", "VH-1", "cold_water", "single", date(2025, 9, 1), "9", "meter")
    _line(conn, "2025-10", "VH-1", "cold_water", "single", date(2025, 10, 1), "5", "average")
    _line(conn, "2025-11", "VH-1", "cold_water", "single", date(2025, 11, 1), "6", "normative")
    _line(conn, "2025-12", "VH-1", "cold_water", "single", date(2025, 12, 1), "4", "meter")
    # VH-2 cold water: October metered 2, November average, December normative; a common-property line,
    # a maintenance line and a draft month's line, none of them history
    _line(conn, "2025-10", "VH-2", "cold_water", "single", date(2025, 10, 1), "2", "meter")
    _line(conn, "2025-11", "VH-2", "cold_water", "single", date(2025, 11, 1), "3", "average")
    _line(conn, "2025-12", "VH-2", "cold_water", "single", date(2025, 12, 1), "5", "normative")
    _line(conn, "2025-12", "VH-2", "cold_water", "single", date(2025, 12, 1), "7", "meter", "common_property")
    _line(conn, "2025-12", "VH-2", "maintenance", "single", date(2025, 12, 1), "50", "meter")
    _line(conn, "2025-08", "VH-2", "hot_water", "single", date(2025, 8, 1), "1", "meter")

    history = volume_history(conn, "VH", BillingPeriod(2026, 1))
    assert history == {
        ("VH-1", "cold_water"): MeterHistory(({Zone.SINGLE: D(9)}, {Zone.SINGLE: D(4)}), 0, 0),
        ("VH-1", "electricity"): MeterHistory(({Zone.DAY: D("2.75"), Zone.NIGHT: D(1)},), 2, 2),
        # December's normative ends the average run (0) but not the months without readings (2)
        ("VH-2", "cold_water"): MeterHistory(({Zone.SINGLE: D(2)},), 0, 2),
    }
    assert list(history) == [("VH-1", "cold_water"), ("VH-1", "electricity"), ("VH-2", "cold_water")]
    assert list(history["VH-1", "electricity"].metered[0]) == [Zone.DAY, Zone.NIGHT]
    # the last 3 months only: September's metered month drops out; October–November without readings
    # before December's metered month count nothing
    assert volume_history(conn, "VH", BillingPeriod(2026, 1), 3)["VH-1", "cold_water"] == MeterHistory(
        ({Zone.SINGLE: D(4)},), 0, 0
    )
    # from February: January (not closed) breaks every run
    assert volume_history(conn, "VH", BillingPeriod(2026, 2))["VH-2", "cold_water"] == MeterHistory(
        ({Zone.SINGLE: D(2)},), 0, 0
    )
    assert volume_history(conn, "VH", BillingPeriod(2026, 1), 0) == {}
