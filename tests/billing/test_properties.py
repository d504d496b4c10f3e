"""Property tests: exact allocation, zone volumes add up, every line within half a kopeck, no floats."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.rules.building import BuildingInput, compute_building_charges
from meterhub.billing.rules.charges import AccountInput
from meterhub.billing.rules.common_property import (
    CommonPropertyInput,
    CommonPropertyMethod,
    allocate_common_property_volume,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money
from meterhub.billing.rules.tariffs import (
    Service,
    Tariff,
    prorate_by_days,
    split_hourly_by_part,
    tariff_parts,
)
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer
from meterhub.billing.rules.zones import (
    DEFAULT_SCHEDULES,
    HourlySeries,
    ZoneScheme,
    split_hourly_by_zone,
)

D = Decimal
ZONES = [
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Asia/Omsk",
    "Asia/Yekaterinburg",
    "Asia/Vladivostok",
    "Europe/Berlin",
]
HOUR_US = 3_600_000_000
JAN_2026_US = 1_767_225_600_000_000  # 2026-01-01 00:00 UTC

areas = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)
volumes = st.decimals(min_value=D(0), max_value=D("1000000"), places=6)
prices = st.decimals(min_value=D("0.000001"), max_value=D("9999"), places=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(areas, min_size=1, max_size=40), volumes)
def test_allocated_common_property_sums_to_the_distributed_volume(
    area_list: list[Decimal], distributed: Decimal
):
    shares = allocate_common_property_volume(
        distributed, {f"acc{i}": a for i, a in enumerate(area_list)}, sum(area_list, D(0))
    )
    with engine_context():
        assert sum(shares.values(), D(0)) == distributed  # exact, before any rounding
    assert all(v >= 0 for v in shares.values())


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.sampled_from(list(ZoneScheme)),
    st.lists(st.tuples(st.integers(0, 24 * 62), st.integers(0, 10**10)), min_size=0, max_size=200),
)
def test_zone_volumes_sum_to_the_total(tz: str, scheme: ZoneScheme, hours: list[tuple[int, int]]) -> None:
    starts = np.array([JAN_2026_US + h * HOUR_US for h, _ in hours], dtype=np.int64)
    micro = np.array([v for _, v in hours], dtype=np.int64)
    series = HourlySeries.from_micro(starts, micro)
    by_zone = split_hourly_by_zone(series, tz, DEFAULT_SCHEDULES[scheme])
    assert set(by_zone) == set(scheme.zones)
    assert sum(by_zone.values(), D(0)) == series.total() == D(int(micro.sum())).scaleb(-6)
    as_decimals = HourlySeries(starts, volumes=tuple(D(int(v)).scaleb(-6) for v in micro))
    assert split_hourly_by_zone(as_decimals, tz, DEFAULT_SCHEDULES[scheme]) == by_zone


@settings(max_examples=500, deadline=None)
@given(st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=12))
def test_round_money_is_within_half_a_kopeck(amount: Decimal) -> None:
    rounded = round_money(amount)
    assert isinstance(rounded, Decimal) and rounded.as_tuple().exponent == -2
    assert abs(amount - rounded) <= D("0.005")


account_strategy = st.tuples(
    areas,
    st.integers(0, 6),  # residents
    st.one_of(
        st.none(), st.decimals(min_value=D(0), max_value=D(500), places=3)
    ),  # metered volume or no meter
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(account_strategy, min_size=1, max_size=12),
    prices,
    prices,
    st.sampled_from(list(CommonPropertyMethod)),
    volumes,
    st.integers(2, 28),
)
def test_every_line_is_within_half_a_kopeck(
    accounts, price_old, price_new, method, house_volume, change_day
) -> None:
    period = BillingPeriod(2026, 2)
    tariffs = (
        Tariff(Service.COLD_WATER, date(2025, 1, 1), {"single": price_old}, date(2026, 2, change_day)),
        Tariff(Service.COLD_WATER, date(2026, 2, change_day), {"single": price_new}),
    )
    inputs = tuple(
        AccountInput(
            f"LS-{i}",
            area,
            residents=residents,
            owners=1,
            services=(
                ServiceConsumer(
                    Service.COLD_WATER,
                    None if volume is None else MeterPeriod(MeterStatus.VALID, {"single": volume}),
                    D("4.86"),
                ),
            ),
        )
        for i, (area, residents, volume) in enumerate(accounts)
    )
    total_area = sum((a[0] for a in accounts), D(0))
    building = BuildingInput(
        "B",
        "Asia/Omsk",
        total_area,
        D("50.5"),
        inputs,
        tariffs,
        (CommonPropertyInput(Service.COLD_WATER, D("0.032"), method, house_volume, history=[D(7)] * 6),),
    )
    result = compute_building_charges(building, period)
    assert result.lines
    for line in result.lines:
        assert isinstance(line.amount_exact, Decimal) and isinstance(line.amount, Decimal)
        assert line.amount.as_tuple().exponent == -2
        assert abs(line.amount_exact - line.amount) <= D("0.005")
        with engine_context():
            assert line.amount_exact == line.volume * line.tariff * line.coefficient
    assert result.total == sum((line.amount for line in result.lines), D(0))


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.lists(st.integers(2, 28), min_size=0, max_size=3, unique=True),
    st.lists(st.integers(0, 10**9), min_size=672, max_size=672),
    st.sampled_from(list(ZoneScheme)),
)
def test_tariff_parts_split_hourly_and_daily_volumes_exactly(
    tz: str, change_days: list[int], micro: list[int], scheme: ZoneScheme
) -> None:
    period = BillingPeriod(2026, 2)
    bounds = [date(2025, 1, 1), *sorted(date(2026, 2, d) for d in change_days)]
    schedule = DEFAULT_SCHEDULES[scheme]
    tariffs = [
        Tariff(
            Service.ELECTRICITY,
            start,
            dict.fromkeys(scheme.zones, D(1)),
            bounds[i + 1] if i + 1 < len(bounds) else None,
            schedule=schedule,
        )
        for i, start in enumerate(bounds)
    ]
    parts = tariff_parts(tariffs, Service.ELECTRICITY, period)
    start, _ = period.bounds_utc(tz)
    first_us = (start - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    series = HourlySeries.from_micro(first_us + np.arange(672, dtype=np.int64) * HOUR_US, micro)
    per_part = split_hourly_by_part(series, ZoneInfo(tz), parts, period)
    assert sum((v for zones in per_part for v in zones.values()), D(0)) == series.total()
    shares = prorate_by_days(series.total(), parts, period)
    with engine_context():
        assert sum(shares, D(0)) == series.total()
