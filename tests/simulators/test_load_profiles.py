"""Load curves: deterministic, day/night, weekday/weekend, water draws, heating season."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.core import MeterKind
from meterhub.simulators.load_profiles import consumption, consumption_rate, outdoor_temperature

MSK = ZoneInfo("Europe/Moscow")
MONDAY = datetime(2026, 1, 12, tzinfo=MSK)
SATURDAY = datetime(2026, 1, 17, tzinfo=MSK)


def hourly(kind: MeterKind, day: datetime, seed: int, days: int = 1) -> list[float]:
    """Mean consumption per local hour over ``days`` days starting at ``day``."""
    out = [0.0] * 24
    for d in range(days):
        for h in range(24):
            start = day + timedelta(days=7 * d, hours=h)
            out[h] += consumption(kind, start, start + timedelta(hours=1), seed) / days
    return out


def test_same_seed_same_curve_other_seed_other_curve() -> None:
    a = consumption(MeterKind.ELECTRICITY, MONDAY, MONDAY + timedelta(days=1), 5)
    b = consumption(MeterKind.ELECTRICITY, MONDAY, MONDAY + timedelta(days=1), 5)
    c = consumption(MeterKind.ELECTRICITY, MONDAY, MONDAY + timedelta(days=1), 6)
    assert a == b != c


def test_electricity_evening_peak_above_night_and_weekend_days_busier() -> None:
    weekday = hourly(MeterKind.ELECTRICITY, MONDAY, 3)
    weekend = hourly(MeterKind.ELECTRICITY, SATURDAY, 3)
    assert min(weekday[19:22]) > 2 * max(weekday[2:5])
    assert sum(weekend[10:16]) > 1.5 * sum(weekday[10:16])
    daily = sum(weekday)
    assert 3.0 < daily < 30.0  # an apartment uses a few kWh a day


def test_water_comes_in_draws_and_mostly_mornings_and_evenings() -> None:
    minutes = [MONDAY + timedelta(minutes=m) for m in range(24 * 60)]
    rates = [consumption_rate(MeterKind.COLD_WATER, at, 11) for at in minutes]
    assert rates.count(0.0) > 0.6 * len(rates)  # no flow most of the time
    assert all(r == 0.0 or 0.24 <= r <= 0.6 for r in rates)
    profile = hourly(MeterKind.COLD_WATER, MONDAY, 11, days=4)
    assert sum(profile[6:9]) + sum(profile[18:22]) > 3 * sum(profile[0:5] + profile[10:13])
    assert 0.05 < sum(profile) < 1.0  # 50 L … 1 m³ a day per apartment


def test_hot_water_less_than_cold() -> None:
    week = MONDAY + timedelta(days=7)
    cold = sum(consumption(MeterKind.COLD_WATER, MONDAY, week, s) for s in range(5))
    hot = sum(consumption(MeterKind.HOT_WATER, MONDAY, week, s) for s in range(5))
    assert hot < cold


def test_heating_follows_the_season() -> None:
    july = datetime(2026, 7, 15, tzinfo=MSK)
    assert consumption(MeterKind.HEAT, july, july + timedelta(days=1), 1) == 0.0
    january_day = consumption(MeterKind.HEAT, MONDAY, MONDAY + timedelta(days=1), 1)
    assert 0.005 < january_day < 0.1  # Gcal per apartment-day in winter
    assert outdoor_temperature(MONDAY, 1) < outdoor_temperature(july, 1)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(list(MeterKind)), st.integers(0, 10_000), st.integers(0, 17_520), st.integers(1, 180))
def test_consumption_is_additive_and_never_negative(
    kind: MeterKind, seed: int, hour: int, minutes: int
) -> None:
    start = MONDAY + timedelta(hours=hour, seconds=17)
    middle = start + timedelta(minutes=minutes / 2)
    end = start + timedelta(minutes=minutes)
    whole = consumption(kind, start, end, seed)
    assert whole >= 0.0
    halves = consumption(kind, start, middle, seed) + consumption(kind, middle, end, seed)
    assert whole == pytest.approx(halves, rel=1e-9, abs=1e-12)
