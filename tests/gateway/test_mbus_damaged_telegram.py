"""An M-Bus meter that sends a damaged telegram (record structure cut part-way, checksum right):
the gateway publishes its readings marked ``bad`` — kept for the dashboards and for inspection,
never used for volumes or billing — and the meter stays online."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meterhub.cli.local_broker import LocalBroker
from meterhub.gateway.config import load_config
from meterhub.simulators.mbus_meters import demo_meters
from meterhub.simulators.mbus_sim import MbusLine, TcpMbusServer

from .conftest import GatewayThread, gateway_toml


def test_damaged_mbus_telegram_is_published_bad_then_good(
    tmp_path: Path, broker: LocalBroker, subscribe: Any
) -> None:
    meters = demo_meters(0, 1, datetime.now(UTC))  # one WaterStar-like water meter at address 1
    meters[0].faults.damaged_telegram = 2  # its next two answers end inside their last record
    server = TcpMbusServer(MbusLine(meters))
    sub = subscribe()
    buses = [{"name": "mbus", "type": "mbus", "port": server.url, "extra_timeout": "0.2s", "retries": 1}]
    devices = [{"bus": "mbus", "address": 1, "profile": "engelmann-waterstar-m"}]
    config = load_config(gateway_toml(tmp_path, broker.url, devices, buses))
    gw = GatewayThread(config)

    def published() -> list[dict[str, Any]]:
        return [r for b in sub.batches() for r in b["readings"] if r["meter_id"] == "EFE-10000001"]

    try:
        assert sub.wait_for(lambda: len(published()) >= 3, 20)
    finally:
        gw.stop()
        server.stop()
    water = published()
    assert {r["register"] for r in water} == {"water_m3"}
    assert [r.get("quality", "good") for r in water[:3]] == ["bad", "bad", "good"]
    # the value itself was read before the cut: the same counter as the good reading that follows
    assert abs(water[0]["value"] - water[2]["value"]) < 0.01
    health = {d["device"]: d for d in sub.statuses()[-1]["devices"]}
    assert health["mbus/1"]["online"]
