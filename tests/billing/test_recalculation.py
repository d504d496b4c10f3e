"""Recalculation of a closed period as difference lines in the next open period."""

from datetime import date
from decimal import Decimal

import pytest

from meterhub.billing.rules.charges import AccountInput, compute_account_charges
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.recalculation import recalculation_lines
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer
from meterhub.billing.rules.zones import TWO_ZONE_SCHEDULE, Zone

D = Decimal
JAN, FEB = BillingPeriod(2026, 1), BillingPeriod(2026, 2)
TARIFF = Tariff(
    Service.ELECTRICITY,
    date(2025, 7, 1),
    {Zone.DAY: D("7.85"), Zone.NIGHT: D("3.47")},
    schedule=TWO_ZONE_SCHEDULE,
)
HISTORY = [{Zone.DAY: D(200), Zone.NIGHT: D(100)}] * 6


def _lines(meter: MeterPeriod):
    account = AccountInput(
        "LS-7", D("40"), residents=1, services=(ServiceConsumer(Service.ELECTRICITY, meter),)
    )
    return compute_account_charges(account, JAN, [TARIFF], "Europe/Moscow").lines


def test_late_readings_after_close_become_february_lines() -> None:
    closed = _lines(MeterPeriod(MeterStatus.NO_READINGS, history=HISTORY))  # I-3: 1570.00 + 347.00 = 1917.00
    corrected = _lines(MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.DAY: D(220), Zone.NIGHT: D(90)}))
    recalc = recalculation_lines(closed, corrected, in_period=FEB, reason="late readings (ПП 354 п. 61)")
    by_zone = {r.zone: r for r in recalc}
    # day: 220 × 7.85 = 1727.00 − 1570.00 = +157.00 ; night: 90 × 3.47 = 312.30 − 347.00 = −34.70
    assert by_zone[Zone.DAY].amount == D("157.00") and by_zone[Zone.DAY].volume_delta == D(20)
    assert by_zone[Zone.NIGHT].amount == D("-34.70") and by_zone[Zone.NIGHT].volume_delta == D(-10)
    assert all(r.period == FEB and r.corrects_period == JAN for r in recalc)
    assert by_zone[Zone.DAY].method_before == "average" and by_zone[Zone.DAY].method_after == "meter"
    # closed receipt + recalculation = the corrected receipt
    assert sum(line.amount for line in closed) + sum(r.amount for r in recalc) == sum(
        line.amount for line in corrected
    )


def test_unchanged_lines_give_nothing_and_periods_are_checked() -> None:
    lines = _lines(MeterPeriod(MeterStatus.NO_READINGS, history=HISTORY))
    assert recalculation_lines(lines, lines, in_period=FEB, reason="none") == []
    assert recalculation_lines([], [], in_period=FEB, reason="none") == []
    with pytest.raises(ValueError, match="later open period"):
        recalculation_lines(lines, lines, in_period=JAN, reason="x")
    with pytest.raises(ValueError, match="two electricity"):
        recalculation_lines([*lines, *lines], lines, in_period=FEB, reason="x")


def test_a_line_on_one_side_only_is_corrected_against_zero() -> None:
    closed = _lines(MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.DAY: D(10), Zone.NIGHT: D(0)}))
    recalc = recalculation_lines(closed, [], in_period=FEB, reason="account closed retroactively")
    assert [r.amount for r in recalc] == [
        D("-78.50")
    ]  # 10 × 7.85 reversed; the zero night line needs nothing
