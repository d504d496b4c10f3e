"""Tariffs with validity dates, tariff parts of a month, proration by days and by hourly data."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import (
    PriceBasis,
    Service,
    Tariff,
    prorate_by_days,
    split_hourly_by_part,
    tariff_parts,
)
from meterhub.billing.rules.zones import TWO_ZONE_SCHEDULE, HourlySeries, Zone

D = Decimal
JAN = BillingPeriod(2026, 1)


def _electricity(valid_from: date, valid_to: date | None, price: str) -> Tariff:
    return Tariff(Service.ELECTRICITY, valid_from, {Zone.SINGLE: D(price)}, valid_to)


def test_tariff_validation() -> None:
    with pytest.raises(ValueError, match="no price for zone"):
        Tariff(Service.ELECTRICITY, date(2026, 1, 1), {Zone.DAY: D("7.85")}, schedule=TWO_ZONE_SCHEDULE)
    with pytest.raises(TypeError, match="float"):
        Tariff(Service.ELECTRICITY, date(2026, 1, 1), {Zone.SINGLE: 6.43})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="after valid_from"):
        _electricity(date(2026, 2, 1), date(2026, 1, 1), "1")
    with pytest.raises(ValueError, match="per-m²"):
        Tariff(
            Service.MAINTENANCE,
            date(2026, 1, 1),
            {Zone.DAY: D(1), Zone.NIGHT: D(1)},
            schedule=TWO_ZONE_SCHEDULE,
            basis=PriceBasis.PER_M2,
        )
    zoned = Tariff(
        Service.ELECTRICITY,
        date(2026, 1, 1),
        {Zone.DAY: D("7.85"), Zone.NIGHT: D("3.47")},
        schedule=TWO_ZONE_SCHEDULE,
    )
    with pytest.raises(ValueError, match=r"single-rate \(Zone.SINGLE\) price"):
        zoned.price(Zone.SINGLE)


def test_parts_of_a_month() -> None:
    tariffs = [
        _electricity(date(2025, 7, 1), date(2026, 1, 16), "6.00"),
        _electricity(date(2026, 1, 16), None, "6.50"),
        Tariff(Service.COLD_WATER, date(2020, 1, 1), {Zone.SINGLE: D("52.17")}),
    ]
    parts = tariff_parts(tariffs, Service.ELECTRICITY, JAN)
    assert [(p.start, p.end, p.days) for p in parts] == [
        (date(2026, 1, 1), date(2026, 1, 16), 15),
        (date(2026, 1, 16), date(2026, 2, 1), 16),
    ]
    assert len(tariff_parts(tariffs, Service.COLD_WATER, JAN)) == 1


def test_gaps_and_overlaps_are_errors() -> None:
    with pytest.raises(ValueError, match=r"no electricity tariff for 2026-01-01\.\.2026-01-10"):
        tariff_parts([_electricity(date(2026, 1, 10), None, "1")], Service.ELECTRICITY, JAN)
    with pytest.raises(ValueError, match="no electricity tariff for 2026-01-20"):
        tariff_parts([_electricity(date(2025, 1, 1), date(2026, 1, 20), "1")], Service.ELECTRICITY, JAN)
    overlapping = [_electricity(date(2025, 1, 1), None, "1"), _electricity(date(2026, 1, 10), None, "2")]
    with pytest.raises(ValueError, match="overlap"):
        tariff_parts(overlapping, Service.ELECTRICITY, JAN)
    with pytest.raises(ValueError, match="no cold_water tariff"):
        tariff_parts(overlapping, Service.COLD_WATER, JAN)


def test_prorate_by_days_adds_up_exactly() -> None:
    parts = tariff_parts(
        [
            _electricity(date(2025, 1, 1), date(2026, 1, 11), "6"),
            _electricity(date(2026, 1, 11), None, "6.5"),
        ],
        Service.ELECTRICITY,
        JAN,
    )
    # 310 kWh over 31 days: 10 days → 310 × 10/31 = 100; 21 days → 210
    assert prorate_by_days(D(310), parts, JAN) == [D(100), D(210)]
    shares = prorate_by_days(D(1), parts, JAN)  # 10/31 is a repeating fraction
    assert sum(shares) == D(1)


def test_hourly_series_split_exactly_at_a_tariff_change_in_local_time() -> None:
    tz = ZoneInfo("Europe/Moscow")
    parts = tariff_parts(
        [
            _electricity(date(2025, 1, 1), date(2026, 1, 16), "6"),
            _electricity(date(2026, 1, 16), None, "6.5"),
        ],
        Service.ELECTRICITY,
        JAN,
    )
    # local 2026-01-16 00:00 MSK = 2026-01-15 21:00 UTC: the first hour of the second part
    last_of_first = datetime(2026, 1, 15, 20, tzinfo=UTC)
    first_of_second = last_of_first + timedelta(hours=1)
    series = HourlySeries.from_decimals([last_of_first, first_of_second], [D(3), D(100)])
    assert split_hourly_by_part(series, tz, parts, JAN) == [{Zone.SINGLE: D(3)}, {Zone.SINGLE: D(100)}]
    # parts may even change the zone scheme: the second part is two-zone, local 00:00 is night
    two_zone = Tariff(
        Service.ELECTRICITY,
        date(2026, 1, 16),
        {Zone.DAY: D("7.85"), Zone.NIGHT: D("3.47")},
        schedule=TWO_ZONE_SCHEDULE,
    )
    mixed = tariff_parts(
        [_electricity(date(2025, 1, 1), date(2026, 1, 16), "6"), two_zone], Service.ELECTRICITY, JAN
    )
    assert split_hourly_by_part(series, tz, mixed, JAN) == [
        {Zone.SINGLE: D(3)},
        {Zone.DAY: D(0), Zone.NIGHT: D(100)},
    ]


def test_hours_outside_the_period_are_refused() -> None:
    tz = ZoneInfo("Asia/Omsk")
    feb = BillingPeriod(2026, 2)
    parts = tariff_parts([_electricity(date(2025, 1, 1), None, "6")], Service.ELECTRICITY, feb)
    inside = HourlySeries.from_decimals([datetime(2026, 1, 31, 18, tzinfo=UTC)], [D(1)])  # 00:00 Feb 1 local
    assert split_hourly_by_part(inside, tz, parts, feb) == [{Zone.SINGLE: D(1)}]
    outside = HourlySeries.from_decimals(
        [datetime(2026, 1, 31, 17, tzinfo=UTC)], [D(1)]
    )  # 23:00 Jan 31 local
    with pytest.raises(ValueError, match="outside period 2026-02"):
        split_hourly_by_part(outside, tz, parts, feb)
