"""The M-Bus master against the simulator as its peer, over real TCP sockets and pseudo-terminals:
multi-telegram read-out, FCB handling, checksum/length errors, retries, faults, secondary
addressing and the secondary scan with real collisions on the shared line."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from meterhub.collectors.mbus.addressing import SecondaryAddress, SelectionMask
from meterhub.collectors.mbus.frames import decode_frame, req_ud2, snd_nke
from meterhub.collectors.mbus.mapping import map_readings
from meterhub.collectors.mbus.master import MbusError, MbusMaster, SelectOutcome
from meterhub.collectors.mbus.scan import scan_secondary
from meterhub.collectors.mbus.telegram import decode_telegram
from meterhub.collectors.mbus.transport import LineSettings, SerialTransport
from meterhub.collectors.profiles import get_profile
from meterhub.simulators.mbus_meters import SimulatedMeter
from meterhub.simulators.mbus_sim import MbusLine, PtyMbusServer, TcpMbusServer, superpose

START = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
FAST = LineSettings(baudrate=38400, extra_timeout_s=0.0, idle_s=0.01, fixed_delay_s=0.05)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def meters() -> list[SimulatedMeter]:
    return [
        SimulatedMeter("heat", "12345678", 1, START, start_value=5000.0, multi_telegram=True),
        SimulatedMeter("water", "12345679", 2, START, start_value=12.5),
        SimulatedMeter("water", "12340001", 3, START, start_value=3.0, medium=0x06),
        SimulatedMeter("heat", "22345678", 4, START, start_value=100.0),
        SimulatedMeter("water", "12345680", 5, START),
        SimulatedMeter("water", "87654321", 6, START),
    ]


@pytest.fixture()
def line(clock: Clock) -> MbusLine:
    return MbusLine(meters(), clock=clock)


@pytest.fixture()
def master(line: MbusLine):
    with TcpMbusServer(line) as server, SerialTransport(server.url, FAST) as transport:
        yield MbusMaster(transport)


def test_multi_telegram_read_out_toggles_fcb(master: MbusMaster, line: MbusLine, clock: Clock):
    clock.advance(hours=3)
    out = master.read(1)
    assert len(out.telegrams) == 2 and out.retries == 0
    assert out.telegrams[0].more_records_follow and not out.telegrams[1].more_records_follow
    assert {r.storage for r in out.telegrams[1].data_records} == {1}
    reqs = [r for r in line.history if r.function == 0x4B]
    assert [r.fcb for r in reqs] == [True, False]  # first FCV frame after SND_NKE has FCB = 1
    mapped = map_readings(out.telegrams, get_profile("kamstrup-multical-601"), clock.now)
    heat = next(r for r in mapped.readings if r.register == "heat_gcal")
    expected_kwh = line.meters[0].counter(clock.now)
    assert heat.meter_id == "KAM-12345678"
    assert heat.value == pytest.approx(int(expected_kwh) / 1163)  # the meter sends whole kWh


def test_same_fcb_repeats_the_answer_and_toggled_fcb_advances(line: MbusLine):
    with TcpMbusServer(line) as server, SerialTransport(server.url, FAST) as t:
        t.send(snd_nke(1))
        assert t.receive() == b"\xe5"
        t.send(req_ud2(1, True))
        first = t.receive()
        t.send(req_ud2(1, True))  # the master lost the answer: same FCB → same telegram
        assert t.receive() == first
        t.send(req_ud2(1, False))
        second = decode_frame(t.receive())
        assert decode_telegram(second.ci, second.data).data_records[0].storage == 1


@pytest.mark.parametrize("fault", ["bad_checksum", "wrong_length", "no_answer"])
def test_link_faults_are_retried_with_the_same_fcb(master: MbusMaster, line: MbusLine, fault: str):
    assert master.ping(2)
    setattr(line.meters[1].faults, fault, 1)
    out = master.read(2, reset=False)
    assert out.retries == 1 and len(out.telegrams) == 1
    reqs = [r for r in line.history if r.function == 0x4B]
    assert reqs[0].fcb == reqs[1].fcb  # the retry did not toggle


def test_persistent_silence_raises_a_clear_error(master: MbusMaster, line: MbusLine):
    line.meters[1].faults.no_answer = 100
    with pytest.raises(MbusError, match="address 2: no acknowledge to SND_NKE"):
        master.read(2)
    with pytest.raises(MbusError, match="address 99"):
        master.read(99)


def test_late_answer_times_out_then_the_line_recovers(master: MbusMaster, line: MbusLine):
    line.meters[1].faults.late_answer = 1
    line.meters[1].faults.late_delay_s = 0.3
    master.retries = 0
    with pytest.raises(MbusError, match="address 2"):
        master.read(2)
    master.retries = 2
    time.sleep(0.5)  # the late answer arrives after the timeout and is discarded
    assert len(master.read(2).telegrams) == 1


def test_secondary_addressing_with_and_without_wildcards(master: MbusMaster):
    out = master.read_secondary(SelectionMask("87654321"))
    assert out.secondary_address.identification == "87654321"
    out = master.read_secondary(SelectionMask("2FFFFFFF"))  # only 22345678 starts with 2
    assert out.secondary_address.identification == "22345678"
    out = master.read_secondary(SelectionMask("1234FFFF", manufacturer="KAM"))
    assert out.secondary_address.identification == "12345678"
    assert master.select(SelectionMask("1234567F")) is SelectOutcome.COLLISION
    assert master.select(SelectionMask("55555555")) is SelectOutcome.NONE
    with pytest.raises(MbusError, match="collision"):
        master.read_secondary(SelectionMask("1234FFFF"))


def test_secondary_scan_finds_every_meter_through_collisions(master: MbusMaster, line: MbusLine):
    result = scan_secondary(master)
    found = sorted(a.identification for a in result.found)
    assert found == sorted(m.identification for m in line.meters)
    assert not result.unresolved
    assert result.collisions >= 4 and line.collisions >= 4
    kam = next(a for a in result.found if a.identification == "12345678")
    assert (kam.manufacturer, kam.medium) == ("KAM", 0x04)


def test_collision_garbles_the_line():
    assert superpose([b"\xe5", b"\xe5"]) != b"\xe5"
    assert superpose([b"\xe5"]) == b"\xe5"


def test_meter_replacement_shows_a_new_identification(master: MbusMaster, line: MbusLine, clock: Clock):
    assert master.read(2).secondary_address.identification == "12345679"
    line.meters[1].replace("55500001", clock.now)
    clock.advance(minutes=30)
    out = master.read(2)
    mapped = map_readings(out.telegrams, get_profile("engelmann-waterstar-m"), clock.now)
    assert mapped.meter_id == "EFE-55500001"
    assert mapped.readings[0].value < 1.0  # the new meter starts from zero
    assert "55500001" in {a.identification for a in scan_secondary(master, SelectionMask("5FFFFFFF")).found}


def test_counter_rollover(master: MbusMaster, line: MbusLine, clock: Clock):
    profile = get_profile("engelmann-waterstar-m")
    water = line.meters[1]
    water.force_rollover(clock.now, margin=0.0005)  # half a litre below 100 000 m³
    before = map_readings(master.read(2).telegrams, profile, clock.now).readings[0].value
    clock.advance(hours=12)
    after = map_readings(master.read(2).telegrams, profile, clock.now).readings[0].value
    assert before > 99_999.99 and after < before and after < 100


def test_clock_drift_shifts_the_meter_time(master: MbusMaster, line: MbusLine, clock: Clock):
    line.meters[1].faults.clock_drift_s = 3600
    t = master.read(2).telegrams[0]
    stamp = next(r.value for r in t.data_records if r.quantity == "datetime")
    assert stamp == (clock.now + timedelta(hours=1)).replace(tzinfo=None, second=0, microsecond=0)


def test_pty_read_at_2400_baud_respects_the_wire_time(clock: Clock):
    line = MbusLine([SimulatedMeter("water", "11112222", 7, START)], clock=clock)
    with (
        PtyMbusServer(line, baudrate=2400, answer_delay_s=11 / 2400) as server,
        SerialTransport(server.device, LineSettings(baudrate=2400)) as t,
    ):
        started = time.monotonic()
        out = MbusMaster(t).read(7)
        elapsed = time.monotonic() - started
    wire = (t.sent_bytes + t.received_bytes) * 11 / 2400 + t.exchanges * 11 / 2400
    assert out.secondary_address.identification == "11112222"
    assert wire <= elapsed < wire * 1.5 + 0.1


def test_pty_scan_and_checksum_error_at_19200_baud(clock: Clock):
    line = MbusLine(meters(), clock=clock)
    line.meters[0].faults.bad_checksum = 1
    settings = LineSettings(baudrate=19200, extra_timeout_s=0.01, idle_s=0.01, fixed_delay_s=0.02)
    with (
        PtyMbusServer(line, baudrate=19200, answer_delay_s=0.001) as server,
        SerialTransport(server.device, settings) as t,
    ):
        master = MbusMaster(t)
        out = master.read(1)
        assert out.retries == 1 and len(out.telegrams) == 2
        found = scan_secondary(master, SelectionMask("1234FFFF")).found
    assert sorted(a.identification for a in found) == ["12340001", "12345678", "12345679", "12345680"]


def test_scheduled_replacement_and_rollover(master: MbusMaster, line: MbusLine, clock: Clock):
    water = line.meters[1]
    water.faults.replace_after_s = 3600
    line.meters[4].faults.rollover_after_s = 60
    assert master.read(2).secondary_address.identification == "12345679"
    clock.advance(hours=2)
    assert master.read(2).secondary_address.identification == "62345679"  # + 50 000 000
    profile = get_profile("engelmann-waterstar-m")
    volume = map_readings(master.read(5).telegrams, profile, clock.now).readings[0].value
    assert volume > 99_999.99  # just below the 8-digit limit; it wraps on the next litre


def test_scan_separates_meters_sharing_an_identification_number(clock: Clock):
    twins = [
        SimulatedMeter("heat", "44440000", 1, START),
        SimulatedMeter("water", "44440000", 2, START),  # same number, other manufacturer and medium
        SimulatedMeter("water", "44440001", 3, START),
    ]
    line = MbusLine(twins, clock=clock)
    with TcpMbusServer(line) as server, SerialTransport(server.url, FAST) as transport:
        result = scan_secondary(MbusMaster(transport), SelectionMask("4444FFFF"))
    found = sorted((a.identification, a.medium) for a in result.found)
    assert found == [("44440000", 0x04), ("44440000", 0x07), ("44440001", 0x07)]


def test_one_lock_per_line_serialises_concurrent_masters(line: MbusLine):
    import threading

    with TcpMbusServer(line) as server, SerialTransport(server.url, FAST) as transport:
        results: dict[int, int] = {}

        def poll(address: int) -> None:
            master = MbusMaster(transport)  # e.g. two schedules sharing one physical line
            for _ in range(5):
                results[address] = results.get(address, 0) + len(master.read(address).telegrams)

        threads = [threading.Thread(target=poll, args=(a,)) for a in (1, 2, 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == {1: 10, 2: 5, 3: 5}


def test_simulator_does_not_import_the_collectors_mbus_code():
    import subprocess
    import sys

    code = (
        "import sys, meterhub.simulators.mbus_sim, meterhub.simulators.mbus_meters;"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('meterhub.collectors'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_application_error_answer_then_normal_data(master: MbusMaster, line: MbusLine):
    line.meters[1].faults.application_error = 1  # busy once (CI 0x70, code 8)
    out = master.read(2)
    (telegram,) = out.telegrams
    assert telegram.ci == 0x70 and telegram.application_error.code == 8
    assert "too busy" in telegram.application_error.text and out.retries == 0
    assert master.read(2).telegrams[0].header.identification == "12345679"


def test_selection_by_version_and_medium_wildcards(master: MbusMaster, line: MbusLine):
    line.meters[0].version = 0x21  # the heat meter 12345678 (KAM, medium 0x04)
    assert master.select(SelectionMask("FFFFFFFF", version=0x21)) is SelectOutcome.SINGLE
    assert master.select(SelectionMask("FFFFFFFF", version=0x22)) is SelectOutcome.NONE
    # medium 0x06 (warm water): only 12340001; medium 0x04 (heat): 12345678 and 22345678 collide
    assert master.read_secondary(SelectionMask("FFFFFFFF", medium=0x06)).secondary_address == (
        SecondaryAddress("12340001", "EFE", 0, 0x06)
    )
    assert master.select(SelectionMask("FFFFFFFF", medium=0x04)) is SelectOutcome.COLLISION
    mask = SelectionMask("FFFFFFFF", manufacturer="KAM", version=0x21, medium=0x04)
    assert master.read_secondary(mask).secondary_address.identification == "12345678"
    assert master.select(SelectionMask("FFFFFFFF", manufacturer="EFE", medium=0x04)) is SelectOutcome.NONE
