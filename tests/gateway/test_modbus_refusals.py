"""A Modbus device that refuses registers, through the gateway's device readers (no broker needed):
refusing its serial register it still delivers, under its configured name; delivering nothing at
all it is down, never online."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.profiles import get_profile
from meterhub.gateway.config import load_config
from meterhub.gateway.devices import build_readers
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter
from meterhub.simulators.modbus_sim import ModbusSimulator

from .conftest import gateway_toml


def test_refused_serial_register_and_a_device_that_refuses_everything(tmp_path: Path) -> None:
    sdm120 = get_profile("eastron-sdm120")
    assert isinstance(sdm120, ModbusProfile)
    no_serial = sdm120.model_copy(update={"serial": None})  # this meter has nothing at 0xFC00
    refuses_serial = SimulatedModbusMeter(no_serial, unit_id=1, serial=1, seed=1, reject_unmapped=True)
    refuses_all = SimulatedModbusMeter(sdm120, unit_id=2, serial=2, seed=2)
    refuses_all.faults.exception_code = 2

    async def scenario() -> None:
        sim = ModbusSimulator([refuses_serial, refuses_all], SimClock(datetime.now(UTC), speed=0.0))
        port = await sim.start_tcp()
        buses = [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": port}]
        devices = [
            {"name": "flat-12", "bus": "lan", "address": 1, "profile": "eastron-sdm120", "timeout": "0.5s"},
            {"name": "flat-13", "bus": "lan", "address": 2, "profile": "eastron-sdm120", "timeout": "0.5s"},
        ]
        config = load_config(gateway_toml(tmp_path, "mqtt://127.0.0.1:1", devices, buses))
        readers = build_readers(config, lambda: datetime.now(UTC))
        try:
            first, second = readers.readers
            named = await first.read()
            nothing = await second.read()
        finally:
            readers.close()
            await sim.stop()
        assert named.ok
        assert {r.meter_id for r in named.readings} == {"EASTRON-flat12"}
        truth = refuses_serial.values(sim.clock.now())
        assert sorted(r.register for r in named.readings) == sorted(name for _, name in truth)
        assert not nothing.ok and not nothing.readings
        assert (nothing.error or "").startswith("no_values:")
        assert "voltage_v" in (nothing.error or "")

    asyncio.run(asyncio.wait_for(scenario(), 30))
