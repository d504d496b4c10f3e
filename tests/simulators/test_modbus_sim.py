"""The simulated Modbus meters: counters, tariff zones, faults, events, and the import boundary."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from meterhub.collectors.modbus.profile import DataType, Function, ModbusProfile, Order
from meterhub.collectors.profiles import get_profile
from meterhub.core import MeterKind
from meterhub.simulators.modbus_encoding import encode_words, raw_from_value, wrap_integer
from meterhub.simulators.modbus_fleet import build_meters, parse_fault
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter, tariff_zone

START = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)


def profile(profile_id: str) -> ModbusProfile:
    p = get_profile(profile_id)
    assert isinstance(p, ModbusProfile)
    return p


def test_simulator_does_not_import_the_collectors_decoder_or_transport() -> None:
    code = (
        "import sys, meterhub.simulators.modbus_sim, meterhub.simulators.modbus_fleet;"
        "bad = [m for m in sys.modules if m.startswith('meterhub.collectors.modbus.')"
        " and m != 'meterhub.collectors.modbus.profile'];"
        "print(','.join(sorted(bad)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_encoder_layouts() -> None:
    assert encode_words(230.0, DataType.FLOAT32, Order.BIG, Order.BIG) == [0x4366, 0x0000]
    assert encode_words(0x12345678, DataType.UINT32, Order.BIG, Order.LITTLE) == [0x5678, 0x1234]
    assert encode_words(0x12345678, DataType.UINT32, Order.LITTLE, Order.BIG) == [0x3412, 0x7856]
    assert encode_words(-2, DataType.INT16, Order.BIG, Order.BIG) == [0xFFFE]
    assert encode_words(1234, DataType.BCD16, Order.BIG, Order.BIG) == [0x1234]
    assert wrap_integer(2**32 + 5, DataType.UINT32) == 5
    assert raw_from_value(12.3, DataType.UINT32, 0.1, 1.0, 0.0, counter=True) == 123
    assert raw_from_value(99999.0, DataType.INT16, 1.0, 1.0, 0.0, counter=False) == 32767


def test_counters_only_grow_with_simulated_time() -> None:
    m = SimulatedModbusMeter(profile("eastron-sdm120"), unit_id=1, serial=5, seed=2)
    clock = SimClock(START, speed=0.0)
    previous = m.values(clock.now())[(0, "energy_import_kwh")]
    for _ in range(24):
        clock.advance(timedelta(hours=1))
        value = m.values(clock.now())[(0, "energy_import_kwh")]
        assert value >= previous
        previous = value
    first = SimulatedModbusMeter(profile("eastron-sdm120"), unit_id=1, serial=5, seed=2).values(START)
    assert previous - first[(0, "energy_import_kwh")] > 1.0  # a day of an apartment's electricity


def test_three_tariff_meter_splits_by_zone_and_sums_to_total() -> None:
    assert [tariff_zone(datetime(2026, 1, 12, h), 3) for h in (8, 12, 18, 23, 3)] == [1, 3, 1, 2, 2]
    m = SimulatedModbusMeter(profile("schneider-iem3255"), unit_id=1, serial=5, seed=4)
    clock = SimClock(START, speed=0.0)
    before = m.values(clock.now())
    clock.advance(timedelta(days=2))
    after = m.values(clock.now())
    delta = {k[1]: after[k] - before[k] for k in after if "energy_import" in k[1]}
    assert delta["energy_import_kwh"] == pytest.approx(
        delta["energy_import_t1_kwh"] + delta["energy_import_t2_kwh"] + delta["energy_import_t3_kwh"]
    )
    assert all(delta[f"energy_import_t{t}_kwh"] > 0 for t in (1, 2, 3))


def test_clock_drift_moves_the_tariff_switch() -> None:
    def night_share(drift: float) -> float:
        m = SimulatedModbusMeter(profile("schneider-iem3255"), unit_id=1, serial=5, seed=4, clock_drift=drift)
        clock = SimClock(START, speed=0.0)
        m.values(clock.now())
        clock.advance(timedelta(days=3))
        v = m.values(clock.now())
        return v[(0, "energy_import_t2_kwh")]

    assert night_share(4 * 3600.0) != pytest.approx(night_share(0.0), rel=1e-3)


def test_rollover_and_replacement() -> None:
    m = SimulatedModbusMeter(profile("carlo-gavazzi-em111"), unit_id=1, serial=5, seed=1)
    clock = SimClock(START + timedelta(hours=17), speed=0.0)
    m.force_rollover(clock.now(), margin=0.05)
    raw = m.read(Function.HOLDING, 0x10, 2, clock.now())
    assert isinstance(raw, list)
    value = raw[1] << 16 | raw[0]  # low word first
    assert value > 2**31 - 10  # int32 kWh×10 about to roll over
    m.replace_meter(77, start_value=1.0)
    assert m.serial == 77
    assert m.values(clock.now())[(0, "energy_import_kwh")] == pytest.approx(1.0)


def test_faulty_reads_and_unmapped_addresses() -> None:
    m = SimulatedModbusMeter(profile("eastron-sdm120"), unit_id=1, serial=5, reject_unmapped=True)
    assert m.read(Function.INPUT, 0, 2, START) != 2
    assert m.read(Function.INPUT, 0, 4, START) == 2  # 2..3 are not in the map
    m.faults.exception_code = 6
    assert m.read(Function.INPUT, 0, 2, START) == 6
    assert m.read(Function.HOLDING, 0xFC00, 2, START) == 6


def test_fleet_and_fault_specs() -> None:
    fleet = build_meters(["eastron-sdm120:2", "advantech-adam6051"], first_unit=10)
    assert [m.unit_id for m in fleet] == [10, 11, 12]
    assert fleet[2].profile.profile.kind is MeterKind.COLD_WATER
    assert parse_fault("3:late=0.5").value == 0.5
    with pytest.raises(ValueError, match="needs a value"):
        parse_fault("3:late")
    with pytest.raises(ValueError, match="KIND in"):
        parse_fault("x:explode")


def test_every_fault_spec_of_simulate_modbus_reaches_its_meter() -> None:
    import asyncio

    from meterhub.simulators.modbus_fleet import apply_fault

    async def scenario() -> None:
        fleet = build_meters(["schneider-iem3255:9"])
        clock = SimClock(START + timedelta(hours=12), speed=0.0)
        specs = [
            "1:no_answer",
            "2:late=0.5",
            "3:crc",
            "4:short",
            "5:exception=6",
            "6:turnaround=0.02",
            "7:rollover",
            "8:drift=600",
            "9:replace=0.01",
        ]
        before = fleet[6].values(clock.now())[(0, "energy_import_kwh")]
        for spec in specs:
            apply_fault(fleet, parse_fault(spec), clock)
        f = [m.faults for m in fleet]
        assert f[0].no_answer and f[1].late_answer == 0.5 and f[2].crc_error and f[3].short_frame
        assert f[4].exception_code == 6 and f[5].turnaround == 0.02 and fleet[7].clock_drift == 600.0
        after = fleet[6].values(clock.now())[(0, "energy_import_kwh")]
        assert after > before and after > 9e15  # int64 Wh counter brought just below its wrap point
        serial = fleet[8].serial
        await asyncio.sleep(0.05)
        assert fleet[8].serial == serial + 500_000  # a new meter behind unit 9
        with pytest.raises(ValueError, match="no such simulated meter"):
            apply_fault(fleet, parse_fault("42:crc"), clock)

    asyncio.run(scenario())
