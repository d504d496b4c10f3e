"""M-Bus profiles: validation on load, record selection, unit conversion and quality."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from meterhub.collectors.mbus import decode_frame, decode_telegram
from meterhub.collectors.mbus.mapping import map_readings
from meterhub.collectors.mbus.profile import MbusProfile
from meterhub.collectors.mbus.telegram import Status
from meterhub.collectors.mbus.units import UnitError, convert
from meterhub.collectors.profiles import ProfileError, get_profile, parse_profile
from meterhub.core import ReadingQuality

DATA = Path(__file__).resolve().parents[1] / "data" / "mbus"
TS = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def telegram(name: str):
    frame = decode_frame(bytes.fromhex((DATA / f"{name}.hex").read_text()))
    return decode_telegram(frame.ci, frame.data)


def by_register(mapped):
    return {r.register: r for r in mapped.readings}


def test_kamstrup_601_maps_to_heat_registers_in_catalogue_units():
    # real telegram: libmbus test/test-frames/kamstrup_multical_601.hex
    profile = get_profile("kamstrup-multical-601")
    assert isinstance(profile, MbusProfile)
    mapped = map_readings([telegram("kamstrup_multical_601")], profile, TS)
    assert mapped.meter_id == "KAM-06855817" and not mapped.problems
    r = by_register(mapped)
    assert r["heat_gcal"].value == pytest.approx(37351 / 1163)  # 37 351 kWh; 1 Gcal = 1 163 kWh
    assert r["heat_gcal"].unit == "Gcal"
    assert r["heat_volume_m3"].value == pytest.approx(561.08)
    assert r["operating_hours_h"].value == 985
    assert r["temp_flow_c"].value == pytest.approx(101.69)
    assert r["temp_diff_k"].value == pytest.approx(55.53)
    assert r["heat_power_kw"].value == pytest.approx(34.7)  # 347 × 10^2 W
    assert r["flow_m3h"].value == pytest.approx(0.543)
    assert all(x.ts == TS and x.quality is ReadingQuality.GOOD for x in mapped.readings)


def test_waterstar_takes_the_counter_not_the_per_pulse_record():
    # real telegram: libmbus test/test-frames/EFE_Engelmann-WaterStar.hex (status 0x27)
    mapped = map_readings([telegram("EFE_Engelmann-WaterStar")], get_profile("engelmann-waterstar-m"), TS)
    (reading,) = mapped.readings
    assert reading.meter_id == "EFE-04990254" and reading.value == pytest.approx(0.332)
    # status 0x27: application error bits 11, power low, no permanent error → UNCERTAIN
    assert reading.quality is ReadingQuality.UNCERTAIN


def test_cyble_water_volume():
    mapped = map_readings([telegram("itron_cyble_m-bus_v1.4_water")], get_profile("itron-cyble-mbus"), TS)
    assert by_register(mapped)["water_m3"].value == pytest.approx(123.49)


def test_profile_rejects_other_manufacturer():
    mapped = map_readings([telegram("kamstrup_multical_601")], get_profile("engelmann-waterstar-m"), TS)
    assert not mapped.readings and "does not accept manufacturer KAM" in mapped.problems[0]


def test_missing_record_is_reported_by_register():
    profile = get_profile("kamstrup-multical-601")
    mapped = map_readings([telegram("SLB_CF-Compact-Integral-MK-MaXX")], _any_maker(profile), TS)
    assert any(p.startswith("register heat_power_kw: no power record") for p in mapped.problems)
    assert by_register(mapped)["temp_diff_k"].value == pytest.approx(-0.18)


def _any_maker(profile):
    return profile.model_copy(update={"mbus": profile.mbus.model_copy(update={"manufacturers": []})})


def test_permanent_error_makes_readings_bad():
    t = telegram("kamstrup_multical_601")
    broken = replace(t, header=replace(t.header, status=Status(0x08)))
    mapped = map_readings([broken], get_profile("kamstrup-multical-601"), TS)
    assert {r.quality for r in mapped.readings} == {ReadingQuality.BAD}


@pytest.mark.parametrize(
    ("value", "unit", "target", "expected"),
    [
        (Decimal(1163), "kWh", "Gcal", Decimal(1)),
        (Decimal("1.163"), "MWh", "Gcal", Decimal(1)),
        (Decimal("4.1868"), "GJ", "Gcal", Decimal(1)),
        (Decimal("4.1868E9"), "J", "Gcal", Decimal(1)),
        (Decimal(1163000), "Wh", "Gcal", Decimal(1)),
        (Decimal(1), "m3", "m3", Decimal(1)),
        (Decimal(1), "m3/min", "m3/h", Decimal(60)),
        (Decimal(3600), "J/h", "kW", Decimal("0.001")),
        (Decimal(212), "degF", "degC", Decimal(100)),
        (Decimal(120), "min", "h", Decimal(2)),
    ],
)
def test_unit_conversion_is_exact(value, unit, target, expected):
    assert convert(value, unit, target) == expected


def test_unit_conversion_refuses_mismatch():
    with pytest.raises(UnitError):
        convert(Decimal(1), "kg", "Gcal")


def test_profile_errors_name_file_register_and_problem():
    text = """
[profile]
id = "bad"
manufacturer = "KAM"
model = "x"
protocol = "mbus"
kind = "heat"
source = "test"

