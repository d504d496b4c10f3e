"""A meter's validity and volume for a period: hourly completeness, suspect hours, register deltas with
multiplier and rollover, expired verification; zone schedules as text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.meter_data import MeterProblem, meter_data_from_hourly, meter_data_from_registers
from meterhub.billing.repository import MeterLinkRow
from meterhub.billing.schedule_text import format_zone_schedule, parse_zone_schedule
from meterhub.billing.zones import THREE_ZONE_SCHEDULE, TWO_ZONE_SCHEDULE, Zone, ZoneScheme
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
