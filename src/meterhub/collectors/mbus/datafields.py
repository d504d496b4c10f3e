"""Data field codings of EN 13757-3 (annex A, data types A, B, C, F, G, H, I, J and LVAR).

Pure functions from the data bytes (already in LSB-first order) to Python values:

* type A — BCD, 2/4/6/8/12 digits; a most significant nibble ``0xF`` marks a negative value;
* type B — signed binary integers of 8/16/24/32/48/64 bits (two's complement);
* type H — IEEE 754 32-bit real;
* type G — date (16 bit), type F — date and time (32 bit), type I — date and time with seconds (48 bit);
* LVAR — variable length: text, positive/negative BCD, binary (annex A, table A.3 of EN 13757-3:2013).

Invalid data raises ``DataFieldError``; the record decoder turns it into a per-record error.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, datetime


class DataFieldError(ValueError):
    """The data bytes cannot be decoded as the DIF announces (e.g. BCD nibble 0xA..0xE)."""


@dataclass(frozen=True, slots=True)
class Coding:
    """One DIF data field code (EN 13757-3, table 4): its name and length in bytes (None: LVAR)."""

    code: int
    name: str
    length: int | None


CODINGS: dict[int, Coding] = {
    0x0: Coding(0x0, "no data", 0),
    0x1: Coding(0x1, "int8", 1),
    0x2: Coding(0x2, "int16", 2),
    0x3: Coding(0x3, "int24", 3),
    0x4: Coding(0x4, "int32", 4),
    0x5: Coding(0x5, "real32", 4),
    0x6: Coding(0x6, "int48", 6),
    0x7: Coding(0x7, "int64", 8),
    0x8: Coding(0x8, "selection for readout", 0),
    0x9: Coding(0x9, "bcd2", 1),
    0xA: Coding(0xA, "bcd4", 2),
    0xB: Coding(0xB, "bcd6", 3),
    0xC: Coding(0xC, "bcd8", 4),
    0xD: Coding(0xD, "variable length", None),
    0xE: Coding(0xE, "bcd12", 6),
}
BCD_CODES = frozenset({0x9, 0xA, 0xB, 0xC, 0xE})
INT_CODES = frozenset({0x1, 0x2, 0x3, 0x4, 0x6, 0x7})


def decode_int(data: bytes) -> int:
    """Type B: signed little-endian two's complement integer."""
    return int.from_bytes(data, "little", signed=True)


def decode_uint(data: bytes) -> int:
    """Unsigned little-endian integer (type C; used for identifiers and bit fields)."""
    return int.from_bytes(data, "little", signed=False)


def decode_bcd(data: bytes) -> int:
    """Type A: packed BCD, least significant byte first.

    EN 13757-3 annex A: if the most significant nibble is ``0xF`` the value is negative and the
    remaining digits give its magnitude. Any other nibble above 9 is invalid.
    """
    if not data:
        raise DataFieldError("BCD field is empty")
    digits = []
    for byte in reversed(data):
        digits.extend((byte >> 4, byte & 0x0F))
    negative = digits[0] == 0xF
    if negative:
        digits = digits[1:]
    value = 0
    for digit in digits:
        if digit > 9:
            hexed = data[::-1].hex().upper()
            raise DataFieldError(f"invalid BCD digit 0x{digit:X} in {hexed} (digits must be 0..9)")
        value = value * 10 + digit
    return -value if negative else value


def encode_bcd(value: int, length: int) -> bytes:
    """Inverse of ``decode_bcd`` (negative values get the 0xF sign nibble)."""
    negative = value < 0
    digits = str(abs(value))
    if len(digits) > length * 2 - (1 if negative else 0):
        raise ValueError(f"{value} does not fit into {length * 2} BCD digits")
    text = digits.rjust(length * 2, "0")
    if negative:
        text = "F" + text[1:]
    return bytes.fromhex(text)[::-1]


def decode_real32(data: bytes) -> float:
    """Type H: IEEE 754 single precision, little endian."""
    return struct.unpack("<f", data)[0]


def _year(low3: int, high4: int) -> int:
    """Years of types F/G/I are 7 bits (0..99, counted from 2000; 81..99 read as 1981..1999)."""
    year = low3 | (high4 << 3)
    return 2000 + year if year <= 80 else 1900 + year


def decode_type_g(data: bytes) -> date:
    """Type G date (16 bit): day 1..31, month 1..12, year in bits spread over both bytes."""
    b0, b1 = data[0], data[1]
    day = b0 & 0x1F
    month = b1 & 0x0F
    year = _year((b0 & 0xE0) >> 5, (b1 & 0xF0) >> 4)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise DataFieldError(f"invalid type G date {data.hex()}: {exc}") from None


