"""Data records of the variable data structure (EN 13757-3, clause 6 and 8): DIB, VIB, data.

``decode_records(payload)`` walks the record area of a telegram and returns one result per
record: a ``DataRecord`` when it decodes, or a ``RecordError`` carrying the offset, the raw bytes
and the reason. A bad record never aborts the telegram silently and never raises; if the
structure itself is broken (so the next record cannot be found) the rest of the payload is
reported as one ``RecordError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from meterhub.collectors.mbus import datafields as df
from meterhub.collectors.mbus import vif_tables as vt
from meterhub.collectors.mbus.value_information import (
    Truncated,
    Vib,
    is_plain_text_with_extensions,
    parse_vib,
    plausible_text,
    take,
)

MAX_DIFE = 10  # EN 13757-3, 6.3.3: at most 10 DIFEs


class Function(StrEnum):
    """DIF function field (EN 13757-3, table 5)."""

    INSTANTANEOUS = "instantaneous"
    MAXIMUM = "maximum"
    MINIMUM = "minimum"
    ERROR_STATE = "value during error state"


_FUNCTIONS = (Function.INSTANTANEOUS, Function.MAXIMUM, Function.MINIMUM, Function.ERROR_STATE)

Value = Decimal | int | float | str | bytes | date | datetime | None


@dataclass(frozen=True, slots=True)
class DataRecord:
    """One decoded record. ``value`` is in ``unit`` (already × 10^exponent for numbers).

    ``quantity`` is a stable key (``energy``, ``volume``, ``flow_temperature`` … see
    ``vif_tables``); ``vife`` lists the combinable VIFE texts; ``error_code`` is a record error
    VIFE (table 16) if the meter flagged one.
    """

    offset: int
    raw: bytes
    dif: int
    coding: str
    function: Function
    storage: int
    tariff: int
    subunit: int
    quantity: str
    unit: str
    value: Value
    description: str = ""
    vife: tuple[str, ...] = ()
    error_code: int | None = None
    table: str = "primary"
    manufacturer_specific: bool = False  # VIF 0x7F/0xFF or VIFE 0x7F: meaning defined by the maker

    @property
    def error_text(self) -> str | None:
        if self.error_code is None:
            return None
        return vt.RECORD_ERRORS.get(self.error_code, f"reserved record error 0x{self.error_code:02X}")


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record that could not be decoded, with its raw bytes (from its DIF on)."""

    offset: int
    raw: bytes
    reason: str


@dataclass(slots=True)
class RecordArea:
    """Result of walking a record area: records and the special-function information."""

    records: list[DataRecord | RecordError] = field(default_factory=list)
    more_records_follow: bool = False
    manufacturer_data: bytes = b""
    special_dif_offset: int | None = None  # where DIF 0x0F/0x1F ended the records
    damage: tuple[int, str] | None = None  # (offset, reason) where the record structure broke


def _scaled(raw: int | float, exponent: int) -> Decimal:
    number = Decimal(raw) if isinstance(raw, int) else Decimal(repr(raw))
    return number.scaleb(exponent)


#: Quantities whose data field is an identifier or a bit field: returned as a plain unsigned int.
_IDENTIFIERS = frozenset(
    {
        "fabrication_number",
        "enhanced_identification",
        "error_flags",
        "error_mask",
        "digital_input",
        "digital_output",
        "manufacturer",
        "medium",
        "bus_address",
        "access_number",
        "parameter_set_id",
        "model_version",
        "hardware_version",
        "firmware_version",
        "software_version",
        "customer",
        "customer_location",
    }
)


