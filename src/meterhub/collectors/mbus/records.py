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

MAX_DIFE = 10  # EN 13757-3, 6.3.3: at most 10 DIFEs
MAX_VIFE = 10  # EN 13757-3, 6.4.1: at most 10 VIFEs


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


class _Truncated(Exception):
    pass


def _take(buf: bytes, pos: int, n: int) -> bytes:
    if pos + n > len(buf):
        raise _Truncated(f"needs {n} bytes at offset {pos}, only {len(buf) - pos} left")
    return buf[pos : pos + n]


@dataclass(slots=True)
class _Vib:
    info: vt.VifInfo | None
    table: str
    vifes: list[str]
    error_code: int | None
    exponent_shift: int
    exponent_override: int | None
    problem: str | None
    plain_text: bool
    manufacturer_data: bool = False


def _parse_vib(buf: bytes, pos: int) -> tuple[_Vib, int]:
    """Parse the VIB at ``pos``; returns it and the offset of the data field."""
    vif = _take(buf, pos, 1)[0]
    pos += 1
    base = vif & 0x7F
    table = "primary"
    info: vt.VifInfo | None
    ext = bool(vif & 0x80)
    problem = None
    plain = False
    if base == 0x7B or base == 0x7D:  # 0xFB / 0xFD: the true VIF is the next byte
        if not ext:
            problem = f"VIF 0x{vif:02X} announces an extension table but has no extension bit"
            info = None
        else:
            code = _take(buf, pos, 1)[0]
            pos += 1
            table = "0xFB" if base == 0x7B else "0xFD"
            info = vt.fb_vif(code) if base == 0x7B else vt.fd_vif(code)
            if info is None:
                problem = f"reserved VIFE 0x{code:02X} in table {table}"
            ext = bool(code & 0x80)
    elif base == 0x7C:
        table, info, plain = "plain text", vt.VifInfo("plain_text", "", 0, "plain-text unit"), True
    elif base == 0x7E:
        table, info = "any", vt.VifInfo("any_vif", "", 0, "any VIF (readout selection)")
    elif base == 0x7F:
        table, info = "manufacturer", vt.VifInfo("manufacturer_specific", "", 0, "manufacturer specific")
    elif base == 0x6F:
        info, problem = None, "VIF 0x6F is reserved"
    else:
        info = vt.primary_vif(base)
        if info is None:
            problem = f"reserved primary VIF 0x{vif:02X}"
    vifes: list[str] = []
    error_code = None
    shift = 0
    override = None
    count = 0
    manufacturer_vifes = table == "manufacturer"
    while ext:
        count += 1
        if count > MAX_VIFE:
            raise _Truncated(f"more than {MAX_VIFE} VIFEs (EN 13757-3 allows at most 10)")
        code = _take(buf, pos, 1)[0]
        pos += 1
        ext = bool(code & 0x80)
        c = code & 0x7F
        if manufacturer_vifes:
            vifes.append(f"manufacturer VIFE 0x{code:02X}")
            continue
        if c <= 0x1F:
            error_code = c
            continue
        mul = vt.multiplier_exponent(c)
        if mul is not None:
            shift += mul
            vifes.append(f"multiplicative correction factor 10^{mul}")
            continue
        add = vt.additive_exponent(c)
        if add is not None:
            override = add
            vifes.append(f"additive correction constant 10^{add}")
            continue
        if c == 0x7F:
            vifes.append("manufacturer specific VIFE follows")
            manufacturer_vifes = True
            continue
        text = vt.combinable_vife(c)
        vifes.append(text if text is not None else f"reserved VIFE 0x{code:02X}")
    if plain:
        length = _take(buf, pos, 1)[0]
        text = _take(buf, pos + 1, length)[::-1].decode("latin-1")
        pos += 1 + length
        info = vt.VifInfo("plain_text", text, 0, f"plain-text unit {text!r}")
    vib = _Vib(info, table, vifes, error_code, shift, override, problem, plain)
    # VIFE 0x7F: "next VIFEs and data of this block are manufacturer specific" (table 15).
    vib.manufacturer_data = "manufacturer specific VIFE follows" in vifes
    return vib, pos


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


