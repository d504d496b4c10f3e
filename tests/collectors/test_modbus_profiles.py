"""Modbus profiles: the shipped ones load, and invalid files fail with file, register and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterhub.collectors.modbus.profile import DataType, ModbusProfile, Order
from meterhub.collectors.profiles import ProfileError, builtin_profiles, get_profile, load_profile

HEADER = """
[profile]
id = "test-meter"
manufacturer = "Test"
model = "T1"
protocol = "modbus"
kind = "electricity"
source = "test document"
"""


def write(tmp_path: Path, body: str, name: str = "sdm120.toml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_shipped_modbus_profiles_load() -> None:
    modbus = {k: v for k, v in builtin_profiles().items() if isinstance(v, ModbusProfile)}
    assert {
        "eastron-sdm120",
        "eastron-sdm630",
        "schneider-iem3255",
        "carlo-gavazzi-em111",
        "advantech-adam6051",
    } <= set(modbus)
    sdm120 = modbus["eastron-sdm120"]
    energy = next(r for r in sdm120.registers if r.name == "energy_import_kwh")
    assert (energy.address, energy.type, energy.function.code) == (0x48, DataType.FLOAT32, 4)
    tariff = {r.name for r in modbus["schneider-iem3255"].registers}
    assert {"energy_import_t1_kwh", "energy_import_t2_kwh", "energy_import_t3_kwh"} <= tariff
    adam = modbus["advantech-adam6051"]
    assert adam.channels == list(range(1, 13))
    assert all(r.word_order is Order.LITTLE and r.factor == 10.0 for r in adam.registers)
    assert modbus["carlo-gavazzi-em111"].registers[0].word_order is Order.LITTLE


def test_address_out_of_range_names_file_register_and_problem(tmp_path: Path) -> None:
    path = write(tmp_path, '[[registers]]\nname = "energy_import_kwh"\naddress = 70000\ntype = "float32"\n')
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert str(err.value) == "sdm120.toml: register 'energy_import_kwh': address 70000 out of range 0..65535"


def test_value_running_past_the_last_address(tmp_path: Path) -> None:
    path = write(tmp_path, '[[registers]]\nname = "energy_import_kwh"\naddress = 65535\ntype = "uint32"\n')
    with pytest.raises(ProfileError, match=r"register 'energy_import_kwh': address 65535 \+ 2 registers"):
        load_profile(path)


def test_unknown_register_type_and_unit(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[registers]]\nname = "energy_kwh"\naddress = 0\n'
        '[[registers]]\nname = "voltage_v"\naddress = 2\ntype = "int24"\n'
        '[[registers]]\nname = "power_w"\naddress = 4\nunit = "kW"\n',
    )
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    lines = str(err.value).splitlines()
    assert lines[0].startswith("sdm120.toml: register 'energy_kwh': name: unknown meterhub register")
    assert lines[1].startswith("sdm120.toml: register 'voltage_v': type: Input should be 'int16'")
    assert "register 'power_w': unit 'kW' differs from the catalogue unit 'W'" in lines[2]


def test_duplicates_and_forbidden_overlap(tmp_path: Path) -> None:
    dup = write(
        tmp_path,
        '[[registers]]\nname = "power_w"\naddress = 0\n[[registers]]\nname = "power_w"\naddress = 2\n',
    )
    with pytest.raises(ProfileError, match=r"register 'power_w' appears twice on channel 0"):
        load_profile(dup)
    overlap = write(
        tmp_path,
        '[modbus]\nforbidden = [[1, 3]]\n[[registers]]\nname = "power_w"\naddress = 0\ntype = "uint32"\n',
        "overlap.toml",
    )
    with pytest.raises(ProfileError, match=r"overlap.toml: register 'power_w' at 0 lies in forbidden range"):
        load_profile(overlap)


def test_header_problems(tmp_path: Path) -> None:
    bad_toml = tmp_path / "broken.toml"
    bad_toml.write_text("[profile\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"broken.toml: not valid TOML"):
        load_profile(bad_toml)
    no_header = tmp_path / "bare.toml"
    no_header.write_text('[[registers]]\nname = "power_w"\naddress = 0\n', encoding="utf-8")
    with pytest.raises(ProfileError, match=r"bare.toml: missing \[profile\] table"):
        load_profile(no_header)
    other = tmp_path / "other.toml"
    other.write_text(HEADER.replace('"modbus"', '"bacnet"'), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"other.toml: \[profile\] protocol 'bacnet' is not supported"):
        load_profile(other)
    no_regs = write(tmp_path, "", "empty.toml")
    with pytest.raises(ProfileError, match=r"empty.toml: registers: Field required"):
        load_profile(no_regs)
    bad_table = write(
        tmp_path, '[modbus]\nmax_gap = 500\n[[registers]]\nname = "power_w"\naddress = 0\n', "gap.toml"
    )
    with pytest.raises(ProfileError, match=r"gap.toml: \[modbus\] max_gap: Input should be less than"):
        load_profile(bad_table)


def test_unknown_profile_id_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match=r"no profile 'nope'; shipped profiles: .*eastron-sdm120"):
        get_profile("nope")


def test_defaults_from_modbus_table_apply_to_registers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[modbus]\nfunction = "input"\ntype = "int32"\nbyte_order = "little"\n'
        '[[registers]]\nname = "power_w"\naddress = 0\n'
        '[[registers]]\nname = "voltage_v"\naddress = 2\ntype = "uint16"\n',
    )
    profile = load_profile(path)
    assert isinstance(profile, ModbusProfile)
    power, voltage = profile.registers
    assert (power.type, power.function.code, power.byte_order) == (DataType.INT32, 4, Order.LITTLE)
    assert voltage.type is DataType.UINT16
