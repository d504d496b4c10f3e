"""Two units on one line, one of them answering late: no value may land on the wrong meter.

The collector polls two SDM120 at once (one register per request, so every read and every answer has
the same size — the case where a misattributed answer would decode cleanly). Unit 1 answers its first
answers after the collector's timeout, labelled — as a real late device labels them — with its own
unit id (and, on TCP, its own transaction id). Peers: the project simulator on an RTU pseudo-terminal,
RTU over TCP and Modbus/TCP, and two slaves written out in this test with their own framing and
CRC (no project code): an RTU slave on a pty pair and a Modbus/TCP slave. Each reading must be the
value its own unit holds, under its own meter id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import tty
from collections.abc import AsyncIterator

import pytest
from modbus_support import device, meter, run, simulator_peer
from tests.modbus_oracle import crc

from meterhub.collectors.modbus.poller import ModbusCollector

# Eastron SDM120 input registers (Eastron SDM120-Modbus protocol V2.4), float32, and the serial number
SDM120_ADDRESSES = {
    "voltage_v": 0x0000,
    "current_a": 0x0006,
    "power_w": 0x000C,
    "power_factor": 0x001E,
    "frequency_hz": 0x0046,
    "energy_import_kwh": 0x0048,
    "energy_export_kwh": 0x004A,
}
SERIAL_ADDRESS = 0xFC00
LATE_ANSWERS = 3  # unit 1's first three answers come after the timeout
TIMEOUT, LATE_BY = 0.2, 0.3
TURNAROUND = 0.04  # every answer takes device time, so the prompt unit's reads are in flight when
# the late answer arrives (a late answer that arrives on an idle line proves nothing)


def held_value(unit: int, address: int) -> float:
    """What unit ``unit`` holds at ``address`` in this test: distinct for every unit and register."""
    return unit * 1000.0 + address + 0.5


def serial_of(unit: int) -> int:
    return 4_000_000 + unit * 111


def _devices(url: str) -> list:
    return [
        device(
            f"unit{u}", url, u, "eastron-sdm120", one_register_per_request=True, timeout=TIMEOUT, retries=3
        )
        for u in (1, 2)
    ]


async def _poll_and_check(url: str, polls: int = 2) -> None:
    collector = ModbusCollector(_devices(url))
    try:
        delivered = {1: 0, 2: 0}
        for _ in range(polls):
            for unit, result in zip((1, 2), await collector.poll_once(), strict=True):
                for r in result.readings:
                    assert r.meter_id == f"EASTRON-{serial_of(unit)}", (unit, r)
                    assert r.value == held_value(unit, SDM120_ADDRESSES[r.register]), (unit, r)
                delivered[unit] += len(result.readings)
        assert delivered[2] == 2 * 7  # the prompt unit always delivers
        assert delivered[1] >= 7  # the late unit delivers once its answers are on time again
    finally:
        collector.close()


# ---- the project simulator -------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["rtu-pty", "rtu+tcp", "tcp"])
def test_project_simulator_late_unit_never_lends_values_to_its_neighbour(transport: str) -> None:
    meters = [meter("eastron-sdm120", u, serial=serial_of(u)) for u in (1, 2)]
    for m in meters:
        m.pinned = {(0, name): held_value(m.unit_id, a) for name, a in SDM120_ADDRESSES.items()}
        m.faults.turnaround = TURNAROUND
    meters[0].faults.late_answer, meters[0].faults.late_count = LATE_BY, LATE_ANSWERS

    async def scenario() -> None:
        async with simulator_peer(transport, meters) as (_, url):
            await _poll_and_check(url)
            assert meters[0].faults.late_answer == 0.0  # all late answers were sent

    run(scenario())


# ---- independent slaves, written here without project code ----------------------------------------


class TwoUnitSlave:
    """Units 1 and 2 as this test defines them; unit 1's first answers are late."""

    def __init__(self) -> None:
        self.late_left = LATE_ANSWERS
        self.answers = {1: 0, 2: 0}

    def words(self, unit: int, function: int, address: int, count: int) -> bytes | None:
        if function == 3 and address == SERIAL_ADDRESS and count == 2:
            return struct.pack(">I", serial_of(unit))
        if function != 4:
            return None
        out = b""
        for a in range(address, address + count):
            base = a - a % 2
            out += struct.pack(">f", held_value(unit, base))[2 * (a % 2) : 2 * (a % 2) + 2]
        return out

    def pdu(self, unit: int, function: int, address: int, count: int) -> bytes:
        data = self.words(unit, function, address, count)
        if data is None:
            return bytes((function | 0x80, 2))
        return bytes((function, len(data))) + data

    async def delay(self, unit: int) -> None:
        self.answers[unit] += 1
        if unit == 1 and self.late_left > 0:
            self.late_left -= 1
            await asyncio.sleep(TURNAROUND + LATE_BY)
        else:
            await asyncio.sleep(TURNAROUND)


