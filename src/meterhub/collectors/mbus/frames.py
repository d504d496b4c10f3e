"""M-Bus link-layer frames (EN 13757-2, clause 5: FT 1.2 telegram formats).

Bytes in, dataclasses out; no I/O. Four formats exist on the wire:

* single character ``0xE5`` (acknowledge),
* short frame ``0x10 C A CS 0x16``,
* control frame ``0x68 L L 0x68 C A CI CS 0x16`` with ``L == 3``,
* long frame ``0x68 L L 0x68 C A CI data… CS 0x16`` with ``L == 3 + len(data)``.

The checksum ``CS`` is the arithmetic sum (mod 256) of the bytes from C to the last data byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

ACK = 0xE5
SHORT_START = 0x10
LONG_START = 0x68
STOP = 0x16
#: Maximum L field: C + A + CI + 252 data bytes (EN 13757-2, 5.4).
MAX_L_FIELD = 255

ADDRESS_UNCONFIGURED = 0
ADDRESS_SECONDARY = 0xFD  # 253: the slave selected by secondary addressing answers
ADDRESS_BROADCAST_REPLY = 0xFE  # 254: every slave answers (point-to-point only)
ADDRESS_BROADCAST = 0xFF  # 255: nobody answers


class Control(IntEnum):
    """C-field values (EN 13757-2, table 3). Master frames have PRM (0x40) set.

    FCB (0x20) toggles per successful transaction, FCV (0x10) says FCB is valid.
    """

    SND_NKE = 0x40
    SND_UD = 0x53
    REQ_UD2 = 0x5B
    REQ_UD1 = 0x5A
    RSP_UD = 0x08


FCB_BIT = 0x20
FCV_BIT = 0x10
ACD_BIT = 0x20  # slave: access demand
DFC_BIT = 0x10  # slave: data flow control


class CI(IntEnum):
    """CI-field values used on wired M-Bus (EN 13757-3, table 2)."""

    SND_UD_DATA = 0x51
    SELECT_SECONDARY = 0x52
    APP_RESET = 0x50
    SET_BAUD_300 = 0xB8
    SET_BAUD_2400 = 0xBB
    SET_BAUD_9600 = 0xBD
    RSP_FIXED = 0x73
    RSP_FIXED_MSB = 0x77
    RSP_VARIABLE = 0x72
    RSP_VARIABLE_MSB = 0x76
    RSP_VARIABLE_SHORT = 0x7A
    APPLICATION_ERROR = 0x70  # slave to master: report of an application error


class FrameError(ValueError):
    """Bytes that are not a valid M-Bus frame: the message says which check failed."""


@dataclass(frozen=True, slots=True)
class AckFrame:
    """The single character 0xE5."""


@dataclass(frozen=True, slots=True)
class ShortFrame:
    control: int
    address: int


@dataclass(frozen=True, slots=True)
class LongFrame:
    """A control frame (``data == b""``) or a long frame with user data."""

    control: int
    address: int
    ci: int
    data: bytes = b""


Frame = AckFrame | ShortFrame | LongFrame


def checksum(body: bytes) -> int:
    """EN 13757-2 5.4: arithmetic sum of C, A, CI and data, modulo 256."""
    return sum(body) & 0xFF


def encode_frame(frame: Frame) -> bytes:
    """The bytes of ``frame`` on the wire."""
    if isinstance(frame, AckFrame):
        return bytes([ACK])
    if isinstance(frame, ShortFrame):
        body = bytes([frame.control & 0xFF, frame.address & 0xFF])
        return bytes([SHORT_START]) + body + bytes([checksum(body), STOP])
    body = bytes([frame.control & 0xFF, frame.address & 0xFF, frame.ci & 0xFF]) + frame.data
    if len(body) > MAX_L_FIELD:
        raise FrameError(f"long frame user data too long: {len(frame.data)} bytes, at most 252")
    length = len(body)
    return bytes([LONG_START, length, length, LONG_START]) + body + bytes([checksum(body), STOP])


def expected_length(prefix: bytes) -> int | None:
    """Total frame length implied by the first bytes received, or None if more are needed.

    A transport reads 1 byte, asks, reads up to 4, asks again. Raises ``FrameError`` when the
    start byte or the doubled L field is already wrong.
    """
    if not prefix:
        return None
    start = prefix[0]
    if start == ACK:
        return 1
    if start == SHORT_START:
        return 5
    if start != LONG_START:
        raise FrameError(f"unknown start byte 0x{start:02X} (expected 0xE5, 0x10 or 0x68)")
    if len(prefix) < 3:
        return None
    if prefix[1] != prefix[2]:
        raise FrameError(f"long frame length fields differ: 0x{prefix[1]:02X} != 0x{prefix[2]:02X}")
    return prefix[1] + 6


def decode_frame(raw: bytes) -> Frame:
    """Parse exactly one frame; ``FrameError`` names the failing check (start, length, checksum, stop)."""
    if not raw:
        raise FrameError("empty frame")
    total = expected_length(raw[:3])
    if total is None:
        raise FrameError(f"frame truncated after {len(raw)} bytes")
    if len(raw) != total:
        raise FrameError(f"wrong frame length: got {len(raw)} bytes, the header says {total}")
    start = raw[0]
    if start == ACK:
        return AckFrame()
    if raw[-1] != STOP:
        raise FrameError(f"stop byte is 0x{raw[-1]:02X}, expected 0x16")
    if start == SHORT_START:
        body = raw[1:3]
        if raw[3] != checksum(body):
            raise FrameError(f"checksum mismatch: got 0x{raw[3]:02X}, computed 0x{checksum(body):02X}")
        return ShortFrame(control=body[0], address=body[1])
    if raw[3] != LONG_START:
        raise FrameError(f"second start byte is 0x{raw[3]:02X}, expected 0x68")
    length = raw[1]
    if length < 3:
        raise FrameError(f"long frame L field {length} is below the minimum 3 (C, A, CI)")
    body = raw[4 : 4 + length]
    cs = raw[4 + length]
    if cs != checksum(body):
        raise FrameError(f"checksum mismatch: got 0x{cs:02X}, computed 0x{checksum(body):02X}")
    return LongFrame(control=body[0], address=body[1], ci=body[2], data=bytes(body[3:]))


def snd_nke(address: int) -> bytes:
    """SND_NKE: link reset of ``address``; the slave answers 0xE5 and resets its FCB state."""
    return encode_frame(ShortFrame(Control.SND_NKE, address))


def req_ud2(address: int, fcb: bool) -> bytes:
    """REQ_UD2 (class 2 data request) with FCV set and the given FCB (EN 13757-2, 5.5)."""
    return encode_frame(ShortFrame(Control.REQ_UD2 | FCV_BIT | (FCB_BIT if fcb else 0), address))


def snd_ud(address: int, ci: int, data: bytes, fcb: bool = False) -> bytes:
    """SND_UD: send user data with FCV set (0x53 / 0x73)."""
    return encode_frame(LongFrame(Control.SND_UD | (FCB_BIT if fcb else 0), address, ci, data))


def is_rsp_ud(frame: Frame) -> bool:
    """RSP_UD: a long frame whose C field is 0x08 with any ACD/DFC bits."""
    return isinstance(frame, LongFrame) and (frame.control & 0xCF) == Control.RSP_UD
