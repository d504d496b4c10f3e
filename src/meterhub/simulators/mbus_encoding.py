"""The simulator's own M-Bus encoder (EN 13757-2 frames, EN 13757-3 records).

Written independently of ``meterhub.collectors.mbus`` on purpose: the simulator must put the
bytes of a real meter on the wire, so a bug in the collectors' decoder cannot hide behind the
same bug in the encoder. Only what a meter sends is encoded here, plus a tiny request parser.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, datetime

E5 = b"\xe5"


def frame_checksum(body: bytes) -> int:
    return sum(body) % 256


def long_frame(control: int, address: int, ci: int, data: bytes) -> bytes:
    """0x68 L L 0x68 C A CI data CS 0x16 (EN 13757-2, 5.4)."""
    body = bytes((control, address, ci)) + data
    if len(body) > 255:
        raise ValueError(f"telegram too long for one frame: {len(body)} bytes")
    return bytes((0x68, len(body), len(body), 0x68)) + body + bytes((frame_checksum(body), 0x16))


@dataclass(frozen=True, slots=True)
class Request:
    """A master request as the simulated slave sees it."""

    control: int
    address: int
    ci: int | None = None
    data: bytes = b""

    @property
    def fcb(self) -> bool:
        return bool(self.control & 0x20)

    @property
    def fcv(self) -> bool:
        return bool(self.control & 0x10)

    @property
    def function(self) -> int:
        """C field without FCB/FCV: 0x40 SND_NKE, 0x43 SND_UD, 0x4B REQ_UD2, 0x4A REQ_UD1."""
        return self.control & 0x4F


def parse_request(raw: bytes) -> Request | None:
    """A short or long master frame, or None if the bytes are not one valid frame."""
    if len(raw) == 5 and raw[0] == 0x10 and raw[4] == 0x16 and frame_checksum(raw[1:3]) == raw[3]:
        return Request(raw[1], raw[2])
    if len(raw) >= 9 and raw[0] == 0x68 == raw[3] and raw[1] == raw[2] and len(raw) == raw[1] + 6:
        body = raw[4:-2]
        if raw[-1] == 0x16 and frame_checksum(body) == raw[-2]:
            return Request(body[0], body[1], body[2], bytes(body[3:]))
    return None


def request_length(prefix: bytes) -> int | None:
    """Length of the request that starts with ``prefix`` (None: need more; -1: not a start)."""
    if not prefix:
        return None
    if prefix[0] == 0x10:
        return 5
    if prefix[0] != 0x68:
        return -1
    return prefix[1] + 6 if len(prefix) >= 2 else None


def manufacturer_id(code: str) -> int:
    a, b, c = (ord(ch) - 64 for ch in code.upper())
    return (a << 10) | (b << 5) | c


def bcd(value: int, digits: int) -> bytes:
    """Packed BCD, LSB first; a negative value carries 0xF in its top nibble."""
    text = f"{abs(value):0{digits}d}"
    if len(text) > digits or (value < 0 and text[0] != "0"):
        raise ValueError(f"{value} does not fit in {digits} BCD digits")
    if value < 0:
        text = "F" + text[1:]
    return bytes(int(text[i : i + 2], 16) for i in range(0, digits, 2))[::-1]


def long_header(ident: str, manufacturer: str, version: int, medium: int, access: int, status: int) -> bytes:
    """The 12-byte fixed header that follows CI 0x72."""
    return (
        bcd(int(ident), 8)
        + manufacturer_id(manufacturer).to_bytes(2, "little")
        + bytes((version, medium, access & 0xFF, status))
        + b"\x00\x00"
    )


def dib(coding: int, storage: int = 0, tariff: int = 0, subunit: int = 0, function: int = 0) -> bytes:
    """DIF plus as many DIFEs as storage/tariff/subunit need (EN 13757-3, 6.3)."""
    out = bytearray([coding | (function << 4) | ((storage & 1) << 6)])
    storage >>= 1
    while storage or tariff or subunit:
        out[-1] |= 0x80
        out.append((storage & 0x0F) | ((tariff & 3) << 4) | ((subunit & 1) << 6))
        storage >>= 4
        tariff >>= 2
        subunit >>= 1
    return bytes(out)


_INT_SIZES = {1: 0x1, 2: 0x2, 3: 0x3, 4: 0x4, 6: 0x6, 8: 0x7}
_BCD_CODES = {2: 0x9, 4: 0xA, 6: 0xB, 8: 0xC, 12: 0xE}


def int_record(vif: bytes, value: int, size: int = 4, **dib_kw: int) -> bytes:
    return dib(_INT_SIZES[size], **dib_kw) + vif + value.to_bytes(size, "little", signed=True)


def bcd_record(vif: bytes, value: int, digits: int = 8, **dib_kw: int) -> bytes:
    return dib(_BCD_CODES[digits], **dib_kw) + vif + bcd(value, digits)


def real_record(vif: bytes, value: float, **dib_kw: int) -> bytes:
    return dib(0x5, **dib_kw) + vif + struct.pack("<f", value)


def text_record(vif: bytes, text: str, **dib_kw: int) -> bytes:
    """Variable length (LVAR 0x00..0xBF) ASCII text, sent last character first."""
    raw = text.encode("latin-1")[::-1]
    return dib(0xD, **dib_kw) + vif + bytes((len(raw),)) + raw


def type_f(ts: datetime) -> bytes:
    """Date and time, type F (32 bit, minute resolution)."""
    y = ts.year % 100
    return bytes(
        (
            ts.minute & 0x3F,
            ts.hour & 0x1F,
            (ts.day & 0x1F) | ((y & 7) << 5),
            (ts.month & 0xF) | ((y >> 3) << 4),
        )
    )


def type_g(d: date) -> bytes:
    """Date, type G (16 bit)."""
    y = d.year % 100
    return bytes(((d.day & 0x1F) | ((y & 7) << 5), (d.month & 0xF) | ((y >> 3) << 4)))


def datetime_record(ts: datetime, **dib_kw: int) -> bytes:
    return dib(0x4, **dib_kw) + b"\x6d" + type_f(ts)


def date_record(d: date, **dib_kw: int) -> bytes:
    return dib(0x2, **dib_kw) + b"\x6c" + type_g(d)


MORE_RECORDS_FOLLOW = b"\x1f"
MANUFACTURER_DATA = b"\x0f"
