"""A fleet of simulated gateways publishing readings over MQTT, as real buildings would.

Each simulated gateway has its own MQTT connection (client id = gateway id), publishes QoS 1 batches
of the v1 contract for the meters of its building, counts PUBACKs and, like a real gateway, listens
on its commits topic and counts the batches the ingest acknowledges as committed. Used by the
end-to-end benchmark and load tests; it speaks only the shared contract, never the code it feeds.
The ingest accepts only registered gateways: register ``(gateway_id, building_id)`` of the fleet
first (``timeseries.gateway_registry.register_gateways``).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt

from meterhub.core.mqtt_contract import commits_topic, encode_batch, readings_topic


@dataclass(frozen=True)
class SimulatedGateway:
    building_id: str
    gateway_id: str
    meter_ids: tuple[str, ...]
    register: str = "energy_import_kwh"


def fleet(buildings: int, meters_per_building: int, *, prefix: str = "SIM") -> list[SimulatedGateway]:
    """``buildings`` gateways, each with ``meters_per_building`` electricity meters."""
    return [
        SimulatedGateway(
            f"{prefix}-B{b:04d}",
            f"gw-{b:04d}",
            tuple(f"{prefix}{b:04d}-{m:03d}" for m in range(meters_per_building)),
        )
        for b in range(buildings)
    ]


def batches(
    gw: SimulatedGateway,
    start: datetime,
    reads: int,
    *,
    every: timedelta = timedelta(minutes=15),
    batch_size: int = 500,
) -> Iterator[tuple[str, bytes, int]]:
    """(topic, payload, readings) for ``reads`` read cycles of every meter of the gateway, in time order."""
    topic = readings_topic(gw.building_id, gw.gateway_id)
    pending: list[dict] = []
    for k in range(reads):
        ts = (start + k * every).isoformat()
        for i, meter in enumerate(gw.meter_ids):
            pending.append(
                {
                    "meter_id": meter,
                    "register": gw.register,
                    "ts": ts,
                    "value": round(1000.0 + i + k * 0.25, 2),
                }
            )
            if len(pending) == batch_size:
                yield (
                    topic,
                    encode_batch(
                        str(uuid.uuid4()), gw.gateway_id, gw.building_id, datetime.now(UTC), pending
                    ),
                    len(pending),
                )
                pending = []
    if pending:
        yield (
            topic,
            encode_batch(str(uuid.uuid4()), gw.gateway_id, gw.building_id, datetime.now(UTC), pending),
            len(pending),
        )


class FleetPublisher:
    """One MQTT connection per simulated gateway, in this process.

    paho's network loop uses ``select()``, which cannot watch descriptors above 1024: keep one
    process under ~250 gateways (each uses several descriptors) and use ``run_fleet`` for more.
    """

    def __init__(
        self, host: str, port: int, gateways: list[SimulatedGateway], *, v5: bool = True, session: str = ""
    ) -> None:
        if len(gateways) > MAX_GATEWAYS_PER_PROCESS:
            raise ValueError(
                f"{len(gateways)} gateways in one process exceed {MAX_GATEWAYS_PER_PROCESS}; use run_fleet()"
            )
        self.clients: dict[str, mqtt.Client] = {}
        self.acked = 0
        self.committed: set[str] = set()  # batch ids the ingest acknowledged as committed
        self._lock = threading.Lock()
        for gw in gateways:
            c = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=f"{gw.gateway_id}{session}",
                protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            )
            c.max_inflight_messages_set(20)
            c.max_queued_messages_set(0)
            c.on_publish = self._on_publish
            c.on_message = self._on_commit_ack
            topic = commits_topic(gw.building_id, gw.gateway_id)
            c.on_connect = lambda c, _u, _f, _r, _p, topic=topic: c.subscribe(topic, qos=1)
            c.connect(host, port, keepalive=60)
            c.loop_start()
            self.clients[gw.gateway_id] = c
        deadline = time.monotonic() + 30
        while not all(c.is_connected() for c in self.clients.values()):
            if time.monotonic() > deadline:
                raise ConnectionError(f"simulated gateways could not connect to {host}:{port}")
            time.sleep(0.01)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            self.acked += 1

    def _on_commit_ack(self, client, userdata, msg) -> None:
        ids = json.loads(msg.payload).get("batch_ids", [])
        with self._lock:
            self.committed.update(ids)

    def publish(self, gateway_id: str, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self.clients[gateway_id].publish(topic, payload, qos=1)

    def close(self) -> None:
        for c in self.clients.values():
            c.disconnect()
        for c in self.clients.values():
            c.loop_stop()


MAX_GATEWAYS_PER_PROCESS = 250


@dataclass(frozen=True)
class FleetRun:
    messages: int
    readings: int
    seconds: float


def _publish_share(
    host: str,
    port: int,
    gateways: list[SimulatedGateway],
    reads: int,
    start: datetime,
    batch_size: int,
    interval: float,
    go: Any,
    out: Any,
) -> None:
    """Worker: connect its gateways, wait for ``go``, publish every batch (round-robin), wait for PUBACKs.

    ``interval`` > 0 paces the publishing: one batch per gateway every ``interval`` seconds.
    """
    pub = FleetPublisher(host, port, gateways, session=f"-{uuid.uuid4().hex[:6]}")
    gens = [(gw.gateway_id, batches(gw, start, reads, batch_size=batch_size)) for gw in gateways]
    out.put(("ready", 0, 0))
    go.wait()
    messages = readings = 0
    infos = []
    while gens:
        tick = time.monotonic()
        nxt = []
        for gid, g in gens:
            item = next(g, None)
            if item is None:
                continue
            topic, payload, n = item
            infos.append(pub.publish(gid, topic, payload))
            messages += 1
            readings += n
            nxt.append((gid, g))
        gens = nxt
        if interval:
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    for info in infos:
        info.wait_for_publish(300)
    out.put(("done", messages, readings))
    pub.close()


def run_fleet(
    host: str,
    port: int,
    gateways: list[SimulatedGateway],
    reads: int,
    start: datetime,
    *,
    batch_size: int = 500,
    interval: float = 0.0,
) -> FleetRun:
    """Publish ``reads`` read cycles for every gateway from worker processes; every message PUBACKed."""
    ctx = mp.get_context("fork")
    go = ctx.Event()
    out = ctx.Queue()
    shares = [
        gateways[i : i + MAX_GATEWAYS_PER_PROCESS] for i in range(0, len(gateways), MAX_GATEWAYS_PER_PROCESS)
    ]
    procs = [
        ctx.Process(
            target=_publish_share,
            args=(host, port, share, reads, start, batch_size, interval, go, out),
            daemon=True,
        )
        for share in shares
    ]
    for p in procs:
        p.start()
    for _ in procs:
        assert out.get(timeout=120)[0] == "ready"
    t = time.perf_counter()
    go.set()
    messages = readings = 0
    for _ in procs:
        _, m, n = out.get(timeout=900)
        messages += m
        readings += n
    seconds = time.perf_counter() - t
    for p in procs:
        p.join(30)
    return FleetRun(messages, readings, seconds)
