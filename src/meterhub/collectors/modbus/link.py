"""The only module that touches sockets and serial ports: one Modbus line through pymodbus.

A :class:`ModbusLink` is one endpoint — a serial line, a serial-to-Ethernet converter or a Modbus/TCP
server — and owns the bus lock: one transaction at a time on it, with the inter-frame delay kept
between transactions. pymodbus does transport and framing only (its own retries are off: the poller
retries with backoff). Failures come out as :mod:`errors` types: timeouts, CRC errors (seen on the
raw bytes before pymodbus drops the frame), short frames, exception responses, connection errors.

Late answers on a serial line: an RTU frame carries no transaction id, so an answer that arrives
after its timeout would be taken for the answer to the next request to the same unit — a register's
value reported under another register. After a timeout or an incomplete answer the link therefore
keeps that unit *unsettled* for one more timeout (as libmodbus's protocol error recovery does): its
next request waits until then, without holding the bus lock, and pymodbus drops the stale frame that
arrives meanwhile as unrequested. Another unit's request in that window is safe: a stale frame from
the wrong unit id is refused (and that read retried). Modbus/TCP has transaction ids and needs none of it.

Coupling to pymodbus 3.x internals, kept to two attributes and covered by the tests: the per-device
timeout is set on ``client.ctx.comm_params.timeout_connect`` before each transaction (one client
serves all devices of a line), and a bad CRC or a lost connection resolves
``client.ctx.response_future`` at once.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.framer import FramerType

from meterhub.collectors.modbus.device import Endpoint
from meterhub.collectors.modbus.errors import (
    ModbusConnectionError,
    ModbusCrcError,
    ModbusError,
    ModbusExceptionResponse,
    ModbusInvalidFrame,
    ModbusShortFrame,
    ModbusTimeout,
)
from meterhub.collectors.modbus.profile import Function
from meterhub.collectors.modbus.rtu import check_rtu_frame, expected_rtu_size

# pymodbus logs every timeout at ERROR; the poller reports device state changes once instead.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

Client = AsyncModbusTcpClient | AsyncModbusSerialClient


class ModbusLink:
    """One line (endpoint), its pymodbus client and its bus lock."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.lock = asyncio.Lock()
        self._client: Client | None = None
        self._rx = b""
        self._crc_failed = False
        self._last_end = 0.0
        self._unsettled: dict[int, float] = {}  # unit id → monotonic time a late answer may arrive until
        self.transactions = 0

    def _make_client(self, timeout: float) -> Client:
        ep = self.endpoint
        if ep.transport == "rtu":
            return AsyncModbusSerialClient(
                ep.device,
                framer=FramerType.RTU,
                baudrate=ep.baudrate,
                bytesize=8,
                parity=ep.parity,
                stopbits=ep.stopbits,
                timeout=timeout,
                retries=0,
                reconnect_delay=0,
                trace_packet=self._trace_packet,
                trace_connect=self._trace_connect,
            )
        framer = FramerType.SOCKET if ep.transport == "tcp" else FramerType.RTU
        return AsyncModbusTcpClient(
            ep.host,
            port=ep.port,
            framer=framer,
            timeout=timeout,
            retries=0,
            reconnect_delay=0,
            trace_packet=self._trace_packet,
            trace_connect=self._trace_connect,
        )

    def _trace_connect(self, connected: bool) -> None:
        """A connection lost while an answer is awaited fails that transaction at once (not after the
        timeout): the server or converter closed it, or the serial adapter went away."""
        if connected or self._client is None:
            return
        future = self._client.ctx.response_future
        if not future.done():
            future.set_exception(ModbusConnectionError(f"{self.endpoint} closed the connection"))

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        """Watch raw bytes: remember what arrived, and fail fast on a complete RTU frame with a bad CRC."""
        if sending:
            return data
        self._rx = data
        if self.endpoint.transport != "tcp" and self._client is not None:
            size = expected_rtu_size(data)
            if size is not None and len(data) >= size and not check_rtu_frame(data[:size]):
                self._crc_failed = True
                future = self._client.ctx.response_future
                if not future.done():
                    future.set_exception(ModbusCrcError(f"CRC error in {data[:size].hex(' ')}"))
        return data

    async def _connected(self, timeout: float) -> Client:
        if self._client is None:
            self._client = self._make_client(timeout)
        if not self._client.connected:
            self._client.ctx.comm_params.timeout_connect = timeout
            try:
                ok = await self._client.connect()
            except (OSError, ModbusException) as exc:
                raise ModbusConnectionError(f"cannot connect to {self.endpoint}: {exc}") from None
            if not ok:
                raise ModbusConnectionError(f"cannot connect to {self.endpoint}")
        return self._client

    async def read(
        self,
        unit_id: int,
        function: Function,
        address: int,
        count: int,
        *,
        timeout: float,
        frame_delay: float,
    ) -> list[int]:
        """Read ``count`` registers; holds the bus lock for the whole transaction [timeout, delay in s]."""
        settle = self._unsettled.pop(unit_id, 0.0) - time.monotonic()
        if settle > 0:  # a late answer of this unit may still be on its way: let it pass first
            await asyncio.sleep(settle)
        async with self.lock:
            client = await self._connected(timeout)
            pause = self._last_end + frame_delay - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._rx, self._crc_failed = b"", False
            client.ctx.comm_params.timeout_connect = timeout
            self.transactions += 1
            try:
                if function is Function.HOLDING:
                    response = await client.read_holding_registers(address, count=count, device_id=unit_id)
                else:
                    response = await client.read_input_registers(address, count=count, device_id=unit_id)
            except ModbusError:
                raise
            except ConnectionException as exc:
                raise ModbusConnectionError(f"{self.endpoint}: {exc}") from None
            except (TimeoutError, ModbusException) as exc:
                error = self._classify_failure(timeout, exc)
                if self.endpoint.is_serial_line and isinstance(error, ModbusTimeout | ModbusShortFrame):
                    self._unsettled[unit_id] = time.monotonic() + timeout
                raise error from None
            finally:
                self._last_end = time.monotonic()
        if response.isError():
            raise ModbusExceptionResponse(int(getattr(response, "exception_code", 0)))
        registers = list(response.registers)
        if len(registers) != count:
            raise ModbusShortFrame(f"asked for {count} registers, got {len(registers)}")
        return registers

    def _classify_failure(self, timeout: float, exc: BaseException) -> ModbusError:
        if self._crc_failed:
            return ModbusCrcError("CRC error in the answer")
        if self._rx:
            shown = self._rx[:32].hex(" ") + (" …" if len(self._rx) > 32 else "")
            if self.endpoint.transport == "tcp" and len(self._rx) >= 4 and self._rx[2:4] != b"\x00\x00":
                return ModbusInvalidFrame(f"not a Modbus/TCP answer (protocol id ≠ 0): {shown}")
            return ModbusShortFrame(f"incomplete answer after {timeout:g} s: {shown}")
        if "device id" in str(exc) or "transaction id" in str(exc):
            return ModbusShortFrame(f"answer from the wrong device: {exc}")
        return ModbusTimeout(f"no answer within {timeout:g} s")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
