"""Recalculations of the open period: temporary absence and interruptions / poor quality (hand-computed)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from meterhub.billing.close.service_recalculations import (
    InterruptionHoursRule,
    absence_full_days,
    excess_hours,
    merge_intervals,
    quality_reduction,
    run_service_recalculations,
)
from meterhub.billing.money.ledger import account_balances
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.money_data import add_building, add_charge, add_period

MSK = ZoneInfo("Europe/Moscow")
D = Decimal


def test_absence_days_exclude_departure_and_return_day() -> None:
    # left on the 5th, back on the 18th → full days 6..17 = 12
    assert (
        absence_full_days(date(2025, 11, 5), date(2025, 11, 18), date(2025, 11, 1), date(2025, 12, 1)) == 12
    )
    # an absence across the month end: left 25.11, back 10.12 → November 26..30 = 5, December 1..9 = 9
    assert (
        absence_full_days(date(2025, 11, 25), date(2025, 12, 10), date(2025, 11, 1), date(2025, 12, 1)) == 5
    )
    assert absence_full_days(date(2025, 11, 25), date(2025, 12, 10), date(2025, 12, 1), date(2026, 1, 1)) == 9


def test_excess_hours_count_over_the_monthly_total_only() -> None:
    # Decision 4: hours over the monthly total. 3 + 3 + 10 = 16 h − 8 h = 8 h (the 10 h event is 6 h over
    # the single 4 h limit, which does not add anything).
    assert excess_hours([D(3), D(3), D(10)], D(8), D(4)) == 8
    # 5 + 5 = 10 h − 8 = 2 h; one 6 h event: 6 < 8 → 0 (2 h over the single limit do not count).
    assert excess_hours([D(5), D(5)], D(8), D(4)) == 2
    assert excess_hours([D(6)], D(8), D(4)) == 0
    # The example: one 30 h cold-water outage, 8 h/month, 4 h at once → 30 − 8 = 22 h (not 26).
    assert excess_hours([D(30)], D(8), D(4)) == 22
    # The alternative §6.2 reading stays available as a named rule: max(30 − 8, 30 − 4) = 26 h.
    assert excess_hours([D(30)], D(8), D(4), InterruptionHoursRule.MAX_OF_LIMITS) == 26
    assert excess_hours([D(6)], D(8), D(4), InterruptionHoursRule.MAX_OF_LIMITS) == 2


def test_quality_reduction_is_capped_at_the_charge() -> None:
    assert quality_reduction(D("1000.00"), D("0.15"), D(8)) == D("12.00")  # 1000 × 0.0015 × 8
    assert quality_reduction(D("100.00"), D("0.15"), D(700)) == D("100.00")  # 105 % → capped at 100 %


def test_overlapping_events_count_each_hour_once() -> None:
    start, end = datetime(2025, 11, 1, tzinfo=MSK), datetime(2025, 12, 1, tzinfo=MSK)
    merged = merge_intervals(
        [
            (datetime(2025, 11, 3, 10, tzinfo=MSK), datetime(2025, 11, 3, 14, tzinfo=MSK)),
            (datetime(2025, 11, 3, 12, tzinfo=MSK), datetime(2025, 11, 3, 18, tzinfo=MSK)),
            (datetime(2025, 10, 31, 22, tzinfo=MSK), datetime(2025, 11, 1, 2, tzinfo=MSK)),  # clipped: 2 h
        ],
        start,
        end,
    )
    assert [(b - a).total_seconds() / 3600 for a, b in merged] == [2, 8]


@pytest.mark.db
def test_absence_and_interruptions_through_the_db(db_url: str, conn) -> None:
    add_building(conn, "RB", {"R1": "1", "R2": "2", "R3": "3"})
    add_period(conn, "RB", "2025-11", "draft")
    conn.execute(
        "UPDATE premises SET meter_install_possible = false WHERE building_id = 'RB' AND premise_no = '1'"
    )
    # R1: cold water by normative, 1 person: 4.86 m³ × 52.17 ₽ = 253.5462 ₽ (billing-rules R-1).
    add_charge(conn, "RB", "2025-11", "R1", "cold_water", "253.55", method="normative")
    conn.execute("UPDATE charge_lines SET amount_exact = 253.5462 WHERE account_no = 'R1'")
    conn.execute(
        "INSERT INTO period_volumes (building_id, period, account_no, service, zone, volume, method, formula,"
        " persons, normative, coefficient) VALUES ('RB', '2025-11', 'R1', 'cold_water', 'single', 4.86,"
        " 'normative', 'formula 4', 1, 4.86, 1)"
    )
    # R2: premise where a meter could be installed — no recalculation for absence (ПП 354 п. 86).
    add_charge(conn, "RB", "2025-11", "R2", "cold_water", "253.55", method="normative")
    conn.execute(
        "INSERT INTO period_volumes (building_id, period, account_no, service, zone, volume, method, formula,"
        " persons, normative, coefficient) VALUES ('RB', '2025-11', 'R2', 'cold_water', 'single', 4.86,"
        " 'normative', 'formula 4', 1, 4.86, 1)"
    )
    conn.execute(
        "INSERT INTO absence_periods (account_no, departed_on, returned_on) VALUES"
        " ('R1', '2025-11-05', '2025-11-18'), ('R2', '2025-11-05', '2025-11-18'),"
        " ('R1', '2025-11-20', '2025-11-25')"  # 4 full days: not more than 5 → ignored
    )
    # R3: metered cold water 1000.00 and hot water 800.00; building-wide cold water interruptions 3 h, 3 h,
    # 10 h (8 h over the limits) and 2.5 h of poor-quality hot water in flat 3.
    add_charge(conn, "RB", "2025-11", "R3", "cold_water", "1000.00")
    add_charge(conn, "RB", "2025-11", "R3", "hot_water", "800.00")
    events = [
        (None, "cold_water", "interruption", datetime(2025, 11, 3, 9), datetime(2025, 11, 3, 12)),
        (None, "cold_water", "interruption", datetime(2025, 11, 10, 9), datetime(2025, 11, 10, 12)),
        (None, "cold_water", "interruption", datetime(2025, 11, 20, 8), datetime(2025, 11, 20, 18)),
        ("3", "hot_water", "poor_quality", datetime(2025, 11, 21, 8), datetime(2025, 11, 21, 10, 30)),
    ]
    for premise, service, kind, a, b in events:
        conn.execute(
            "INSERT INTO service_events (building_id, premise_no, service, kind, started_at, ended_at)"
            " VALUES ('RB', %s, %s, %s, %s, %s)",
            (premise, service, kind, a.replace(tzinfo=MSK), b.replace(tzinfo=MSK)),
        )
    lines = run_service_recalculations(conn, "RB", BillingPeriod(2025, 11))
    conn.commit()
    got = {(r.account_no, r.service, r.reason_kind): r.amount_kopecks for r in lines}
    assert got == {
        # 253.5462 × 12 / 30 = 101.41848 → −101.42 ₽ (billing-rules R-1)
        ("R1", "cold_water", "absence"): -10142,
        # R2 and R3 share the building-wide cold water event; R1, R2 cold water also reduced by 8 h:
        # 253.55 × 0.0015 × 8 = 3.0426 → −3.04 ₽
        ("R1", "cold_water", "interruption"): -304,
        ("R2", "cold_water", "interruption"): -304,
        # 1000.00 × 0.0015 × 8 = 12.00
        ("R3", "cold_water", "interruption"): -1200,
        # 800.00 × 0.0015 × 2.5 = 3.00 (poor quality: every hour counts)
        ("R3", "hot_water", "poor_quality"): -300,
    }
    reason = conn.execute(
        "SELECT reason FROM service_recalculation_lines WHERE account_no = 'R1' AND reason_kind = 'absence'"
    ).fetchone()[0]
    assert reason.startswith("временное отсутствие потребителей: 12 чел.-дн.")
    # The ledger counts them as recalculated in the open period.
    r1 = account_balances(conn, "2025-11", account_nos=["R1"])["R1"][0]
    assert (r1.charged, r1.recalculated, r1.closing) == (25355, -10142 - 304, 25355 - 10446)
    # Re-running replaces, never duplicates.
    run_service_recalculations(conn, "RB", BillingPeriod(2025, 11))
    conn.commit()
    count = conn.execute(
        "SELECT count(*) FROM service_recalculation_lines WHERE building_id = 'RB'"
    ).fetchone()
    assert count[0] == 5


@pytest.mark.db
def test_wastewater_with_its_own_meter_is_not_reduced_for_absence(db_url: str, conn) -> None:
    from meterhub.billing.rules.volumes import WASTEWATER_FORMULA

    add_building(conn, "WW", {"W1": "1", "W2": "2"})
    add_period(conn, "WW", "2025-11", "draft")
    conn.execute("UPDATE premises SET meter_install_possible = false WHERE building_id = 'WW'")
    for account, formula, method in (
        ("W1", WASTEWATER_FORMULA, "normative"),  # derived from cold water: follows it (Decision 12)
        ("W2", "ПП 354, Прил. 2, ф. 1", "meter"),  # its own wastewater meter: nothing to follow
    ):
        # cold water by normative: 2 persons × 5 m³ = 10 m³ × 50.00 = 500.00 ₽
        add_charge(conn, "WW", "2025-11", account, "cold_water", "500.00", method="normative", volume="10")
        add_charge(conn, "WW", "2025-11", account, "wastewater", "400.00", method=method, tariff="40")
        conn.execute(
            "INSERT INTO period_volumes (building_id, period, account_no, service, zone, volume, method,"
            " formula, persons, normative, coefficient) VALUES"
            " ('WW', '2025-11', %s, 'cold_water', 'single', 10, 'normative', 'ф. 4', 2, 5, 1),"
            " ('WW', '2025-11', %s, 'wastewater', 'single', 10, %s, %s,"
            " NULL, NULL, 1)",
            (account, account, method, formula),
        )
        conn.execute(
            "INSERT INTO absence_periods (account_no, departed_on, returned_on) VALUES (%s, '2025-11-05',"
            " '2025-11-18')",
            (account,),
        )
    lines = run_service_recalculations(conn, "WW", BillingPeriod(2025, 11))
    got = {(r.account_no, r.service): r.amount_kopecks for r in lines}
    # cold water: 500.00 × 1 × 12 / (2 × 30) = 100.00 ₽ for both accounts; derived wastewater of W1:
    # 10 m³ × 12 / (2 × 30) = 2 m³ × 40.00 = 80.00 ₽; W2's metered wastewater is not reduced
    assert got == {("W1", "cold_water"): -10000, ("W1", "wastewater"): -8000, ("W2", "cold_water"): -10000}