@contextlib.asynccontextmanager
async def rtu_slave_on_pty(slave: TwoUnitSlave) -> AsyncIterator[str]:
    """A hand-written RTU slave on the master side of a pty; yields the tty the collector opens."""
    loop = asyncio.get_running_loop()
    master, tty_fd = os.openpty()
    tty.setraw(tty_fd)
    os.set_blocking(master, False)
    buffer = b""
    tasks: set[asyncio.Task] = set()

    async def answer(unit: int, function: int, address: int, count: int) -> None:
        await slave.delay(unit)
        frame = bytes((unit,)) + slave.pdu(unit, function, address, count)
        os.write(master, frame + crc(frame))  # its own unit id, however late

    def readable() -> None:
        nonlocal buffer
        with contextlib.suppress(BlockingIOError):
            buffer += os.read(master, 4096)
        while len(buffer) >= 8:
            frame = buffer[:8]
            if crc(frame[:6]) != frame[6:]:
                buffer = buffer[1:]
                continue
            buffer = buffer[8:]
            unit, function, address, count = struct.unpack(">BBHH", frame[:6])
            if unit in (1, 2):
                task = loop.create_task(answer(unit, function, address, count))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    loop.add_reader(master, readable)
    try:
        yield os.ttyname(tty_fd)
    finally:
        loop.remove_reader(master)
        for task in tasks:
            task.cancel()
        os.close(master)
        os.close(tty_fd)


@contextlib.asynccontextmanager
async def tcp_slave(slave: TwoUnitSlave) -> AsyncIterator[int]:
    """A hand-written Modbus/TCP server (MBAP by hand); yields its port."""
    tasks: set[asyncio.Task] = set()

    async def answer(
        writer: asyncio.StreamWriter, tid: int, unit: int, function: int, address: int, count: int
    ) -> None:
        await slave.delay(unit)
        pdu = slave.pdu(unit, function, address, count)
        writer.write(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)  # its own ids, however late

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                tid, _, length, unit = struct.unpack(">HHHB", await reader.readexactly(7))
                function, address, count = struct.unpack(">BHH", await reader.readexactly(length - 1))
                task = asyncio.get_running_loop().create_task(
                    answer(writer, tid, unit, function, address, count)
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for task in tasks:
            task.cancel()
        server.close()


@pytest.mark.parametrize("transport", ["rtu-pty", "tcp"])
def test_independent_slave_late_unit_never_lends_values_to_its_neighbour(transport: str) -> None:
    slave = TwoUnitSlave()

    async def scenario() -> None:
        if transport == "rtu-pty":
            async with rtu_slave_on_pty(slave) as path:
                await _poll_and_check(f"rtu://{path}?baudrate=115200")
        else:
            async with tcp_slave(slave) as port:
                await _poll_and_check(f"tcp://127.0.0.1:{port}")
        assert slave.late_left == 0 and slave.answers[1] > LATE_ANSWERS

    run(scenario())
