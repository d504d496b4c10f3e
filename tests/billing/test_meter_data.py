"""A meter's validity and volume for a period: hourly completeness, suspect hours, register deltas with
multiplier and rollover, expired verification; zone schedules as text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.close.repository import CounterEventRow, MeterLinkRow
from meterhub.billing.rules.meter_data import (
    MeterProblem,
    RegisterWindow,
    meter_data_from_hourly,
    meter_data_from_registers,
)
from meterhub.billing.rules.schedule_text import format_zone_schedule, parse_zone_schedule
from meterhub.billing.rules.zones import THREE_ZONE_SCHEDULE, TWO_ZONE_SCHEDULE, Zone, ZoneScheme
from meterhub.timeseries.bulk_reads import RegisterValue
from meterhub.timeseries.queries import PeriodTotal

END = date(2026, 2, 1)
T = datetime(2026, 1, 1, tzinfo=UTC)


def _link(service: str = "electricity", due: date | None = None, mult: str = "1", digits: int | None = None):
    return MeterLinkRow("M-1", "1", service, due, D(mult), digits)


def _total(register: str, volume: str, present: int = 744, suspect: int = 0) -> PeriodTotal:
    return PeriodTotal("M-1", register, D(volume), 744, present, present, 0, 0, suspect, None, None)


def test_complete_hourly_registers_give_zones_and_total() -> None:
    totals = {
        "energy_import_kwh": _total("energy_import_kwh", "300"),
        "energy_import_t1_kwh": _total("energy_import_t1_kwh", "200"),
        "energy_import_t2_kwh": _total("energy_import_t2_kwh", "100"),
    }
    data = meter_data_from_hourly(_link(), totals, END)
    assert data.valid and data.zones == {Zone.DAY: D(200), Zone.NIGHT: D(100)} and data.total == D(300)
    assert data.hourly_key == ("M-1", "energy_import_kwh")


@pytest.mark.parametrize(
    ("present", "suspect", "problem"),
    [(743, 0, MeterProblem.INCOMPLETE), (744, 2, MeterProblem.SUSPECT)],
)
def test_incomplete_or_suspect_hours_make_the_meter_invalid(present: int, suspect: int, problem) -> None:
    totals = {"water_m3": _total("water_m3", "5", present, suspect)}
    data = meter_data_from_hourly(_link("cold_water"), totals, END)
    assert not data.valid and data.problem is problem
    assert "M-1" in data.detail


def test_expired_verification_wins_over_good_data() -> None:
    totals = {"water_m3": _total("water_m3", "5")}
    data = meter_data_from_hourly(_link("cold_water", due=date(2026, 1, 31)), totals, END)
    assert data.problem is MeterProblem.EXPIRED
    assert meter_data_from_hourly(
        _link("cold_water", due=END), totals, END
    ).valid  # due on 1 Feb: still valid


def test_register_delta_with_multiplier_and_rollover() -> None:
    values = {"water_m3": [RegisterValue(99_998.5, T), RegisterValue(3.25, T)]}
    # a 5-digit counter wraps: 3.25 − 99 998.5 + 10^5 = 4.75 m³; × multiplier 2 = 9.5
    data = meter_data_from_registers(_link("cold_water", mult="2", digits=5), values, END)
    assert data.valid and data.total == D("9.5")
    missing = meter_data_from_registers(_link("cold_water"), {"water_m3": [None, RegisterValue(1.0, T)]}, END)
    assert missing.problem is MeterProblem.NO_DATA


def test_zone_schedule_text_round_trip_and_default() -> None:
    assert parse_zone_schedule("", ZoneScheme.TWO_ZONE) is TWO_ZONE_SCHEDULE
    three = parse_zone_schedule(format_zone_schedule(THREE_ZONE_SCHEDULE), ZoneScheme.THREE_ZONE)
    assert three.hour_zones == THREE_ZONE_SCHEDULE.hour_zones
    with pytest.raises(ValueError, match="unknown zone 'evening'"):
        parse_zone_schedule("evening=7-23", ZoneScheme.TWO_ZONE)


# --- readings window and replacement acts (pure) ---------------------------------------------------

W_PREV2 = datetime(2025, 11, 25, 21, tzinfo=UTC)  # Nov 26 00:00 Moscow
W_PREV = datetime(2025, 12, 25, 21, tzinfo=UTC)  # Dec 26 00:00 Moscow: end of December's window
W_END = datetime(2026, 1, 25, 21, tzinfo=UTC)  # Jan 26 00:00 Moscow: end of January's window
WINDOW = RegisterWindow(start_at=W_PREV, end_at=W_END, start_after=W_PREV2, end_after=W_PREV)


def _at(day: int, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, 9, tzinfo=UTC)


def test_window_readings_give_the_period_volume() -> None:
    values = {"water_m3": [RegisterValue(10.0, _at(20, 12, 2025)), RegisterValue(16.5, _at(24))]}
    data = meter_data_from_registers(_link("cold_water"), values, END, window=WINDOW)
    assert data.valid and data.total == D("6.5")  # 16.5 − 10.0


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # the start reading is older than December's window (it was November's): no valid start
        (RegisterValue(10.0, _at(20, 11, 2025)), RegisterValue(16.5, _at(24))),
        # the "end" reading is December's own (no January reading inside January's window)
        (RegisterValue(10.0, _at(20, 12, 2025)), RegisterValue(10.0, _at(20, 12, 2025))),
    ],
)
def test_a_reading_outside_its_window_is_not_used(start: RegisterValue, end: RegisterValue) -> None:
    data = meter_data_from_registers(_link("cold_water"), {"water_m3": [start, end]}, END, window=WINDOW)
    assert data.problem is MeterProblem.NO_DATA and "readings windows" in data.detail


def test_removal_ends_the_old_meters_chain() -> None:
    # old meter: 10.0 in December's window, final reading 13.0 at its removal on Jan 15; its later
    # reading (16.5 on Jan 24) is not its own any more → 13.0 − 10.0 = 3.0
    values = {"water_m3": [RegisterValue(10.0, _at(20, 12, 2025)), RegisterValue(16.5, _at(24))]}
    events = {"water_m3": [CounterEventRow("removal", _at(15), 13.0, None)]}
    data = meter_data_from_registers(_link("cold_water"), values, END, events=events, window=WINDOW)
    assert data.valid and data.total == D("3.0")


def test_installation_starts_the_new_meters_chain() -> None:
    # new meter: initial reading 0.5 at its installation on Jan 15, 2.5 on Jan 24 → 2.0 (× multiplier 2 = 4.0)
    values = {"water_m3": [None, RegisterValue(2.5, _at(24))]}
    events = {"water_m3": [CounterEventRow("installation", _at(15), None, 0.5)]}
    data = meter_data_from_registers(_link("cold_water", mult="2"), values, END, events=events, window=WINDOW)
    assert data.valid and data.total == D("4.0")


def test_reset_closes_one_chain_and_opens_the_next() -> None:
    # 10.0 → 12.0 before a counter reset on Jan 10 (value before 12.0, after 0.0), then 0.0 → 3.0:
    # 2.0 + 3.0 = 5.0
    values = {"water_m3": [RegisterValue(10.0, _at(20, 12, 2025)), RegisterValue(3.0, _at(24))]}
    events = {"water_m3": [CounterEventRow("reset", _at(10), 12.0, 0.0)]}
    data = meter_data_from_registers(_link("cold_water"), values, END, events=events, window=WINDOW)
    assert data.valid and data.total == D("5.0")


def test_expiry_before_the_removal_still_counts_and_after_it_does_not() -> None:
    values = {"water_m3": [RegisterValue(10.0, _at(20, 12, 2025)), None]}
    events = {"water_m3": [CounterEventRow("removal", _at(15), 13.0, None)]}
    replaced_before_due = _link("cold_water", due=date(2026, 1, 20))
    data = meter_data_from_registers(replaced_before_due, values, END, events=events, window=WINDOW)
    assert data.valid and data.total == D("3.0")
    due_before_removal = _link("cold_water", due=date(2026, 1, 10))
    data = meter_data_from_registers(due_before_removal, values, END, events=events, window=WINDOW)
    assert data.problem is MeterProblem.EXPIRED
