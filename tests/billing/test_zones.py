"""Zone schedules in local time and splitting hourly series by the building's local hour."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.zones import (
    SINGLE_RATE_SCHEDULE,
    THREE_ZONE_SCHEDULE,
    TWO_ZONE_SCHEDULE,
    HourlySeries,
    Zone,
    ZoneInterval,
    ZoneSchedule,
    ZoneScheme,
    collapse_zone_volumes,
    local_days_and_hours,
    split_hourly_by_zone,
    zone_volumes_from_registers,
)

D = Decimal


def _us(ts: datetime) -> int:
    return int((ts - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def test_default_schedules_match_the_household_intervals() -> None:
    # two-zone: night 23–07, day 07–23 (ФСТ 1473-э, local time)
    assert [TWO_ZONE_SCHEDULE.zone_of_hour(h) for h in (6, 7, 22, 23, 0)] == [
        Zone.NIGHT, Zone.DAY, Zone.DAY, Zone.NIGHT, Zone.NIGHT,
    ]  # fmt: skip
    # three-zone: peak 07–10 & 17–21, semi-peak 10–17 & 21–23, night 23–07
    zones = THREE_ZONE_SCHEDULE.hour_zones
    assert zones.count(Zone.PEAK) == 7 and zones.count(Zone.SEMI_PEAK) == 9 and zones.count(Zone.NIGHT) == 8
    assert [zones[h] for h in (7, 9, 10, 16, 17, 20, 21, 22, 23)] == [
        Zone.PEAK, Zone.PEAK, Zone.SEMI_PEAK, Zone.SEMI_PEAK, Zone.PEAK, Zone.PEAK,
        Zone.SEMI_PEAK, Zone.SEMI_PEAK, Zone.NIGHT,
    ]  # fmt: skip
    assert set(SINGLE_RATE_SCHEDULE.hour_zones) == {Zone.SINGLE}


def test_schedules_are_validated() -> None:
    with pytest.raises(ValueError, match="belong to no zone"):
        ZoneSchedule(
            "gap", ZoneScheme.TWO_ZONE, (ZoneInterval(Zone.DAY, 7, 22), ZoneInterval(Zone.NIGHT, 23, 7))
        )
    with pytest.raises(ValueError, match="in both"):
        ZoneSchedule(
            "overlap", ZoneScheme.TWO_ZONE, (ZoneInterval(Zone.DAY, 7, 23), ZoneInterval(Zone.NIGHT, 22, 7))
        )
    with pytest.raises(ValueError, match="not part of"):
        ZoneSchedule("bad", ZoneScheme.TWO_ZONE, (ZoneInterval(Zone.PEAK, 0, 24),))
    # a regional variant is just data: night 22–06
    custom = ZoneSchedule(
        "22–06", ZoneScheme.TWO_ZONE, (ZoneInterval(Zone.DAY, 6, 22), ZoneInterval(Zone.NIGHT, 22, 6))
    )
    assert custom.zone_of_hour(22) is Zone.NIGHT and custom.zone_of_hour(6) is Zone.DAY


def test_e3_interval_data_to_zones_yekaterinburg() -> None:
    """billing-rules.md E-3: Asia/Yekaterinburg, January 2026, 1 kWh every hour (744 h)."""
    hours = BillingPeriod(2026, 1).utc_hour_starts("Asia/Yekaterinburg")
    assert len(hours) == 744
    series = HourlySeries.from_micro([_us(h) for h in hours], [1_000_000] * 744)
    two = split_hourly_by_zone(series, "Asia/Yekaterinburg", TWO_ZONE_SCHEDULE)
    assert two == {Zone.DAY: D(496), Zone.NIGHT: D(248)}  # 16 h × 31 d; 8 h × 31 d
    three = split_hourly_by_zone(series, "Asia/Yekaterinburg", THREE_ZONE_SCHEDULE)
    # peak 7 h × 31 = 217; semi-peak 9 h × 31 = 279; night 8 h × 31 = 248
    assert three == {Zone.PEAK: D(217), Zone.SEMI_PEAK: D(279), Zone.NIGHT: D(248)}


def test_same_utc_hours_land_in_different_zones_in_omsk_and_moscow() -> None:
    # UTC 2026-01-15 16:00, 17:00, 18:00 with 1, 2, 4 kWh.
    starts = [datetime(2026, 1, 15, h, tzinfo=UTC) for h in (16, 17, 18)]
    series = HourlySeries.from_decimals(starts, [D(1), D(2), D(4)])
    # Moscow (UTC+3): local 19, 20, 21 → peak, peak, semi-peak; all day.
    assert split_hourly_by_zone(series, "Europe/Moscow", TWO_ZONE_SCHEDULE) == {
        Zone.DAY: D(7),
        Zone.NIGHT: D(0),
    }
    assert split_hourly_by_zone(series, "Europe/Moscow", THREE_ZONE_SCHEDULE) == {
        Zone.PEAK: D(3), Zone.SEMI_PEAK: D(4), Zone.NIGHT: D(0),  # 1 + 2; 4
    }  # fmt: skip
    # Omsk (UTC+6): local 22, 23, 00 → semi-peak, night, night; day 1, night 2 + 4 = 6.
    assert split_hourly_by_zone(series, "Asia/Omsk", TWO_ZONE_SCHEDULE) == {Zone.DAY: D(1), Zone.NIGHT: D(6)}
    assert split_hourly_by_zone(series, "Asia/Omsk", THREE_ZONE_SCHEDULE) == {
        Zone.PEAK: D(0), Zone.SEMI_PEAK: D(1), Zone.NIGHT: D(6),
    }  # fmt: skip


def test_first_local_hour_of_a_month_is_in_the_previous_utc_day() -> None:
    # February 2026 in Omsk starts at 2026-01-31 18:00 UTC = 2026-02-01 00:00 local → night.
    start, _ = BillingPeriod(2026, 2).bounds_utc("Asia/Omsk")
    days, hours = local_days_and_hours(np.array([_us(start)]), ZoneInfo("Asia/Omsk"))
    assert hours.tolist() == [0]
    assert days.tolist() == [(datetime(2026, 2, 1) - datetime(1970, 1, 1)).days]
    series = HourlySeries.from_decimals([start], [D("0.75")])
    assert split_hourly_by_zone(series, "Asia/Omsk", TWO_ZONE_SCHEDULE)[Zone.NIGHT] == D("0.75")


def test_local_hours_across_a_dst_transition() -> None:
    # Europe/Berlin 2026-03-29: 00:00 UTC = 01:00 CET, 01:00 UTC = 03:00 CEST (02:00 local does not exist).
    starts = np.array([_us(datetime(2026, 3, 29, h, tzinfo=UTC)) for h in (0, 1, 2)])
    _, hours = local_days_and_hours(starts, ZoneInfo("Europe/Berlin"))
    assert hours.tolist() == [1, 3, 4]


def test_micro_and_decimal_series_agree_and_refuse_floats() -> None:
    starts = [datetime(2026, 1, 10, h, tzinfo=UTC) for h in range(24)]
    micro = HourlySeries.from_micro([_us(s) for s in starts], list(range(1, 25)))
    dec = HourlySeries.from_decimals(starts, [D(i).scaleb(-6) for i in range(1, 25)])
    assert micro.total() == dec.total() == D("0.000300")  # Σ 1..24 = 300 micro-units
    tz = "Asia/Novosibirsk"
    assert split_hourly_by_zone(micro, tz, THREE_ZONE_SCHEDULE) == split_hourly_by_zone(
        dec, tz, THREE_ZONE_SCHEDULE
    )
    with pytest.raises(TypeError, match="integer array"):
        HourlySeries.from_micro([0], [1.5])
    with pytest.raises(TypeError, match="float"):
        HourlySeries.from_decimals(starts[:1], [1.5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="time zone"):
        HourlySeries.from_decimals([datetime(2026, 1, 1)], [D(1)])


def test_zone_volumes_from_meter_registers() -> None:
    # E-1: day T1 12 345.67 → 12 545.67 = 200.00; night T2 5 432.10 → 5 532.10 = 100.00
    two = zone_volumes_from_registers(
        {"T1": D("12545.67") - D("12345.67"), "T2": D("5532.10") - D("5432.10")}
    )
    assert two == {Zone.DAY: D("200.00"), Zone.NIGHT: D("100.00")}
    three = zone_volumes_from_registers({"T1": D(70), "T2": D(80), "T3": D(90)})
    assert three == {Zone.PEAK: D(70), Zone.NIGHT: D(80), Zone.SEMI_PEAK: D(90)}
    assert zone_volumes_from_registers({"T": D(5)}) == {Zone.SINGLE: D(5)}
    custom = zone_volumes_from_registers({"T1": D(1), "T2": D(2)}, {"T1": Zone.NIGHT, "T2": Zone.DAY})
    assert custom == {Zone.NIGHT: D(1), Zone.DAY: D(2)}


def test_collapse_zone_volumes() -> None:
    three = {Zone.PEAK: D(70), Zone.SEMI_PEAK: D(90), Zone.NIGHT: D(80)}
    assert collapse_zone_volumes(three, ZoneScheme.TWO_ZONE) == {
        Zone.DAY: D(160),
        Zone.NIGHT: D(80),
    }  # 70 + 90
    assert collapse_zone_volumes(three, ZoneScheme.SINGLE_RATE) == {Zone.SINGLE: D(240)}
    with pytest.raises(ValueError, match="three-tariff meter"):
        collapse_zone_volumes({Zone.DAY: D(1), Zone.NIGHT: D(1)}, ZoneScheme.THREE_ZONE)
    with pytest.raises(ValueError, match="single-rate volume"):
        collapse_zone_volumes({Zone.SINGLE: D(1)}, ZoneScheme.TWO_ZONE)