def _decode_value(code: int, data: bytes, vib: Vib, lvar: int | None, big_endian: bool) -> Value:
    """Turn the data field into a value according to the DIF coding and the VIF meaning."""
    info = vib.info
    quantity = info.quantity if info else ""
    if code in (0x0, 0x8):
        return None
    if _is_time_point(vib) and code in (0x2, 0x4, 0x6):
        return {0x2: df.decode_type_g, 0x4: df.decode_type_f, 0x6: df.decode_type_i}[code](data)
    if quantity == "date" and code == 0x2:
        return df.decode_type_g(data)
    if quantity in ("datetime", "battery_change_datetime", "tariff_start") and code in (0x2, 0x4, 0x6):
        if code == 0x2:
            return df.decode_type_g(data)
        return df.decode_type_f(data) if code == 0x4 else df.decode_type_i(data)
    if code == 0xD:
        assert lvar is not None
        value = df.decode_lvar(lvar, data, big_endian)
        if isinstance(value, int) and info is not None and quantity != "manufacturer_specific":
            return _scaled(value, vib.exponent)
        return value
    if quantity in _IDENTIFIERS and code != 0x5:
        return df.decode_bcd(data) if code in df.BCD_CODES else df.decode_uint(data)
    if code in df.BCD_CODES:
        number: int | float = df.decode_bcd(data)
    elif code == 0x5:
        number = df.decode_real32(data)
        if number != number or number in (float("inf"), float("-inf")):
            raise df.DataFieldError(f"32-bit real is {number}")
    else:
        number = df.decode_int(data)  # type B: two's complement, also behind VIFE 0x7F
    if quantity == "manufacturer_specific":
        return number if isinstance(number, int) else _scaled(number, 0)
    return _scaled(number, vib.exponent)


def _is_time_point(vib: Vib) -> bool:
    """A combinable VIFE 'date(/time) of …' turns the record into a time point (type G/F/I)."""
    return any(text.startswith(("date(/time)", "start date(/time)")) for text in vib.vifes)


def _data_field(buf: bytes, pos: int, code: int) -> tuple[int | None, int]:
    """The LVAR byte (or None) and the offset just past the data field that starts at ``pos``."""
    if code != 0xD:
        return None, pos + (df.CODINGS[code].length or 0)
    lvar = take(buf, pos, 1, "LVAR")[0]
    try:
        return lvar, pos + 1 + df.lvar_length(lvar)
    except df.DataFieldError as exc:
        raise Truncated(str(exc)) from None


def _parse_plain_text_vib(
    buf: bytes, pos: int, code: int, big_endian: bool, lookahead: bool
) -> tuple[Vib, int]:
    """VIF 0xFC: take the text placement the bytes allow (see ``value_information``).

    A placement is possible when its text is printable and its VIFEs and data field fit in the
    record area. If both are, the one after which the rest of the record area decodes without a
    broken structure wins; if that does not decide either, the text after the VIF (the order of
    the devices in the field, e.g. Elvaco CMa10/CMa11).
    """
    found: list[tuple[Vib, int, int]] = []
    problems = []
    for text_first in (True, False):
        try:
            vib, data_pos = parse_vib(buf, pos, big_endian, text_first)
            _, end = _data_field(buf, data_pos, code)
            take(buf, data_pos, end - data_pos, "data")
        except Truncated as exc:
            problems.append(f"text {'after the VIF' if text_first else 'after the VIFEs'}: {exc}")
            continue
        if vib.plain_text is None or not plausible_text(vib.plain_text):
            problems.append(f"text {'after the VIF' if text_first else 'after the VIFEs'} is not printable")
            continue
        found.append((vib, data_pos, end))
    if not found:
        raise Truncated("plain-text VIF 0xFC fits neither placement (" + "; ".join(problems) + ")")
    if len(found) == 2 and lookahead:
        for vib, data_pos, end in found:
            if decode_records(buf[end:], big_endian, lookahead=False).damage is None:
                return vib, data_pos
    return found[0][0], found[0][1]


