"""Fixed data structure (CI 0x73 LSB first, 0x77 MSB first; EN 1434-3, M-Bus documentation
rev. 4.8 clause 6.2) — the 16-byte answer some older heat and water meters still send:

====  ======================================================================================
 0-3  identification number, 8 BCD digits
  4   access number (transmission counter)
  5   status: bit 0 counters binary (1) / BCD (0); bit 1 counters stored at a fixed date (1) /
      actual values (0); bit 2 power low; bit 3 permanent error; bit 4 temporary error;
      bits 5-7 manufacturer specific
 6-7  medium and units: the two top bits of each byte give the medium (byte 7 the high pair,
      byte 6 the low pair), the low six bits the unit of counter 1 (byte 6) and counter 2 (byte 7)
 8-11 counter 1
12-15 counter 2
====  ======================================================================================

``decode_fixed(ci, data)`` returns the fixed header and the two counters as ``DataRecord``s
(quantity, unit and exponent from the unit code, storage 1 for a historic value), so profiles
map them like variable-structure records. It never raises; a counter that does not decode (a
BCD counter with hex digits, a reserved unit code) is a ``RecordError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from meterhub.collectors.mbus import datafields as df
from meterhub.collectors.mbus.records import DataRecord, Function, RecordError

FIXED_LEN = 16

#: Medium of the fixed structure (4 bits) → (text, EN 13757-3 medium code of the variable header).
FIXED_MEDIA: dict[int, tuple[str, int]] = {
    0x0: ("other", 0x00),
    0x1: ("oil", 0x01),
    0x2: ("electricity", 0x02),
    0x3: ("gas", 0x03),
    0x4: ("heat", 0x04),
    0x5: ("steam", 0x05),
    0x6: ("hot water", 0x06),
    0x7: ("water", 0x07),
    0x8: ("heat cost allocator", 0x08),
    0x9: ("reserved", 0x0F),
    0xA: ("gas (mode 2)", 0x03),
    0xB: ("heat (mode 2)", 0x04),
    0xC: ("hot water (mode 2)", 0x06),
    0xD: ("water (mode 2)", 0x07),
    0xE: ("heat cost allocator (mode 2)", 0x08),
    0xF: ("reserved", 0x0F),
}

_PREFIXED = (
    # first code, quantity, unit, exponent of the first code (the next two are ×10, ×100)
    (0x02, "energy", "Wh", 0),  # Wh
    (0x05, "energy", "Wh", 3),  # kWh
    (0x08, "energy", "Wh", 6),  # MWh
    (0x0B, "energy", "J", 3),  # kJ
    (0x0E, "energy", "J", 6),  # MJ
    (0x11, "energy", "J", 9),  # GJ
    (0x14, "power", "W", 0),  # W
    (0x17, "power", "W", 3),  # kW
    (0x1A, "power", "W", 6),  # MW
    (0x1D, "power", "J/h", 3),  # kJ/h
    (0x20, "power", "J/h", 6),  # MJ/h
    (0x23, "power", "J/h", 9),  # GJ/h
    (0x26, "volume", "m3", -6),  # ml
    (0x29, "volume", "m3", -3),  # l
    (0x2C, "volume", "m3", 0),  # m³
    (0x2F, "volume_flow", "m3/h", -6),  # ml/h
    (0x32, "volume_flow", "m3/h", -3),  # l/h
    (0x35, "volume_flow", "m3/h", 0),  # m³/h
)
SAME_BUT_HISTORIC = 0x3E


@dataclass(frozen=True, slots=True)
class FixedUnit:
    """A unit code of the fixed structure: quantity, unit as EN 13757-3 states it, exponent."""

    code: int
    quantity: str
    unit: str
    exponent: int
    text: str


def fixed_unit(code: int) -> FixedUnit | None:
    """The unit code's meaning (M-Bus documentation rev. 4.8, table of physical units), or None
    for the reserved codes 0x3A..0x3D and for 0x3E, which only says "as counter 1, historic"."""
    for first, quantity, unit, exponent in _PREFIXED:
        if first <= code < first + 3:
            step = code - first
            text = f"{unit} × 10^{exponent + step}"
            return FixedUnit(code, quantity, unit, exponent + step, text)
    named = {
        0x00: FixedUnit(0x00, "time_point", "h,m,s", 0, "time (h,m,s)"),
        0x01: FixedUnit(0x01, "time_point", "D,M,Y", 0, "date (D,M,Y)"),
        0x38: FixedUnit(0x38, "temperature", "degC", -3, "degC × 10^-3"),
        0x39: FixedUnit(0x39, "hca_units", "", 0, "units for H.C.A."),
        0x3F: FixedUnit(0x3F, "dimensionless", "", 0, "without units"),
    }
    return named.get(code)


@dataclass(frozen=True, slots=True)
class FixedData:
    """What the fixed structure says beyond the common header fields."""

    medium_code: int  # the 4-bit medium of the fixed structure
    counters_binary: bool  # status bit 0
    stored_at_fixed_date: bool  # status bit 1: counter 1 is a value stored at a fixed date
    unit_codes: tuple[int, int]

    @property
    def medium_text(self) -> str:
        return FIXED_MEDIA[self.medium_code][0]


def decode_fixed(
    data: bytes, big_endian: bool
) -> tuple[str, int, int, FixedData, list[DataRecord | RecordError]]:
    """Identification, access number, status byte, ``FixedData`` and the two counters.

    ``data`` must be at least 16 bytes (the caller checks); bytes beyond 16 are ignored by the
    standard's layout and reported by the caller.
    """
    ident_raw = data[0:4] if not big_endian else data[0:4][::-1]
    identification = ident_raw[::-1].hex().upper()
    access, status = data[4], data[5]
    u1, u2 = data[6], data[7]
    medium = ((u2 >> 6) << 2) | (u1 >> 6)
    fixed = FixedData(medium, bool(status & 0x01), bool(status & 0x02), (u1 & 0x3F, u2 & 0x3F))
    first = _counter(8, data[8:12], u1 & 0x3F, None, fixed, big_endian)
    unit1 = fixed_unit(u1 & 0x3F)
    second = _counter(12, data[12:16], u2 & 0x3F, unit1, fixed, big_endian)
    return identification, access, status, fixed, [first, second]


def _counter(
    offset: int, raw: bytes, code: int, unit1: FixedUnit | None, fixed: FixedData, big_endian: bool
) -> DataRecord | RecordError:
    storage = 1 if fixed.stored_at_fixed_date else 0
    if code == SAME_BUT_HISTORIC and unit1 is not None:
        unit, storage = unit1, 1
    else:
        unit = fixed_unit(code)
    if unit is None:
        what = "'same but historic' for counter 1" if code == SAME_BUT_HISTORIC else "a reserved unit"
        return RecordError(offset, bytes(raw), f"fixed-structure counter: unit code 0x{code:02X} is {what}")
    data = raw[::-1] if big_endian else raw
    try:
        number = df.decode_uint(data) if fixed.counters_binary else df.decode_bcd(data)
    except df.DataFieldError as exc:
        return RecordError(offset, bytes(raw), f"fixed-structure counter ({unit.text}): {exc}")
    return DataRecord(
        offset=offset,
        raw=bytes(raw),
        dif=0,
        coding="uint32" if fixed.counters_binary else "bcd8",
        function=Function.INSTANTANEOUS,
        storage=storage,
        tariff=0,
        subunit=0,
        quantity=unit.quantity,
        unit=unit.unit,
        value=Decimal(number).scaleb(unit.exponent),
        description=f"fixed-structure counter {1 if offset == 8 else 2} ({unit.text})",
        table="fixed",
    )
