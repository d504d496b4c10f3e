"""Fixed data structure (CI 0x73/0x77) beyond the documentation's example (test_mbus_field_telegrams):
binary counters, values stored at a fixed date, MSB-first order, the unit table and mapping.

The layout and the unit table are those of the M-Bus documentation rev. 4.8, clause 6.2; each
frame below is written out byte by byte.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from meterhub.collectors.mbus import RecordError, decode_telegram
from meterhub.collectors.mbus.fixed_structure import fixed_unit
from meterhub.collectors.mbus.mapping import map_readings
from meterhub.collectors.profiles import parse_profile
from meterhub.core import ReadingQuality

TS = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def fixed(ident="78 56 34 12", access="0A", status="00", units="E9 7E", c1="01 00 00 00", c2="35 01 00 00"):
    return bytes.fromhex(" ".join((ident, access, status, units, c1, c2)))


def test_binary_counters_when_status_bit_0_is_set():
    # status 0x01: counters binary; 0x00000135 = 309 l, 0x00000001 = 1 l
    t = decode_telegram(0x73, fixed(status="01"))
    first, second = t.data_records
    assert (first.value, second.value) == (Decimal("0.001"), Decimal("0.309"))
    assert first.coding == "uint32" and t.fixed.counters_binary
    assert t.header.status.describe() == "counters binary, actual values"


def test_counter_1_stored_at_a_fixed_date_when_status_bit_1_is_set():
    t = decode_telegram(0x73, fixed(status="02"))
    assert [r.storage for r in t.data_records] == [1, 1] and t.fixed.stored_at_fixed_date


def test_status_bits_0_and_1_are_no_application_error():
    # 0x01: binary counters — a variable-structure status 0x01 would be "application busy"
    # (UNCERTAIN), here it is how the counters are coded: the readings stay GOOD
    t = decode_telegram(0x73, fixed(status="01", units="05 3E", c1="10 27 00 00"))
    assert t.header.status.application_bits == 0 and t.header.status.application == "no error"
    mapped = map_readings([t], HEAT, TS)
    (reading,) = [r for r in mapped.readings if r.register == "heat_gcal"]
    assert reading.quality is ReadingQuality.GOOD and reading.meter_id == "ABC-12345678"
    # 0x2710 = 10 000 kWh (unit 0x05); 1 Gcal = 1.163 MWh → 8.598… Gcal
    assert reading.value == pytest.approx(10000 / 1163)


def test_permanent_error_bit_makes_readings_bad():
    t = decode_telegram(0x73, fixed(status="08", units="05 3E"))  # bit 3: permanent error
    mapped = map_readings([t], HEAT, TS)
    assert {r.quality for r in mapped.readings} == {ReadingQuality.BAD}


def test_msb_first_structure_ci_0x77():
    # CI 0x77: identification and counters most significant byte first
    t = decode_telegram(0x77, fixed(ident="12 34 56 78", c1="00 00 00 01", c2="00 00 01 35"))
    assert t.header.identification == "12345678"
    assert [r.value for r in t.data_records] == [Decimal("0.001"), Decimal("0.135")]


def test_medium_from_the_top_bits_of_both_unit_bytes():
    # 0x45 = 01 000101 (kWh), 0x3E = 00 111110: medium = 00 << 2 | 01 = 1 (oil)
    t = decode_telegram(0x73, fixed(units="45 3E"))
    assert (t.fixed.medium_code, t.fixed.medium_text, t.header.medium) == (1, "oil", 0x01)
    # 0x85 = 10 000101, 0xBE = 10 111110: medium 10 << 2 | 10 = 0xA, gas (mode 2) → EN 13757-3 gas 0x03
    t = decode_telegram(0x73, fixed(units="85 BE"))
    assert (t.fixed.medium_code, t.header.medium) == (0xA, 0x03)


@pytest.mark.parametrize(
    ("code", "quantity", "unit", "exponent"),
    [
        (0x02, "energy", "Wh", 0),
        (0x04, "energy", "Wh", 2),  # Wh × 100
        (0x05, "energy", "Wh", 3),  # kWh
        (0x0A, "energy", "Wh", 8),  # MWh × 100
        (0x0B, "energy", "J", 3),  # kJ
        (0x11, "energy", "J", 9),  # GJ
        (0x17, "power", "W", 3),  # kW
        (0x1D, "power", "J/h", 3),  # kJ/h
        (0x25, "power", "J/h", 11),  # GJ/h × 100
        (0x26, "volume", "m3", -6),  # ml
        (0x29, "volume", "m3", -3),  # l
        (0x2E, "volume", "m3", 2),  # m³ × 100
        (0x32, "volume_flow", "m3/h", -3),  # l/h
        (0x37, "volume_flow", "m3/h", 2),  # m³/h × 100
        (0x38, "temperature", "degC", -3),
        (0x39, "hca_units", "", 0),
        (0x3F, "dimensionless", "", 0),
    ],
)
def test_unit_table(code, quantity, unit, exponent):
    u = fixed_unit(code)
    assert u is not None and (u.quantity, u.unit, u.exponent) == (quantity, unit, exponent)


def test_reserved_unit_and_historic_counter_1_are_record_errors():
    t = decode_telegram(0x73, fixed(units="3A 3E"))  # 0x3A reserved; counter 2 has no unit to copy
    assert all(isinstance(r, RecordError) for r in t.records)
    assert "reserved" in t.records[0].reason
    t = decode_telegram(0x73, fixed(units="3E 29"))  # "same but historic" makes no sense for counter 1
    assert isinstance(t.records[0], RecordError) and "counter 1" in t.records[0].reason


def test_bcd_counter_with_hex_digits_is_a_record_error():
    t = decode_telegram(0x73, fixed(c1="1A 00 00 00"))
    assert isinstance(t.records[0], RecordError) and "invalid BCD digit 0xA" in t.records[0].reason
    assert t.data_records[0].value == Decimal("0.135")  # counter 2 is still read


HEAT = parse_profile(
    """
[profile]
id = "fixed-heat-test"
manufacturer = "ABC"
model = "a heat meter with the fixed data structure"
protocol = "mbus"
kind = "heat"
source = "M-Bus documentation rev. 4.8, clause 6.2"

[mbus]
manufacturers = ["ABC"]   # the fixed structure names no manufacturer: the profile's first code does

[[records]]
name = "heat_gcal"
quantity = "energy"
""",
    "fixed-heat-test.toml",
)
