"""RSP_UD telegrams recorded from real meters (libmbus test data, see tests/data/mbus/README.md).

Every expected value below was derived by hand from the bytes and EN 13757-3 tables, with the
byte offsets noted, so the decoder is checked against the standard and not against itself.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from mbus_support import DATA, find, telegram

from meterhub.collectors.mbus import DataRecord, Function, RecordError


def test_kamstrup_multical_601_heat_meter():
    # libmbus test/test-frames/kamstrup_multical_601.hex
    t = telegram("kamstrup_multical_601")
    h = t.header
    assert (h.identification, h.manufacturer, h.version, h.medium) == ("06855817", "KAM", 8, 0x04)
    assert h.medium_name == "heat (outlet)"
    assert h.access_number == 4 and h.status.raw == 0
    assert find(t, "fabrication_number").value == 6855817  # 0C 78 17 58 85 06 (BCD8)
    energy = find(t, "energy")  # 04 06 E7 91 00 00: 0x91E7 = 37351 × 10^3 Wh
    assert energy.value == Decimal(37351) * 1000 and energy.unit == "Wh"
    assert find(t, "volume").value == Decimal("561.08")  # 04 14 2C DB 00 00: 56108 × 10^-2 m³
    assert find(t, "on_time").value == 985 and find(t, "on_time").unit == "h"  # 04 22 D9 03
    assert find(t, "flow_temperature").value == Decimal("101.69")  # 04 59 B9 27: 10169 × 10^-2 °C
    assert find(t, "return_temperature").value == Decimal("46.16")  # 04 5D 08 12
    assert find(t, "temperature_difference").value == Decimal("55.53")  # 04 61 B1 15
    assert find(t, "power").value == Decimal(34700)  # 04 2D 5B 01: 347 × 10^2 W
    assert find(t, "power", function=Function.MAXIMUM).value == Decimal(44800)  # 14 2D C0 01
    assert find(t, "volume_flow").value == Decimal("0.543")  # 04 3B 1F 02: 543 × 10^-3 m³/h
    assert find(t, "energy", tariff=1).value == 0  # 84 10 06: DIFE 0x10 → tariff 1
    assert find(t, "volume", subunit=1).value == 0  # 84 40 14: DIFE 0x40 → subunit 1
    assert find(t, "volume", subunit=2).value == 0  # 84 80 40 14: second DIFE → subunit 2
    assert find(t, "energy", subunit=3).value == 0  # 84 C0 40 06: subunit 1 + 2
    assert find(t, "datetime").value == datetime(2011, 1, 5, 15, 26)  # 04 6D 1A 2F 65 11 (type F)
    assert find(t, "energy", storage=1).value == Decimal(33361000)  # 44 06 51 82: storage bit in DIF
    assert find(t, "date", storage=1).value == date(2010, 12, 31)  # 42 6C 5F 1C (type G)
    assert not t.errors and not t.more_records_follow
    assert t.manufacturer_data.startswith(bytes(4))  # 0F: manufacturer data to the end


def test_landis_gyr_ultraheat_t230_bcd_limits_and_deep_storage():
    # libmbus test/test-frames/landis+gyr_ultraheat_t230.hex
    t = telegram("landis+gyr_ultraheat_t230")
    assert (t.header.identification, t.header.manufacturer) == ("66660205", "LUG")
    assert t.header.status.temporary_error  # status 0x10
    assert find(t, "flow_temperature").value == Decimal("19.5")  # 0B 5A 95 01 00: BCD6 195 × 10^-1
    assert find(t, "temperature_difference").value == Decimal("-0.2")  # 0B 62 02 00 F0: F sign nibble
    assert find(t, "on_time", function=Function.ERROR_STATE).value == 3769  # 3C 22: function 11
    assert find(t, "averaging_duration", tariff=1).value == 7  # 89 10 71 07: min
    assert find(t, "flow_temperature", tariff=1, function=Function.MAXIMUM).value == Decimal("30.7")
    stamped = [r for r in t.data_records if r.vife == ("date(/time) of end of last limit exceed",)]
    # 94 10 DA 6F 32 14 7A 18: min 0x32&0x3F=50, h 0x14=20, day 0x7A&0x1F=26, month 8, year 3|1<<3=11
    assert {r.value for r in stamped} >= {datetime(2011, 8, 26, 20, 50), datetime(2011, 8, 9, 11, 43)}
    deep = [r for r in t.data_records if r.storage == 510]  # 84 8F 0F 6D: storage 0 | F<<1 | F<<5
    assert deep and deep[0].quantity == "datetime"
    assert t.manufacturer_data == bytes.fromhex("0907006601")


def test_itron_cyble_water_plain_text_and_more_records_follow():
    # libmbus test/test-frames/itron_cyble_m-bus_v1.4_water.hex
    t = telegram("itron_cyble_m-bus_v1.4_water")
    assert (t.header.manufacturer, t.header.medium, t.header.version) == ("ACW", 0x07, 0x14)
    assert find(t, "volume").value == Decimal("123.49")  # 04 14 3D 30 00 00
    texts = [r for r in t.data_records if r.quantity == "plain_text"]
    assert texts[0].unit == "cust. ID" and texts[0].value == "TEST CYBLE"  # 0D 7C 08 … (LVAR text)
    assert texts[1].unit == "bat. time" and texts[1].value == Decimal(4338)  # 02 7C 09 … F2 10
    mfr = [r for r in t.data_records if "manufacturer specific VIFE follows" in r.vife]
    # 04 94 7F 14 00 00 00: VIF 0x94 volume 10^(4-6) m³ keeps its unit and scale behind VIFE 0x7F
    assert mfr[0].manufacturer_specific and (mfr[0].unit, mfr[0].value) == ("m3", Decimal("0.20"))
    assert t.manufacturer_data == bytes.fromhex("10011f")


def test_engelmann_waterstar_per_pulse_vife_and_error_flags():
    # libmbus test/test-frames/EFE_Engelmann-WaterStar.hex
    t = telegram("EFE_Engelmann-WaterStar")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("04990254", "EFE", 0x06)
    assert t.header.status.raw == 0x27
    assert find(t, "volume").value == Decimal("0.332")  # 04 13 4C 01 00 00
    assert find(t, "volume", storage=2).value == Decimal("0.332")  # 84 01 13: DIFE storage nibble 1 → 2
    assert find(t, "on_time").unit == "d"  # 02 23 A7 04: 1191 days
    assert find(t, "error_flags").value == 0  # 01 FD 17 00
    pulse = [r for r in t.data_records if r.vife == ("increment per input pulse on input channel 0",)]
    assert pulse[0].value == Decimal("0.000008")  # 04 90 28 08 00 00 00


def test_siemens_wfh21_invalid_date_is_a_record_error_with_raw_bytes():
    # libmbus test/test-frames/siemens_wfh21.hex
    t = telegram("siemens_wfh21")
    errors = t.errors
    assert len(errors) == 1
    assert errors[0].raw == bytes.fromhex("326c0000") and "type G" in errors[0].reason
    assert find(t, "parameter_set_id").value == "WFH21"  # 0D FD 0B 05 … (LVAR text, reversed)


def test_plain_text_vif_after_vife():
    # libmbus test/test-frames/example_plain_text_placement.hex: 03 FC 20 03 43 42 41 15 31 00
    t = telegram("example_plain_text_placement")
    (record,) = t.data_records
    assert record.unit == "ABC" and record.vife == ("per second",) and record.value == 0x3115


def test_real32_records():
    # libmbus test/test-frames/example_data_01.hex: 05 5B 22 F3 26 42 = IEEE 754 41.7374…
    t = telegram("example_data_01")
    assert float(find(t, "flow_temperature").value) == pytest.approx(41.73743, abs=1e-5)
    assert find(t, "volume").value == Decimal("504647.0")  # 03 15 C6 00 4D: int24 × 10^-1 m³


def test_compact_integral_negative_bcd_and_fd_versions():
    # libmbus test/test-frames/SLB_CF-Compact-Integral-MK-MaXX.hex
    t = telegram("SLB_CF-Compact-Integral-MK-MaXX")
    assert find(t, "temperature_difference").value == Decimal("-0.18")  # 0B 61 18 00 F0
    assert find(t, "firmware_version").value == 3  # 09 FD 0E 03
    assert find(t, "software_version").value == 18  # 09 FD 0F 18
    assert find(t, "volume", subunit=1).value == Decimal("1.23")  # 84 40 14 7B 00 00 00


def test_abb_delta_tariffs_manufacturer_vif_and_continuation():
    # libmbus test/test-frames/abb_delta.hex (electricity, 8E … BCD12 energy per tariff)
    t = telegram("abb_delta")
    assert t.header.medium == 0x02 and t.more_records_follow
    assert {r.tariff for r in t.data_records if r.quantity == "energy"} == {0, 1, 2, 3, 4}
    assert any(r.table == "manufacturer" for r in t.data_records)
    assert all(r.error_code in (None, 0) for r in t.data_records)


def test_lvar_binary_16_bytes():
    # libmbus test/test-frames/example_binary16_lvar.hex: 0D 7C 02 57 50 F0 <16 bytes>
    t = telegram("example_binary16_lvar")
    (record,) = t.data_records
    assert record.unit == "PW" and isinstance(record.value, bytes) and len(record.value) == 16


@pytest.mark.parametrize("path", sorted(DATA.glob("*.hex")), ids=lambda p: p.stem)
def test_every_real_telegram_decodes_without_structural_errors(path: Path):
    t = telegram(path.stem)
    assert t.header is not None and t.unsupported is None and t.damaged is None
    for record in t.records:
        assert isinstance(record, DataRecord | RecordError)
        if isinstance(record, RecordError):
            assert record.raw and record.reason


def test_engelmann_sensostar_fb_energy_tariffs_and_storage():
    # libmbus test/test-frames/engelmann_sensostar2c.hex
    t = telegram("engelmann_sensostar2c")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("10380010", "EFE", 0x04)
    energy = find(t, "energy")  # 04 FB 00 08 00 00 00: table 0xFB, 0x00 = 10^(0-1) MWh
    assert (energy.value, energy.unit, energy.table) == (Decimal("0.8"), "MWh", "0xFB")
    assert find(t, "energy", tariff=2).value == 0  # 84 20 FB 00: DIFE 0x20 → tariff 2
    assert find(t, "energy", storage=2).value == Decimal("0.5")  # 84 01 FB 00: DIFE storage 1 → 2
    assert find(t, "volume", storage=2).value == Decimal("8.4")  # 84 01 15 54: 84 × 10^-1 m³
    assert find(t, "flow_temperature").value == 95  # 02 5B 5F 00: 95 × 10^0 °C
    assert find(t, "operating_time").value == 506 and find(t, "operating_time").unit == "d"  # 02 27 FA 01


def test_sontex_supercal_energy_in_joule_real_values_and_continuation():
    # libmbus test/test-frames/sontex_supercal_531_telegram1.hex
    t = telegram("sontex_supercal_531_telegram1")
    assert t.header.manufacturer == "SON" and t.more_records_follow  # ends with DIF 1F
    energy = find(t, "energy")  # 04 0E: 10^(6) J
    assert energy.unit == "J" and energy.value == 0
    assert find(t, "flow_temperature").coding == "real32"  # 05 5B
    assert t.header.status.temporary_error  # status 0x30


def test_elster_falcon_future_value_vife_on_a_date():
    # libmbus test/test-frames/els_falcon.hex
    t = telegram("els_falcon")
    assert find(t, "volume").value == Decimal("1234.567")  # 0C 13 67 45 23 01 (BCD8 litres)
    assert find(t, "volume", storage=1).value == Decimal("456.951")  # 4C 13
    future = [r for r in t.data_records if r.vife == ("future value",)]
    assert future[0].value == date(2008, 1, 1)  # 42 EC 7E 01 11: date, VIFE 0x7E
    assert find(t, "volume_flow", function=Function.MAXIMUM).value == Decimal("5.945")  # 12 3B 39 17
