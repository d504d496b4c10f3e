"""Modbus RTU frame arithmetic (CRC-16/MODBUS, frame sizes, wire time). Pure, no I/O.

The collectors use it to recognise corrupt answers and the benchmark to compute the wire limit.
"""

from __future__ import annotations


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) of ``data``; sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def check_rtu_frame(frame: bytes) -> bool:
    """Whether the last two bytes of ``frame`` are the CRC of the rest."""
    return len(frame) >= 4 and crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little")


def expected_rtu_size(data: bytes) -> int | None:
    """Size of the RTU answer starting at ``data[0]`` once enough is known, else None.

    Read answers (function 3/4) are ``unit, fc, byte count, data…, crc(2)``; exception answers
    (``fc | 0x80``) are 5 bytes.
    """
    if len(data) < 2:
        return None
    function = data[1]
    if function & 0x80:
        return 5
    if function in (3, 4):
        return 5 + data[2] if len(data) >= 3 else None
    return None


def read_request_bytes() -> int:
    """Bytes of a read request (function 3/4): unit, fc, address(2), count(2), crc(2)."""
    return 8


def read_response_bytes(count: int) -> int:
    """Bytes of a read answer carrying ``count`` registers."""
    return 5 + 2 * count


def transaction_wire_time(count: int, baudrate: int, bits_per_character: int = 11) -> float:
    """Least time one read of ``count`` registers occupies an RTU line [s].

    Request and answer characters plus a 3.5-character silent interval after each frame
    (Modbus over serial line V1.02, 2.5.1.1).
    """
    characters = read_request_bytes() + read_response_bytes(count) + 2 * 3.5
    return characters * bits_per_character / baudrate
