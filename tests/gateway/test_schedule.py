"""Schedule: wall-clock slots in the building's zone, day/month-start reads, jitter bounds. Frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.gateway.schedule import DeviceSchedule, Slot, SlotKind, day_start, jitter_for, slot_at_or_after

OMSK = ZoneInfo("Asia/Omsk")  # UTC+6
MOSCOW = ZoneInfo("Europe/Moscow")  # UTC+3
M15 = timedelta(minutes=15)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_slots_fall_on_quarter_hours() -> None:
    assert slot_at_or_after(utc(2026, 3, 10, 10, 7, 13), M15, MOSCOW) == (
        utc(2026, 3, 10, 10, 15),
        SlotKind.INTERVAL,
    )
    assert slot_at_or_after(utc(2026, 3, 10, 10, 15), M15, MOSCOW)[0] == utc(2026, 3, 10, 10, 15)
    assert slot_at_or_after(utc(2026, 3, 10, 10, 15, 0, 1), M15, MOSCOW)[0] == utc(2026, 3, 10, 10, 30)


def test_day_and_month_start_are_local_omsk_versus_moscow() -> None:
    before = utc(2026, 1, 31, 17, 50)  # Omsk 23:50, Moscow 20:50
    assert slot_at_or_after(before, M15, OMSK) == (utc(2026, 1, 31, 18, 0), SlotKind.MONTH_START)
    assert slot_at_or_after(before, M15, MOSCOW) == (utc(2026, 1, 31, 18, 0), SlotKind.INTERVAL)
    assert slot_at_or_after(utc(2026, 1, 31, 20, 50), M15, MOSCOW) == (
        utc(2026, 1, 31, 21, 0),
        SlotKind.MONTH_START,
    )
    assert slot_at_or_after(utc(2026, 3, 9, 17, 59), M15, OMSK) == (
        utc(2026, 3, 9, 18, 0),
        SlotKind.DAY_START,
    )
    assert slot_at_or_after(utc(2026, 3, 9, 20, 59), M15, MOSCOW) == (
        utc(2026, 3, 9, 21, 0),
        SlotKind.DAY_START,
    )


def test_half_hour_zone_aligns_to_local_wall_clock() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+5:30: local :00 is UTC :30
    slot, _ = slot_at_or_after(utc(2026, 5, 1, 10, 5), timedelta(hours=1), kolkata)
    assert slot == utc(2026, 5, 1, 10, 30) and slot.astimezone(kolkata).minute == 0


def test_daily_interval_reads_at_local_midnight_only() -> None:
    slot, kind = slot_at_or_after(utc(2026, 6, 15, 12, 0), timedelta(days=1), OMSK)
    assert slot == utc(2026, 6, 15, 18, 0) and kind is SlotKind.DAY_START


def test_day_without_local_midnight_starts_at_the_transition() -> None:
    santiago = ZoneInfo("America/Santiago")  # 2026-09-06 00:00 → 01:00 (DST starts at midnight)
    start = day_start(datetime(2026, 9, 6).date(), santiago)
    assert start == utc(2026, 9, 6, 4, 0)
    assert start.astimezone(santiago).hour == 1
    assert slot_at_or_after(utc(2026, 9, 6, 3, 50), M15, santiago) == (start, SlotKind.DAY_START)


def test_dst_day_keeps_quarter_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    t = utc(2026, 3, 29, 0, 50)  # 01:50 CET, the clocks jump 02:00 → 03:00
    slot, _ = slot_at_or_after(t, M15, berlin)
    assert slot == utc(2026, 3, 29, 1, 0) and slot.astimezone(berlin).strftime("%H:%M") == "03:00"


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.sampled_from([timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 120, 1440)]),
    st.sampled_from([OMSK, MOSCOW, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]),
)
def test_next_slot_is_aligned_and_within_one_interval(
    instant: datetime, interval: timedelta, zone: ZoneInfo
) -> None:
    slot, kind = slot_at_or_after(instant, interval, zone)
    assert instant <= slot < instant + interval + timedelta(hours=1)  # DST days may stretch one gap
    local = slot.astimezone(zone)
    if kind.is_billing:
        assert (local.hour, local.minute) == (0, 0) and (kind is SlotKind.MONTH_START) == (local.day == 1)
    else:
        minutes = local.hour * 60 + local.minute
        # slots step evenly (absolute time) from the day's start: after a DST change that day,
        # intervals longer than the shift continue from midnight's grid (e.g. 2 h reads at odd hours)
        shifted = day_start(local.date(), zone).astimezone(zone).utcoffset() != local.utcoffset()
        assert local.second == 0 and (minutes % (interval.total_seconds() // 60) == 0 or shifted)


def test_jitter_is_deterministic_bounded_and_spread() -> None:
    keys = [f"gw-1/rs485-1/{n}" for n in range(1000)]
    jitters = [jitter_for(k, timedelta(seconds=30), M15) for k in keys]
    assert jitters == [jitter_for(k, timedelta(seconds=30), M15) for k in keys]
    assert all(timedelta(0) <= j < timedelta(seconds=30) for j in jitters)
    assert len(set(jitters)) > 990
    assert min(jitters) < timedelta(seconds=1) and max(jitters) > timedelta(seconds=29)
    # never more than half the interval, so a read belongs to its slot
    assert all(
        jitter_for(k, timedelta(minutes=10), timedelta(minutes=1)) < timedelta(seconds=30) for k in keys
    )
    assert jitter_for("x", timedelta(0), M15) == timedelta(0)


def test_device_schedule_reads_on_start_then_aligned_with_its_jitter() -> None:
    s = DeviceSchedule("gw-1/lan/1", M15, MOSCOW, max_jitter=timedelta(seconds=30))
    now = utc(2026, 3, 10, 10, 7, 13)
    first = s.first(now)
    assert first.kind is SlotKind.STARTUP and first.due == now
    second = s.done(first, ok=True, now=now + timedelta(seconds=1))
    assert second.at == utc(2026, 3, 10, 10, 15) and second.due == second.at + s.jitter
    third = s.done(second, ok=True, now=second.due + timedelta(milliseconds=5))
    assert third.at == utc(2026, 3, 10, 10, 30)
    # a read that took very long skips the missed slots instead of reading late
    late = s.done(third, ok=True, now=third.due + timedelta(minutes=40))
    assert late.at == utc(2026, 3, 10, 11, 15)
    assert DeviceSchedule("k", M15, MOSCOW, read_on_start=False).first(now).at == utc(2026, 3, 10, 10, 15)


def test_failed_billing_read_is_retried_until_the_next_slot() -> None:
    s = DeviceSchedule("gw-1/mbus/3", M15, OMSK, max_jitter=timedelta(0), billing_retry=timedelta(minutes=4))
    midnight = Slot(utc(2026, 1, 31, 18, 0), utc(2026, 1, 31, 18, 0), SlotKind.MONTH_START)
    t = midnight.due + timedelta(seconds=2)
    retries = []
    slot = midnight
    while slot.kind is SlotKind.MONTH_START:
        slot = s.done(slot, ok=False, now=t)
        if slot.kind is SlotKind.MONTH_START:
            retries.append(slot.due)
            t = slot.due + timedelta(seconds=2)
    assert retries == [utc(2026, 1, 31, 18, 4, 2), utc(2026, 1, 31, 18, 8, 4), utc(2026, 1, 31, 18, 12, 6)]
    assert slot.at == utc(2026, 1, 31, 18, 15) and slot.kind is SlotKind.INTERVAL
    # a failed interval read is not retried
    interval = Slot(utc(2026, 2, 1, 5, 0), utc(2026, 2, 1, 5, 0), SlotKind.INTERVAL)
    assert s.done(interval, ok=False, now=interval.due).at == utc(2026, 2, 1, 5, 15)
    # a successful retry moves on
    retry = Slot(midnight.at, utc(2026, 1, 31, 18, 4), SlotKind.MONTH_START, attempt=1)
    assert s.done(retry, ok=True, now=retry.due).at == utc(2026, 1, 31, 18, 15)
