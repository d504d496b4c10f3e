"""Weekday/holiday zone schedules and tariff plans per building, account and meter (pure, hand-counted)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.schedule_text import day_typed_schedule
from meterhub.billing.rules.tariff_plans import (
    PlanError,
    PlanRow,
    default_scheme,
    plan_spans,
    tariffs_for_plans,
)
from meterhub.billing.rules.tariffs import Service, Tariff, split_hourly_by_part, tariff_parts
from meterhub.billing.rules.zones import (
    THREE_ZONE_SCHEDULE,
    TWO_ZONE_SCHEDULE,
    DayType,
    HourlySeries,
    Zone,
    ZoneScheme,
    split_hourly_by_zone,
)

MSK = ZoneInfo("Europe/Moscow")
JAN = BillingPeriod(2026, 1)
# Russian New Year holidays 2026: 1–8 January (Thursday 1 … Thursday 8)
NEW_YEAR = frozenset(date(2026, 1, d) for d in range(1, 9))


def _weekend_night() -> object:
    """Two-zone: working days day 07–23 / night 23–07; weekends and holidays all night."""
    return day_typed_schedule(
        "weekend-night",
        ZoneScheme.TWO_ZONE,
        {"workday": "day=7-23;night=23-7", "saturday": "night=0-24"},
        holidays=NEW_YEAR,
    )


def _january_hours(kwh: str) -> HourlySeries:
    start = datetime(2026, 1, 1, tzinfo=MSK).astimezone(UTC)
    hours = [start + timedelta(hours=h) for h in range(744)]
    return HourlySeries.from_decimals(hours, [D(kwh)] * 744)


def test_day_types_follow_the_calendar_then_the_weekday() -> None:
    schedule = day_typed_schedule(
        "cal",
        ZoneScheme.TWO_ZONE,
        {"workday": "day=7-23;night=23-7", "saturday": "night=0-24"},
        holidays=frozenset({date(2026, 3, 9)}),  # a Monday made a holiday
        workdays=frozenset({date(2026, 3, 7)}),  # a Saturday made a working day
    )
    assert schedule.day_type(date(2026, 3, 9)) is DayType.HOLIDAY
    assert schedule.day_type(date(2026, 3, 7)) is DayType.WORKDAY
    assert schedule.day_type(date(2026, 3, 8)) is DayType.SUNDAY
    assert schedule.day_type(date(2026, 3, 10)) is DayType.WORKDAY
    # Sunday and holiday fall back to Saturday's intervals
    assert schedule.zone_of_hour(12, date(2026, 3, 8)) is Zone.NIGHT
    assert schedule.zone_of_hour(12, date(2026, 3, 9)) is Zone.NIGHT
    assert schedule.zone_of_hour(12, date(2026, 3, 7)) is Zone.DAY  # transferred working Saturday
    assert not schedule.uniform and TWO_ZONE_SCHEDULE.uniform


def test_january_on_a_weekend_night_schedule_by_hand() -> None:
    # January 2026: holidays 1–8 (8 days); weekends among 9–31: Sat 10, 17, 24, 31 and Sun 11, 18, 25 = 7;
    # working days 31 − 15 = 16. At 0.5 kWh every hour: day = 16 × 16 h × 0.5 = 128 kWh;
    # night = 16 × 8 h × 0.5 + 15 × 24 h × 0.5 = 64 + 180 = 244 kWh (Σ 372 = 744 h × 0.5).
    zones = split_hourly_by_zone(_january_hours("0.5"), MSK, _weekend_night())  # type: ignore[arg-type]
    assert zones == {Zone.DAY: D(128), Zone.NIGHT: D(244)}
    # the same through a tariff part (the close's path): 128 × 6.00 = 768.00, 244 × 3.00 = 732.00
    tariff = Tariff(
        Service.ELECTRICITY, date(2025, 1, 1), {Zone.DAY: D(6), Zone.NIGHT: D(3)}, schedule=_weekend_night()
    )  # type: ignore[arg-type]
    parts = tariff_parts([tariff], Service.ELECTRICITY, JAN)
    assert split_hourly_by_part(_january_hours("0.5"), MSK, parts, JAN) == [
        {Zone.DAY: D(128), Zone.NIGHT: D(244)}
    ]


def test_bad_day_schedule_names_the_day_type() -> None:
    with pytest.raises(ValueError, match=r"saturday.*belong to no zone"):
        day_typed_schedule("x", ZoneScheme.TWO_ZONE, {"saturday": "night=0-12"})
    with pytest.raises(ValueError, match="unknown day type"):
        day_typed_schedule("x", ZoneScheme.TWO_ZONE, {"friday": "night=0-24"})


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sets(st.integers(min_value=1, max_value=31), max_size=10),
)
def test_weekday_split_keeps_every_micro_unit(seed: int, holiday_days: set[int]) -> None:
    import numpy as np

    schedule = day_typed_schedule(
        "h",
        ZoneScheme.THREE_ZONE,
        {"sunday": "night=0-7,23-24;semi_peak=7-23"},  # Saturday keeps the working day's zones
        holidays=frozenset(date(2026, 1, d) for d in holiday_days),
    )
    volumes = np.random.default_rng(seed).integers(0, 5_000_000, 744, dtype=np.int64)
    start = int(datetime(2026, 1, 1, tzinfo=MSK).timestamp()) * 1_000_000
    hours = np.arange(744, dtype=np.int64) * 3_600_000_000 + start
    series = HourlySeries.from_micro(hours, volumes)
    zones = split_hourly_by_zone(series, MSK, schedule)
    assert sum(zones.values(), D(0)) == series.total()
    # the peak zone holds the 07–10 and 17–21 hours of every day that is neither a Sunday nor a holiday
    no_peak = {d for d in range(1, 32) if date(2026, 1, d).weekday() == 6 or d in holiday_days}
    peak = sum(
        int(volumes[h])
        for h in range(744)
        if (h // 24 + 1) not in no_peak and (7 <= h % 24 < 10 or 17 <= h % 24 < 21)
    )
    assert zones[Zone.PEAK] == D(peak) / 1_000_000


def _tariffs() -> list[Tariff]:
    return [
        Tariff(
            Service.ELECTRICITY,
            date(2025, 7, 1),
            {Zone.SINGLE: D("5.00"), Zone.DAY: D(6), Zone.NIGHT: D(3)},
            schedule=TWO_ZONE_SCHEDULE,
        ),
        Tariff(
            Service.ELECTRICITY,
            date(2025, 7, 1),
            {Zone.SINGLE: D(5), Zone.PEAK: D(7), Zone.SEMI_PEAK: D("5.5"), Zone.NIGHT: D("2.5")},
            schedule=THREE_ZONE_SCHEDULE,
        ),
        Tariff(Service.ELECTRICITY, date(2025, 7, 1), {Zone.SINGLE: D("4.80")}),
    ]


def test_implicit_plan_is_single_rate_when_several_schemes_are_priced() -> None:
    assert default_scheme(_tariffs(), Service.ELECTRICITY, date(2026, 1, 1)) is ZoneScheme.SINGLE_RATE
    assert default_scheme(_tariffs()[:2], Service.ELECTRICITY, date(2026, 1, 1)) is ZoneScheme.TWO_ZONE
    assert default_scheme(_tariffs(), Service.ELECTRICITY, date(2025, 6, 30)) is None


def test_meter_plan_beats_account_plan_beats_building_plan() -> None:
    building = [PlanRow("electricity", date(2025, 1, 1), ZoneScheme.TWO_ZONE)]
    account = [PlanRow("electricity", date(2026, 1, 1), ZoneScheme.SINGLE_RATE, account_no="A")]
    meter = [PlanRow("electricity", date(2026, 1, 16), ZoneScheme.THREE_ZONE, meter_id="M")]
    spans = plan_spans(JAN, Service.ELECTRICITY, _tariffs(), [meter, account, building])
    assert [(s.start, s.end, s.scheme, s.level) for s in spans] == [
        (date(2026, 1, 1), date(2026, 1, 16), ZoneScheme.SINGLE_RATE, "account"),
        (date(2026, 1, 16), date(2026, 2, 1), ZoneScheme.THREE_ZONE, "meter"),
    ]
    priced = tariffs_for_plans(_tariffs(), Service.ELECTRICITY, spans, "account A")
    assert [(t.scheme, t.valid_from, t.valid_to) for t in priced] == [
        (ZoneScheme.SINGLE_RATE, date(2026, 1, 1), date(2026, 1, 16)),
        (ZoneScheme.THREE_ZONE, date(2026, 1, 16), date(2026, 2, 1)),
    ]
    # the parts of the month follow the plan change
    assert [p.days for p in tariff_parts(priced, Service.ELECTRICITY, JAN)] == [15, 16]


def test_plan_without_prices_of_its_scheme_is_an_error_naming_the_account() -> None:
    spans = plan_spans(
        JAN,
        Service.ELECTRICITY,
        _tariffs()[:1],
        [[PlanRow("electricity", date(2025, 1, 1), ZoneScheme.THREE_ZONE, account_no="A")]],
    )
    with pytest.raises(
        PlanError, match=r"account A: electricity plan three_zone .* has no three_zone tariff"
    ):
        tariffs_for_plans(_tariffs()[:1], Service.ELECTRICITY, spans, "account A")


def test_single_rate_plan_takes_the_single_price_of_a_zoned_tariff_once() -> None:
    # no single-rate tariff: the two-zone and three-zone orders both publish 5.00 ₽/kWh single-rate;
    # the plan's month is priced once (the first found), never by two overlapping tariffs
    zoned = _tariffs()[:2]
    spans = plan_spans(
        JAN, Service.ELECTRICITY, zoned, [[PlanRow("electricity", date(2025, 1, 1), ZoneScheme.SINGLE_RATE)]]
    )
    priced = tariffs_for_plans(zoned, Service.ELECTRICITY, spans, "account A")
    assert [(t.scheme, t.price(Zone.SINGLE), t.valid_from, t.valid_to) for t in priced] == [
        (ZoneScheme.SINGLE_RATE, D("5.00"), date(2026, 1, 1), date(2026, 2, 1))
    ]
    assert [p.days for p in tariff_parts(priced, Service.ELECTRICITY, JAN)] == [31]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["peak", "semi_peak", "night"]), min_size=24, max_size=24))
def test_day_schedule_text_describes_every_hour(zones: list[str]) -> None:
    # any assignment of the 24 hours to zones, written as runs "zone=start-end" (end 24 = midnight)
    runs: list[tuple[str, int, int]] = []
    for hour, zone in enumerate(zones):
        if runs and runs[-1][0] == zone:
            runs[-1] = (zone, runs[-1][1], hour + 1)
        else:
            runs.append((zone, hour, hour + 1))
    text = ";".join(f"{z}={a}-{b}" for z, a, b in runs)
    schedule = day_typed_schedule(
        "p", ZoneScheme.THREE_ZONE, {"holiday": text}, holidays=frozenset({date(2026, 1, 7)})
    )
    assert [schedule.zone_of_hour(h, date(2026, 1, 7)).value for h in range(24)] == zones
    assert schedule.zone_of_hour(8, date(2026, 1, 6)) is Zone.PEAK  # a working Tuesday keeps ФСТ zones


def test_a_schedule_pickles_the_same_in_every_process() -> None:
    """The input digest pickles the engine input: holiday dates must not pickle in a per-process order."""
    import subprocess
    import sys

    code = (
        "import pickle, hashlib; from datetime import date; "
        "from meterhub.billing.rules.schedule_text import day_typed_schedule; "
        "from meterhub.billing.rules.zones import ZoneScheme; "
        "s = day_typed_schedule('w', ZoneScheme.TWO_ZONE, {'saturday': 'night=0-24'}, "
        "holidays={date(2026, 1, d) for d in range(1, 9)}, workdays={date(2026, 2, 28)}); "
        "print(hashlib.sha256(pickle.dumps(s, protocol=5)).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1
