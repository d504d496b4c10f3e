"""The simulator's own register encoder: numbers → 16-bit words in a profile's layout.

Written independently of the collectors' decoder on purpose: when the collector reads back what
the simulator wrote, two implementations agree, not one with itself. It works on integers
(two's complement by hand, IEEE 754 bits via ``struct``) and arranges bytes as the profile says:
``word_order = little`` puts the least significant register first, ``byte_order = little`` swaps
the bytes inside each register.
"""

from __future__ import annotations

import math
import struct

from meterhub.collectors.modbus.profile import DataType, Order

_BITS = {
    DataType.INT16: 16,
    DataType.UINT16: 16,
    DataType.BCD16: 16,
    DataType.INT32: 32,
    DataType.UINT32: 32,
    DataType.FLOAT32: 32,
    DataType.BCD32: 32,
    DataType.INT64: 64,
    DataType.UINT64: 64,
    DataType.FLOAT64: 64,
}
_SIGNED = {DataType.INT16, DataType.INT32, DataType.INT64}
_BCD = {DataType.BCD16, DataType.BCD32}
_FLOAT = {DataType.FLOAT32: "!f", DataType.FLOAT64: "!d"}


def bits_of(kind: DataType) -> int:
    return _BITS[kind]


def integer_range(kind: DataType) -> tuple[int, int]:
    """Smallest and largest raw integer a type holds (BCD: decimal digits)."""
    bits = _BITS[kind]
    if kind in _BCD:
        return 0, 10 ** (bits // 4) - 1
    if kind in _SIGNED:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def wrap_integer(raw: int, kind: DataType) -> int:
    """A counter value wrapped the way the device's register rolls over."""
    low, high = integer_range(kind)
    span = high - low + 1
    return (raw - low) % span + low


def to_bits(raw: int | float, kind: DataType) -> int:
    """The value as an unsigned integer of the type's width (the bit pattern, most significant first)."""
    bits = _BITS[kind]
    if kind in _FLOAT:
        return int.from_bytes(struct.pack(_FLOAT[kind], float(raw)), "big")
    if kind in _BCD:
        number = int(raw)
        if not 0 <= number < 10 ** (bits // 4):
            raise ValueError(f"{raw!r} does not fit {kind}")
        pattern = 0
        for position, digit in enumerate(reversed(str(number))):
            pattern |= int(digit) << (4 * position)
        return pattern
    number = int(raw)
    low, high = integer_range(kind)
    if not low <= number <= high:
        raise ValueError(f"{raw!r} does not fit {kind}")
    return number + (1 << bits) if number < 0 else number


def encode_words(raw: int | float, kind: DataType, byte_order: Order, word_order: Order) -> list[int]:
    """Registers, in the order they appear on the wire, that carry ``raw``."""
    pattern = to_bits(raw, kind)
    count = _BITS[kind] // 16
    words = [(pattern >> (16 * (count - 1 - i))) & 0xFFFF for i in range(count)]  # most significant first
    if byte_order is Order.LITTLE:
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    if word_order is Order.LITTLE:
        words = words[::-1]
    return words


def raw_from_value(
    value: float, kind: DataType, scale: float, factor: float, offset: float, *, counter: bool
) -> int | float:
    """Invert ``value = raw × scale × factor + offset``: the number the device stores.

    Counters (pulses, energy in Wh) round down, as a device counts whole units; momentary values
    round to nearest and are clamped to the type's range.
    """
    raw = (value - offset) / (scale * factor)
    if kind in _FLOAT:
        return raw
    # repr-rounding first, so 12.3 / 0.1 = 122.99999999999999 still counts as 123
    raw = round(raw, 6)
    number = math.floor(raw) if counter else round(raw)
    if counter:
        return wrap_integer(number, kind)
    low, high = integer_range(kind)
    return min(max(number, low), high)
