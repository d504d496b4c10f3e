"""Gateway outbox: readings/s it can buffer (insert) and drain (publish + PUBACK + delete) against a
real local Mosquitto, each next to a baseline measured in the same run; size on disk per million.

    .venv/bin/python benchmarks/bench_outbox.py [--readings 200000] [--poll 40] [--repeat 3]

Buffer: ``Outbox.add`` with one call (one durable commit) per device poll of ``--poll`` readings,
    vs raw ``sqlite3.executemany`` of the same rows into a plain table with the same commit size
    (rollback journal, default sync) and vs one single transaction for everything (the ceiling).
Drain: the gateway's ``Forwarder`` + ``MqttLink`` (claim 500 → publish QoS 1 → PUBACK → delete),
    vs paho publishing the same 500-reading payloads at QoS 1 with the same in-flight window and
    no outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

from meterhub.cli.local_broker import local_broker
from meterhub.core.mqtt_contract import encode_batch, reading_to_json, readings_topic
from meterhub.core.readings import Reading
from meterhub.gateway.batching import BatchPolicy
from meterhub.gateway.config import MqttSection
from meterhub.gateway.forwarder import Forwarder
from meterhub.gateway.mqtt_link import LinkHandlers, MqttLink
from meterhub.gateway.outbox import Outbox

START = datetime(2026, 1, 1, tzinfo=UTC)
REGISTERS = ("energy_import_kwh", "energy_import_t1_kwh", "energy_import_t2_kwh", "voltage_v")
BATCH = 500
INFLIGHT = 10
TOPIC = readings_topic("B-BENCH", "gw-bench")


def make_readings(n: int) -> list[Reading]:
    """A building's readings in poll order: 100 meters × 4 registers every 15 minutes."""
    out: list[Reading] = []
    k = 0
    while len(out) < n:
        ts = START + timedelta(minutes=15 * k)
        for m in range(100):
            for j, reg in enumerate(REGISTERS):
                out.append(Reading(f"EASTRON-{10_000_000 + m}", reg, ts, 12345.678 + k * 0.25 + j, "kWh"))
        k += 1
    return out[:n]


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- buffer ----------------------------------------------------------------------------------------
def bench_outbox_insert(readings: list[Reading], poll: int, folder: Path) -> tuple[float, int]:
    path = folder / "outbox.sqlite3"
    box = Outbox(path, max_readings=10 * len(readings))
    started = time.perf_counter()
    for part in chunks(readings, poll):
        box.add(part)
    elapsed = time.perf_counter() - started
    box.close()
    size = path.stat().st_size
    path.unlink()
    return len(readings) / elapsed, size


def _raw_rows(readings: list[Reading]) -> list[tuple]:
    return [(r.meter_id, r.register, r.ts.isoformat(), r.value, r.unit) for r in readings]


def bench_raw_insert(readings: list[Reading], poll: int | None, folder: Path) -> float:
    path = folder / "raw.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE r (meter_id TEXT, register TEXT, ts TEXT, value REAL, unit TEXT)")
    db.commit()
    started = time.perf_counter()
    rows = _raw_rows(readings)  # the outbox converts Reading objects too: count it on both sides
    for part in chunks(rows, poll or len(rows)):
        db.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", part)
        db.commit()
    elapsed = time.perf_counter() - started
    db.close()
    path.unlink()
    return len(readings) / elapsed


# --- drain -----------------------------------------------------------------------------------------
async def _drain(box: Outbox, url: str) -> float:
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    forwarder: Forwarder | None = None

    def published(mid: int, ok: bool, reason: str) -> None:
        assert forwarder is not None
        forwarder.published(mid, ok, reason)
        if box.backlog == 0:
            done.set()

    def connected() -> None:
        assert forwarder is not None
        forwarder.set_connected(True)

    def disconnected(reason: str) -> None:
        assert forwarder is not None
        forwarder.set_connected(False)

    def replaced() -> None:
        assert forwarder is not None
        forwarder.forget_inflight()

    config = MqttSection(url=url, max_inflight=INFLIGHT)
    handlers = LinkHandlers(connected, disconnected, published, replaced)
    link = MqttLink(config, "bench-outbox", "meterhub/v1/B-BENCH/gw-bench/status", b"{}", handlers, loop)
    forwarder = Forwarder(
        box, lambda payload: link.publish(TOPIC, payload), gateway_id="gw-bench", building_id="B-BENCH",
        policy=BatchPolicy(BATCH, timedelta(seconds=5)), clock=lambda: datetime.now(UTC),
        max_inflight=INFLIGHT,
    )  # fmt: skip

    async def sleep_until(when: datetime | None, wake: asyncio.Event) -> None:
        timeout = None if when is None else max(0.0, (when - datetime.now(UTC)).total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)

    link.start()
    while not link.connected:
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    task = asyncio.create_task(forwarder.run(sleep_until))
    await done.wait()
    elapsed = time.perf_counter() - started
    task.cancel()
    link.stop()
    return elapsed


