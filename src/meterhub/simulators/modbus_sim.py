"""The Modbus simulator: many meters (unit ids) behind one pymodbus server, TCP or RTU.

Meters answer from their profiles (encoded with the simulator's own encoder) and their counters
advance along load curves in simulated time. Faults are injected per unit through
:class:`~meterhub.simulators.modbus_meters.Faults` while the server runs:

* no answer and late answer — in the datastore (the server stays silent / waits);
* exception responses — the datastore returns the exception code;
* CRC errors — the outgoing RTU frame's CRC is flipped on its way to the wire (a TCP answer, which
  has no CRC, is truncated instead); short frames — the answer loses its last three bytes;
* rollover, meter replacement, clock drift — on :class:`SimulatedModbusMeter`.

The simulator imports only shared types and the profile data model, never the collectors' decoder.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from meterhub.collectors.modbus.profile import Function
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter
from meterhub.simulators.serial_wire import SerialWire

log = logging.getLogger(__name__)
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

_FUNCTIONS = {3: Function.HOLDING, 4: Function.INPUT}


@dataclass(frozen=True, slots=True)
class AnsweredRequest:
    """One request the simulator handled: unit, what was asked, and when [monotonic s]."""

    unit_id: int
    function: int
    address: int
    count: int
    started: float
    finished: float


class _MeterContext(ModbusServerContext):
    """pymodbus datastore answering from simulated meters (the server's per-request hook)."""

    def __init__(self, simulator: ModbusSimulator) -> None:  # no super().__init__: no static blocks
        self.simulator = simulator
        self.old_simulator = True  # route reads to async_getValues below
        self.simdevices = []
        self._devices = {}

    def device_ids(self) -> list[int]:
        return sorted(self.simulator.meters)

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | ExcCodes:
        return await self.simulator.answer(device_id, func_code, address, count)

    async def async_setValues(self, device_id: int, func_code: int, address: int, values: object) -> ExcCodes:
        return ExcCodes.ILLEGAL_FUNCTION


class ModbusSimulator:
    """Serve ``meters`` (by unit id) over TCP, RTU over TCP, or RTU on a pseudo-terminal."""

    def __init__(self, meters: Sequence[SimulatedModbusMeter], clock: SimClock) -> None:
        self.meters = {m.unit_id: m for m in meters}
        if len(self.meters) != len(meters):
            raise ValueError("two simulated meters share a unit id")
        self.clock = clock
        self.requests = 0
        self.answered: list[AnsweredRequest] = []
        self.wire: SerialWire | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._framer = FramerType.SOCKET

    async def answer(self, unit_id: int, func_code: int, address: int, count: int) -> list[int] | ExcCodes:
        """One read request: faults first, then the meter's register image."""
        meter = self.meters.get(unit_id)
        if meter is None or func_code not in _FUNCTIONS:
            raise NoSuchIdException(f"no simulated meter {unit_id}")
        self.requests += 1
        started = time.monotonic()
        faults = meter.faults
        if faults.no_answer:
            raise NoSuchIdException(f"unit {unit_id} is silent (fault)")
        delay = faults.turnaround + faults.late_answer
        if faults.late_answer and faults.late_count > 0:
            faults.late_count -= 1
            if faults.late_count == 0:
                faults.late_answer = 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        result = meter.read(_FUNCTIONS[func_code], address, count, self.clock.now())
        self.answered.append(AnsweredRequest(unit_id, func_code, address, count, started, time.monotonic()))
        return ExcCodes(result) if isinstance(result, int) else result

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        """Corrupt outgoing answers of units with the ``crc_error`` fault."""
        if not sending or not data:
            return data
        unit = data[6] if self._framer is FramerType.SOCKET and len(data) > 6 else data[0]
        meter = self.meters.get(unit)
        if meter is None:
            return data
        if meter.faults.short_frame:
            return data[:-3]
        if not meter.faults.crc_error:
            return data
        if self._framer is FramerType.SOCKET:
            return data[: max(7, len(data) - 3)]  # MBAP says more bytes follow than ever arrive
        return data[:-2] + bytes((data[-2] ^ 0xFF, data[-1]))

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0, *, rtu_framing: bool = False) -> int:
        """Listen for Modbus/TCP (or RTU frames over TCP); returns the bound port."""
        self._framer = FramerType.RTU if rtu_framing else FramerType.SOCKET
        server = ModbusTcpServer(
            _MeterContext(self),
            framer=self._framer,
            address=(host, port),
            ignore_missing_devices=True,
            trace_packet=self._trace_packet,
        )
        await server.serve_forever(background=True)
        self._server = server
        sockets = server.transport.sockets  # type: ignore[union-attr]
        return int(sockets[0].getsockname()[1])

    async def start_rtu(self, baudrate: int | None = 9600) -> str:
        """Serve RTU on a pseudo-terminal line paced at ``baudrate``; returns the tty a master opens."""
        self._framer = FramerType.RTU
        self.wire = SerialWire(baudrate)
        self.wire.start()
        server = ModbusSerialServer(
            _MeterContext(self),
            framer=FramerType.RTU,
            port=self.wire.device_port,
            baudrate=baudrate or 115200,
            ignore_missing_devices=True,
            trace_packet=self._trace_packet,
        )
        await server.serve_forever(background=True)
        self._server = server
        return self.wire.master_port

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
        if self.wire is not None:
            self.wire.close()
            self.wire = None
