"""Application layer of an RSP_UD (EN 13757-3, clause 6): CI field, fixed header, records.

``decode_telegram(ci, data)`` takes the CI field and user data of a long frame and returns a
``Telegram``. It never raises on bad content: an unsupported CI gives a telegram with
``unsupported`` set; a broken record gives a ``RecordError`` in ``records``, and a broken record
structure (the next record cannot be found) also sets ``damaged``; a report of an application
error (CI 0x70) gives a telegram with ``application_error`` set; the fixed data structure
(CI 0x73/0x77) gives its header, ``fixed`` and its two counters as records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meterhub.collectors.mbus import datafields as df
from meterhub.collectors.mbus.fixed_structure import FIXED_LEN, FIXED_MEDIA, FixedData, decode_fixed
from meterhub.collectors.mbus.frames import CI
from meterhub.collectors.mbus.records import DataRecord, RecordError, decode_records
from meterhub.collectors.mbus.vif_tables import medium_name

LONG_HEADER_LEN = 12
SHORT_HEADER_LEN = 4


@dataclass(frozen=True, slots=True)
class Status:
    """Status byte of the fixed header (EN 13757-3, table 9).

    ``fixed_structure``: the byte of a fixed data structure (CI 0x73/0x77), whose bits 0-1 say
    how the counters are coded (binary/BCD, actual/stored at a fixed date), not an error.
    """

    raw: int
    fixed_structure: bool = False

    @property
    def application(self) -> str:
        """Bits 0-1: no error, application busy, any application error, abnormal situation."""
        if self.fixed_structure:
            return "no error"
        return ("no error", "application busy", "any application error", "abnormal situation")[self.raw & 3]

    @property
    def application_bits(self) -> int:
        """Bits 0-1 as an application state (always 0 for a fixed data structure)."""
        return 0 if self.fixed_structure else self.raw & 3

    @property
    def power_low(self) -> bool:
        return bool(self.raw & 0x04)

    @property
    def permanent_error(self) -> bool:
        return bool(self.raw & 0x08)

    @property
    def temporary_error(self) -> bool:
        return bool(self.raw & 0x10)

    @property
    def manufacturer_bits(self) -> int:
        return (self.raw >> 5) & 0x07

    def describe(self) -> str:
        if self.fixed_structure:
            parts = [
                "counters binary" if self.raw & 1 else "counters BCD",
                "stored at fixed date" if self.raw & 2 else "actual values",
            ]
        else:
            parts = [self.application]
        if self.power_low:
            parts.append("power low")
        if self.permanent_error:
            parts.append("permanent error")
        if self.temporary_error:
            parts.append("temporary error")
        if self.manufacturer_bits:
            parts.append(f"manufacturer bits {self.manufacturer_bits:03b}")
        return ", ".join(parts)


#: General application error codes of a CI 0x70 answer (M-Bus documentation rev. 4.8, 6.6;
#: EN 13757-3 clause 6, "report of application errors").
APPLICATION_ERRORS: dict[int, str] = {
    0: "unspecified error",
    1: "unimplemented CI field",
    2: "buffer too long, truncated",
    3: "too many records",
    4: "premature end of record",
    5: "more than 10 DIFEs",
    6: "more than 10 VIFEs",
    8: "application too busy for handling readout request",
    9: "too many readouts",
}


@dataclass(frozen=True, slots=True)
class ApplicationError:
    """A slave's report of an application error (CI 0x70): no data records, one error code.

    A missing code byte reads as 0, "unspecified error", as the M-Bus documentation says.
    """

    code: int

    @property
    def text(self) -> str:
        return APPLICATION_ERRORS.get(self.code, f"reserved application error {self.code}")

    def __str__(self) -> str:
        return f"application error {self.code} ({self.text})"


@dataclass(frozen=True, slots=True)
class FixedHeader:
    """The 12-byte long header (CI 0x72/0x76) or the 4-byte short header (CI 0x7A).

    ``identification`` is the 8-digit identification number as text (BCD; may contain hex
    digits on meters that misuse it); short headers take it from the link layer (None here).
    """

    identification: str | None
    manufacturer: str | None
    version: int | None
    medium: int | None
    access_number: int
    status: Status
    signature: int

    @property
    def medium_name(self) -> str:
        return medium_name(self.medium) if self.medium is not None else "unknown"


@dataclass(frozen=True, slots=True)
class Telegram:
    ci: int
    header: FixedHeader | None
    records: tuple[DataRecord | RecordError, ...] = ()
    more_records_follow: bool = False
    manufacturer_data: bytes = b""
    unsupported: str | None = None
    raw: bytes = field(default=b"", repr=False)
    application_error: ApplicationError | None = None
    damaged: str | None = None  # where and why the record structure broke (records after it are lost)
    fixed: FixedData | None = None  # CI 0x73/0x77: counter coding and the fixed-structure medium

    @property
    def data_records(self) -> list[DataRecord]:
        return [r for r in self.records if isinstance(r, DataRecord)]

    @property
    def errors(self) -> list[RecordError]:
        return [r for r in self.records if isinstance(r, RecordError)]


def identification_text(raw4: bytes) -> str:
    """Identification number bytes (LSB first, BCD) as 8 characters, MSB digit first."""
    return raw4[::-1].hex().upper()


def decode_long_header(data: bytes, big_endian: bool = False) -> FixedHeader:
    ident = data[0:4]
    man = data[4:6]
    sig = data[10:12]
    if big_endian:
        ident, man, sig = ident[::-1], man[::-1], sig[::-1]
    return FixedHeader(
        identification=identification_text(ident),
        manufacturer=df.decode_manufacturer(df.decode_uint(man)),
        version=data[6],
        medium=data[7],
        access_number=data[8],
        status=Status(data[9]),
        signature=df.decode_uint(sig),
    )


def decode_telegram(ci: int, data: bytes) -> Telegram:
    """Decode the application layer of a long frame (RSP_UD user data)."""
    raw = bytes(data)
    if ci in (CI.RSP_VARIABLE, CI.RSP_VARIABLE_MSB):
        if len(data) < LONG_HEADER_LEN:
            return Telegram(ci, None, unsupported=f"fixed header truncated: {len(data)} of 12 bytes", raw=raw)
        big = ci == CI.RSP_VARIABLE_MSB
        header = decode_long_header(data[:LONG_HEADER_LEN], big)
        body = data[LONG_HEADER_LEN:]
    elif ci == CI.RSP_VARIABLE_SHORT:
        if len(data) < SHORT_HEADER_LEN:
            return Telegram(ci, None, unsupported=f"short header truncated: {len(data)} of 4 bytes", raw=raw)
        big = False
        header = FixedHeader(None, None, None, None, data[0], Status(data[1]), df.decode_uint(data[2:4]))
        body = data[SHORT_HEADER_LEN:]
    elif ci == CI.APPLICATION_ERROR:
        return Telegram(ci, None, raw=raw, application_error=ApplicationError(data[0] if data else 0))
    elif ci in (CI.RSP_FIXED, CI.RSP_FIXED_MSB):
        return _fixed_telegram(ci, raw)
    else:
        return Telegram(ci, None, unsupported=f"CI 0x{ci:02X} is not a wired M-Bus response", raw=raw)
    # Offsets count from the start of the user data, not of the record area.
    area = decode_records(body, big_endian=big, base=len(data) - len(body))
    damaged = None
    if area.damage is not None:
        damaged = f"record structure broken at offset {area.damage[0]} ({area.damage[1]})"
    return Telegram(
        ci,
        header,
        tuple(area.records),
        area.more_records_follow,
        area.manufacturer_data,
        None,
        raw,
        damaged=damaged,
    )


def _fixed_telegram(ci: int, raw: bytes) -> Telegram:
    if len(raw) < FIXED_LEN:
        problem = f"fixed data structure truncated: {len(raw)} of 16 bytes"
        return Telegram(ci, None, unsupported=problem, raw=raw)
    ident, access, status, fixed, counters = decode_fixed(raw, big_endian=ci == CI.RSP_FIXED_MSB)
    medium = FIXED_MEDIA[fixed.medium_code][1]
    header = FixedHeader(ident, None, None, medium, access, Status(status, fixed_structure=True), 0)
    damaged = None
    if len(raw) > FIXED_LEN:  # the structure has exactly 16 bytes; more means it is not what it says
        damaged = f"fixed data structure has {len(raw)} bytes instead of 16"
    return Telegram(ci, header, tuple(counters), raw=raw, damaged=damaged, fixed=fixed)
