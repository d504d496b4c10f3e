"""RSP_UD telegrams of meters by many manufacturers (libmbus test data and the M-Bus documentation's
fixed-structure example; sources in tests/data/mbus/README.md).

Each expected value is worked out by hand from the bytes quoted beside it and the EN 13757-3
tables (VIF E000 0nnn energy 10^(nnn-3) Wh, E001 0nnn volume 10^(nnn-6) m³, …), never taken from
a decoder's output.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from mbus_support import find, manufacturer, telegram

from meterhub.collectors.mbus import Function

MIN, MAX, ERR = Function.MINIMUM, Function.MAXIMUM, Function.ERROR_STATE
PER_CENT = ("multiplicative correction factor 10^-2",)  # VIFE 0x74: 10^(4-6)


def plain(t, function=Function.INSTANTANEOUS):
    (r,) = [r for r in t.data_records if r.quantity == "plain_text" and r.function == function]
    return r


# --- Elvaco: plain-text VIF 0xFC with the text right after the VIF, its VIFE after the text ----------
def test_elvaco_cma10_text_after_the_vif_and_more_records_follow():
    # ELV-Elvaco-CMa10: 72 | 61 15 01 24 | 96 15 (0x1596 = E,L,V) | 16 | 00 | 3F | 00
    t = telegram("ELV-Elvaco-CMa10")
    h = t.header
    assert (h.identification, h.manufacturer, h.version, h.medium, h.access_number) == (
        "24011561",
        "ELV",
        0x16,
        0x00,
        0x3F,
    )
    assert find(t, "digital_input").value == 2  # 01 FD 1B 02
    # 02 FC 03 48 52 25 74 22 15: text "HR%" (sent last character first) = "%RH", then VIFE 0x74
    # (×10^-2); 0x1522 = 5410 → 54.10 %RH
    rh = plain(t)
    assert (rh.unit, rh.value, rh.vife) == ("%RH", Decimal("54.10"), PER_CENT)
    assert plain(t, MIN).value == Decimal("33.64")  # 22 FC … 24 0D: DIF function 10 = minimum, 0x0D24
    assert plain(t, MAX).value == Decimal("73.63")  # 12 FC … C3 1C: 0x1CC3 = 7363
    assert find(t, "external_temperature").value == Decimal("20.94")  # 02 65 2E 08: 2094 × 10^-2 °C
    assert find(t, "external_temperature", function=MIN).value == Decimal("13.72")  # 22 65 5C 05
    assert find(t, "external_temperature", function=MAX).value == Decimal("29.78")  # 12 65 A2 0B
    assert (find(t, "averaging_duration").value, find(t, "averaging_duration").unit) == (24, "h")  # 01 72 18
    assert find(t, "external_temperature", storage=1).value == Decimal("20.92")  # 42 65 2C 08
    assert find(t, "external_temperature", storage=2).value == Decimal("20.79")  # 82 01 65: DIFE 01 → 2
    assert find(t, "fabrication_number").value == 24011561  # 0C 78 61 15 01 24
    assert find(t, "software_version").value == 0x040000  # 03 FD 0F 00 00 04
    assert t.more_records_follow and not t.errors and t.damaged is None  # ends with DIF 1F


def test_elvaco_cma11_temperature_and_humidity():
    # elv_temp_humid: 34 08 00 54 → 54000834, ELV, version 0x32
    t = telegram("elv_temp_humid")
    assert (t.header.identification, t.header.manufacturer) == ("54000834", "ELV")
    assert plain(t).value == Decimal("45.64")  # 02 FC 03 48 52 25 74 D4 11: 0x11D4 = 4564
    assert plain(t, MIN).value == Decimal("45.52")  # C8 11
    assert plain(t, MAX).value == Decimal("58.12")  # B4 16: 0x16B4 = 5812
    assert find(t, "external_temperature").value == Decimal("22.56")  # 02 65 D0 08
    assert find(t, "external_temperature", storage=2).value == Decimal("22.69")  # 82 01 65 DD 08
    assert t.more_records_follow and not t.errors


def test_elvaco_cma10_error_state_records_and_int16_software_version():
    # THI_cma10 (manufacturer 96 15 = ELV): identification 00000002
    t = telegram("THI_cma10")
    assert (t.header.identification, t.header.manufacturer) == ("00000002", "ELV")
    assert plain(t).value == Decimal("46.60")  # 34 12: 0x1234 = 4660
    assert find(t, "external_temperature").value == Decimal("22.62")  # 02 65 D6 08
    # 72 65 00 00: DIF 0x72 = int16, function 11 (value during error state), storage bit set
    assert find(t, "external_temperature", storage=1, function=ERR).value == 0
    # B2 01 65 00 00: function 11, DIFE 01 → storage 2
    assert find(t, "external_temperature", storage=2, function=ERR).value == 0
    assert find(t, "software_version").value == 0x0304  # 02 FD 0F 04 03
    assert t.more_records_follow


# --- EMU, Saia-Burgess, Finder, NZR: VIFE 0x7F/0xFF keeps the unit; type B is two's complement ----
def test_emu_professional_375_phase_values_behind_vife_ff():
    # EMU_EMU-Professional-375-M-Bus: B5 15 = 0x15B5 → E,M,U; medium 02 electricity
    t = telegram("EMU_EMU-Professional-375-M-Bus")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("00032629", "EMU", 0x02)
    assert find(t, "energy", tariff=1).value == 1364  # 84 10 03 54 05 00 00: 0x0554 Wh, tariff 1
    assert find(t, "energy", tariff=1, subunit=2).value == 7854  # 84 90 40 03 AE 1E: DIFE 40 → subunit 2
    # 04 AB FF 01 FE FF FF FF: power 10^0 W, VIFE 0xFF (manufacturer specific), phase VIFE 0x01;
    # FFFFFFFE in two's complement = -2 W
    l1 = find(t, "power", vife=manufacturer(1))
    assert (l1.value, l1.unit, l1.manufacturer_specific) == (-2, "W", True)
    assert find(t, "power").value == -2  # 04 2B FE FF FF FF: the total, no VIFE
    assert find(t, "power", subunit=2, vife=manufacturer(1)).value == 14  # 84 80 40 AB FF 01 0E …
    # 02 FD C8 FF 01 D1 08: VIF FD 48 → voltage 10^(8-9) V; 0x08D1 = 2257 → 225.7 V
    l1_voltage = find(t, "voltage", vife=manufacturer(1))
    assert (l1_voltage.value, l1_voltage.unit) == (Decimal("225.7"), "V")
    assert find(t, "voltage", function=MIN, vife=manufacturer(1)).value == Decimal("187.4")  # 22 … 52 07
    assert find(t, "voltage", function=MAX, vife=manufacturer(1)).value == Decimal("241.0")  # 12 … 6A 09
    # 03 FD D9 FF 01 BE FF FF: current 10^(9-12) A; FFFFBE (int24) = -66 → -0.066 A
    assert find(t, "current", vife=manufacturer(1)).value == Decimal("-0.066")
    assert find(t, "current").value == Decimal("-0.066")  # 03 FD 59 BE FF FF
    mfr = [r for r in t.data_records if r.quantity == "manufacturer_specific"]
    assert [r.value for r in mfr] == [13, 0, 0, 500]  # 01 FF E1 FF 01 0D …, 02 FF 52 F4 01
    assert find(t, "reset_counter").value == 56  # 02 FD 60 38 00
    assert not t.errors


def test_saia_burgess_ale3_bcd_energy_per_tariff_and_phase_values():
    # SBC_Saia-Burgess-ALE3: 43 4C = 0x4C43 → S,B,C
    t = telegram("SBC_Saia-Burgess-ALE3")
    assert (t.header.identification, t.header.manufacturer) == ("19000055", "SBC")
    energy = find(t, "energy", tariff=1)  # 8C 10 04 93 02 00 00: BCD 293 × 10^(4-3) Wh
    assert (energy.value, energy.unit, energy.coding) == (2930, "Wh", "bcd8")
    assert find(t, "energy", tariff=1, storage=2).value == 2930  # 8C 11 04: DIFE 11 → storage 2
    assert find(t, "energy", tariff=2).value == 60  # 8C 20 04 06 00 00 00
    l1 = find(t, "voltage", vife=manufacturer(1))  # 02 FD C9 FF 01 DF 00: 10^0 V, phase 1
    assert (l1.value, l1.unit, l1.manufacturer_specific) == (223, "V", True)
    assert find(t, "current", vife=manufacturer(1)).value == 0  # 02 FD DB FF 01 00 00
    assert find(t, "power", subunit=1, vife=manufacturer(1)).value == 0  # 82 40 AC FF 01
    assert find(t, "power", vife=manufacturer(0)).value == 0  # 02 AC FF 00 00 00
    assert not t.errors


def test_finder_7e_negative_reactive_power():
    # FIN-Finder-7E.23.8.230.0020: 2E 19 = 0x192E → F,I,N
    t = telegram("FIN-Finder-7E.23.8.230.0020")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("23006207", "FIN", 0x02)
    assert find(t, "energy", tariff=1).value == 1728680  # 8C 10 04 68 28 17 00: 172868 × 10 Wh
    assert find(t, "voltage", vife=manufacturer(1)).value == 230  # 02 FD C9 FF 01 E6 00
    assert find(t, "current", vife=manufacturer(1)).value == Decimal("0.6")  # 02 FD DB FF 01 06 00
    assert find(t, "power", vife=manufacturer(1)).value == 90  # 02 AC FF 01 09 00: 9 × 10 W
    # 82 40 AC FF 01 FD FF: subunit 1, 0xFFFD = -3 (type B) × 10 W; read unsigned it was 655 330 W
    assert find(t, "power", subunit=1, vife=manufacturer(1)).value == -30


def test_nzr_dhz_energy_behind_vife_7f_keeps_wh():
    # nzr_dhz_5_63: 52 3B = 0x3B52 → N,Z,R
    t = telegram("nzr_dhz_5_63")
    assert (t.header.identification, t.header.manufacturer) == ("30100608", "NZR")
    assert find(t, "energy").value == 1274  # 04 03 FA 04 00 00: 0x04FA Wh
    same = find(t, "energy", vife=manufacturer())  # 04 83 7F FA 04 00 00
    assert (same.value, same.unit, same.manufacturer_specific) == (1274, "Wh", True)
    assert find(t, "voltage").value == Decimal("237.2")  # 02 FD 48 44 09: 0x0944 × 10^-1 V
    assert find(t, "fabrication_number").value == 30100608
    assert t.manufacturer_data == b"\x0e"  # 0F 0E


# --- Kamstrup, Landis+Gyr, Itron, Engelmann, Sensus, Techem --------------------------------------------
def test_kamstrup_382_electricity_meter():
    t = telegram("kamstrup_382_005")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("14839120", "KAM", 0x02)
    assert find(t, "on_time").value == 9 and find(t, "on_time").unit == "h"  # 04 22 09 00 00 00
    assert find(t, "energy", tariff=1, subunit=1).value == 0  # 84 50 06: DIFE 0x50 → tariff 1, subunit 1
    assert find(t, "energy", tariff=2, subunit=1).value == 0  # 84 60 06
    assert t.manufacturer_data == bytes(15) + b"\x10"  # 0F then 16 bytes


def test_landis_gyr_g350_gas_meter_type_i_time_and_text_serial():
    # LGB_G350: E2 30 = 0x30E2 → L,G,B; medium 03 gas; 2F 2F fillers before the first record
    t = telegram("LGB_G350")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("12082058", "LGB", 0x03)
    assert find(t, "volume", storage=1).value == Decimal("10834.092")  # 4C 13 92 40 83 10: BCD × 10^-3 m³
    # 46 6D 00 00 08 16 27 00 (type I): s 0, min 0, h 8, day 0x16&0x1F = 22,
    # month 0x27&0x0F = 7, year (0x16>>5) | (0x27>>4)<<3 = 0 | 16 → 2016
    assert find(t, "datetime", storage=1).value == datetime(2016, 7, 22, 8, 0, 0)
    # 0D 78 11 …: LVAR 0x11 = 17 characters, sent last character first
    assert find(t, "fabrication_number").value == "G0017591208205814"
    assert find(t, "digital_output", subunit=1).value == 1  # 89 40 FD 1A 01


def test_itron_bm_plus_m_cold_water():
    # ACW_Itron-BM-plus-m: 77 04 = 0x0477 → A,C,W; medium 0x16 cold water
    t = telegram("ACW_Itron-BM-plus-m")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("11490378", "ACW", 0x16)
    assert find(t, "volume").value == Decimal("54.321")  # 04 13 31 D4 00 00: 54321 l
    assert find(t, "datetime").value == datetime(2014, 3, 13, 11, 11)  # 04 6D 0B 0B CD 13 (type F)
    assert find(t, "firmware_version").value == 2 and find(t, "software_version").value == 6
    (error,) = t.errors  # 42 6C 00 00: a type G date of all zeros (day 0, month 0) is no date
    assert error.raw == bytes.fromhex("426c0000") and t.damaged is None
    assert t.manufacturer_data == bytes.fromhex("00017513")


def test_itron_cf51_error_state_values_and_deep_subunits():
    t = telegram("itron_cf_51")
    assert t.header.status.temporary_error  # status 0x10
    # 3B 2D 99 99 99: BCD6 in "value during error state", power 10^(5-3) W
    assert find(t, "power", function=ERR).value == 99999900
    assert find(t, "flow_temperature", function=ERR).value == Decimal("999.9")  # 3A 5A 99 99
    assert find(t, "datetime").value == datetime(2012, 1, 24, 13, 24)  # 04 6D 18 0D 98 11
    assert find(t, "operating_time").value == 104  # 02 27 68 00: days
    # 8C C0 00 16 21 03 00 00: DIFE C0 → subunit 1, a second DIFE 00; VIF 16 m³; BCD 321
    assert find(t, "volume", subunit=1).value == 321
    assert find(t, "volume", subunit=2).value == Decimal("1.23")  # 8C 80 40 14 23 01 00 00
    cooling = find(t, "energy", vife=("accumulation of absolute value only if negative contributions",))
    assert cooling.value == 0  # 04 86 3C: VIFE 0x3C


def test_engelmann_sensostar_2_dates_and_per_pulse_volume():
    t = telegram("EFE_Engelmann-Elster-SensoStar-2")
    assert (t.header.identification, t.header.manufacturer, t.header.status.raw) == ("24083345", "EFE", 0x27)
    assert find(t, "fabrication_number").value == 24083345  # 04 78 91 7B 6F 01 = 0x016F7B91
    assert find(t, "datetime").value == datetime(2014, 3, 12, 14, 23)  # 04 6D 17 2E CC 13
    assert find(t, "date", storage=1).value == date(2013, 12, 31)  # 42 6C BF 1C
    assert find(t, "date").value == date(2014, 12, 31)  # 02 6C DF 1C
    assert find(t, "volume_flow", function=MAX).value == Decimal("0.025")  # 14 3B 19 00 00 00
    assert find(t, "power", function=MAX).value == 11  # 14 2B 0B 00 00 00
    assert find(t, "temperature_difference").value == Decimal("0.09")  # 04 61 09 00 00 00
    assert find(t, "on_time").value == 524 and find(t, "on_time").unit == "d"  # 02 23 0C 02
    pulse = find(t, "volume", vife=("increment per input pulse on input channel 0",))
    assert pulse.value == Decimal("0.000011")  # 04 90 28 0B 00 00 00: 11 × 10^-6 m³


def test_sensus_pollustat_e_temporary_error_and_customer_location():
    # SEN_Sensus-PolluStat-E: AE 4C = 0x4CAE → S,E,N
    t = telegram("SEN_Sensus-PolluStat-E")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("21265095", "SEN", 0x04)
    assert t.header.status.temporary_error  # status 0x10
    assert find(t, "flow_temperature").value == Decimal("20.1")  # 02 5A C9 00
    assert find(t, "return_temperature").value == Decimal("20.2")  # 02 5E CA 00
    assert find(t, "customer_location").value == 21265095  # 0C FD 10 95 50 26 21
    assert t.more_records_follow


def test_sensus_pollutherm_bcd_heat_meter():
    # sen_pollutherm: 18 4E = 0x4E18 → S,P,X (Sensus)
    t = telegram("sen_pollutherm")
    assert (t.header.identification, t.header.manufacturer) == ("21050076", "SPX")
    assert find(t, "energy").value == 8640000  # 0C 07 64 08 00 00: BCD 864 × 10^(7-3) Wh
    assert find(t, "volume").value == Decimal("7998.92")  # 0C 14 92 98 79 00
    assert find(t, "power").value == 54580  # 0C 2C 58 54 00 00: 5458 × 10 W
    assert find(t, "flow_temperature").value == Decimal("75.5")  # 0A 5A 55 07
    assert find(t, "temperature_difference").value == Decimal("16.076")  # 0B 60 76 60 01
    (error,) = t.errors  # 0C 7B …: VIF 0x7B without the extension bit is reserved; the record
    assert error.raw == bytes.fromhex("0c7b02030000")  # is skipped by its DIF length, not the telegram
    assert t.damaged is None and t.more_records_follow


def test_techem_heat_meter():
    # tch_telegramm1: 68 50 = 0x5068 → T,C,H
    t = telegram("tch_telegramm1")
    assert (t.header.identification, t.header.manufacturer, t.header.medium) == ("21519982", "TCH", 0x04)
    assert find(t, "energy").value == 0 and find(t, "energy").unit == "Wh"  # 0C 05: BCD × 100 Wh
    assert find(t, "date", storage=1).value == date(2000, 5, 29)  # 42 6C 1D 05
    assert find(t, "flow_temperature").value == Decimal("23.4")  # 0A 5A 34 02: BCD 0234 × 10^-1
    assert find(t, "return_temperature").value == Decimal("22.4")  # 0A 5E 24 02
    assert find(t, "volume").value == Decimal("0.064")  # 0C 13 64 00 00 00
    assert t.more_records_follow


# --- fixed data structure ------------------------------------------------------------------------------
def test_fixed_data_structure_example_of_the_mbus_documentation():
    # manual_frame2 (M-Bus documentation rev. 4.8, p. 35): 73 | 78 56 34 12 | 0A | 00 | E9 7E |
    # 01 00 00 00 | 35 01 00 00
    t = telegram("manual_frame2")
    h = t.header
    assert (h.identification, h.access_number, h.manufacturer) == ("12345678", 10, None)
    # medium = (0x7E >> 6) << 2 | (0xE9 >> 6) = 0b0111 = water; unit 1 = 0xE9 & 0x3F = 0x29 (litre),
    # unit 2 = 0x7E & 0x3F = 0x3E ("same but historic")
    assert (t.fixed.medium_code, t.fixed.medium_text, h.medium) == (7, "water", 0x07)
    assert t.fixed.unit_codes == (0x29, 0x3E) and not t.fixed.counters_binary  # status bit 0 = 0: BCD
    first, second = t.data_records
    assert (first.quantity, first.unit, first.value, first.storage) == ("volume", "m3", Decimal("0.001"), 0)
    assert (second.quantity, second.value, second.storage) == ("volume", Decimal("0.135"), 1)  # historic
    assert h.status.describe() == "counters BCD, actual values" and t.damaged is None
