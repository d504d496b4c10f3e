"""The pure interval algorithm: hourly split, exactness, VEE flags, events."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.core.readings import HourQuality, ReadingQuality
from meterhub.timeseries.intervals import (
    HOUR_US,
    MICRO,
    CounterEvent,
    EventKind,
    FlagReason,
    SeriesParams,
    compute_hourly,
)

T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
MIN = 60_000_000


def us(hours: float) -> int:
    return T0 + round(hours * HOUR_US)


def run(times_h, values, **kw):
    ts = np.array([us(h) for h in times_h], dtype=np.int64)
    return compute_hourly(ts, np.array(values, dtype=float), **kw)


def test_quarter_hour_reads_are_measured_and_sum_exactly():
    times = [i / 4 for i in range(9)]  # 00:00 .. 02:00 every 15 min
    values = [100.0 + 0.25 * i for i in range(9)]
    r = run(times, values)
    assert r.hours.tolist() == [us(0), us(1)]
    assert r.volume_micro.tolist() == [1 * MICRO, 1 * MICRO]
    assert set(r.quality.tolist()) == {HourQuality.MEASURED}
    assert not r.flags


def test_hourly_reads_at_seven_past_are_split_linearly():
    # reads at 00:07 (10.0) and 01:07 (16.0): 6 units over 60 min
    # hour 00: 53 min of it = 6 * 53/60 = 5.3; hour 01: 7 min = 0.7
    r = run([7 / 60, 1 + 7 / 60], [10.0, 16.0])
    assert r.hours.tolist() == [us(0), us(1)]
    assert r.volume_micro.tolist() == [5_300_000, 700_000]
    assert r.quality.tolist() == [HourQuality.MEASURED, HourQuality.MEASURED]


def test_daily_reads_are_interpolated_and_long_gaps_estimated():
    r = run([0, 24], [0.0, 24.0])
    assert len(r.hours) == 24
    assert r.volume_micro.tolist() == [MICRO] * 24
    assert set(r.quality.tolist()) == {HourQuality.INTERPOLATED}
    r = run([0, 96], [0.0, 96.0])  # 4 days > 72 h interpolation limit
    assert set(r.quality.tolist()) == {HourQuality.ESTIMATED}


def test_hours_after_the_last_read_are_not_invented():
    r = run([0, 0.5], [1.0, 2.0])
    assert r.hours.tolist() == [us(0)]  # only the hour holding both reads
    assert r.volume_micro.sum() == MICRO


def test_gap_between_measured_spans_is_interpolated_only_where_covered_by_the_long_interval():
    times = [0, 0.25, 0.5, 0.75, 1.0, 5.0, 5.25]
    r = run(times, [0, 1, 2, 3, 4, 8, 9])
    q = dict(zip(r.hours.tolist(), r.quality.tolist(), strict=True))
    assert q[us(0)] == HourQuality.MEASURED
    assert q[us(1)] == q[us(4)] == HourQuality.INTERPOLATED
    assert q[us(5)] == HourQuality.MEASURED
    assert r.volume_micro.sum() == 9 * MICRO


def test_rollover_at_register_digits_is_continuous():
    # 5-digit register: 99998 → 00003 is +5, not -99995
    r = run([0, 1, 2], [99990.0, 99998.0, 3.0], params=SeriesParams(register_digits=5))
    assert r.volume_micro.tolist() == [8 * MICRO, 5 * MICRO]
    assert not r.flags


def test_backwards_glitch_is_flagged_and_excluded():
    r = run([0, 1, 2], [100.0, 90.0, 101.0], params=SeriesParams(register_digits=5))
    assert [(f.ts_us, f.reason) for f in r.flags] == [(us(1), FlagReason.BACKWARDS)]
    # the glitch is excluded: 100 → 101 over two hours, split evenly
    assert r.volume_micro.tolist() == [500_000, 500_000]
    assert set(r.quality.tolist()) == {HourQuality.INTERPOLATED}


def test_unrecorded_restart_gives_visible_suspect_hours_never_negative():
    r = run([0, 1, 2, 3, 4], [100.0, 101.0, 0.5, 1.5, 2.5])
    assert [f.reason for f in r.flags] == [FlagReason.BACKWARDS] * 3
    by_hour = dict(
        zip(r.hours.tolist(), zip(r.volume_micro.tolist(), r.quality.tolist(), strict=True), strict=True)
    )
    assert by_hour[us(0)] == (MICRO, HourQuality.MEASURED)
    assert by_hour[us(2)] == (MICRO, HourQuality.SUSPECT)
    assert by_hour[us(3)] == (MICRO, HourQuality.SUSPECT)
    assert (r.volume_micro >= 0).all()


def test_jump_above_physical_maximum_is_flagged():
    p = SeriesParams(max_per_hour=5.0)
    r = run([0, 1, 2], [10.0, 500.0, 12.0], params=p)
    assert [f.reason for f in r.flags] == [FlagReason.JUMP]
    assert r.volume_micro.sum() == 2 * MICRO


def test_multiplier_scales_volumes_and_limit_applies_after_it():
    # transformer ratio 20: counter +1 kWh = 20 kWh real; limit 30 kWh/h real is fine
    r = run([0, 1], [5.0, 6.0], params=SeriesParams(multiplier=20, max_per_hour=30))
    assert r.volume_micro.tolist() == [20 * MICRO]
    r = run([0, 1], [5.0, 7.0], params=SeriesParams(multiplier=20, max_per_hour=30))
    assert [f.reason for f in r.flags] == [FlagReason.JUMP]


def test_reset_event_continues_the_chain():
    ev = CounterEvent(us(1.5), EventKind.RESET, value_before=55.0, value_after=0.0)
    r = run([0, 1, 2, 3], [50.0, 54.0, 0.5, 2.5], events=[ev])
    assert not r.flags
    # 50→54 (h0), 54→55 then 0→0.5 (h1: 1 + 0.5), 0.5→2.5 (h2)
    assert r.volume_micro.tolist() == [4 * MICRO, 1_500_000, 2 * MICRO]


def test_replacement_old_meter_stops_at_removal_new_starts_at_installation():
    old = run(
        [0, 1, 2, 3],
        [10.0, 11.0, 12.0, 0.1],
        events=[CounterEvent(us(2.5), EventKind.REMOVAL, value_before=12.4)],
    )
    assert old.volume_micro.tolist() == [MICRO, MICRO, 400_000]
    assert [f.reason for f in old.flags] == [FlagReason.AFTER_REMOVAL]
    new = run(
        [2, 3, 4], [99.0, 0.3, 1.3], events=[CounterEvent(us(2.5), EventKind.INSTALLATION, value_after=0.0)]
    )
    assert [f.reason for f in new.flags] == [FlagReason.BEFORE_INSTALLATION]
    assert new.volume_micro.tolist() == [300_000, MICRO]


def test_bad_quality_readings_are_skipped():
    r = run([0, 1, 2], [1.0, 50.0, 3.0], quality=np.array([0, ReadingQuality.BAD, 0], dtype=np.int16))
    assert [f.reason for f in r.flags] == [FlagReason.BAD_QUALITY]
    assert r.volume_micro.sum() == 2 * MICRO


def test_emit_from_drops_earlier_hours():
    r = run([0, 1, 2, 3], [0.0, 1.0, 2.0, 3.0], emit_from_us=us(2))
    assert r.hours.tolist() == [us(2)]


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 50 * 3600), st.integers(0, 5_000_000)),  # (seconds, increment [micro])
        min_size=1,
        max_size=60,
    ),
    start=st.integers(0, 99_999_000_000),
    digits=st.sampled_from([None, 5, 6]),
    offset_s=st.integers(0, 3599),
)
def test_sum_of_hours_equals_last_minus_first_exactly(steps, start, digits, offset_s):
    """Σ hourly == last − first (to the micro-unit) for random read times, rollovers included."""
    wrap = 10**digits * MICRO if digits else None
    t = T0 + offset_s * 1_000_000
    c = start % wrap if wrap else start
    ts, vals = [t], [c / MICRO]
    total = 0
    for dt, inc in steps:
        t += dt * 1_000_000
        total += inc
        c = (c + inc) % wrap if wrap else c + inc
        ts.append(t)
        vals.append(c / MICRO)
    r = compute_hourly(np.array(ts, np.int64), np.array(vals), params=SeriesParams(register_digits=digits))
    assert not r.flags
    assert int(r.volume_micro.sum()) == total
    assert (r.volume_micro >= 0).all()
    assert (np.diff(r.hours) > 0).all()
    assert r.hours[0] <= ts[0] < r.hours[0] + HOUR_US and r.hours[-1] < ts[-1]
