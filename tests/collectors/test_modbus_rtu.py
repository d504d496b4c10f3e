"""Modbus RTU on real pseudo-terminals: values, bus serialisation, parallel lines, CRC, wire pacing."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from modbus_support import device, meter, rtu_simulator, run, simulator_peer

from meterhub.collectors.modbus.poller import ModbusCollector
from meterhub.collectors.modbus.rtu import crc16, transaction_wire_time


def test_crc16_known_vector() -> None:
    # read holding registers, unit 1, address 0, 1 register: 01 03 00 00 00 01 84 0A
    assert crc16(bytes.fromhex("010300000001")).to_bytes(2, "little") == bytes.fromhex("840a")


def test_reads_over_a_pty_line_match_the_simulator() -> None:
    sdm, em = meter("eastron-sdm120", 1), meter("carlo-gavazzi-em111", 2)

    async def scenario() -> None:
        async with rtu_simulator([sdm, em]) as (sim, url):
            collector = ModbusCollector(
                [
                    device("sdm", url, 1, "eastron-sdm120"),
                    device("em", url, 2, "carlo-gavazzi-em111", serial="EM42"),
                ]
            )
            a, b = await collector.poll_once()
            assert a.ok and b.ok, (a.error, b.error)
            now = sim.clock.now()
            for result, sim_meter in ((a, sdm), (b, em)):
                truth = sim_meter.values(now)
                for r in result.readings:
                    assert r.value == pytest.approx(truth[(0, r.register)], rel=1e-6, abs=0.11), r
            assert {r.meter_id for r in b.readings} == {"CARLOGAVAZZI-EM42"}
            collector.close()

    run(scenario())


def test_devices_on_one_line_never_overlap_separate_lines_run_in_parallel() -> None:
    line_a = [meter("eastron-sdm120", u) for u in (1, 2, 3)]
    line_b = [meter("eastron-sdm120", u) for u in (1, 2, 3)]
    for m in line_a + line_b:
        m.faults.turnaround = 0.03  # each answer takes 30 ms of device time

    async def scenario() -> None:
        async with rtu_simulator(line_a) as (sim_a, url_a), rtu_simulator(line_b) as (sim_b, url_b):
            devices = [device(f"a{u}", url_a, u, "eastron-sdm120", serial=f"A{u}") for u in (1, 2, 3)]
            devices += [device(f"b{u}", url_b, u, "eastron-sdm120", serial=f"B{u}") for u in (1, 2, 3)]
            collector = ModbusCollector(devices)
            t0 = time.monotonic()
            results = await collector.poll_once()
            elapsed = time.monotonic() - t0
            assert all(r.ok for r in results)
            for sim in (sim_a, sim_b):
                spans = sorted((a.started, a.finished, a.unit_id) for a in sim.answered)
                assert len(spans) == 6  # 3 devices × 2 reads
                for (_, end, _), (start, _, _) in itertools.pairwise(spans):
                    assert start >= end, "two transactions overlapped on one RS-485 line"
            one_line = 6 * 0.03
            assert elapsed < 2 * one_line  # both lines at once, not one after the other
            assert elapsed >= one_line
            collector.close()

    run(scenario())


def test_crc_error_short_frame_and_dead_device_on_a_pty_line() -> None:
    bad, dead, good = meter("eastron-sdm120", 1), meter("eastron-sdm120", 2), meter("eastron-sdm120", 3)
    short = meter("eastron-sdm120", 4)
    bad.faults.crc_error = True
    dead.faults.no_answer = True
    short.faults.short_frame = True

    async def scenario() -> None:
        async with rtu_simulator([bad, dead, good, short]) as (_, url):
            collector = ModbusCollector(
                [
                    device("bad", url, 1, "eastron-sdm120", retries=0),
                    device("dead", url, 2, "eastron-sdm120", retries=0, timeout=0.2),
                    device("good", url, 3, "eastron-sdm120"),
                    device("short", url, 4, "eastron-sdm120", retries=0, timeout=0.2),
                ]
            )
            r_bad, r_dead, r_good, r_short = await collector.poll_once()
            kinds = [s.last_error_kind for s in collector.statuses()]
            assert kinds == ["crc", "timeout", None, "short_frame"]
            assert not r_short.ok and "incomplete answer" in (r_short.error or "")
            assert not r_bad.ok and not r_dead.ok and r_good.ok
            collector.close()

    run(scenario())


def test_pty_line_is_paced_at_the_baud_rate() -> None:
    sim_meter = meter("eastron-sdm120", 1)

    async def scenario() -> None:
        async with rtu_simulator([sim_meter], baudrate=9600) as (sim, url):
            collector = ModbusCollector(
                [
                    device(
                        "m", url, 1, "eastron-sdm120", serial="1", one_register_per_request=True, timeout=1.0
                    )
                ]
            )
            t0 = time.monotonic()
            (result,) = await collector.poll_once()
            elapsed = time.monotonic() - t0
            assert result.ok and result.requests == 7
            wire = 7 * transaction_wire_time(2, 9600)
            assert wire == pytest.approx(7 * 0.0275, rel=0.01)  # performance notes: 27.5 ms per read
            assert wire * 0.9 <= elapsed < wire * 1.6 + 0.05
            assert sim.wire is not None and sim.wire.bytes_to_device == 7 * 8
            collector.close()

    run(scenario())


def test_collector_survives_garbage_on_the_line() -> None:
    sim_meter = meter("eastron-sdm120", 1)

    async def scenario() -> None:
        async with rtu_simulator([sim_meter]) as (sim, url):
            collector = ModbusCollector([device("m", url, 1, "eastron-sdm120", timeout=0.2, retries=0)])
            (ok,) = await collector.poll_once()
            assert ok.ok
            assert sim.wire is not None
            sim.wire.inject(bytes(range(1, 40)))  # noise toward the master between polls
            sim.wire.inject(b"\x01\x03\xff")  # and a stray frame start toward the devices
            await asyncio.sleep(0.01)
            results = [(await collector.poll_once())[0] for _ in range(3)]
            assert results[-1].ok  # the line recovers by itself
            collector.close()

    run(scenario())


def _assert_true_values(result, sim_meter, now) -> None:
    truth = sim_meter.values(now)
    for r in result.readings:
        assert r.value == pytest.approx(truth[(0, r.register)], rel=1e-6, abs=0.11), r


def _one_register_sdm120(url: str, *, retries: int):
    """An SDM120 at unit 1 read one register per request, with a 0.2 s timeout."""
    return device(
        "m", url, 1, "eastron-sdm120", serial="1", one_register_per_request=True, timeout=0.2, retries=retries
    )


@pytest.mark.parametrize("transport", ["rtu-pty", "rtu+tcp"])
def test_late_answers_never_become_the_values_of_other_reads(transport: str) -> None:
    """RTU frames carry no transaction id. A device that always answers 0.25 s late (timeout 0.2 s):
    without care each stale answer is taken for the next read's (one register per read, all reads
    the same size) and e.g. the voltage is reported as the current. Every reported value is true."""
    sim_meter = meter("eastron-sdm120", 1)
    sim_meter.faults.late_answer = 0.25

    async def scenario() -> None:
        async with simulator_peer(transport, [sim_meter]) as (sim, url):
            collector = ModbusCollector([_one_register_sdm120(url, retries=3)])
            for _ in range(2):
                (result,) = await collector.poll_once()
                _assert_true_values(result, sim_meter, sim.clock.now())
            collector.close()

    run(scenario())


@pytest.mark.parametrize("transport", ["rtu-pty", "rtu+tcp"])
def test_after_one_late_answer_the_retry_reads_true_values(transport: str) -> None:
    sim_meter = meter("eastron-sdm120", 1)
    sim_meter.faults.late_answer, sim_meter.faults.late_count = 0.25, 1

    async def scenario() -> None:
        async with simulator_peer(transport, [sim_meter]) as (sim, url):
            collector = ModbusCollector([_one_register_sdm120(url, retries=1)])
            (result,) = await collector.poll_once()
            assert result.ok and result.requests == 8, result.error  # 7 reads + the retry
            assert len(result.readings) == 7
            _assert_true_values(result, sim_meter, sim.clock.now())
            (again,) = await collector.poll_once()
            assert again.ok and again.requests == 7
            _assert_true_values(again, sim_meter, sim.clock.now())
            collector.close()

    run(scenario())