def _parse_record(
    buf: bytes, pos: int, big_endian: bool, lookahead: bool = True, base: int = 0
) -> tuple[DataRecord | RecordError, int]:
    start = pos
    dif = buf[pos]
    pos += 1
    code = dif & 0x0F
    storage = (dif >> 6) & 1
    tariff = 0
    subunit = 0
    ext = bool(dif & 0x80)
    n = 0
    while ext:
        if n >= MAX_DIFE:
            raise Truncated(f"more than {MAX_DIFE} DIFEs (EN 13757-3 allows at most 10)")
        dife = take(buf, pos, 1, "DIFE")[0]
        pos += 1
        storage |= (dife & 0x0F) << (1 + 4 * n)
        tariff |= ((dife >> 4) & 0x03) << (2 * n)
        subunit |= ((dife >> 6) & 0x01) << n
        ext = bool(dife & 0x80)
        n += 1
    if is_plain_text_with_extensions(take(buf, pos, 1, "VIF")[0]):
        vib, pos = _parse_plain_text_vib(buf, pos, code, big_endian, lookahead)
    else:
        vib, pos = parse_vib(buf, pos, big_endian)
    lvar, end = _data_field(buf, pos, code)
    data = take(buf, pos, end - pos, "data")[1 if lvar is not None else 0 :]
    pos = end
    raw = bytes(buf[start:pos])
    if big_endian and code != 0xD:
        data = data[::-1]
    if vib.problem is not None or vib.info is None:
        return RecordError(base + start, raw, vib.problem or "unknown VIF"), pos
    try:
        value = _decode_value(code, data, vib, lvar, big_endian)
    except (df.DataFieldError, ValueError, OverflowError) as exc:
        return RecordError(base + start, raw, f"{vib.info.description}: {exc}"), pos
    info = vib.info
    unit = "" if info.unit and _is_time_point(vib) else info.unit
    record = DataRecord(
        offset=base + start,
        raw=raw,
        dif=dif,
        coding=df.CODINGS[code].name,
        function=_FUNCTIONS[(dif >> 4) & 0x03],
        storage=storage,
        tariff=tariff,
        subunit=subunit,
        quantity=info.quantity,
        unit=unit,
        value=value,
        description=info.description,
        vife=tuple(vib.vifes),
        error_code=vib.error_code,
        table=vib.table,
        manufacturer_specific=vib.manufacturer_specific,
    )
    return record, pos


def decode_records(
    payload: bytes, big_endian: bool = False, lookahead: bool = True, base: int = 0
) -> RecordArea:
    """Decode the data records of a variable data structure (EN 13757-3, 6.2).

    Offsets in the result (records, errors, ``damage``) are ``base`` + the offset in ``payload``
    (the telegram passes the header length, so they count from the start of the user data).

    Special DIFs (table 6): 0x0F/0x1F start manufacturer-specific data up to the end (0x1F: more
    records follow in the next telegram), 0x2F is an idle filler, 0x7F a global readout request.
    A broken structure (a DIF, DIFE, VIF, VIFE, text or data field running past the end, more
    than 10 DIFEs/VIFEs, a reserved LVAR or special DIF) ends the walk: the rest is one
    ``RecordError`` and ``damage`` says where and why.
    """
    area = RecordArea()
    pos = 0
    while pos < len(payload):
        dif = payload[pos]
        if dif == 0x2F:
            pos += 1
            continue
        if dif in (0x0F, 0x1F):
            area.more_records_follow = dif == 0x1F
            area.special_dif_offset = base + pos
            area.manufacturer_data = bytes(payload[pos + 1 :])
            break
        if dif == 0x7F:
            area.records.append(
                RecordError(base + pos, bytes([dif]), "global readout request (master to slave only)")
            )
            pos += 1
            continue
        if dif & 0x0F == 0x0F:
            reason = f"reserved special DIF 0x{dif:02X}; rest not decoded"
            area.records.append(RecordError(base + pos, bytes(payload[pos:]), reason))
            area.damage = (base + pos, reason)
            break
        try:
            record, pos = _parse_record(payload, pos, big_endian, lookahead, base)
        except Truncated as exc:
            reason = f"broken record structure: {exc}"
            area.records.append(RecordError(base + pos, bytes(payload[pos:]), reason))
            area.damage = (base + pos, str(exc))
            break
        area.records.append(record)
    return area
