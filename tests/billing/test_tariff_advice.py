"""Tariff advice: hand-computed costs under single-rate, two-zone and three-zone tariffs (rules §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.residents.tariff_advice import advise_tariff, last_full_months
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.zones import (
    THREE_ZONE_SCHEDULE,
    TWO_ZONE_SCHEDULE,
    HourlySeries,
    Zone,
    ZoneScheme,
)

YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")  # UTC+5, no DST
JAN = BillingPeriod(2026, 1)
E = Service.ELECTRICITY


def single(price: str, valid_from: date = date(2025, 7, 1), valid_to: date | None = None) -> Tariff:
    return Tariff(E, valid_from, {Zone.SINGLE: Decimal(price)}, valid_to=valid_to)


def two_zone(day: str, night: str) -> Tariff:
    return Tariff(
        E, date(2025, 7, 1), {Zone.DAY: Decimal(day), Zone.NIGHT: Decimal(night)}, schedule=TWO_ZONE_SCHEDULE
    )


def three_zone(peak: str, semi: str, night: str) -> Tariff:
    return Tariff(
        E,
        date(2025, 7, 1),
        {Zone.PEAK: Decimal(peak), Zone.SEMI_PEAK: Decimal(semi), Zone.NIGHT: Decimal(night)},
        schedule=THREE_ZONE_SCHEDULE,
    )


OPTIONS = {
    ZoneScheme.SINGLE_RATE: [single("6.43")],
    ZoneScheme.TWO_ZONE: [two_zone("7.85", "3.47")],
    ZoneScheme.THREE_ZONE: [three_zone("8.95", "7.46", "3.47")],
}


def hourly(period: BillingPeriod, tz: ZoneInfo, micro_of_local_hour) -> HourlySeries:
    """Every real hour of the local month with ``micro_of_local_hour(local hour)`` micro-kWh."""
    hours = period.utc_hour_starts(tz)
    starts = [int(h.timestamp()) * 1_000_000 for h in hours]
    return HourlySeries.from_micro(starts, [micro_of_local_hour(h.astimezone(tz).hour) for h in hours])


def test_flat_month_matches_worked_example_e3():
    # E-3: January 2026, 1 kWh every hour, 744 h: day 07–23 = 16 h × 31 = 496, night 8 h × 31 = 248;
    # peak 07–10 + 17–21 = 7 h × 31 = 217, semi-peak 10–17 + 21–23 = 9 h × 31 = 279.
    series = hourly(JAN, YEKATERINBURG, lambda h: 1_000_000)
    advice = advise_tariff(series, YEKATERINBURG, [JAN], OPTIONS, current=ZoneScheme.SINGLE_RATE)
    single_cost = advice.costs[ZoneScheme.SINGLE_RATE]
    assert single_cost.total == Decimal("4783.92")  # 744 × 6.43
    two = advice.costs[ZoneScheme.TWO_ZONE]
    assert two.volumes == {Zone.DAY: Decimal(496), Zone.NIGHT: Decimal(248)}
    assert two.amounts == {Zone.DAY: Decimal("3893.60"), Zone.NIGHT: Decimal("860.56")}  # 496×7.85, 248×3.47
    assert two.total == Decimal("4754.16")
    three = advice.costs[ZoneScheme.THREE_ZONE]
    assert three.volumes == {Zone.PEAK: Decimal(217), Zone.SEMI_PEAK: Decimal(279), Zone.NIGHT: Decimal(248)}
    # 217 × 8.95 = 1942.15; 279 × 7.46 = 2081.34; 248 × 3.47 = 860.56
    assert three.total == Decimal("4884.05")
    assert advice.cheapest is ZoneScheme.TWO_ZONE
    assert advice.saving == Decimal("4783.92") - Decimal("4754.16") == Decimal("29.76")
    assert advice.hours_present == advice.hours_expected == 744
    assert advice.volume == Decimal(744)


def test_night_heavy_profile_prefers_three_zone_and_saving_is_against_current_scheme():
    # 3 kWh in each night hour (23–07), 0.2 kWh otherwise, January 2026 (31 days):
    # night = 8 h × 31 × 3 = 744 kWh; peak = 7 × 31 × 0.2 = 43.4; semi = 9 × 31 × 0.2 = 55.8; day = 99.2
    def profile(h: int) -> int:
        return 3_000_000 if h >= 23 or h < 7 else 200_000

    series = hourly(JAN, YEKATERINBURG, profile)
    options = {
        ZoneScheme.SINGLE_RATE: [single("6.00")],
        ZoneScheme.TWO_ZONE: [two_zone("7.00", "3.00")],
        ZoneScheme.THREE_ZONE: [three_zone("9.00", "6.50", "2.80")],
    }
    advice = advise_tariff(series, YEKATERINBURG, [JAN], options, current=ZoneScheme.TWO_ZONE)
    # single: 843.2 × 6 = 5059.20
    assert advice.costs[ZoneScheme.SINGLE_RATE].total == Decimal("5059.20")
    # two-zone: 99.2 × 7 = 694.40; 744 × 3 = 2232.00 → 2926.40
    assert advice.costs[ZoneScheme.TWO_ZONE].total == Decimal("2926.40")
    # three-zone: 43.4 × 9 = 390.60; 55.8 × 6.5 = 362.70; 744 × 2.8 = 2083.20 → 2836.50
    assert advice.costs[ZoneScheme.THREE_ZONE].total == Decimal("2836.50")
    assert advice.cheapest is ZoneScheme.THREE_ZONE
    assert advice.baseline is ZoneScheme.TWO_ZONE
    assert advice.saving == Decimal("89.90")  # 2926.40 − 2836.50


def test_tariff_change_inside_a_month_rounds_each_part_line():
    # February 2026 (28 days), 0.333 kWh every hour; single-rate 5.00 until 15 Feb, 6.00 from 15 Feb.
    # days 1–14: 336 h × 0.333 = 111.888 kWh × 5 = 559.44;
    # days 15–28: 111.888 kWh × 6 = 671.328 → 671.33; total 1230.77
    feb = BillingPeriod(2026, 2)
    series = hourly(feb, YEKATERINBURG, lambda h: 333_000)
    tariffs = [single("5.00", valid_to=date(2026, 2, 15)), single("6.00", valid_from=date(2026, 2, 15))]
    advice = advise_tariff(series, YEKATERINBURG, [feb], {ZoneScheme.SINGLE_RATE: tariffs})
    cost = advice.costs[ZoneScheme.SINGLE_RATE]
    assert cost.total == Decimal("1230.77")
    assert cost.volumes == {Zone.SINGLE: Decimal("223.776")}
    assert advice.cheapest is ZoneScheme.SINGLE_RATE
    assert advice.saving == Decimal(0)


def test_scheme_without_tariff_is_unavailable_not_priced_partially():
    dec, jan = BillingPeriod(2025, 12), JAN
    series = HourlySeries.from_micro(np.empty(0, np.int64), np.empty(0, np.int64))
    late_three_zone = Tariff(
        E,
        date(2026, 1, 1),
        {Zone.PEAK: Decimal(9), Zone.SEMI_PEAK: Decimal(7), Zone.NIGHT: Decimal(3)},
        schedule=THREE_ZONE_SCHEDULE,
    )
    advice = advise_tariff(
        series,
        YEKATERINBURG,
        [dec, jan],
        {ZoneScheme.SINGLE_RATE: [single("6.43")], ZoneScheme.THREE_ZONE: [late_three_zone]},
        current=ZoneScheme.THREE_ZONE,
    )
    assert set(advice.costs) == {ZoneScheme.SINGLE_RATE}
    assert "no electricity tariff for 2025-12-01" in advice.unavailable[ZoneScheme.THREE_ZONE]
    assert "no two_zone electricity tariff" in advice.unavailable[ZoneScheme.TWO_ZONE]
    assert advice.baseline is ZoneScheme.SINGLE_RATE  # the current scheme could not be priced
    assert advice.hours_present == 0 and advice.hours_expected == 744 + 744
    assert not advice.complete


def test_hours_outside_the_months_are_ignored():
    series = hourly(JAN, YEKATERINBURG, lambda h: 1_000_000)
    outside = datetime(2026, 2, 1, 0, tzinfo=YEKATERINBURG).astimezone(UTC)
    starts = np.append(series.hour_starts_us, int(outside.timestamp()) * 1_000_000)
    volumes = np.append(series.volume_micro, 99_000_000)
    advice = advise_tariff(HourlySeries.from_micro(starts, volumes), YEKATERINBURG, [JAN], OPTIONS)
    assert advice.volume == Decimal(744)


def test_mixed_scheme_tariff_list_is_refused():
    with pytest.raises(ValueError, match="are not two_zone tariffs"):
        advise_tariff(
            hourly(JAN, YEKATERINBURG, lambda h: 0),
            YEKATERINBURG,
            [JAN],
            {ZoneScheme.TWO_ZONE: [single("5")]},
        )


def test_last_full_months():
    months = last_full_months(BillingPeriod(2026, 11))
    assert months[0] == BillingPeriod(2025, 11) and months[-1] == BillingPeriod(2026, 10)
    assert len(months) == 12


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9_000_000), min_size=24, max_size=24), st.integers(1, 5))
def test_costs_are_exact_sums_of_rounded_zone_lines(day_profile, days):
    # A profile repeated over the first ``days`` days of January; hours absent after that.
    hours = [datetime(2026, 1, 1, tzinfo=YEKATERINBURG) + timedelta(hours=i) for i in range(24 * days)]
    starts = [int(h.astimezone(UTC).timestamp()) * 1_000_000 for h in hours]
    micro = [day_profile[h.hour] for h in hours]
    advice = advise_tariff(HourlySeries.from_micro(starts, micro), YEKATERINBURG, [JAN], OPTIONS)
    total = Decimal(sum(micro)) / 1_000_000
    night = (
        Decimal(sum(m for h, m in zip(hours, micro, strict=True) if h.hour >= 23 or h.hour < 7)) / 1_000_000
    )
    day = total - night

    def r(x: Decimal) -> Decimal:
        return x.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")

    assert advice.costs[ZoneScheme.SINGLE_RATE].total == r(total * Decimal("6.43"))
    assert advice.costs[ZoneScheme.TWO_ZONE].total == r(day * Decimal("7.85")) + r(night * Decimal("3.47"))
    assert sum(advice.costs[ZoneScheme.THREE_ZONE].volumes.values()) == total
    assert advice.saving is not None and advice.saving >= 0
    assert advice.costs[advice.cheapest].total == min(c.total for c in advice.costs.values())


def test_unavailable_reasons_are_also_given_in_russian():
    late_three_zone = Tariff(
        E,
        date(2026, 1, 15),
        {Zone.PEAK: Decimal(9), Zone.SEMI_PEAK: Decimal(7), Zone.NIGHT: Decimal(3)},
        schedule=THREE_ZONE_SCHEDULE,
    )
    advice = advise_tariff(
        hourly(JAN, YEKATERINBURG, lambda h: 1_000_000),
        YEKATERINBURG,
        [JAN],
        {ZoneScheme.SINGLE_RATE: [single("6.43")], ZoneScheme.THREE_ZONE: [late_three_zone]},
    )
    assert advice.unavailable_ru == {
        ZoneScheme.TWO_ZONE: "Двухзонного тарифа для вашего дома нет",
        ZoneScheme.THREE_ZONE: (
            "Трёхзонного тарифа не было в части января 2026 г., посчитать стоимость за весь период нельзя"
        ),
    }
    assert set(advice.unavailable) == set(advice.unavailable_ru)


def _flat_one_kwh_options(single_price: str, day: str, night: str) -> dict:
    return {ZoneScheme.SINGLE_RATE: [single(single_price)], ZoneScheme.TWO_ZONE: [two_zone(day, night)]}


def test_tie_keeps_the_current_scheme():
    # January, 1 kWh every hour: 744 kWh single-rate × 5.00 = 3720.00;
    # two-zone: 496 day kWh × 6.00 = 2976.00 + 248 night kWh × 3.00 = 744.00 → 3720.00 — a tie.
    series = hourly(JAN, YEKATERINBURG, lambda h: 1_000_000)
    options = _flat_one_kwh_options("5.00", "6.00", "3.00")
    on_two_zone = advise_tariff(series, YEKATERINBURG, [JAN], options, current=ZoneScheme.TWO_ZONE)
    assert on_two_zone.costs[ZoneScheme.SINGLE_RATE].total == Decimal("3720.00")
    assert on_two_zone.costs[ZoneScheme.TWO_ZONE].total == Decimal("3720.00")
    assert on_two_zone.cheapest is ZoneScheme.TWO_ZONE  # stay: the current scheme is among the cheapest
    assert on_two_zone.saving == Decimal(0)
    assert on_two_zone.tied == (ZoneScheme.SINGLE_RATE, ZoneScheme.TWO_ZONE)
    on_single = advise_tariff(series, YEKATERINBURG, [JAN], options, current=ZoneScheme.SINGLE_RATE)
    assert on_single.cheapest is ZoneScheme.SINGLE_RATE and on_single.saving == Decimal(0)
    unknown = advise_tariff(series, YEKATERINBURG, [JAN], options)
    assert unknown.cheapest is ZoneScheme.SINGLE_RATE  # no current scheme: the simpler one
