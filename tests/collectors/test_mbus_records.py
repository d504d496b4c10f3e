"""EN 13757-3 data records: every data field coding, each VIF family, VIFE, special DIFs and
record-level errors. Bytes are written out by hand from the standard's tables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from meterhub.collectors.mbus.records import DataRecord, Function, RecordError, decode_records
from meterhub.collectors.mbus.telegram import decode_telegram


def one(hexstr: str, big_endian: bool = False) -> DataRecord | RecordError:
    area = decode_records(bytes.fromhex(hexstr), big_endian)
    assert len(area.records) == 1, area.records
    return area.records[0]


def value(hexstr: str):
    record = one(hexstr)
    assert isinstance(record, DataRecord), record
    return record.value


# --- data field codings (EN 13757-3 table 4) --------------------------------------------------
@pytest.mark.parametrize(
    ("hexstr", "expected", "coding"),
    [
        ("00 13", None, "no data"),
        ("01 13 FF", Decimal("-0.001"), "int8"),  # type B: two's complement
        ("02 13 34 12", Decimal("4.660"), "int16"),
        ("03 13 00 00 80", Decimal(-(2**23)) / 1000, "int24"),
        ("04 13 78 56 34 12", Decimal(0x12345678) / 1000, "int32"),
        ("05 13 00 00 80 3F", Decimal("0.001"), "real32"),  # 1.0f
        ("06 13 01 00 00 00 00 80", Decimal(-(2**47) + 1) / 1000, "int48"),
        ("07 13 FF FF FF FF FF FF FF 7F", Decimal(2**63 - 1) / 1000, "int64"),
        ("08 13", None, "selection for readout"),
        ("09 13 42", Decimal("0.042"), "bcd2"),
        ("0A 13 34 12", Decimal("1.234"), "bcd4"),
        ("0B 13 56 34 12", Decimal("123.456"), "bcd6"),
        ("0C 13 78 56 34 12", Decimal("12345.678"), "bcd8"),
        ("0E 13 12 90 78 56 34 12", Decimal("123456789.012"), "bcd12"),
        ("0C 13 78 56 34 F2", Decimal("-2345.678"), "bcd8"),  # negative: 0xF top nibble
        ("0D 13 C3 56 34 12", Decimal("123.456"), "variable length"),  # LVAR 0xC3: +BCD 3 bytes
        ("0D 13 D2 34 12", Decimal("-1.234"), "variable length"),  # LVAR 0xD2: −BCD 2 bytes
        ("0D 13 E3 01 02 03", Decimal(0x030201) / 1000, "variable length"),  # LVAR 0xE3: binary
    ],
)
def test_every_data_field_coding(hexstr, expected, coding):
    record = one(hexstr)
    assert isinstance(record, DataRecord), record
    assert record.coding == coding
    assert record.value == expected


def test_lvar_text_binary_and_long_binary():
    assert value("0D FD 11 05 6F 6C 6C 65 48") == "Hello"  # customer, text sent in reverse
    assert value("0D 7F F0 " + "AA" * 16) == bytes([0xAA] * 16)  # manufacturer VIF, 0xF0: 16 bytes


# --- DIF/DIFE: storage, tariff, subunit, function ----------------------------------------------
def test_dife_chain_storage_tariff_subunit():
    # DIF C4: ext, storage LSB 1, function 00, int32; DIFE 0x9F: ext, tariff 01, storage F;
    # DIFE 0x61: subunit 1, tariff 10, storage 1.
    r = one("C4 9F 61 06 01 00 00 00")
    assert isinstance(r, DataRecord)
    assert r.storage == 1 | (0xF << 1) | (1 << 5)
    assert r.tariff == 1 | (2 << 2)
    assert r.subunit == 2
    assert r.function is Function.INSTANTANEOUS


@pytest.mark.parametrize(
    ("dif", "function"),
    [
        ("04", Function.INSTANTANEOUS),
        ("14", Function.MAXIMUM),
        ("24", Function.MINIMUM),
        ("34", Function.ERROR_STATE),
    ],
)
def test_function_field(dif, function):
    r = one(f"{dif} 2B 01 00 00 00")
    assert isinstance(r, DataRecord) and r.function is function


# --- primary VIF table (EN 13757-3 table 10) ---------------------------------------------------
@pytest.mark.parametrize(
    ("vif", "quantity", "unit", "scaled_one"),
    [
        ("03", "energy", "Wh", Decimal(1)),
        ("07", "energy", "Wh", Decimal(10000)),
        ("0B", "energy", "J", Decimal(1000)),
        ("10", "volume", "m3", Decimal("0.000001")),
        ("16", "volume", "m3", Decimal(1)),
        ("1B", "mass", "kg", Decimal(1)),
        ("20", "on_time", "s", Decimal(1)),
        ("23", "on_time", "d", Decimal(1)),
        ("26", "operating_time", "h", Decimal(1)),
        ("2B", "power", "W", Decimal(1)),
        ("33", "power", "J/h", Decimal(1000)),
        ("3B", "volume_flow", "m3/h", Decimal("0.001")),
        ("43", "volume_flow", "m3/min", Decimal("0.0001")),
        ("4F", "volume_flow", "m3/s", Decimal("0.01")),
        ("53", "mass_flow", "kg/h", Decimal(1)),
        ("5A", "flow_temperature", "degC", Decimal("0.1")),
        ("5E", "return_temperature", "degC", Decimal("0.1")),
        ("61", "temperature_difference", "K", Decimal("0.01")),
        ("66", "external_temperature", "degC", Decimal("0.1")),
        ("69", "pressure", "bar", Decimal("0.01")),
        ("6E", "hca_units", "", Decimal(1)),
        ("71", "averaging_duration", "min", Decimal(1)),
        ("76", "actuality_duration", "h", Decimal(1)),
    ],
)
def test_primary_vif_families(vif, quantity, unit, scaled_one):
    r = one(f"01 {vif} 01")
    assert isinstance(r, DataRecord), r
    assert (r.quantity, r.unit, r.value, r.table) == (quantity, unit, scaled_one, "primary")


def test_time_points_identifiers_and_bus_address():
    assert value("02 6C 5F 1C") == date(2010, 12, 31)  # type G
    assert value("04 6D 1A 2F 65 11") == datetime(2011, 1, 5, 15, 26)  # type F
    assert value("06 6D 1E 1A 2F 65 11 00") == datetime(2011, 1, 5, 15, 26, 30)  # type I
    assert value("0C 78 17 58 85 06") == 6855817  # fabrication number (BCD)
    assert value("04 79 01 02 03 04") == 0x04030201  # enhanced identification
    assert value("01 7A 05") == 5  # bus address


# --- 0xFD main extension (EN 13757-3 table 14) -------------------------------------------------
@pytest.mark.parametrize(
    ("vife", "quantity", "unit", "expected"),
    [
        ("02", "credit", "currency", Decimal("0.1")),
        ("07", "debit", "currency", Decimal(1)),
        ("08", "access_number", "", 1),
        ("09", "medium", "", 1),
        ("0A", "manufacturer", "", 1),
        ("0B", "parameter_set_id", "", 1),
        ("0C", "model_version", "", 1),
        ("0D", "hardware_version", "", 1),
        ("0E", "firmware_version", "", 1),
        ("11", "customer", "", 1),
        ("17", "error_flags", "", 1),
        ("1A", "digital_output", "", 1),
        ("1B", "digital_input", "", 1),
        ("1C", "baud_rate", "Bd", Decimal(1)),
        ("1D", "response_delay", "bit times", Decimal(1)),
        ("1E", "retry", "", Decimal(1)),
        ("48", "voltage", "V", Decimal("0.1")),
        ("59", "current", "A", Decimal("0.001")),
        ("6E", "battery_operating_time", "month", Decimal(1)),
    ],
)
def test_fd_extension_table(vife, quantity, unit, expected):
    r = one(f"01 FD {vife} 01")
    assert isinstance(r, DataRecord), r
    assert (r.quantity, r.unit, r.value, r.table) == (quantity, unit, expected, "0xFD")


# --- 0xFB alternate extension (EN 13757-3 table 12) --------------------------------------------
@pytest.mark.parametrize(
    ("vife", "quantity", "unit", "expected"),
    [
        ("00", "energy", "MWh", Decimal("0.1")),
        ("01", "energy", "MWh", Decimal(1)),
        ("08", "energy", "GJ", Decimal("0.1")),
        ("09", "energy", "GJ", Decimal(1)),
        ("10", "volume", "m3", Decimal(100)),
        ("11", "volume", "m3", Decimal(1000)),
        ("18", "mass", "t", Decimal(100)),
        ("21", "volume", "ft3", Decimal("0.1")),
        ("28", "power", "MW", Decimal("0.1")),
        ("31", "power", "GJ/h", Decimal(1)),
        ("5A", "flow_temperature", "degF", Decimal("0.1")),
        ("5E", "return_temperature", "degF", Decimal("0.1")),
        ("62", "temperature_difference", "degF", Decimal("0.1")),
        ("67", "external_temperature", "degF", Decimal(1)),
        ("75", "temperature_limit", "degC", Decimal("0.01")),
    ],
)
def test_fb_extension_table(vife, quantity, unit, expected):
    r = one(f"01 FB {vife} 01")
    assert isinstance(r, DataRecord), r
    assert (r.quantity, r.unit, r.value, r.table) == (quantity, unit, expected, "0xFB")


# --- combinable VIFE, plain text, manufacturer -------------------------------------------------
def test_combinable_vife_per_time_and_correction_factor():
    r = one("01 93 22 05")  # volume 10^-3 m³ per hour
    assert isinstance(r, DataRecord) and r.vife == ("per hour",) and r.value == Decimal("0.005")
    r = one("01 93 73 05")  # multiplicative correction 10^(3-6)
    assert isinstance(r, DataRecord) and r.value == Decimal("0.000005")


def test_record_error_vife_is_kept_with_the_value():
    r = one("04 96 16 FF FF FF 7F")  # volume, VIFE 0x16 "data overflow"
    assert isinstance(r, DataRecord) and r.error_code == 0x16 and r.error_text == "data overflow"


def test_value_during_error_state_function():
    r = one("34 13 01 00 00 00")
    assert isinstance(r, DataRecord) and r.function is Function.ERROR_STATE


def test_plain_text_vif_with_vife_before_the_text():
    r = one("02 FC 22 03 68 2F 6C 10 00")  # "l/h" sent reversed, VIFE per hour first
    assert isinstance(r, DataRecord) and r.unit == "l/h" and r.vife == ("per hour",) and r.value == 16


def test_manufacturer_specific_vif_and_vife():
    r = one("02 FF 05 34 12")
    assert isinstance(r, DataRecord) and r.quantity == "manufacturer_specific" and r.value == 0x1234
    # VIFE 0x7F: the record is manufacturer specific, but VIF 0x13 still says volume 10^-3 m³
    r = one("02 93 7F 34 12")
    assert isinstance(r, DataRecord) and r.manufacturer_specific
    assert (r.quantity, r.unit, r.value) == ("volume", "m3", Decimal("4.660"))  # 0x1234 = 4660
    r = one("04 AB FF 01 FE FF FF FF")  # EMU: power 10^0 W, VIFE 0xFF + manufacturer VIFE 0x01 (phase)
    assert isinstance(r, DataRecord) and (r.unit, r.value) == ("W", Decimal(-2))  # type B: two's complement
    assert r.vife == ("manufacturer specific VIFE follows", "manufacturer VIFE 0x01")


# --- special DIFs and errors ---------------------------------------------------------------------
def test_special_dif_filler_more_records_and_manufacturer_data():
    area = decode_records(bytes.fromhex("2F 2F 01 13 05 1F AA BB"))
    assert len(area.records) == 1 and area.more_records_follow and area.manufacturer_data == b"\xaa\xbb"
    area = decode_records(bytes.fromhex("01 13 05 0F CC"))
    assert not area.more_records_follow and area.manufacturer_data == b"\xcc"


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [
        ("0C 13 7A 56 34 12", "invalid BCD digit 0xA"),
        ("04 6D 1A AF 65 11", ""),  # hour 15 but IV flag? no: byte 1 bit 7 is SU → valid; see below
        ("04 6D 9A 2F 65 11", "invalid flag"),
        ("02 6C 00 00", "type G"),
        ("01 6F 01", "reserved"),
        ("01 FD 3B 01", "reserved VIFE 0x3B"),
        ("05 2B 00 00 C0 7F", "32-bit real is nan"),
    ],
)
def test_bad_values_become_record_errors_with_raw_bytes(hexstr, reason):
    record = one(hexstr)
    if not reason:
        assert isinstance(record, DataRecord)
        return
    assert isinstance(record, RecordError) and reason in record.reason
    assert record.raw == bytes.fromhex(hexstr)


def test_truncated_record_reports_the_rest_and_keeps_earlier_records():
    area = decode_records(bytes.fromhex("01 13 05 04 13 01 02"))
    assert isinstance(area.records[0], DataRecord)
    err = area.records[1]
    assert isinstance(err, RecordError) and err.offset == 3 and err.raw == bytes.fromhex("04 13 01 02")
    assert "broken record structure" in err.reason


def test_too_many_difes():
    area = decode_records(bytes.fromhex("84" + "80" * 11 + "00 13 01"))
    assert isinstance(area.records[0], RecordError) and "DIFE" in area.records[0].reason


# --- application layer headers -------------------------------------------------------------------
def test_short_header_ci_7a():
    t = decode_telegram(0x7A, bytes.fromhex("2A 00 00 00 04 13 01 00 00 00"))
    assert t.header is not None and t.header.access_number == 0x2A and t.header.identification is None
    assert t.data_records[0].value == Decimal("0.001")


def test_msb_first_ci_76_reverses_multi_byte_fields():
    header = bytes.fromhex("12 34 56 78 2C 2D 08 04 01 00 00 00")
    t = decode_telegram(0x76, header + bytes.fromhex("04 13 00 00 01 00"))
    assert t.header.identification == "12345678" and t.header.manufacturer == "KAM"
    assert t.data_records[0].value == Decimal("0.256")


def test_fixed_data_structure_with_extra_bytes_is_damaged():
    t = decode_telegram(0x73, bytes(19))  # the structure has exactly 16 bytes
    assert t.fixed is not None and t.damaged and "19 bytes" in t.damaged
    assert decode_telegram(0x73, bytes(15)).unsupported == "fixed data structure truncated: 15 of 16 bytes"


def test_unknown_ci_and_short_data_are_reported():
    assert "not a wired M-Bus response" in decode_telegram(0x51, b"").unsupported
    assert "truncated" in decode_telegram(0x72, b"\x01\x02").unsupported


def test_type_f_hundred_year_bits():
    assert value("04 6D 1A 2F 65 11") == datetime(2011, 1, 5, 15, 26)  # HY = 1 → 1900 + 100 + 11
    assert value("04 6D 1A 0F 65 11") == datetime(2011, 1, 5, 15, 26)  # HY = 0, year 11 → 2011
    assert value("04 6D 1A 4F 65 11") == datetime(2111, 1, 5, 15, 26)  # HY = 2


@pytest.mark.parametrize(
    ("vife", "text"),
    [
        ("40", "lower limit value"),
        ("49", "number of exceeds of upper limit"),
        ("43", "date(/time) of end of first lower limit exceed"),
        ("4E", "date(/time) of begin of last upper limit exceed"),
        ("44", "reserved VIFE 0x44"),
        ("56", "duration of last lower limit exceed [h]"),
        ("6B", "date(/time) of end of first limit exceed"),
        ("3A", "uncorrected unit"),
        ("7E", "future value"),
    ],
)
def test_combinable_vife_texts(vife, text):
    r = one(f"01 93 {vife} 05") if vife not in ("43", "4E", "6B") else one(f"04 93 {vife} 1A 2F 65 11")
    assert isinstance(r, DataRecord) and r.vife == (text,)


def test_every_vife_after_0x7f_is_manufacturer_specific():
    r = one("01 93 FF 95 16 05")  # VIFE 0x7F, then two manufacturer VIFEs (0x95 looks like an error code)
    assert isinstance(r, DataRecord)
    follows = "manufacturer specific VIFE follows"
    assert r.vife == (follows, "manufacturer VIFE 0x95", "manufacturer VIFE 0x16")
    assert r.error_code is None and r.value == Decimal("0.005")  # 5 × 10^-3 m³ (VIF 0x13)


# --- application error status ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "text"),
    [
        (0x00, "no error"),
        (0x01, "application busy"),
        (0x02, "any application error"),
        (0x03, "abnormal situation"),
        (0x1F, "abnormal situation, power low, permanent error, temporary error"),
        (0xE0, "no error, manufacturer bits 111"),
    ],
)
def test_status_byte_application_error_bits(status, text):
    header = bytes.fromhex("78563412 2D2C 01 07 00") + bytes((status,)) + b"\x00\x00"
    t = decode_telegram(0x72, header)
    assert t.header.status.describe() == text


@pytest.mark.parametrize(
    ("data", "code", "text"),
    [
        ("08", 8, "application too busy for handling readout request"),
        ("01", 1, "unimplemented CI field"),
        ("09", 9, "too many readouts"),
        ("", 0, "unspecified error"),  # a missing code byte is "unspecified"
        ("07", 7, "reserved application error 7"),
    ],
)
def test_report_of_application_error_ci_70(data, code, text):
    t = decode_telegram(0x70, bytes.fromhex(data))
    assert t.application_error is not None and t.application_error.code == code
    assert t.application_error.text == text and t.header is None and not t.records and not t.unsupported
    assert str(t.application_error) == f"application error {code} ({text})"
