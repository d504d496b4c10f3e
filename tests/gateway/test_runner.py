"""The runner with scripted device readers against a real broker: a reader that crashes or an
outbox that cannot write is logged and the schedule goes on; health shows the error."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from meterhub.cli.local_broker import LocalBroker
from meterhub.core.readings import Reading
from meterhub.gateway.config import load_config
from meterhub.gateway.devices import DeviceReader, Readers, ReadOutcome

from .conftest import GatewayThread, gateway_toml


class ScriptedReader(DeviceReader):
    """One reading per call (value = call number); raises on the calls listed in ``crash_on``."""

    def __init__(self, name: str, config: Any, crash_on: set[int] | None = None) -> None:
        super().__init__(name, config)
        self.calls = 0
        self.crash_on = crash_on or set()

    async def read(self) -> ReadOutcome:
        self.calls += 1
        if self.calls in self.crash_on:
            raise RuntimeError("driver bug")
        reading = Reading(f"SIM-{self.name[-1]}", "water_m3", datetime.now(UTC), float(self.calls), "m3")
        return ReadOutcome(True, [reading])


def config_with(tmp: Path, broker: LocalBroker, n: int) -> Any:
    buses = [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": 1}]
    devices = [{"bus": "lan", "address": u, "profile": "eastron-sdm120"} for u in range(1, n + 1)]
    return load_config(gateway_toml(tmp, broker.url, devices, buses, interval="1s"))


def test_a_crashing_reader_keeps_its_schedule(
    tmp_path: Path, broker: LocalBroker, subscribe: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sub = subscribe()
    config = config_with(tmp_path, broker, 2)
    readers = [
        ScriptedReader("lan/1", config.devices[0], crash_on={2}),
        ScriptedReader("lan/2", config.devices[1]),
    ]
    gw = GatewayThread(config, readers=Readers(list(readers), []))
    try:
        assert sub.wait_for(lambda: sum(1 for k in sub.reading_keys() if k[0] == "SIM-1") >= 3, 15)
    finally:
        gw.stop()
    assert any("unexpected error while reading" in r.getMessage() for r in caplog.records)
    errors = {d["last_error"] for s in sub.statuses() for d in s["devices"]}
    assert "internal error: RuntimeError('driver bug')" in errors


def test_an_outbox_write_error_is_loud_and_not_fatal(
    tmp_path: Path, broker: LocalBroker, subscribe: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sub = subscribe()
    config = config_with(tmp_path, broker, 1)
    reader = ScriptedReader("lan/1", config.devices[0])
    gw = GatewayThread(config, readers=Readers([reader], []))
    try:
        assert sub.wait_for(lambda: len(sub.reading_keys()) >= 1, 10)
        outbox = gw.gateway.outbox
        assert outbox is not None
        original_add = outbox.add
        failures = {"left": 2}

        def failing_add(readings: list, *, billing: bool = False, device: str = "") -> Any:
            if failures["left"]:
                failures["left"] -= 1
                raise sqlite3.OperationalError("disk I/O error")
            return original_add(readings, billing=billing, device=device)

        outbox.add = failing_add  # type: ignore[method-assign]
        before = reader.calls
        # the schedule goes on and readings flow again after the two failed writes
        assert sub.wait_for(lambda: max(_values(sub)) >= before + 3, 15)
    finally:
        gw.stop()
    assert gw.gateway.store_errors == 2
    assert [r for r in caplog.records if r.levelno == logging.ERROR and "they are lost" in r.getMessage()]
    # exactly two polls were lost (the one in flight when the disk "failed" may be one of them)
    assert len({before, before + 1, before + 2, before + 3} - set(_values(sub))) == 2


def _values(sub: Any) -> list[float]:
    return [float(r["value"]) for b in sub.batches() for r in b["readings"]]
