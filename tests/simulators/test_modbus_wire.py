"""The simulator on the wire, byte for byte: requests and answers built by hand in this test (its own
CRC and MBAP code), sent over real TCP sockets and a real pseudo-terminal line.

A simulated meter must answer as the real one: a late answer carries its own unit id and its own
transaction id; unknown addresses and function codes get exceptions; an unknown unit id is silence
on a serial line and exception 0x0B from a TCP gateway.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.modbus_oracle import crc

from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.profiles import get_profile
from meterhub.simulators.modbus_frames import split_rtu_requests, split_tcp_requests
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter
from meterhub.simulators.modbus_sim import ModbusSimulator

START = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)


def rtu_request(unit: int, function: int, address: int, count: int) -> bytes:
    body = bytes((unit, function)) + struct.pack(">HH", address, count)
    return body + crc(body)


def tcp_request(tid: int, unit: int, function: int, address: int, count: int) -> bytes:
    return struct.pack(">HHHBBHH", tid, 0, 6, unit, function, address, count)


def sdm120(unit: int, **kwargs) -> SimulatedModbusMeter:
    profile = get_profile("eastron-sdm120")
    assert isinstance(profile, ModbusProfile)
    return SimulatedModbusMeter(profile, unit_id=unit, serial=1000 + unit, seed=unit, **kwargs)


def run(coro, timeout: float = 20.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def tcp_answers(port: int, frames: list[bytes], expected: int, wait: float = 1.0) -> list[bytes]:
    """Send frames on one connection and collect up to ``expected`` whole MBAP answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for frame in frames:
        writer.write(frame)
        await writer.drain()
        await asyncio.sleep(0.02)
    answers: list[bytes] = []
    deadline = time.monotonic() + wait
    try:
        while len(answers) < expected and time.monotonic() < deadline:
            header = await asyncio.wait_for(reader.readexactly(6), deadline - time.monotonic())
            length = struct.unpack(">H", header[4:6])[0]
            answers.append(header + await reader.readexactly(length))
    except TimeoutError:
        pass
    writer.close()
    return answers