def _decode_value(code: int, data: bytes, vib: _Vib, lvar: int | None) -> Value:
    """Turn the data field into a value according to the DIF coding and the VIF meaning."""
    info = vib.info
    quantity = info.quantity if info else ""
    if code in (0x0, 0x8):
        return None
    if vib.manufacturer_data:
        return df.decode_uint(data) if code != 0xD else bytes(data)
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
        value = df.decode_lvar(lvar, data)
        if isinstance(value, int) and info is not None:
            return _scaled(value, _exponent(vib))
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
        number = df.decode_int(data)
    if quantity == "manufacturer_specific":
        return number if isinstance(number, int) else _scaled(number, 0)
    return _scaled(number, _exponent(vib))


def _is_time_point(vib: _Vib) -> bool:
    """A combinable VIFE 'date(/time) of …' turns the record into a time point (type G/F/I)."""
    return any(text.startswith(("date(/time)", "start date(/time)")) for text in vib.vifes)


def _exponent(vib: _Vib) -> int:
    if vib.exponent_override is not None:
        return vib.exponent_override
    base = vib.info.exponent if vib.info else 0
    return base + vib.exponent_shift


def _parse_record(buf: bytes, pos: int, big_endian: bool) -> tuple[DataRecord | RecordError, int]:
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
            raise _Truncated(f"more than {MAX_DIFE} DIFEs (EN 13757-3 allows at most 10)")
        dife = _take(buf, pos, 1)[0]
        pos += 1
        storage |= (dife & 0x0F) << (1 + 4 * n)
        tariff |= ((dife >> 4) & 0x03) << (2 * n)
        subunit |= ((dife >> 6) & 0x01) << n
        ext = bool(dife & 0x80)
        n += 1
    vib, pos = _parse_vib(buf, pos)
    lvar = None
    if code == 0xD:
        lvar = _take(buf, pos, 1)[0]
        pos += 1
        try:
            length = df.lvar_length(lvar)
        except df.DataFieldError as exc:
            raise _Truncated(str(exc)) from None
    else:
        length = df.CODINGS[code].length or 0
    data = _take(buf, pos, length)
    pos += length
    raw = bytes(buf[start:pos])
    if big_endian and code != 0xD:
        data = data[::-1]
    if vib.problem is not None or vib.info is None:
        return RecordError(start, raw, vib.problem or "unknown VIF"), pos
    try:
        value = _decode_value(code, data, vib, lvar)
    except (df.DataFieldError, ValueError, OverflowError) as exc:
        return RecordError(start, raw, f"{vib.info.description}: {exc}"), pos
    info = vib.info
    unit = info.unit
    if _is_time_point(vib) or vib.manufacturer_data:
        unit = ""
    record = DataRecord(
        offset=start,
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
    )
    return record, pos


def decode_records(payload: bytes, big_endian: bool = False) -> RecordArea:
    """Decode the data records of a variable data structure (EN 13757-3, 6.2).

    Special DIFs (table 6): 0x0F/0x1F start manufacturer-specific data up to the end (0x1F: more
    records follow in the next telegram), 0x2F is an idle filler, 0x7F a global readout request.
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
            area.special_dif_offset = pos
            area.manufacturer_data = bytes(payload[pos + 1 :])
            break
        if dif == 0x7F:
            area.records.append(
                RecordError(pos, bytes([dif]), "global readout request (master to slave only)")
            )
            pos += 1
            continue
        if dif & 0x0F == 0x0F:
            rest = bytes(payload[pos:])
            area.records.append(RecordError(pos, rest, f"reserved special DIF 0x{dif:02X}; rest not decoded"))
            break
        try:
            record, pos = _parse_record(payload, pos, big_endian)
        except _Truncated as exc:
            area.records.append(RecordError(pos, bytes(payload[pos:]), f"broken record structure: {exc}"))
            break
        area.records.append(record)
    return area