[[records]]
name = "heat_gcal"
quantity = "enregy"
"""
    with pytest.raises(ProfileError, match=r"bad.toml: register 'heat_gcal': quantity: .*'enregy'"):
        parse_profile(text, "bad.toml")
    with pytest.raises(ProfileError, match="unknown meterhub register"):
        parse_profile(text.replace("heat_gcal", "heat_kcal").replace("enregy", "energy"), "bad.toml")


def test_sensostar_mwh_and_days_are_converted():
    # real telegram: libmbus test/test-frames/engelmann_sensostar2c.hex (energy 0.8 MWh, 506 days)
    profile = get_profile("engelmann-sensostar-2")
    mapped = map_readings([telegram("engelmann_sensostar2c")], profile, TS)
    r = by_register(mapped)
    assert r["heat_gcal"].value == pytest.approx(0.8 / 1.163)
    assert r["operating_hours_h"].value == 506 * 24
    assert r["heat_power_kw"].value == 0 and r["temp_diff_k"].value == pytest.approx(52.58)


def test_profile_is_chosen_by_manufacturer_and_medium():
    from meterhub.collectors.mbus.mapping import choose_profile
    from meterhub.collectors.profiles import builtin_profiles

    profiles = list(builtin_profiles().values())
    assert choose_profile(profiles, "EFE", 0x04).id == "engelmann-sensostar-2"
    assert choose_profile(profiles, "EFE", 0x07).id == "engelmann-waterstar-m"
    assert choose_profile(profiles, "KAM", 0x04).id == "kamstrup-multical-601"
    assert choose_profile(profiles, "XYZ", 0x04) is None


_TARIFF_PROFILE = """
[profile]
id = "test-mbus-tariffs"
manufacturer = "ABB"
model = "three-tariff M-Bus meter (test)"
protocol = "mbus"
kind = "electricity"
source = "test"

[mbus]
manufacturers = ["ABB"]
media = [0x02]

[[records]]
name = "energy_import_kwh"
quantity = "energy"

[[records]]
name = "energy_import_t1_kwh"
quantity = "energy"
tariff = 1

[[records]]
name = "energy_import_t2_kwh"
quantity = "energy"
tariff = 2

[[records]]
name = "energy_import_t3_kwh"
quantity = "energy"
tariff = 3

[[records]]
name = "energy_export_kwh"
quantity = "energy"
storage = 1
"""


def test_records_are_selected_by_medium_tariff_and_storage_from_a_profile_file():
    """A profile written as data selects each register by VIF quantity, tariff and storage; the
    telegram comes from the simulator's independent encoder (distinct values per coordinate)."""
    from meterhub.simulators import mbus_encoding as enc

    records = b"".join(
        [
            enc.int_record(b"\x04", 600, tariff=0),  # energy 10^1 Wh: 6.0 kWh
            enc.int_record(b"\x04", 100, tariff=1),
            enc.int_record(b"\x04", 200, tariff=2),
            enc.int_record(b"\x04", 300, tariff=3),
            enc.int_record(b"\x04", 999, storage=1),  # a stored (due-date) value: 9.99 kWh
            enc.int_record(b"\x04", 777, storage=1, tariff=1),  # not mapped by anything
        ]
    )
    profile = parse_profile(_TARIFF_PROFILE, "test-mbus-tariffs.toml")

    def mapped_for(medium: int):
        data = enc.long_header("00001234", "ABB", 1, medium, 1, 0) + records
        return map_readings([decode_telegram(0x72, data)], profile, TS)

    r = by_register(mapped_for(0x02))
    assert {k: v.value for k, v in r.items()} == pytest.approx(
        {
            "energy_import_kwh": 6.0,
            "energy_import_t1_kwh": 1.0,
            "energy_import_t2_kwh": 2.0,
            "energy_import_t3_kwh": 3.0,
            "energy_export_kwh": 9.99,
        }
    )
    assert r["energy_import_kwh"].meter_id == "ABB-00001234" and r["energy_import_kwh"].unit == "kWh"
    other = mapped_for(0x07)  # a water medium: this profile does not apply
    assert not other.readings and "medium 0x07" in other.problems[0]


def test_storage_number_selects_the_due_date_value_of_a_real_water_meter():
    # real telegram: libmbus test/test-frames/els_falcon.hex — 0C 13 (storage 0), 4C 13 (storage 1)
    text = (
        _TARIFF_PROFILE.split("[mbus]")[0]
        .replace("test-mbus-tariffs", "due-date")
        .replace('kind = "electricity"', 'kind = "cold_water"')
    )
    profile = parse_profile(text + '[[records]]\nname = "water_m3"\nquantity = "volume"\nstorage = 1\n')
    (reading,) = map_readings([telegram("els_falcon")], profile, TS).readings
    assert reading.value == pytest.approx(456.951) and reading.meter_id.startswith("ELS-")


def test_manufacturer_specific_phase_values_are_mapped_only_where_listed():
    # real telegram: libmbus test/test-frames/EMU_EMU-Professional-375-M-Bus.hex
    profile = parse_profile(
        """
[profile]
id = "emu-professional-test"
manufacturer = "EMU"
model = "Professional 3/75"
protocol = "mbus"
kind = "electricity"
source = "EMU_EMU-Professional-375-M-Bus.hex"

[mbus]
manufacturers = ["EMU"]

[[records]]
name = "voltage_l1_v"
quantity = "voltage"
vife = ["manufacturer specific VIFE follows", "manufacturer VIFE 0x01"]

[[records]]
name = "power_w"
quantity = "power"
""",
        "emu.toml",
    )
    r = by_register(map_readings([telegram("EMU_EMU-Professional-375-M-Bus")], profile, TS))
    # 02 FD C8 FF 01 D1 08: 2257 × 10^-1 V on phase 1; 04 2B FE FF FF FF: the total, -2 W (signed)
    assert (r["voltage_l1_v"].value, r["voltage_l1_v"].unit) == (pytest.approx(225.7), "V")
    assert r["power_w"].value == -2 and r["power_w"].quality is ReadingQuality.GOOD
