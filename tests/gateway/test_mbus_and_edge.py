"""M-Bus meters through the gateway (simulator behind a TCP converter) next to Modbus meters, a dead
M-Bus meter that never slows the others, and the edge install: no server stack imported."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meterhub.cli.local_broker import LocalBroker
from meterhub.gateway.config import load_config
from meterhub.simulators.mbus_meters import demo_meters
from meterhub.simulators.mbus_sim import MbusLine, TcpMbusServer

from .conftest import REPO, GatewayThread, ModbusSimThread, gateway_toml

FORBIDDEN = ("fastapi", "pandas", "numpy", "msgspec", "psycopg", "psycopg_pool", "pgserver", "amqtt")
FORBIDDEN_OWN = ("meterhub.timeseries", "meterhub.billing", "meterhub.api")


def test_mbus_and_modbus_devices_side_by_side_with_a_dead_mbus_meter(
    tmp_path: Path, broker: LocalBroker, modbus_sim: ModbusSimThread, subscribe: Any
) -> None:
    server = TcpMbusServer(MbusLine(demo_meters(1, 2, datetime.now(UTC))))
    sub = subscribe()
    buses = [
        {"name": "mbus", "type": "mbus", "port": server.url, "extra_timeout": "0.2s", "retries": 1},
        {"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": modbus_sim.port},
    ]
    devices = [
        {"bus": "mbus", "address": 1},  # heat meter, profile chosen by manufacturer (KAM)
        {"bus": "mbus", "secondary": "10000003", "profile": "engelmann-waterstar-m"},
        {"bus": "mbus", "address": 9},  # nobody there
        {"bus": "lan", "address": 1, "profile": "eastron-sdm120", "timeout": "0.3s"},
    ]
    config = load_config(gateway_toml(tmp_path, broker.url, devices, buses, timezone="Asia/Omsk"))
    gw = GatewayThread(config)
    try:
        assert sub.wait_for(
            lambda: {"KAM-10000001", "EFE-10000003"} <= {k[0] for k in sub.reading_keys()}, 20
        )
        assert sub.wait_for(
            lambda: len({k[2] for k in sub.reading_keys() if k[0] == "EASTRON-20001"}) >= 5, 20
        )
    finally:
        gw.stop()
        server.stop()
    keys = sub.reading_keys()
    heat = {k[1] for k in keys if k[0] == "KAM-10000001"}
    assert {"heat_gcal", "heat_volume_m3", "temp_flow_c"} <= heat
    assert {k[1] for k in keys if k[0] == "EFE-10000003"} == {"water_m3"}
    # the Modbus meter kept its 1-second cadence while the dead M-Bus meter timed out on its own line
    stamps = sorted({datetime.fromisoformat(k[2]) for k in keys if k[0] == "EASTRON-20001"})
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    assert max(gaps) < 1.6
    final = sub.statuses()[-1]
    health = {d["device"]: d for d in final["devices"]}
    assert not health["mbus/9"]["online"] and "no acknowledge" in health["mbus/9"]["last_error"]
    assert health["mbus/1"]["online"] and health["mbus/1"]["meter_ids"] == ["KAM-10000001"]
    assert health["mbus/10000003"]["online"]


def test_gateway_never_imports_the_server_stack() -> None:
    code = f"""
import sys, json
from meterhub.cli.main import app
sys.argv = ["meterhub", "gateway", "--help"]
try:
    app()
except SystemExit:
    pass
import meterhub.gateway
from meterhub.gateway import config, devices, forwarder, health, mqtt_link, outbox, runner, schedule
from meterhub.gateway.config import load_config
from meterhub.gateway.devices import build_readers
import datetime
readers = build_readers(load_config({str(REPO / "docs" / "gateway.example.toml")!r}), lambda: None)
import meterhub.collectors.modbus.poller, meterhub.collectors.mbus.master, meterhub.collectors.mbus.mapping
bad = sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r} or m.startswith({FORBIDDEN_OWN!r}))
print(json.dumps(bad))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_gateway_package_source_imports_no_server_modules() -> None:
    for path in (REPO / "src" / "meterhub" / "gateway").glob("*.py"):
        text = path.read_text()
        for name in (*FORBIDDEN, *FORBIDDEN_OWN):
            assert f"import {name}" not in text and f"from {name}" not in text, f"{path.name} imports {name}"


def test_gateway_extra_lists_only_edge_dependencies() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {
        dep.split(">")[0].split("[")[0].split("=")[0].strip()
        for dep in project["optional-dependencies"]["gateway"]
    }
    assert names == {"pymodbus", "pyserial", "paho-mqtt"}
    base = {dep.split(">")[0].split("[")[0].strip() for dep in project["dependencies"]}
    assert not base & {"psycopg", "numpy", "msgspec", "pandas", "fastapi", "pgserver"}