async def rtu_bytes(path: str, frames: list[bytes], wait: float) -> bytes:
    """Write frames to the master end of the line and return every byte that comes back in ``wait`` s."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    received = b""
    try:
        for frame in frames:
            os.write(fd, frame)
            await asyncio.sleep(0.06)  # a silent interval between frames
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                received += os.read(fd, 4096)
            except BlockingIOError:
                await asyncio.sleep(0.01)
    finally:
        os.close(fd)
    return received


def float_words(value: float) -> bytes:
    return struct.pack(">f", value)


def test_late_tcp_answer_carries_its_own_transaction_and_unit_id() -> None:
    late, prompt = sdm120(1), sdm120(2)
    late.faults.late_answer = 0.3

    async def scenario() -> None:
        sim = ModbusSimulator([late, prompt], SimClock(START, speed=0.0))
        port = await sim.start_tcp()
        try:
            answers = await tcp_answers(
                port, [tcp_request(0x1111, 1, 4, 0x0000, 2), tcp_request(0x2222, 2, 4, 0x0006, 2)], 2
            )
        finally:
            await sim.stop()
        first, second = answers
        volts = late.values(START)[(0, "voltage_v")]
        amps = prompt.values(START)[(0, "current_a")]
        # unit 2 answers first (on time), then unit 1's late answer with unit 1's own ids
        assert first == bytes.fromhex("2222 0000 0007 02 04 04") + float_words(amps)
        assert second == bytes.fromhex("1111 0000 0007 01 04 04") + float_words(volts)

    run(scenario())


@pytest.mark.parametrize("baudrate", [None, 9600])
def test_late_rtu_answer_carries_its_own_unit_id(baudrate: int | None) -> None:
    late, prompt = sdm120(1), sdm120(2)
    late.faults.late_answer = 0.3

    async def scenario() -> None:
        sim = ModbusSimulator([late, prompt], SimClock(START, speed=0.0))
        path = await sim.start_rtu(baudrate)
        try:
            data = await rtu_bytes(path, [rtu_request(1, 4, 0x0000, 2), rtu_request(2, 4, 0x0006, 2)], 0.6)
        finally:
            await sim.stop()
        volts = late.values(START)[(0, "voltage_v")]
        amps = prompt.values(START)[(0, "current_a")]
        expected_2 = bytes.fromhex("02 04 04") + float_words(amps)
        expected_1 = bytes.fromhex("01 04 04") + float_words(volts)
        assert data == expected_2 + crc(expected_2) + expected_1 + crc(expected_1)

    run(scenario())


def test_tcp_exceptions_like_a_meter_behind_a_gateway() -> None:
    meter = sdm120(1)

    async def scenario() -> None:
        sim = ModbusSimulator([meter], SimClock(START, speed=0.0))
        port = await sim.start_tcp()
        cases = {
            tcp_request(1, 1, 1, 0, 8): "81 01",  # read coils: illegal function
            tcp_request(2, 1, 2, 0, 8): "82 01",  # read discrete inputs: illegal function
            tcp_request(3, 1, 6, 0, 1): "86 01",  # write single register: illegal function
            tcp_request(4, 1, 4, 0x5000, 2): "84 02",  # far from the map: illegal data address
            tcp_request(5, 1, 4, 0xFFFF, 2): "84 02",  # past 0xFFFF
            tcp_request(6, 1, 4, 0x0000, 0): "84 03",  # count 0: illegal data value
            tcp_request(7, 1, 4, 0x0000, 126): "84 03",  # count above 125
            tcp_request(8, 9, 4, 0x0000, 2): "84 0b",  # unit 9 is nobody: the gateway says 0x0B
        }
        try:
            for request, pdu in cases.items():
                (answer,) = await tcp_answers(port, [request], 1)
                unit = request[6]
                assert answer == request[:4] + struct.pack(">HB", 3, unit) + bytes.fromhex(pdu), pdu
        finally:
            await sim.stop()

    run(scenario())


def test_reserved_gaps_read_as_zero_unmapped_blocks_are_refused() -> None:
    meter, strict = sdm120(1), sdm120(2, reject_unmapped=True)

    async def scenario() -> None:
        sim = ModbusSimulator([meter, strict], SimClock(START, speed=0.0))
        port = await sim.start_tcp()
        try:
            (gap,) = await tcp_answers(port, [tcp_request(1, 1, 4, 0x0000, 8)], 1)
            (refused,) = await tcp_answers(port, [tcp_request(2, 2, 4, 0x0000, 8)], 1)
            (serial,) = await tcp_answers(port, [tcp_request(3, 1, 3, 0xFC00, 2)], 1)
            (wrong_table,) = await tcp_answers(port, [tcp_request(4, 1, 3, 0x0000, 2)], 1)
        finally:
            await sim.stop()
        values = meter.values(START)
        assert gap[7:] == (
            bytes.fromhex("04 10")
            + float_words(values[(0, "voltage_v")])
            + bytes(8)
            + float_words(values[(0, "current_a")])
        )
        assert refused[7:] == bytes.fromhex("84 02")
        assert serial[7:] == bytes.fromhex("03 04") + struct.pack(">I", 1001)
        assert wrong_table[7:] == bytes.fromhex("83 02")  # voltage is an input register, not holding

    run(scenario())


def test_rtu_silence_for_unknown_units_and_bad_crc_exceptions_otherwise() -> None:
    meter = sdm120(1)

    async def scenario() -> None:
        sim = ModbusSimulator([meter], SimClock(START, speed=0.0))
        path = await sim.start_rtu(None)
        try:
            nobody = await rtu_bytes(path, [rtu_request(9, 4, 0, 2)], 0.3)
            corrupt = rtu_request(1, 4, 0, 2)
            bad_crc = await rtu_bytes(path, [corrupt[:-1] + bytes((corrupt[-1] ^ 1,))], 0.3)
            coils = await rtu_bytes(path, [rtu_request(1, 1, 0, 8)], 0.3)
            far = await rtu_bytes(path, [rtu_request(1, 3, 0x4000, 2)], 0.3)
            odd = bytes.fromhex("01 41 12 34")  # a user-defined function code: size unknown to the meter
            unknown_function = await rtu_bytes(path, [odd + crc(odd)], 0.3)
        finally:
            await sim.stop()
        assert nobody == b"" and bad_crc == b""
        assert coils == bytes.fromhex("01 81 01") + crc(bytes.fromhex("01 81 01"))
        assert far == bytes.fromhex("01 83 02") + crc(bytes.fromhex("01 83 02"))
        assert unknown_function == bytes.fromhex("01 c1 01") + crc(bytes.fromhex("01 c1 01"))
        assert sim.requests == 3  # the frame with the bad CRC never reached the meter

    run(scenario())


def test_frame_parsers_resynchronise_after_noise() -> None:
    good = rtu_request(3, 4, 0x0048, 2)
    requests, rest = split_rtu_requests(b"\x01\x03\xff\x00" + good + good[:5])
    assert [(r.unit_id, r.function, r.address, r.count) for r in requests] == [(3, 4, 0x48, 2)]
    assert rest == good[:5]
    requests, rest = split_tcp_requests(tcp_request(7, 2, 3, 0xFC00, 2) + b"\x00\x08")
    assert [(r.transaction_id, r.unit_id, r.address) for r in requests] == [(7, 2, 0xFC00)]
    assert rest == b"\x00\x08"


_read_requests = st.lists(
    st.tuples(
        st.integers(1, 247), st.sampled_from([1, 2, 3, 4]), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(requests=_read_requests, tids=st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8))
def test_parsers_give_back_every_request_sent_back_to_back(requests: list, tids: list[int]) -> None:
    rtu = b"".join(rtu_request(*r) for r in requests)
    parsed, rest = split_rtu_requests(rtu)
    assert [(p.unit_id, p.function, p.address, p.count) for p in parsed] == requests and rest == b""
    tcp = b"".join(tcp_request(tid, *r) for tid, r in zip(tids, requests, strict=False))
    parsed, rest = split_tcp_requests(tcp)
    assert [(p.unit_id, p.function, p.address, p.count) for p in parsed] == requests and rest == b""
    assert [p.transaction_id for p in parsed] == tids[: len(requests)]


@settings(max_examples=300, deadline=None)
@given(noise=st.binary(max_size=64), request=_read_requests.filter(bool))
def test_rtu_parser_survives_any_noise_and_finds_the_frame_after_it(noise: bytes, request: list) -> None:
    """Noise on the line (a collision, a stray frame start) never hides the next valid request."""
    parsed, rest = split_rtu_requests(noise)  # never raises
    assert len(rest) <= 256
    parsed, rest = split_rtu_requests(noise + rtu_request(*request[0]))
    assert (
        parsed
        and (parsed[-1].unit_id, parsed[-1].function, parsed[-1].address, parsed[-1].count) == (request[0])
    )
    assert rest == b""
