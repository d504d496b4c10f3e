"""Billing periods in local time: UTC bounds and hours, zoneinfo (no fixed offsets)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from meterhub.billing.rules.periods import BillingPeriod, local_midnight_utc


def test_parse_and_navigation() -> None:
    period = BillingPeriod.parse("2026-01")
    assert str(period) == "2026-01"
    assert period.days == 31
    assert period.next() == BillingPeriod(2026, 2)
    assert period.previous() == BillingPeriod(2025, 12)
    assert BillingPeriod(2025, 12).next() == period
    assert BillingPeriod(2024, 2).days == 29
    assert period.contains(date(2026, 1, 31)) and not period.contains(date(2026, 2, 1))
    assert len(list(period.dates())) == 31
    with pytest.raises(ValueError, match="YYYY-MM"):
        BillingPeriod.parse("01.2026")
    with pytest.raises(ValueError, match=r"1\.\.12"):
        BillingPeriod(2026, 13)


def test_bounds_in_building_time_zone() -> None:
    # Asia/Omsk is UTC+6: local 2026-02-01 00:00 is 2026-01-31 18:00 UTC (the previous UTC day).
    start, end = BillingPeriod(2026, 2).bounds_utc("Asia/Omsk")
    assert start == datetime(2026, 1, 31, 18, tzinfo=UTC)
    assert end == datetime(2026, 2, 28, 18, tzinfo=UTC)
    # Europe/Moscow is UTC+3.
    start, _ = BillingPeriod(2026, 2).bounds_utc("Europe/Moscow")
    assert start == datetime(2026, 1, 31, 21, tzinfo=UTC)
    assert BillingPeriod(2026, 2).hours("Asia/Omsk") == 28 * 24 == 672


def test_hours_follow_tzdata_not_a_fixed_offset() -> None:
    # Moscow moved from UTC+4 to UTC+3 on 2014-10-26 (clocks back one hour): October 2014 had 745 hours.
    assert BillingPeriod(2014, 10).hours("Europe/Moscow") == 31 * 24 + 1
    assert BillingPeriod(2015, 10).hours("Europe/Moscow") == 31 * 24
    # A zone with DST: Berlin, March 2026 has 743 hours, October 2026 745.
    assert BillingPeriod(2026, 3).hours("Europe/Berlin") == 743
    assert BillingPeriod(2026, 10).hours("Europe/Berlin") == 745
    hours = BillingPeriod(2026, 10).utc_hour_starts("Europe/Berlin")
    assert len(hours) == 745 and hours[0] == datetime(2026, 9, 30, 22, tzinfo=UTC)
    local = BillingPeriod(2026, 10).local_hour_starts("Europe/Berlin")
    assert local[0].hour == 0 and local[0].day == 1
    # 2026-10-25: 02:00 local happens twice (CEST, then CET)
    twice = [h for h in local if h.day == 25 and h.hour == 2]
    assert [h.fold for h in twice] == [0, 1]
    assert [h.utcoffset().total_seconds() / 3600 for h in twice] == [2, 1]


def test_a_day_without_local_midnight_starts_at_the_transition() -> None:
    # America/Santiago skipped 2022-09-11 00:00–01:00 (−04 → −03): the day starts at 04:00 UTC = 01:00 local.
    tz = ZoneInfo("America/Santiago")
    assert local_midnight_utc(date(2022, 9, 11), tz) == datetime(2022, 9, 11, 4, tzinfo=UTC)
    assert local_midnight_utc(date(2022, 9, 10), tz) == datetime(2022, 9, 10, 4, tzinfo=UTC)
    assert BillingPeriod(2022, 9).hours(tz) == 30 * 24 - 1
