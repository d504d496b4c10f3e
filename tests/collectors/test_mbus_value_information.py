"""Plain-text VIF placements, VIFE 0x7F, and the byte order of variable-length (LVAR) data.

Byte strings are record areas (after the 12-byte header) written out by hand from EN 13757-3.
"""

from __future__ import annotations

from decimal import Decimal

from mbus_support import telegram

from meterhub.collectors.mbus.records import DataRecord, RecordError, decode_records


def records(hexstr: str, big_endian: bool = False):
    return decode_records(bytes.fromhex(hexstr), big_endian=big_endian)


def test_text_after_the_vif_then_vife_elvaco_order():
    (r,) = records("02 FC 03 48 52 25 74 22 15").records  # "HR%" sent reversed, then VIFE 0x74
    assert isinstance(r, DataRecord)
    assert (r.unit, r.vife, r.value) == ("%RH", ("multiplicative correction factor 10^-2",), Decimal("54.10"))


def test_text_after_the_vifes_en_13757_3_2013_order():
    # 03 FC 20 03 43 42 41 15 31 00: VIFE 0x20 (per second) first; as text-first, the length would
    # be 0x20 = 32 bytes, more than the record area holds
    (r,) = records("03 FC 20 03 43 42 41 15 31 00").records
    assert isinstance(r, DataRecord) and (r.unit, r.vife, r.value) == ("ABC", ("per second",), 0x3115)


def test_both_placements_fit_and_the_rest_of_the_telegram_decides():
    # text-first: length 3 "ABC" → "CBA", VIFE 0x20, data 2F 2F, then 2F fillers … and a lone DIF 0x34
    #             at the end with no VIF: a broken structure;
    # VIFEs-first: VIFE 0x03 (record error 3), length 0x41 = 65 printable bytes, data 2F 34: clean.
    area = records("02 FC 03 41 42 43 20" + " 2F" * 63 + " 34")
    (r,) = area.records
    assert isinstance(r, DataRecord) and area.damage is None
    # the 65 text bytes 42 43 20 2F … 2F, sent last character first
    assert (r.unit, r.error_code, r.value, r.vife) == ("/" * 62 + " CB", 3, 0x342F, ())


def test_both_placements_fit_cleanly_and_the_text_after_the_vif_wins():
    # text-first: "CBA", VIFE 0x20, data 2F 2F, 62 fillers; VIFEs-first: 65 characters, data 2F 2F
    area = records("02 FC 03 41 42 43 20" + " 2F" * 64)
    r = area.records[0]
    assert isinstance(r, DataRecord) and (r.unit, r.vife, r.value) == ("CBA", ("per second",), 0x2F2F)
    assert len(area.records) == 1 and area.damage is None


def test_unprintable_text_rules_a_placement_out():
    # text-first would read length 1 and the text 0x07 (BEL): not a unit; VIFEs-first: VIFE 0x01
    # (record error 1), length 7, 78 20 20 68 2F 6D 6B = "km/h  x" reversed → fits and is printable
    (r,) = records("02 FC 01 07 78 20 20 68 2F 6D 6B 05 00").records
    assert isinstance(r, DataRecord) and r.unit == "km/h  x" and r.error_code == 1 and r.value == 5


def test_lvar_long_binary_is_most_significant_byte_first():
    # libmbus example_binary16_lvar: 0D 7C 02 57 50 F0 96 07 … 3E 17 — LVAR 0xF0 = 16 bytes, sent
    # least significant byte first; written (and printed by other decoders) from the other end
    (r,) = telegram("example_binary16_lvar").data_records
    assert r.unit == "PW" and r.value == bytes.fromhex("17 3E D1 DC B3 1A B5 3D 01 93 A6 27 2A 5B 07 96")


def test_lvar_short_binary_is_an_unsigned_number():
    (r,) = records("0D 13 E3 01 02 03").records  # LVAR 0xE3: 3 bytes binary, 0x030201 litres
    assert isinstance(r, DataRecord) and r.value == Decimal("197.121")  # 197121 × 10^-3 m³


def test_mode_2_msb_first_lvar_text_and_binary():
    # CI 0x76 (mode 2): most significant byte first, text first character first
    area = records("0D 78 03 41 42 43 0D 13 E2 01 02", big_endian=True)
    text, number = area.records
    assert isinstance(text, DataRecord) and text.value == "ABC"
    assert isinstance(number, DataRecord) and number.value == Decimal("0.258")  # 0x0102 = 258 l


def test_manufacturer_vif_without_unit_and_vife_7f_with_unit():
    area = records("02 FF 05 34 12 04 83 FF 01 FE FF FF FF")
    mvif, mvife = area.records
    assert isinstance(mvif, DataRecord) and mvif.quantity == "manufacturer_specific" and mvif.unit == ""
    assert isinstance(mvife, DataRecord) and mvife.manufacturer_specific
    assert (mvife.quantity, mvife.unit, mvife.value) == ("energy", "Wh", -2)  # 04 83 FF 01: 10^0 Wh


def test_reserved_lvar_breaks_the_structure():
    area = records("0D 13 F9 01 02 03 04 13 01 00 00 00")
    assert isinstance(area.records[0], RecordError) and area.damage is not None
    assert "reserved LVAR value 0xF9" in area.damage[1]


def test_an_empty_unit_text_is_still_a_record():
    (r,) = records("02 FC 00 74 12 34").records  # length 0, then VIFE 0x74 (×10^-2)
    assert isinstance(r, DataRecord) and (r.unit, r.value) == ("", Decimal("133.30"))  # 0x3412 = 13330
