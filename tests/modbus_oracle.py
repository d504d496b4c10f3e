"""CRC-16/MODBUS written out bit by bit for the Modbus tests (Modbus over serial line V1.02, 6.2.2).

The tests' own oracle: request and answer frames built with it are independent of the collectors'
``rtu.crc16`` and of the simulator's table-driven CRC.
"""

from __future__ import annotations


def crc(data: bytes) -> bytes:
    """The CRC of ``data`` as it goes on the wire: low byte first."""
    value = 0xFFFF
    for byte in data:
        value ^= byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    return bytes((value & 0xFF, value >> 8))