def bench_outbox_drain(readings: list[Reading], folder: Path, url: str) -> float:
    path = folder / "drain.sqlite3"
    box = Outbox(path, max_readings=10 * len(readings))
    for part in chunks(readings, 5000):
        box.add(part)
    elapsed = asyncio.run(_drain(box, url))
    assert box.backlog == 0
    box.close()
    path.unlink()
    return len(readings) / elapsed


def bench_paho_publish(readings: list[Reading], port: int) -> float:
    """The same readings in 500-reading payloads (encoded on the fly, as the gateway must), QoS 1,
    the same in-flight window, no outbox."""
    parts = chunks(readings, BATCH)
    acked = threading.Event()
    count = 0

    def on_publish(client, userdata, mid, reason_code, properties) -> None:
        nonlocal count
        count += 1
        if count == len(parts):
            acked.set()

    connected = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-paho", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(INFLIGHT)
    client.on_publish = on_publish
    client.on_connect = lambda *a: connected.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    connected.wait(10)
    started = time.perf_counter()
    for i, part in enumerate(parts):
        items = [reading_to_json(r) for r in part]
        payload = encode_batch(f"b{i}", "gw-bench", "B-BENCH", datetime.now(UTC), items)
        client.publish(TOPIC, payload, qos=1)
    acked.wait(300)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return len(readings) / elapsed


def encode_rate(readings: list[Reading]) -> float:
    """Readings/s of building the JSON payloads alone (part of both drain paths)."""
    started = time.perf_counter()
    for part in chunks(readings, BATCH):
        encode_batch("b", "gw-bench", "B-BENCH", datetime.now(UTC), [reading_to_json(r) for r in part])
    return len(readings) / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readings", type=int, default=200_000)
    ap.add_argument("--poll", type=int, default=40, help="readings per outbox commit (one device poll)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    readings = make_readings(args.readings)
    results: dict[str, list[float]] = {}
    sizes: list[int] = []
    home = Path.home()  # a real disk (not tmpfs): fsync must cost what it costs
    with tempfile.TemporaryDirectory(prefix="bench-outbox-", dir=home) as tmp, local_broker() as broker:
        folder = Path(tmp)
        print(
            f"{len(readings):,} readings, {args.poll} per commit, broker {broker.kind}, "
            f"median of {args.repeat}"
        )
        for _ in range(args.repeat):
            rate, size = bench_outbox_insert(readings, args.poll, folder)
            results.setdefault("outbox add (WAL, FULL, commit per poll)", []).append(rate)
            sizes.append(size)
            results.setdefault("raw executemany, commit per poll", []).append(
                bench_raw_insert(readings, args.poll, folder)
            )
            results.setdefault("raw executemany, one transaction", []).append(
                bench_raw_insert(readings, None, folder)
            )
            results.setdefault("outbox drain (claim, publish, PUBACK, delete)", []).append(
                bench_outbox_drain(readings, folder, broker.url)
            )
            results.setdefault("paho QoS 1 publish of the same batches", []).append(
                bench_paho_publish(readings, broker.port)
            )
            results.setdefault("JSON encoding alone", []).append(encode_rate(readings))
    med = {name: statistics.median(v) for name, v in results.items()}
    rows = [
        ("outbox add (WAL, FULL, commit per poll)", "raw executemany, commit per poll"),
        ("raw executemany, commit per poll", None),
        ("raw executemany, one transaction", None),
        ("outbox drain (claim, publish, PUBACK, delete)", "paho QoS 1 publish of the same batches"),
        ("paho QoS 1 publish of the same batches", None),
        ("JSON encoding alone", None),
    ]
    print(f"{'path':<48} {'readings/s':>12}  ratio")
    for name, base in rows:
        ratio = f"{med[name] / med[base]:.2f}x of {base}" if base else ""
        print(f"{name:<48} {med[name]:>12,.0f}  {ratio}")
    per_million = statistics.median(sizes) / len(readings) * 1_000_000
    print(
        f"outbox size on disk: {per_million / 1e6:.1f} MB per million readings "
        f"({per_million / 1e6:.0f} B/reading); a 4 GB SD card holds ~{4e9 / per_million:.0f} M readings"
    )


if __name__ == "__main__":
    main()
