"""Fixtures for the gateway tests: a real broker, real simulated meters, a subscriber, config files.

Every peer is real: Mosquitto (``local_broker``), the Modbus simulator on a TCP socket (in a thread
with its own event loop), the M-Bus simulator behind a TCP "converter", and the gateway itself in
this process or as a ``meterhub gateway`` subprocess.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from meterhub.cli.local_broker import LocalBroker, local_broker
from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.profiles import get_profile
from meterhub.core.mqtt_contract import commits_topic, encode_commit_ack
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter
from meterhub.simulators.modbus_sim import ModbusSimulator

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)


@pytest.fixture
def broker() -> Iterator[LocalBroker]:
    with local_broker(prefer="mosquitto") as b:
        yield b


class ModbusSimThread:
    """The Modbus simulator serving TCP from a background thread's event loop."""

    def __init__(self, meters: list[SimulatedModbusMeter]) -> None:
        self.sim = ModbusSimulator(meters, SimClock(START, speed=60.0))
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self.sim.start_tcp(), self.loop).result(10)
        self.endpoint = f"tcp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def sim_meter(profile_id: str, unit_id: int) -> SimulatedModbusMeter:
    profile = get_profile(profile_id)
    assert isinstance(profile, ModbusProfile)
    return SimulatedModbusMeter(profile, unit_id=unit_id, serial=20_000 + unit_id, seed=unit_id)


@pytest.fixture
def modbus_sim() -> Iterator[ModbusSimThread]:
    sim = ModbusSimThread([sim_meter("eastron-sdm120", u) for u in (1, 2, 3)])
    yield sim
    sim.stop()


@dataclass
class Subscriber:
    """A paho client collecting every message on ``topics`` (thread-safe list)."""

    url_port: int
    topics: list[str]
    messages: list[tuple[str, bytes, bool]] = field(default_factory=list)
    username: str | None = None
    password: str | None = None
    session: str | None = None  # a client id: persistent session, queued messages survive broker restarts
    mqtt5: bool = True
    # play the ingest's part for gateway tests: acknowledge every readings batch received as committed
    commit_acks: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.session or "",
            protocol=mqtt.MQTTv5 if self.mqtt5 else mqtt.MQTTv311,
        )
        self.client.reconnect_delay_set(1, 1)
        if self.username:
            self.client.username_pw_set(self.username, self.password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        properties = None
        if self.session:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 3600
        if self.mqtt5:
            self.client.connect(
                "127.0.0.1", self.url_port, clean_start=self.session is None, properties=properties
            )
        else:
            self.client.connect("127.0.0.1", self.url_port)
        self.client.loop_start()
        assert self._ready.wait(10), "subscriber did not connect"

    def _on_connect(self, client, userdata, flags, rc, props) -> None:
        for t in self.topics:
            client.subscribe(t, qos=1)
        time.sleep(0.1)
        self._ready.set()

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))
        if self.commit_acks and msg.topic.endswith("/readings"):
            batch = json.loads(msg.payload)
            _, _, building, gateway, _ = msg.topic.split("/")
            ack = encode_commit_ack(gateway, building, datetime.now(UTC), [batch["batch_id"]])
            client.publish(commits_topic(building, gateway), ack, qos=1)

    def snapshot(self) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return list(self.messages)

    def batches(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in self.snapshot() if t.endswith("/readings")]

    def statuses(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in self.snapshot() if t.endswith("/status") and p]

    def reading_keys(self) -> list[tuple[str, str, str]]:
        return [(r["meter_id"], r["register"], r["ts"]) for b in self.batches() for r in b["readings"]]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscribe(broker: LocalBroker) -> Iterator[Callable[..., Subscriber]]:
    made: list[Subscriber] = []

    def make(topics: list[str] | None = None, **kwargs: Any) -> Subscriber:
        sub = Subscriber(broker.port, topics or ["meterhub/v1/#"], **kwargs)
        made.append(sub)
        return sub

    yield make
    for sub in made:
        sub.close()


def gateway_toml(
    tmp: Path,
    broker_url: str,
    devices: list[dict[str, Any]],
    buses: list[dict[str, Any]],
    *,
    interval: str = "1s",
    mqtt_extra: str = "",
    outbox_extra: str = "",
    batch_size: int = 20,
    batch_time: str = "0.3s",
    gateway_id: str = "gw-1",
    building: str = "B-001",
    timezone: str = "Europe/Moscow",
) -> Path:
    """Write a gateway configuration for tests (1-second polls, small batches)."""

    def table(name: str, items: dict[str, Any]) -> str:
        return f"[[{name}]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in items.items())

    text = (
        f"""
[gateway]
id = "{gateway_id}"
building = "{building}"
timezone = "{timezone}"

[schedule]
interval = "{interval}"
max_jitter = "0.2s"

[mqtt]
url = "{broker_url}"
reconnect_min = "1s"
reconnect_max = "2s"
keepalive = "5s"
{mqtt_extra}

[outbox]
path = "{tmp / "outbox.sqlite3"}"
batch_size = {batch_size}
batch_time = "{batch_time}"
{outbox_extra}

"""
        + "".join(table("buses", b) for b in buses)
        + "".join(table("devices", d) for d in devices)
    )
    path = tmp / "gateway.toml"
    path.write_text(text)
    return path


def modbus_config(tmp: Path, broker: LocalBroker, sim: ModbusSimThread, **kwargs: Any) -> Path:
    buses = [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": sim.port}]
    devices = [
        {"bus": "lan", "address": u, "profile": "eastron-sdm120", "timeout": "0.3s"} for u in (1, 2, 3)
    ]
    return gateway_toml(tmp, broker.url, devices, buses, **kwargs)


class GatewayThread:
    """A :class:`Gateway` running on its own event loop in a background thread."""

    def __init__(self, config: Any, **kwargs: Any) -> None:
        from meterhub.gateway.runner import Gateway

        self.gateway = Gateway(config, **kwargs)
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self.loop.run_until_complete(self.gateway.run())
        except BaseException as exc:
            self.error = exc
        finally:
            self.loop.close()

    def stop(self, timeout: float = 20) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.gateway.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            faulthandler.dump_traceback(sys.stderr)
        assert not self._thread.is_alive(), "gateway did not stop"
        if self.error is not None:
            raise self.error


class GatewayProcess:
    """``python -m meterhub gateway --config FILE`` as a child process."""

    def __init__(self, config: Path, log: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "meterhub.cli", "gateway", "--config", str(config)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 15) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")