def decode_type_f(data: bytes) -> datetime:
    """Type F date and time (32 bit) with minute resolution; bit 7 of byte 0 flags it invalid,
    bit 7 of byte 1 is summer time (ignored: the value is the meter's local wall-clock time)."""
    b0, b1, b2, b3 = data[:4]
    if b0 & 0x80:
        raise DataFieldError(f"type F date/time {data.hex()} has the invalid flag (IV) set")
    minute, hour, day, month = b0 & 0x3F, b1 & 0x1F, b2 & 0x1F, b3 & 0x0F
    year = _year((b2 & 0xE0) >> 5, (b3 & 0xF0) >> 4)
    hundred_years = (b1 >> 5) & 0x03  # HY: 1900 + 100·HY + year; many meters leave it 0
    if hundred_years:
        year = 1900 + 100 * hundred_years + year % 100
    try:
        return datetime(year, month, day, hour, minute)
    except ValueError as exc:
        raise DataFieldError(f"invalid type F date/time {data.hex()}: {exc}") from None


def decode_type_i(data: bytes) -> datetime:
    """Type I date and time (48 bit) with seconds; bit 7 of byte 1 (IV) flags it invalid."""
    second, b1, b2, b3, b4 = data[0] & 0x3F, data[1], data[2], data[3], data[4]
    if b1 & 0x80:
        raise DataFieldError(f"type I date/time {data.hex()} has the invalid flag (IV) set")
    minute, hour, day, month = b1 & 0x3F, b2 & 0x1F, b3 & 0x1F, b4 & 0x0F
    year = _year((b3 & 0xE0) >> 5, (b4 & 0xF0) >> 4)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise DataFieldError(f"invalid type I date/time {data.hex()}: {exc}") from None


def lvar_length(lvar: int) -> int:
    """Number of data bytes that follow an LVAR byte (EN 13757-3:2013, table A.3)."""
    if lvar <= 0xBF:
        return lvar
    if 0xC0 <= lvar <= 0xC9 or 0xD0 <= lvar <= 0xD9:
        return lvar & 0x0F
    if 0xE0 <= lvar <= 0xEF:
        return lvar - 0xE0
    if 0xF0 <= lvar <= 0xF4:
        return 4 * (lvar - 0xEC)
    if lvar == 0xF5:
        return 48
    if lvar == 0xF6:
        return 64
    raise DataFieldError(f"reserved LVAR value 0x{lvar:02X}")


def decode_lvar(lvar: int, data: bytes, big_endian: bool = False) -> str | int | bytes:
    """Variable-length data (EN 13757-3:2013, table A.3): text, ±BCD, or binary.

    ``data`` is as sent. In mode 1 (LSB first, CI 0x72) text comes last character first and
    numbers least significant byte first; ``big_endian`` (mode 2, CI 0x76) is the other way
    round. Binary numbers of up to 15 bytes (LVAR 0xE0..0xEF) become an unsigned int; the long
    binary fields (0xF0..0xF6: 16..64 bytes, keys and passwords) stay bytes, most significant
    byte first — the order they are written down in, and the one other decoders print.
    """
    ordered = bytes(data) if big_endian else bytes(data[::-1])  # most significant first
    if lvar <= 0xBF:
        return ordered.decode("latin-1")
    if 0xC0 <= lvar <= 0xC9:
        return decode_bcd(ordered[::-1]) if data else 0
    if 0xD0 <= lvar <= 0xD9:
        return -decode_bcd(ordered[::-1]) if data else 0
    if 0xE0 <= lvar <= 0xEF:
        return int.from_bytes(ordered, "big")
    return ordered


def encode_manufacturer(code: str) -> int:
    """Three letters A..Z to the 15-bit manufacturer id.

    EN 13757-3, 6.3: ``(c1-64)·32² + (c2-64)·32 + (c3-64)``.
    """
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValueError(f"manufacturer code must be three letters A..Z, got {code!r}")
    c = code.upper()
    return (ord(c[0]) - 64) * 1024 + (ord(c[1]) - 64) * 32 + (ord(c[2]) - 64)


def decode_manufacturer(value: int) -> str:
    """The three letters of a manufacturer id; bit 15 (hard/soft address flag in wM-Bus) is ignored."""
    return "".join(chr(((value >> shift) & 0x1F) + 64) for shift in (10, 5, 0))
