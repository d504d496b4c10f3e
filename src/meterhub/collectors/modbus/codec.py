"""Pure register decoding and encoding: 16-bit register words ↔ numbers.

Our own code (not pymodbus's payload helpers) so that a library upgrade can never change a value.
Every type × byte order × word order:

* the value's bytes are taken most significant first (big-endian, "ABCD" for 32 bits);
* ``word_order = little`` reverses the order of the registers ("CDAB");
* ``byte_order = little`` swaps the two bytes inside each register ("BADC").

BCD types carry one decimal digit per nibble (``bcd16``: 0…9999, ``bcd32``: 0…99 999 999); a nibble
above 9 is an error, not a number. No I/O here.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from decimal import Decimal

from meterhub.collectors.modbus.profile import DataType, Encoding, Order

_STRUCT = {
    DataType.INT16: ">h",
    DataType.UINT16: ">H",
    DataType.INT32: ">i",
    DataType.UINT32: ">I",
    DataType.INT64: ">q",
    DataType.UINT64: ">Q",
    DataType.FLOAT32: ">f",
    DataType.FLOAT64: ">d",
}


class DecodeError(ValueError):
    """The registers do not hold a valid value of the declared type (wrong count, bad BCD digit)."""


def registers_to_bytes(registers: Sequence[int], encoding: Encoding) -> bytes:
    """The value's bytes, most significant first, from registers in wire order."""
    words = list(registers)
    if encoding.word_order is Order.LITTLE:
        words.reverse()
    out = bytearray()
    for word in words:
        if not 0 <= word <= 0xFFFF:
            raise DecodeError(f"register value {word} is not a 16-bit word")
        high, low = word >> 8, word & 0xFF
        out += bytes((low, high) if encoding.byte_order is Order.LITTLE else (high, low))
    return bytes(out)


def bytes_to_registers(data: bytes, encoding: Encoding) -> list[int]:
    """Inverse of :func:`registers_to_bytes`: registers in wire order from most-significant-first bytes."""
    if len(data) % 2:
        raise ValueError("a register value needs an even number of bytes")
    words = []
    for i in range(0, len(data), 2):
        high, low = data[i], data[i + 1]
        if encoding.byte_order is Order.LITTLE:
            high, low = low, high
        words.append((high << 8) | low)
    if encoding.word_order is Order.LITTLE:
        words.reverse()
    return words


def decode(registers: Sequence[int], encoding: Encoding) -> int | float:
    """The raw number the registers hold (before scale/offset). Integers stay ``int``."""
    if len(registers) != encoding.register_count:
        raise DecodeError(f"{encoding.type} needs {encoding.register_count} registers, got {len(registers)}")
    data = registers_to_bytes(registers, encoding)
    if encoding.type in (DataType.BCD16, DataType.BCD32):
        return _decode_bcd(data)
    return struct.unpack(_STRUCT[encoding.type], data)[0]


def encode(value: int | float, encoding: Encoding) -> list[int]:
    """Registers in wire order holding ``value`` (the inverse of :func:`decode`).

    Integers and BCD must be whole numbers within the type's range; floats are rounded to the type.
    """
    kind = encoding.type
    if kind in (DataType.BCD16, DataType.BCD32):
        data = _encode_bcd(value, 2 * encoding.register_count)
    elif kind in (DataType.FLOAT32, DataType.FLOAT64):
        data = struct.pack(_STRUCT[kind], float(value))
    else:
        if int(value) != value:
            raise ValueError(f"{kind} holds whole numbers only, got {value!r}")
        try:
            data = struct.pack(_STRUCT[kind], int(value))
        except struct.error:
            raise ValueError(f"{value!r} is out of range for {kind}") from None
    return bytes_to_registers(data, encoding)


def scale_value(raw: int | float, scale: float = 1.0, factor: float = 1.0, offset: float = 0.0) -> float:
    """The value in meterhub units: ``raw × scale × factor + offset``.

    Integers are scaled in decimal arithmetic so ``12345 × 0.1`` is ``1234.5``, not ``1234.5000000000002``.
    """
    if isinstance(raw, int):
        exact = Decimal(raw) * Decimal(repr(scale)) * Decimal(repr(factor)) + Decimal(repr(offset))
        return float(exact)
    if scale == 1.0 and factor == 1.0 and offset == 0.0:
        return raw
    return raw * scale * factor + offset


def shortest_float32(value: float) -> float:
    """The shortest decimal that reads back as the same float32 (``230.1``, not ``230.10000610351562``).

    A meter computed its float32 from a decimal; printing more digits than float32 holds is noise.
    """
    if value != value or value in (float("inf"), float("-inf")):
        return value
    target = struct.pack(">f", value)
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack(">f", candidate) == target:
            return candidate
    return value


def _decode_bcd(data: bytes) -> int:
    result = 0
    for byte in data:
        for nibble in (byte >> 4, byte & 0x0F):
            if nibble > 9:
                raise DecodeError(f"BCD digit 0x{nibble:X} in {data.hex()} is not a decimal digit")
            result = result * 10 + nibble
    return result


def _encode_bcd(value: int | float, size: int) -> bytes:
    if int(value) != value or value < 0:
        raise ValueError(f"BCD holds non-negative whole numbers only, got {value!r}")
    digits = str(int(value))
    if len(digits) > 2 * size:
        raise ValueError(f"{value!r} has more than {2 * size} digits for BCD")
    digits = digits.rjust(2 * size, "0")
    return bytes(int(digits[i]) << 4 | int(digits[i + 1]) for i in range(0, len(digits), 2))
