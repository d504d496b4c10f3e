"""Modbus frames as a meter receives and sends them: requests in, answers out. Pure, no I/O.

The simulator's own framing, written apart from pymodbus (which the collectors use) so that the
collector and the simulated meter never share a framer: RTU (``unit, PDU, CRC-16`` low byte
first, Modbus over serial line V1.02) and Modbus/TCP (the 7-byte MBAP header: transaction id,
protocol id 0, length, unit id; Modbus Messaging on TCP/IP Implementation Guide V1.0b).

Every answer is built from *its own* request: the unit id and (on TCP) the transaction id of the
request it answers, however late it leaves — as a real device or gateway answers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

READ_COILS, READ_DISCRETE_INPUTS, READ_HOLDING, READ_INPUT = 1, 2, 3, 4
READ_FUNCTIONS = (READ_COILS, READ_DISCRETE_INPUTS, READ_HOLDING, READ_INPUT)

ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
GATEWAY_TARGET_FAILED = 0x0B  # "gateway target device failed to respond"

MAX_READ_REGISTERS = 125
MAX_RTU_FRAME = 256  # Modbus over serial line V1.02, 2.5.1: an RTU frame is at most 256 bytes
MBAP_SIZE = 7
_MAX_TCP_PDU = 253

# RTU request sizes by function code (unit + PDU + CRC) where the size is fixed; 15/16 carry a
# byte count at offset 6; 43 (read device identification) is 7 bytes with MEI type 0x0E.
_FIXED_RTU_SIZE = {1: 8, 2: 8, 3: 8, 4: 8, 5: 8, 6: 8, 7: 4, 8: 8, 11: 4, 12: 4, 17: 4, 22: 10, 43: 7}


@dataclass(frozen=True, slots=True)
class Request:
    """One request as it arrived: unit id, function code, the PDU data after the function code,
    and the MBAP transaction id (``None`` for RTU frames, which have none)."""

    unit_id: int
    function: int
    data: bytes
    transaction_id: int | None = None

    @property
    def address(self) -> int:
        return struct.unpack_from(">H", self.data, 0)[0] if len(self.data) >= 2 else 0

    @property
    def count(self) -> int:
        return struct.unpack_from(">H", self.data, 2)[0] if len(self.data) >= 4 else 0


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS (reflected polynomial 0xA001, initial value 0xFFFF), by table."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def _crc_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        value = n
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return tuple(table)


_CRC_TABLE = _crc_table()


def rtu_request_size(buffer: bytes) -> int | None:
    """Size of the RTU request starting at ``buffer[0]``; ``None`` until enough bytes are known.

    ``0`` means the function code gives no size (a function this meter does not know): such a frame
    is delimited by the silence after it, i.e. it is everything received since the last silence.
    """
    if len(buffer) < 2:
        return None
    function = buffer[1]
    if function in (15, 16):
        return 9 + buffer[6] if len(buffer) >= 7 else None
    return _FIXED_RTU_SIZE.get(function, 0)


def split_rtu_requests(buffer: bytes) -> tuple[list[Request], bytes]:
    """The complete requests at the start of ``buffer`` and the bytes left over.

    ``buffer`` starts after a silence on the line. A frame whose CRC does not match is noise (or a
    frame cut by a collision): like a device, the parser drops one byte and looks for the next frame
    start.
    """
    requests: list[Request] = []
    while buffer:
        size = rtu_request_size(buffer)
        if size is None:
            break
        if size == 0 and len(buffer) <= MAX_RTU_FRAME and _crc_ok(buffer):
            size = len(buffer)  # a function without a known size, delimited by the silence after it
        if size == 0 or (size <= len(buffer) and not _crc_ok(buffer[:size])):
            buffer = buffer[1:]
            continue
        if size > len(buffer):
            # the head may be noise that looks like the start of a long frame: a whole valid frame
            # further on wins (a real device would have seen the silence before it)
            later = _next_whole_frame(buffer)
            if later is None:
                break
            buffer = buffer[later:]
            continue
        frame, buffer = buffer[:size], buffer[size:]
        requests.append(Request(frame[0], frame[1], frame[2:-2]))
    return requests, buffer[-MAX_RTU_FRAME:]


def _next_whole_frame(buffer: bytes) -> int | None:
    """Offset of the first complete frame with a valid CRC after ``buffer[0]``, if any."""
    for offset in range(1, len(buffer) - 3):
        size = rtu_request_size(buffer[offset:])
        if size and offset + size <= len(buffer) and _crc_ok(buffer[offset : offset + size]):
            return offset
    return None


class BadMbapHeader(ValueError):
    """Bytes that are no Modbus/TCP frame (protocol id ≠ 0 or an impossible length)."""


def split_tcp_requests(buffer: bytes) -> tuple[list[Request], bytes]:
    """Complete Modbus/TCP requests at the start of ``buffer`` and the bytes left over.

    Raises :class:`BadMbapHeader` for a header no client sends; a server closes such a connection.
    """
    requests: list[Request] = []
    while len(buffer) >= MBAP_SIZE:
        tid, protocol, length, unit = struct.unpack_from(">HHHB", buffer)
        if protocol != 0 or not 2 <= length <= _MAX_TCP_PDU + 1:
            raise BadMbapHeader(f"not a Modbus/TCP request: {buffer[:MBAP_SIZE].hex(' ')}")
        size = 6 + length
        if len(buffer) < size:
            break
        frame, buffer = buffer[:size], buffer[size:]
        requests.append(Request(unit, frame[7], frame[8:], tid))
    return requests, buffer


def read_error(request: Request) -> int | None:
    """The exception a read of holding/input registers deserves before any data is looked at.

    Count outside 1…125: illegal data value; addresses past 0xFFFF: illegal data address
    (Modbus Application Protocol V1.1b3, 6.3/6.4).
    """
    if len(request.data) != 4:
        return ILLEGAL_DATA_VALUE
    if not 1 <= request.count <= MAX_READ_REGISTERS:
        return ILLEGAL_DATA_VALUE
    if request.address + request.count > 0x10000:
        return ILLEGAL_DATA_ADDRESS
    return None


def registers_pdu(function: int, words: list[int]) -> bytes:
    """The answer PDU to a register read: function code, byte count, the words big-endian."""
    return bytes((function, 2 * len(words))) + b"".join(struct.pack(">H", w) for w in words)


def exception_pdu(function: int, code: int) -> bytes:
    """An exception answer: the function code with its high bit set, and the exception code."""
    return bytes(((function | 0x80) & 0xFF, code))


def rtu_frame(unit_id: int, pdu: bytes) -> bytes:
    """``unit, PDU, CRC`` (CRC low byte first)."""
    body = bytes((unit_id,)) + pdu
    return body + crc16(body).to_bytes(2, "little")


def tcp_frame(transaction_id: int, unit_id: int, pdu: bytes) -> bytes:
    """MBAP header (transaction id, protocol 0, length of unit + PDU, unit id) and the PDU."""
    return struct.pack(">HHHB", transaction_id, 0, len(pdu) + 1, unit_id) + pdu


def _crc_ok(frame: bytes) -> bool:
    return len(frame) >= 4 and crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little")
