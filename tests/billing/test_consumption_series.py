"""The resident consumption chart (pure): local buckets, DST, quality, zones, exact ₽ rounded per bucket."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.residents.building_charts import MonthFigures, build_service_chart
from meterhub.billing.residents.consumption_series import (
    NoTariffError,
    build_consumption_chart,
    format_micro,
    local_range,
)
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.zones import TWO_ZONE_SCHEDULE, Zone

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


def us(ts: datetime) -> int:
    return int(ts.astimezone(UTC).timestamp()) * 1_000_000


def hours_of(first: date, end: date, tz: ZoneInfo) -> list[int]:
    start, stop = local_range(first, end, tz)
    out, t = [], start
    while t < stop:
        out.append(us(t))
        t += timedelta(hours=1)
    return out


def two_zone(day: str, night: str, valid_from=date(2025, 1, 1), valid_to=None) -> Tariff:
    return Tariff(
        Service.ELECTRICITY,
        valid_from,
        {Zone.DAY: Decimal(day), Zone.NIGHT: Decimal(night)},
        valid_to=valid_to,
        schedule=TWO_ZONE_SCHEDULE,
    )


def chart(hours, micro, quality, first, end, tz=MSK, **kw):
    start, stop = local_range(first, end, tz)
    return build_consumption_chart(hours, micro, quality, start=start, end=stop, tz=tz, **kw)


def test_dst_day_has_23_hour_buckets_and_a_23_hour_day():
    # Berlin springs forward on 2026-03-29: 23 real hours
    hours = hours_of(date(2026, 3, 29), date(2026, 3, 30), BERLIN)
    assert len(hours) == 23
    hourly = chart(hours, [1_000_000] * 23, [0] * 23, date(2026, 3, 29), date(2026, 3, 30), BERLIN)
    assert len(hourly.points) == 23
    texts = hourly.start_texts()
    assert texts[1] == "2026-03-29T01:00:00+01:00" and texts[2] == "2026-03-29T03:00:00+02:00"
    daily = chart(
        hours, [1_000_000] * 23, [0] * 23, date(2026, 3, 29), date(2026, 3, 30), BERLIN, resolution="day"
    )
    (point,) = daily.points
    assert point.hours == 23 and point.value == Decimal(23) and point.missing_hours == 0


def test_rub_rounds_once_per_bucket_and_zone_across_a_tariff_change():
    # 2026-03-01..03: 0.333 kWh every hour; day 7.85/night 3.47 until 2 March, then 8.15/3.61.
    tariffs = [
        two_zone("7.85", "3.47", valid_to=date(2026, 3, 2)),
        two_zone("8.15", "3.61", date(2026, 3, 2)),
    ]
    hours = hours_of(date(2026, 3, 1), date(2026, 3, 3), MSK)
    c = chart(
        hours,
        [333_000] * 48,
        [0] * 48,
        date(2026, 3, 1),
        date(2026, 3, 3),
        resolution="month",
        unit="rub",
        tariffs=tariffs,
    )
    (point,) = c.points
    # day: 16 h × 0.333 = 5.328 kWh each day: 5.328 × 7.85 + 5.328 × 8.15 = 41.8248 + 43.4232 = 85.248 → 85.25
    # night: 2.664 × 3.47 + 2.664 × 3.61 = 9.24408 + 9.61704 = 18.86112 → 18.86
    assert point.zones == {"day": Decimal("85.25"), "night": Decimal("18.86")}
    assert point.value == c.total == Decimal("104.11")
    # the same by day: each day's lines rounded on their own
    daily = chart(
        hours,
        [333_000] * 48,
        [0] * 48,
        date(2026, 3, 1),
        date(2026, 3, 3),
        resolution="day",
        unit="rub",
        tariffs=tariffs,
    )
    # day 1: 41.8248 → 41.82, 9.24408 → 9.24; day 2: 43.4232 → 43.42, 9.61704 → 9.62
    assert [p.value for p in daily.points] == [Decimal("51.06"), Decimal("53.04")]
    # the bars add up to 104.10, but the total is rounded like the receipt — once per month and zone:
    # 85.248 → 85.25 + 18.86112 → 18.86 = 104.11, the month bucket's (and the receipt's) amount
    assert daily.total == Decimal("104.11") and json.loads(f'"{daily.total_text}"') == "104.11"
    # hourly bars of the same two days total the same
    hourly = chart(
        hours, [333_000] * 48, [0] * 48, date(2026, 3, 1), date(2026, 3, 3), unit="rub", tariffs=tariffs
    )
    assert hourly.total == Decimal("104.11")


def test_quality_is_the_worst_billable_and_suspect_counts_as_missing():
    hours = hours_of(date(2026, 1, 1), date(2026, 1, 2), MSK)
    micro = [1_000_000] * 24
    quality = [0] * 20 + [1, 2, 3, 0]
    # hour 23 absent, hour 22 suspect: 2 of 24 hours without a billable volume; 22 kWh shown
    c = chart(hours[:23], micro[:23], quality[:23], date(2026, 1, 1), date(2026, 1, 2), resolution="day")
    (day,) = c.points
    assert day.quality == "estimated" and day.missing_hours == 2 and day.value == Decimal(22)
    hourly = chart(hours, micro, quality, date(2026, 1, 1), date(2026, 1, 2))
    assert [p.quality for p in hourly.points[19:23]] == ["measured", "interpolated", "estimated", "missing"]
    assert hourly.points[22].value == 0  # the suspect volume is not shown
    assert json.loads(hourly.rows_json()) == hourly.rows()


def test_hours_outside_the_range_are_ignored_and_no_tariff_is_an_error_only_in_rub():
    hours = hours_of(date(2026, 1, 1), date(2026, 1, 3), MSK)
    c = chart(hours, [1_000_000] * 48, [0] * 48, date(2026, 1, 2), date(2026, 1, 3), resolution="day")
    assert c.total == Decimal(24) and c.zones == ("single",)
    with pytest.raises(NoTariffError, match="no tariff in force on 2026-01-02"):
        chart(hours, [1_000_000] * 48, [0] * 48, date(2026, 1, 2), date(2026, 1, 3), unit="rub")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_micro_is_exact(micro):
    assert Decimal(format_micro(micro)) == Decimal(micro) / 1_000_000
    assert not format_micro(micro).endswith(".")


def test_building_chart_definitions():
    # house 1000 kWh, S_об 150 m², 6 persons, 30 kWh common property; last year 800 kWh, 5 persons
    c = build_service_chart(
        "electricity",
        "kWh",
        2026,
        Decimal(150),
        [MonthFigures(1, Decimal(1000), "close", 6, Decimal(30), "actual_capped")],
        [
            MonthFigures(1, Decimal(800), "close", 5, Decimal(24), "actual_capped"),
            MonthFigures(2, Decimal(700), "close", 5),
        ],
    )
    jan = c.months[0]
    assert jan.per_m2 == Decimal("6.6667")  # 1000 / 150
    assert jan.per_person == Decimal("166.6667")  # 1000 / 6
    assert jan.common_per_m2 == Decimal("0.200000")  # 30 / 150
    assert jan.common_share == Decimal("3.00")  # 30 / 1000 × 100
    assert jan.previous_per_person == Decimal("160.0000")  # 800 / 5
    assert jan.change_percent == Decimal("25.0")  # (1000 − 800) / 800 × 100
    # year to date compares only months both years have: February 2026 is empty
    assert (
        c.total == Decimal(1000) and c.previous_total == Decimal(800) and c.change_percent == Decimal("25.0")
    )
    assert c.months[1].volume is None and c.months[1].previous_volume == Decimal(700)
    with pytest.raises(ValueError, match="area must be positive"):
        build_service_chart("electricity", "kWh", 2026, Decimal(0), [], [])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 24 * 40 - 1), st.integers(0, 5_000_000), st.integers(0, 3)), max_size=200
    ),
    st.sampled_from(["hour", "day", "month"]),
)
def test_buckets_partition_the_billable_hours_exactly(rows, resolution):
    # any subset of the hours of 2026-01-01..2026-02-10 (Moscow), any volumes and qualities
    first = datetime(2026, 1, 1, tzinfo=MSK)
    picked = {h: (v, q) for h, v, q in rows}
    hours = [us(first + timedelta(hours=h)) for h in sorted(picked)]
    micro = [picked[h][0] for h in sorted(picked)]
    quality = [picked[h][1] for h in sorted(picked)]
    c = chart(
        hours,
        micro,
        quality,
        date(2026, 1, 1),
        date(2026, 2, 10),
        resolution=resolution,
        tariffs=[two_zone("7.85", "3.47")],
    )
    billable = sum(v for v, q in zip(micro, quality, strict=True) if q < 3)
    assert c.total == Decimal(billable) / 1_000_000
    assert sum(p.value for p in c.points) == c.total
    assert all(sum(p.zones.values()) == p.value for p in c.points)
    assert sum(p.hours for p in c.points) == 40 * 24
    assert sum(p.hours - p.missing_hours for p in c.points) == sum(1 for q in quality if q < 3)
    priced = chart(
        hours,
        micro,
        quality,
        date(2026, 1, 1),
        date(2026, 2, 10),
        resolution=resolution,
        unit="rub",
        tariffs=[two_zone("7.85", "3.47")],
    )
    # each bucket × zone rounded once: within half a kopeck per bucket-zone of the exact amount
    exact = sum(
        Decimal(v)
        / 1_000_000
        * (
            Decimal("3.47")
            if (first + timedelta(hours=h)).hour in (23, 0, 1, 2, 3, 4, 5, 6)
            else Decimal("7.85")
        )
        for h, (v, q) in picked.items()
        if q < 3
    )
    assert abs(priced.total - exact) <= Decimal("0.005") * 2 * len(priced.points)
