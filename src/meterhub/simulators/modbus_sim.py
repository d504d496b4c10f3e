"""The Modbus simulator: many meters (unit ids) behind one endpoint — Modbus/TCP, RTU over TCP, or
RTU on a pseudo-terminal line.

The transport and the framing are the simulator's own (:mod:`modbus_frames`), not pymodbus's, so a
simulated meter answers byte for byte as a real one: every answer carries the unit id and, on
TCP, the transaction id of the request it answers, however late it leaves. Requests are answered
concurrently (each in its own task), so one slow meter never holds back another's answer.

What a meter answers (the defaults, as real meters and gateways do):

* reads of holding (FC 3) and input (FC 4) registers — from its profile; an address the meter does
  not have is exception 02 (see :meth:`SimulatedModbusMeter.read`), a count outside 1…125 is 03;
* any other function code (coils, discrete inputs, writes, diagnostics) — exception 01;
* a unit id no meter has — silence on an RTU line (a shared bus: nobody is addressed, nobody
  answers; also through a transparent ``rtu+tcp`` converter), exception 0x0B ("gateway target
  device failed to respond") on Modbus/TCP, where the simulator stands for a TCP-to-RTU gateway;
* a request whose CRC is wrong — silence (the device never saw a valid frame).

Faults are injected per unit through :class:`~meterhub.simulators.modbus_meters.Faults` while the
server runs: no answer (silence), late answer and turnaround (the answer waits), exception responses,
CRC errors (an RTU answer's CRC is flipped; a TCP answer, which has no CRC, is cut so its MBAP length
promises bytes that never come), short frames (the answer loses its last three bytes); rollover,
meter replacement and clock drift are on :class:`SimulatedModbusMeter`.

The simulator imports only shared types and the profile data model, never the collectors' decoder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from meterhub.collectors.modbus.profile import Function
from meterhub.simulators.modbus_frames import (
    GATEWAY_TARGET_FAILED,
    ILLEGAL_FUNCTION,
    READ_HOLDING,
    READ_INPUT,
    BadMbapHeader,
    Request,
    exception_pdu,
    read_error,
    registers_pdu,
    rtu_frame,
    split_rtu_requests,
    split_tcp_requests,
    tcp_frame,
)
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter
from meterhub.simulators.serial_wire import SerialWire

log = logging.getLogger(__name__)

_FUNCTIONS = {READ_HOLDING: Function.HOLDING, READ_INPUT: Function.INPUT}
#: An incomplete RTU request older than this is dropped (the line was silent: the frame ended) [s].
_STALE_PARTIAL_FRAME = 0.05


@dataclass(frozen=True, slots=True)
class AnsweredRequest:
    """One request a meter answered: unit, what was asked, and when [monotonic s]."""

    unit_id: int
    function: int
    address: int
    count: int
    started: float
    finished: float


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
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._pty_fd: int | None = None

    # ---- what a meter answers (transport-free) ---------------------------------------------------
    async def respond(self, request: Request, *, gateway: bool) -> bytes | None:
        """The answer PDU to one request, or ``None`` for silence.

        ``gateway``: the endpoint stands for a Modbus/TCP gateway (unknown unit ids get 0x0B).
        """
        meter = self.meters.get(request.unit_id)
        if meter is None:
            return exception_pdu(request.function, GATEWAY_TARGET_FAILED) if gateway else None
        self.requests += 1
        started = time.monotonic()
        faults = meter.faults
        if faults.no_answer:
            return None
        delay = faults.turnaround + faults.late_answer
        if faults.late_answer and faults.late_count > 0:
            faults.late_count -= 1
            if faults.late_count == 0:
                faults.late_answer = 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        function = _FUNCTIONS.get(request.function)
        if function is None:
            pdu = exception_pdu(request.function, ILLEGAL_FUNCTION)
        elif (code := read_error(request)) is not None:
            pdu = exception_pdu(request.function, code)
        else:
            result = meter.read(function, request.address, request.count, self.clock.now())
            if isinstance(result, int):
                pdu = exception_pdu(request.function, result)
            else:
                pdu = registers_pdu(request.function, result)
        self.answered.append(
            AnsweredRequest(
                request.unit_id, request.function, request.address, request.count, started, time.monotonic()
            )
        )
        return pdu

    def _frame(self, request: Request, pdu: bytes, *, rtu: bool) -> bytes:
        """The answer on the wire, framed with the request's own unit (and transaction) id, faults applied."""
        if rtu:
            frame = rtu_frame(request.unit_id, pdu)
        else:
            frame = tcp_frame(request.transaction_id or 0, request.unit_id, pdu)
        meter = self.meters.get(request.unit_id)
        if meter is None:
            return frame
        if meter.faults.short_frame:
            return frame[:-3]
        if meter.faults.crc_error:
            if rtu:
                return frame[:-2] + bytes((frame[-2] ^ 0xFF, frame[-1]))
            return frame[: max(7, len(frame) - 3)]  # MBAP says more bytes follow than ever arrive
        return frame

    def _spawn(self, request: Request, send: Callable[[bytes], None], *, rtu: bool, gateway: bool) -> None:
        async def answer() -> None:
            pdu = await self.respond(request, gateway=gateway)
            if pdu is not None:
                send(self._frame(request, pdu, rtu=rtu))

        task = asyncio.get_running_loop().create_task(answer())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- TCP ---------------------------------------------------------------------------------
    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0, *, rtu_framing: bool = False) -> int:
        """Listen for Modbus/TCP (or RTU frames over TCP: a serial converter); returns the bound port."""

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.add(writer)

            def send(frame: bytes) -> None:
                if not writer.is_closing():
                    writer.write(frame)

            buffer = b""
            try:
                while data := await reader.read(4096):
                    buffer += data
                    if rtu_framing:
                        requests, buffer = split_rtu_requests(buffer)
                    else:
                        requests, buffer = split_tcp_requests(buffer)
                    for request in requests:
                        self._spawn(request, send, rtu=rtu_framing, gateway=not rtu_framing)
            except (BadMbapHeader, ConnectionError):
                pass  # a client that speaks no Modbus/TCP is disconnected, as a real server does
            finally:
                self._writers.discard(writer)
                writer.close()

        self._server = await asyncio.start_server(connection, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    # ---- RTU on a pseudo-terminal ------------------------------------------------------------
    async def start_rtu(self, baudrate: int | None = 9600) -> str:
        """Serve RTU on a pseudo-terminal line paced at ``baudrate``; returns the tty a master opens."""
        self.wire = SerialWire(baudrate)
        self.wire.start()
        fd = os.open(self.wire.device_port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self._pty_fd = fd
        buffer, last = b"", 0.0

        def send(frame: bytes) -> None:
            if self._pty_fd is not None:
                with contextlib.suppress(OSError):
                    os.write(self._pty_fd, frame)

        def readable() -> None:
            nonlocal buffer, last
            try:
                data = os.read(fd, 4096)
            except (BlockingIOError, OSError):
                return
            now = time.monotonic()
            if now - last > _STALE_PARTIAL_FRAME:  # the line was silent: a new frame starts
                buffer = b""
            last = now
            requests, buffer = split_rtu_requests(buffer + data)
            for request in requests:
                self._spawn(request, send, rtu=True, gateway=False)

        asyncio.get_running_loop().add_reader(fd, readable)
        return self.wire.master_port

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        if self._pty_fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._pty_fd)
            with contextlib.suppress(OSError):
                os.close(self._pty_fd)
            self._pty_fd = None
        if self.wire is not None:
            self.wire.close()
            self.wire = None
