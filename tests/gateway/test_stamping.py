"""Read times at whole seconds (floor) and one reading per series and second: the pure rules, the
outbox's replacement of a still-waiting reading, and the runner that applies both."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from meterhub.cli.local_broker import LocalBroker
from meterhub.core.readings import Reading, ReadingQuality
from meterhub.gateway.clock import WallClock
from meterhub.gateway.config import load_config
from meterhub.gateway.devices import DeviceReader, Readers, ReadOutcome
from meterhub.gateway.outbox import Outbox
from meterhub.gateway.stamping import SecondGuard, last_per_key, next_second, read_stamp, read_stamp_us

from .conftest import GatewayThread, gateway_toml

T = datetime(2026, 3, 1, 11, 59, 59, 999_999, tzinfo=UTC)


def test_read_stamp_floors_to_the_second_in_utc() -> None:
    # 11:59:59.999999 was read before noon: floor keeps it in 11:59:59 (round would say 12:00:00,
    # after the read, and move it into the next hour)
    assert read_stamp(T) == datetime(2026, 3, 1, 11, 59, 59, tzinfo=UTC)
    assert read_stamp(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)) == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    msk = timezone(timedelta(hours=3))
    assert read_stamp(datetime(2026, 3, 1, 15, 0, 1, 500_000, tzinfo=msk)) == datetime(
        2026, 3, 1, 12, 0, 1, tzinfo=UTC
    )
    assert read_stamp(T).tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        read_stamp(datetime(2026, 3, 1, 12, 0))


def test_read_stamp_us_is_the_same_floor_on_microseconds() -> None:
    # hand values: 1 772 366 399 999 999 µs is 2026-03-01 11:59:59.999999 UTC
    assert read_stamp_us(1_772_366_399_999_999) == 1_772_366_399_000_000
    assert read_stamp_us(1_772_366_400_000_000) == 1_772_366_400_000_000
    assert read_stamp_us(-1) == -1_000_000  # before 1970: still the floor
    arr = np.array([1_772_366_399_999_999, 1_772_366_400_000_001], dtype=np.int64)
    assert read_stamp_us(arr).tolist() == [1_772_366_399_000_000, 1_772_366_400_000_000]
    # the same instant as read_stamp on datetimes
    us = (T - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=read_stamp_us(us)) == read_stamp(T)


def test_next_second_is_the_start_of_the_following_second() -> None:
    assert next_second(T) == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert next_second(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) == datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC)


def _r(value: float, at: datetime, register: str = "energy_import_kwh", meter: str = "EAS-1") -> Reading:
    return Reading(meter, register, at, value, "kWh")


def test_last_per_key_keeps_the_later_value_in_place_of_the_first() -> None:
    s = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    a, b, c = _r(1.0, s), _r(5.0, s, "voltage_v"), _r(2.0, s)
    assert last_per_key([a, b, c]) == [c, b]


def test_guard_stamps_and_splits_fresh_from_repeats() -> None:
    guard = SecondGuard()
    s = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    # a start-up read at 12:00:00.200 with one register twice in its answer: the later value counts
    fresh, repeats = guard.admit(
        [_r(1.0, s + timedelta(milliseconds=200)), _r(1.1, s + timedelta(milliseconds=210))]
    )
    assert fresh == [_r(1.1, s)] and repeats == []
    # a slot read in the same second: a repeat of the stored key, with its later value
    fresh, repeats = guard.admit([_r(1.2, s + timedelta(milliseconds=900)), _r(230.0, s, "voltage_v")])
    assert fresh == [_r(230.0, s, "voltage_v")] and repeats == [_r(1.2, s)]
    # the next second is fresh again; another meter's same second never collides
    fresh, repeats = guard.admit(
        [_r(1.3, s + timedelta(seconds=1, microseconds=1)), _r(9.0, s, meter="EAS-2")]
    )
    assert fresh == [_r(1.3, s + timedelta(seconds=1)), _r(9.0, s, meter="EAS-2")] and repeats == []


def test_outbox_replaces_a_waiting_reading_and_reports_a_claimed_one(tmp_path: Path) -> None:
    s = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    box = Outbox(tmp_path / "o.sqlite3")
    box.add([_r(1.0, s), _r(7.0, s, "voltage_v")])
    # still waiting: the later value takes the row's place (same id, same position); billing sticks
    assert (
        box.replace_unclaimed(
            [Reading("EAS-1", "energy_import_kwh", s, 1.5, "kWh", ReadingQuality.UNCERTAIN)], billing=True
        )
        == []
    )
    assert box.backlog == 2
    batch = box.claim(10)
    assert batch is not None
    assert batch.readings == [
        {
            "meter_id": "EAS-1",
            "register": "energy_import_kwh",
            "ts": "2026-03-01T12:00:00+00:00",
            "value": 1.5,
            "unit": "kWh",
            "quality": "uncertain",
        },
        {
            "meter_id": "EAS-1",
            "register": "voltage_v",
            "ts": "2026-03-01T12:00:00+00:00",
            "value": 7.0,
            "unit": "kWh",
        },
    ]
    assert box._db.execute("SELECT billing FROM readings ORDER BY id").fetchall() == [(1,), (0,)]
    # once in a batch the first value is on its way: not replaced, returned to the caller
    late = _r(1.6, s)
    assert box.replace_unclaimed([late]) == [late]
    assert box.load(batch.batch_id) == batch
    box.close()


class SameSecondReader(DeviceReader):
    """Stamps its readings with the moment it is called (µs), like the collectors; counts calls."""

    def __init__(self, name: str, config: Any, clock: Any) -> None:
        super().__init__(name, config)
        self.clock = clock
        self.calls: list[datetime] = []

    async def read(self) -> ReadOutcome:
        now = self.clock()
        self.calls.append(now)
        return ReadOutcome(True, [Reading("SIM-1", "water_m3", now, float(len(self.calls)), "m3")])


def test_the_gateway_stamps_whole_seconds_and_reads_a_device_once_a_second(
    tmp_path: Path, broker: LocalBroker, subscribe: Any
) -> None:
    sub = subscribe()
    buses = [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": 1}]
    devices = [{"bus": "lan", "address": 1, "profile": "eastron-sdm120"}]
    # a 1 s interval with the start-up read: slots are due right after the previous read, so without
    # the pause until the next second two reads would often share a second
    config = load_config(gateway_toml(tmp_path, broker.url, devices, buses, interval="1s"))
    reader = SameSecondReader("lan/1", config.devices[0], lambda: datetime.now(UTC))
    gw = GatewayThread(config, readers=Readers([reader], []))
    try:
        assert sub.wait_for(lambda: len(sub.reading_keys()) >= 4, 15)
    finally:
        gw.stop()
    sent = [r for b in sub.batches() for r in b["readings"]]
    stamps = [datetime.fromisoformat(r["ts"]) for r in sent]
    assert all(t.microsecond == 0 for t in stamps)
    assert len(set(stamps)) == len(stamps)  # one reading per second, no repeated key
    # each is the floor of its read's moment, with that read's value
    for r in sent:
        called = reader.calls[int(r["value"]) - 1]
        assert datetime.fromisoformat(r["ts"]) == called.replace(microsecond=0)
    # reads of the device are at least in different seconds
    seconds = [c.replace(microsecond=0) for c in reader.calls]
    assert len(set(seconds)) == len(seconds)


class FixedTimeReader(DeviceReader):
    """A device whose readings always carry the same moment (a meter's own frozen clock, or the
    gateway's clock stepped back): every read after the first repeats one key; value = call number."""

    def __init__(self, name: str, config: Any, at: datetime) -> None:
        super().__init__(name, config)
        self.at = at
        self.calls = 0

    async def read(self) -> ReadOutcome:
        self.calls += 1
        return ReadOutcome(True, [Reading("SIM-1", "water_m3", self.at, float(self.calls), "m3")])


def test_a_repeated_second_never_reaches_the_ingest_with_a_second_value(
    tmp_path: Path, broker: LocalBroker, subscribe: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sub = subscribe()
    buses = [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": 1}]
    devices = [{"bus": "lan", "address": 1, "profile": "eastron-sdm120"}]
    config = load_config(gateway_toml(tmp_path, broker.url, devices, buses, interval="1s"))
    at = datetime.now(UTC).replace(microsecond=123_456)
    reader = FixedTimeReader("lan/1", config.devices[0], at)
    gw = GatewayThread(config, readers=Readers([reader], []))
    try:
        assert sub.wait_for(lambda: len(sub.reading_keys()) >= 1 and reader.calls >= 4, 15)
    finally:
        gw.stop()
    sent = [r for b in sub.batches() for r in b["readings"]]
    # one reading for the key, at the whole second; the later reads either replaced it while it
    # waited in the outbox or were kept out once it was sent — never a second value on the wire
    assert [r["ts"] for r in sent] == [at.replace(microsecond=0).isoformat()]
    assert len(sent) == 1
    gateway = gw.gateway
    assert gateway.replaced + gateway.superseded == reader.calls - 1
    if gateway.superseded:
        assert any("already sent; keeping the first" in r.getMessage() for r in caplog.records)


def test_a_restarted_gateway_never_reads_in_the_second_it_started(
    tmp_path: Path, broker: LocalBroker, subscribe: Any
) -> None:
    """A gateway stopped and started again at once (same outbox, same device): the new run's first
    read is in a later second than its start, so it cannot repeat the key of the old run's last read
    (the second guard keeps only its own run's seconds)."""
    sub = subscribe()
    buses = [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": 1}]
    devices = [{"bus": "lan", "address": 1, "profile": "eastron-sdm120"}]
    config = load_config(gateway_toml(tmp_path, broker.url, devices, buses, interval="1s"))
    runs = []
    for _ in range(2):
        reader = SameSecondReader("lan/1", config.devices[0], lambda: datetime.now(UTC))
        started = datetime.now(UTC)
        gw = GatewayThread(config, readers=Readers([reader], []))
        try:
            assert sub.wait_for(lambda r=reader: len(r.calls) >= 2, 15)
        finally:
            gw.stop()
        runs.append((started, reader.calls))
    for started, calls in runs:
        assert calls[0].replace(microsecond=0) > started.replace(microsecond=0)
    assert sub.wait_for(lambda: len(sub.reading_keys()) >= sum(len(c) for _, c in runs), 15)
    # no ingest acknowledges here, so the second run re-sends the first run's batches (same key, same
    # value); what must never happen is one key with two values
    values: dict[datetime, set[float]] = {}
    for b in sub.batches():
        for r in b["readings"]:
            values.setdefault(datetime.fromisoformat(r["ts"]), set()).add(r["value"])
    assert all(len(v) == 1 for v in values.values()), values
    assert len(values) == sum(len(c) for _, c in runs)  # each read its own second


def test_guard_never_stamps_a_series_at_or_before_its_last_second_and_knows_when_to_hold() -> None:
    s = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    # the last stamps a previous run left in the outbox
    guard = SecondGuard([("EAS-1", "energy_import_kwh", "lan/1", s), ("EAS-1", "voltage_v", "lan/1", s)])
    assert guard.hold_until("lan/1") == s + timedelta(seconds=1) and guard.hold_until("lan/2") is None
    back = s - timedelta(hours=1)
    assert guard.device_behind("lan/1", back) and not guard.device_behind(
        "lan/1", s + timedelta(microseconds=9)
    )
    assert guard.behind(back + timedelta(milliseconds=300)) == timedelta(hours=1)
    assert guard.behind(s + timedelta(milliseconds=300)) == timedelta(0)
    # a read under way when the clock stepped back an hour: one second after the series' last, uncertain
    fresh, repeats = guard.admit([_r(10.0, back + timedelta(milliseconds=400))], "lan/1")
    moved = Reading(
        "EAS-1", "energy_import_kwh", s + timedelta(seconds=1), 10.0, "kWh", ReadingQuality.UNCERTAIN
    )
    assert fresh == [moved] and repeats == []
    assert guard.restamped == [(back, moved)]
    assert guard.hold_until("lan/1") == s + timedelta(seconds=2)
    # the next one behind goes one second further; a bad value stays bad
    bad = Reading("EAS-1", "energy_import_kwh", back, 11.0, "kWh", ReadingQuality.BAD)
    fresh, _ = guard.admit([bad], "lan/1")
    assert fresh == [
        Reading("EAS-1", "energy_import_kwh", s + timedelta(seconds=2), 11.0, "kWh", ReadingQuality.BAD)
    ]
    # the series' last second itself is still a repeat (the later value replaces the stored one)
    fresh, repeats = guard.admit([_r(12.0, s, "voltage_v")], "lan/1")
    assert fresh == [] and repeats == [_r(12.0, s, "voltage_v")] and guard.restamped == []
    # once the clock is past them, stamps are the read's own again
    later = s + timedelta(seconds=5)
    assert guard.admit([_r(13.0, later)], "lan/1") == ([_r(13.0, later)], [])
    assert guard.restamped == []


class StepClock(WallClock):
    """Simulated time ``speed`` times faster than real time (like ``ScaledClock``) that the test can
    step, as NTP or an RTC reset steps a real clock."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start, self.speed, self._t0 = start, speed, time.monotonic()
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed) + self.offset

    def step(self, by: timedelta) -> None:
        self.offset += by


class CounterReader(DeviceReader):
    """A water meter whose counter goes up by one per read, stamped with the gateway's clock when read;
    ``step_at``: the read (1-based) before which the clock is stepped back by ``step``."""

    def __init__(
        self,
        name: str,
        config: Any,
        clock: StepClock,
        counter: list[int],
        step_at: int = 0,
        step: timedelta = timedelta(0),
    ) -> None:
        super().__init__(name, config)
        self.clock, self.counter, self.step_at, self.step = clock, counter, step_at, step
        self.calls: list[tuple[float, datetime]] = []

    async def read(self) -> ReadOutcome:
        if len(self.calls) + 1 == self.step_at:
            self.clock.step(self.step)
        self.counter[0] += 1
        now = self.clock.now()
        self.calls.append((float(self.counter[0]), now))
        return ReadOutcome(True, [Reading("SIM-1", "water_m3", now, float(self.counter[0]), "m3")])


SPEED = 600.0  # an hour of the simulated clock in 6 s; a 5-minute interval is a read every 0.5 s


def _clock_config(tmp_path: Path, broker: LocalBroker):
    buses = [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": 1}]
    devices = [{"bus": "lan", "address": 1, "profile": "eastron-sdm120"}]
    return load_config(
        gateway_toml(tmp_path, broker.url, devices, buses, interval="5m", batch_time="30s", batch_size=5)
    )


def _check_series(sub: Any, values_read: set[float]) -> list[dict[str, Any]]:
    """Every value read reached the wire (re-sends aside: one value per key), no key carries two values,
    and the series' stamps increase with its counter; the readings, by value."""
    by_key: dict[str, set[float]] = {}
    by_value: dict[float, dict[str, Any]] = {}
    for b in sub.batches():
        for r in b["readings"]:
            by_key.setdefault(r["ts"], set()).add(r["value"])
            by_value[r["value"]] = r
    assert all(len(v) == 1 for v in by_key.values()), by_key  # no key repeats with another value
    assert set(by_value) == values_read  # no reading lost
    ordered = [by_value[v] for v in sorted(by_value)]
    stamps = [datetime.fromisoformat(r["ts"]) for r in ordered]
    assert all(a < b for a, b in itertools.pairwise(stamps)), stamps
    return ordered


def _clock_statuses(sub: Any) -> list[dict[str, Any]]:
    return [s["clock_stepped_back"] for s in sub.statuses() if s.get("clock_stepped_back")]


def test_a_clock_stepped_back_an_hour_between_runs_holds_the_reads_until_it_passes_the_last_stamp(
    tmp_path: Path, broker: LocalBroker, subscribe: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sub = subscribe(commit_acks=True)  # the ingest's part: committed batches leave the outbox
    config = _clock_config(tmp_path, broker)
    counter = [0]
    first_clock = StepClock(datetime.now(UTC), SPEED)
    first = CounterReader("lan/1", config.devices[0], first_clock, counter)
    gw = GatewayThread(config, clock=first_clock, readers=Readers([first], []))
    try:
        assert sub.wait_for(lambda: len(sub.reading_keys()) >= 4, 20)
    finally:
        gw.stop()
    box = Outbox(config.outbox.path)
    last = max(ts for *_, ts in box.last_stamps())
    left = box.backlog
    box.close()
    assert left == 0  # every reading acknowledged and deleted: the last stamp is kept apart from them
    assert last == max(c for _, c in first.calls).replace(microsecond=0)

    # restarted with the clock an hour behind (an RTC reset after a power cut, set right later by NTP)
    second_clock = StepClock(last - timedelta(hours=1), SPEED)
    second = CounterReader("lan/1", config.devices[0], second_clock, counter)
    gw = GatewayThread(config, clock=second_clock, readers=Readers([second], []))
    try:
        assert sub.wait_for(lambda: any(c["behind_s"] for c in _clock_statuses(sub)), 10)
        assert second.calls == []  # held
        assert sub.wait_for(lambda: len(second.calls) >= 3, 30)
        assert sub.wait_for(lambda: len(sub.reading_keys()) >= len(first.calls) + 3, 20)
    finally:
        gw.stop()
    # the first read of the second run waited until the clock had passed the last stamp
    assert second.calls[0][1] >= last + timedelta(seconds=1)
    readings = _check_series(sub, {v for v, _ in first.calls + second.calls})
    assert all("quality" not in r for r in readings)  # held, not restamped: every stamp is the read's own
    held = _clock_statuses(sub)
    assert held[0]["episodes"] == 1 and held[0]["held_reads"] == 1 and held[0]["restamped"] == 0
    assert held[-1] == {"episodes": 1, "held_reads": 1, "restamped": 0, "behind_s": None}
    # an hour, less what the 600× clock ran before the status went out (≤ 3 s real on a loaded machine)
    assert 1800 <= held[0]["behind_s"] <= 3600
    assert held[-1]["behind_s"] is None  # republished once the clock had caught up
    warnings = [r for r in caplog.records if r.getMessage().startswith("the clock is ")]
    assert len(warnings) == 1 and "stepped back" in warnings[0].getMessage()


def test_a_clock_stepped_back_an_hour_within_a_run_restamps_the_read_under_way_and_holds_the_rest(
    tmp_path: Path, broker: LocalBroker, subscribe: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sub = subscribe(commit_acks=True)
    config = _clock_config(tmp_path, broker)
    clock = StepClock(datetime.now(UTC), SPEED)
    # the clock steps back an hour just before the 4th read (NTP correcting a clock that ran fast)
    reader = CounterReader("lan/1", config.devices[0], clock, [0], step_at=4, step=-timedelta(hours=1))
    gw = GatewayThread(config, clock=clock, readers=Readers([reader], []))
    try:
        assert sub.wait_for(lambda: len(reader.calls) >= 4, 20)
        assert sub.wait_for(lambda: any(c["behind_s"] for c in _clock_statuses(sub)), 10)
        assert sub.wait_for(lambda: len(reader.calls) >= 7, 30)  # after the hold
        assert sub.wait_for(lambda: len(sub.reading_keys()) >= 7, 20)
    finally:
        gw.stop()
    readings = _check_series(sub, {v for v, _ in reader.calls})
    # the 4th read, stamped an hour back, went one second after the 3rd's stamp, marked uncertain
    third, fourth = (datetime.fromisoformat(r["ts"]) for r in readings[2:4])
    assert third - reader.calls[3][1] > timedelta(minutes=50)  # its own stamp: 55 min before the 3rd
    assert fourth == third + timedelta(seconds=1) and readings[3]["quality"] == "uncertain"
    assert [r.get("quality") for r in readings[:3] + readings[4:]] == [None] * (len(readings) - 1)
    # the 5th waited until the clock had passed the stamps already sent
    assert reader.calls[4][1] > fourth
    statuses = _clock_statuses(sub)
    # 55 min + 1 s (the slot was 5 min after the 3rd read), less what the 600× clock ran before the
    # status went out
    assert 1800 <= statuses[0]["behind_s"] <= 3302
    assert statuses[-1] == {"episodes": 1, "held_reads": 1, "restamped": 1, "behind_s": None}
    assert len([r for r in caplog.records if r.getMessage().startswith("the clock is ")]) == 1
