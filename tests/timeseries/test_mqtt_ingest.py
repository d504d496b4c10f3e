"""The MQTT ingest against a real broker and a real PostgreSQL.

Covers: storage and ack-after-commit, the commit acknowledgement to the gateway, malformed and foreign
messages to dead letters, authorisation by the gateway registry and by building, gateway status, a
database outage (nothing acknowledged, nothing lost), a crash of the ingest process between receive
and commit (the broker redelivers to the restarted worker), and a SIGTERM of the only worker (its
session, and what the broker queues for it meanwhile, survive).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from meterhub.cli.local_broker import local_broker
from meterhub.core import MeterKind, Reading
from meterhub.core.mqtt_contract import (
    CommitAck,
    commits_topic,
    encode_batch,
    reading_to_json,
    readings_topic,
    status_topic,
)
from meterhub.timeseries.database import connect
from meterhub.timeseries.gateway_registry import register_gateways
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.mqtt_ingest import IngestOptions, IngestService

pytestmark = pytest.mark.db
# pg_versions (CI's PostgreSQL 15 pass) on the tests whose SQL matters — message store, gateway status,
# concurrent writers and new partitions; broker, process and memory behaviour does not depend on the server

T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=10)


@pytest.fixture(scope="module")
def broker():
    with local_broker() as b:
        yield b


@pytest.fixture(scope="module", autouse=True)
def meters(db_url):
    with connect(db_url) as c:
        register_gateways(c, [("gw", "B1"), ("gw2", "B2"), ("gw-s", "B1")])
        for b in ("B1", "B2"):
            for i in range(5):
                register_meter(
                    c,
                    MeterInfo(
                        MeterKind.COLD_WATER,
                        "W" + b,
                        str(i),
                        building_id=b,
                        registers=(RegisterInfo("water_m3"),),
                    ),
                )


class Publisher:
    def __init__(self, port: int) -> None:
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def send(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def readings_payload(building: str, meter: str, start: int, n: int, gateway: str = "gw") -> bytes:
    rs = [
        Reading(meter, "water_m3", T0 + timedelta(minutes=15 * (start + k)), 10 + (start + k) * 0.01)
        for k in range(n)
    ]
    return encode_batch(
        str(uuid.uuid4()), gateway, building, datetime.now(UTC), [reading_to_json(r) for r in rs]
    )


def count(db_url: str, sql: str, *args) -> int:
    with connect(db_url) as c:
        return c.execute(sql, args).fetchone()[0]


class Running:
    """An IngestService in a background thread. It leaves the shared group when stopped (unless told
    otherwise): each test's worker is a new one, and Mosquitto would keep routing a share of the
    messages to the queue of a stopped worker that kept its session."""

    def __init__(self, db_url: str, port: int, client_id: str, **kw) -> None:
        kw.setdefault("leave_group", True)
        self.svc = IngestService(
            db_url,
            IngestOptions(
                broker_url=f"mqtt://127.0.0.1:{port}",
                client_id=client_id,
                max_delay=0.1,
                rollup_every=None,
                **kw,
            ),
        )
        self.t = threading.Thread(target=self.svc.run, daemon=True)
        self.t.start()
        assert self.svc._connected.wait(15)

    def stop(self) -> None:
        self.svc.stop()
        self.t.join(15)


def wait_for(pred, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.mark.pg_versions
def test_stream_with_malformed_and_foreign_messages(db_url, broker):
    ing = Running(db_url, broker.port, "ing-a")
    pub = Publisher(broker.port)
    before_dead = count(db_url, "SELECT count(*) FROM dead_letters")
    good = 0
    for i in range(100):
        if i == 37:
            pub.send(readings_topic("B1", "gw"), b'{"schema_version": 1, "batch_id": ')  # malformed JSON
        elif i == 71:
            pub.send(readings_topic("B1", "gw"), json.dumps({"schema_version": 3}).encode())
        else:
            pub.send(readings_topic("B1", "gw"), readings_payload("B1", "WB1-1", i * 4, 4))
            good += 4
    # a gateway of B1 claiming a meter of B2: refused by authorisation
    pub.send(readings_topic("B1", "gw"), readings_payload("B1", "WB2-1", 0, 3))
    # payload says another building than the topic
    pub.send(readings_topic("B1", "gw"), readings_payload("B2", "WB1-2", 0, 2))
    # the B1 gateway publishing under B2 (its login allows its own gateway segment only): the registry
    pub.send(readings_topic("B2", "gw"), readings_payload("B2", "WB2-1", 0, 2))
    # a gateway nobody registered
    pub.send(readings_topic("B1", "gw-x"), readings_payload("B1", "WB1-2", 0, 2, gateway="gw-x"))
    sid = "SELECT count(*) FROM readings_named WHERE meter_id = %s"
    wait_for(lambda: count(db_url, "SELECT count(*) FROM ingest_log") >= 99)
    wait_for(lambda: count(db_url, "SELECT count(*) FROM dead_letters") >= before_dead + 8)
    ing.stop()
    pub.close()
    assert count(db_url, sid, "WB1-1") == good == 98 * 4
    assert count(db_url, sid, "WB2-1") == 0 and count(db_url, sid, "WB1-2") == 0
    with connect(db_url) as c:
        reasons = dict(c.execute("SELECT reason, count(*) FROM dead_letters GROUP BY 1").fetchall())
        assert reasons["malformed_json"] == 1 and reasons["unsupported_schema_version"] == 1
        assert reasons["meter_not_in_building"] == 3 and reasons["topic_mismatch"] == 1
        assert reasons["gateway_not_in_building"] == 1 and reasons["unknown_gateway"] == 1
        detail = c.execute(
            "SELECT detail FROM dead_letters WHERE reason = 'gateway_not_in_building'"
        ).fetchone()[0]
        assert "registered to building 'B1', not to 'B2'" in detail
        raw = c.execute(
            "SELECT payload, context FROM dead_letters WHERE reason = 'malformed_json'"
        ).fetchone()
        assert bytes(raw[0]) == b'{"schema_version": 1, "batch_id": ' and raw[1]["topic"].endswith(
            "/readings"
        )


def test_acknowledged_messages_are_not_redelivered(db_url, broker):
    ing = Running(db_url, broker.port, "ing-ack", leave_group=False)
    pub = Publisher(broker.port)
    pub.send(readings_topic("B1", "gw"), readings_payload("B1", "WB1-3", 0, 10))
    wait_for(lambda: count(db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB1-3'") == 10)
    ing.stop()
    logged = count(db_url, "SELECT count(*) FROM ingest_log")
    again = Running(db_url, broker.port, "ing-ack")  # same client id: would get unacked messages back
    time.sleep(1.5)
    again.stop()
    pub.close()
    assert count(db_url, "SELECT count(*) FROM ingest_log") == logged


@pytest.mark.pg_versions
def test_gateway_status_and_history(db_url, broker):
    ing = Running(db_url, broker.port, "ing-st")
    pub = Publisher(broker.port)
    for state, minute in (("online", 0), ("offline", 5)):
        pub.send(
            status_topic("B1", "gw-s"),
            json.dumps(
                {
                    "schema_version": 1,
                    "gateway_id": "gw-s",
                    "building_id": "B1",
                    "state": state,
                    "ts": (T0 + timedelta(minutes=minute)).isoformat(),
                    "software_version": "0.1.0",
                    "devices": [
                        {
                            "device": "rs485-1/3",
                            "meter_ids": ["WB1-0"],
                            "online": state == "online",
                            "consecutive_failures": 0 if state == "online" else 4,
                            "last_error": None,
                        }
                    ],
                    "outbox_backlog": 12,
                    "outbox_dropped": 7 * minute,
                }
            ).encode(),
            retain=True,
        )
    wait_for(
        lambda: count(db_url, "SELECT count(*) FROM gateway_status_history WHERE gateway_id = 'gw-s'") == 2
    )
    ing.stop()
    pub.close()
    with connect(db_url) as c:
        state, backlog, dropped, devices = c.execute(
            "SELECT state, outbox_backlog, outbox_dropped, devices FROM gateways WHERE gateway_id = 'gw-s'"
        ).fetchone()
        history = c.execute(
            "SELECT outbox_dropped FROM gateway_status_history WHERE gateway_id = 'gw-s' ORDER BY status_ts"
        ).fetchall()
    assert state == "offline" and backlog == 12 and devices[0]["consecutive_failures"] == 4
    assert dropped == history[-1][0] and dropped > history[0][0]  # the latest counter, and its history


def _set_connections(db_url: str, allowed: bool) -> None:
    info = psycopg.conninfo.conninfo_to_dict(db_url)
    admin = psycopg.conninfo.make_conninfo(**{**info, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as a:
        a.execute(f'ALTER DATABASE "{info["dbname"]}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            a.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()",
                (info["dbname"],),
            )


def test_database_outage_holds_messages_and_loses_nothing(db_url, broker):
    ing = Running(db_url, broker.port, "ing-db", db_retry_max=0.5)
    pub = Publisher(broker.port)
    pub.send(readings_topic("B1", "gw"), readings_payload("B1", "WB1-4", 0, 5))
    wait_for(lambda: count(db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB1-4'") == 5)
    acked_before = ing.svc.stats.acked  # the first batch (and the retained status of an earlier test)
    _set_connections(db_url, False)
    try:
        for i in range(1, 11):
            pub.send(readings_topic("B1", "gw"), readings_payload("B1", "WB1-4", i * 5, 5))
        wait_for(lambda: ing.svc.stats.db_errors >= 2)
        acked_during_outage = ing.svc.stats.acked
    finally:
        _set_connections(db_url, True)
    wait_for(lambda: count(db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB1-4'") == 55)
    ing.stop()
    pub.close()
    assert acked_during_outage == acked_before  # nothing acknowledged while the database was down
    assert count(db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB1-4'") == 55


def _wait_subscribed(proc: subprocess.Popen, timeout: float = 60) -> str:
    """Read the ingest's output until it says it subscribed (a loaded machine needs a while)."""
    seen: list[str] = []

    def read() -> None:
        for line in iter(proc.stdout.readline, b""):  # type: ignore[union-attr]
            seen.append(line.decode(errors="replace"))
            if "subscribed to" in seen[-1]:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert seen and "subscribed to" in seen[-1], "".join(seen)[-3000:]
    return "".join(seen)


def test_crash_between_receive_and_commit_loses_nothing(db_url, broker):
    """kill -9 the ingest process while it holds uncommitted messages; a new one gets them again."""
    env = {**os.environ, "METERHUB_DATABASE_URL": db_url}
    cmd = [
        sys.executable,
        "-m",
        "meterhub.cli",
        "ingest",
        "--broker",
        broker.url,
        "--client-id",
        "ing-crash",
        "--rollup-every",
        "0",
        "--max-delay",
        "0.1",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    pub = Publisher(broker.port)
    try:
        _wait_subscribed(proc)
        _set_connections(db_url, False)  # the worker receives but cannot commit
        for i in range(8):
            pub.send(readings_topic("B1", "gw"), readings_payload("B1", "WB1-0", 100 + i * 3, 3))
        time.sleep(2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        _set_connections(db_url, True)
    assert count(db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB1-0'") == 0
    # this one leaves the shared group when stopped: later tests have their own worker
    proc2 = subprocess.Popen(
        [*cmd, "--leave-group"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_subscribed(proc2)
        wait_for(
            lambda: count(db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB1-0'") == 24, 30
        )
    finally:
        proc2.send_signal(signal.SIGTERM)
        out = proc2.communicate(timeout=20)[0].decode()
        pub.close()
    assert "ingest stopped" in out


def test_amqtt_fallback_without_shared_subscriptions(db_url):
    with local_broker(prefer="amqtt") as b:
        ing = Running(db_url, b.port, "ing-amqtt")
        pub_c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        pub_c.connect("127.0.0.1", b.port)
        pub_c.loop_start()
        pub_c.publish(
            readings_topic("B2", "gw2"), readings_payload("B2", "WB2-2", 0, 7, gateway="gw2"), qos=1
        ).wait_for_publish(10)
        wait_for(lambda: count(db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB2-2'") == 7)
        assert ing.svc.protocol == mqtt.MQTTv311
        ing.stop()
        pub_c.loop_stop()
        pub_c.disconnect()


@pytest.mark.pg_versions
def test_two_writers_storing_overlapping_readings_at_once_keep_each_reading_once(db_url, broker):
    """Consecutive messages repeat half of each other's readings (a gateway re-sending), and the two
    writer connections store consecutive groups concurrently: both wait on each other's keys, which
    PostgreSQL settles (or breaks as a deadlock, redone); every reading is stored once, every message
    acknowledged."""
    ing = Running(db_url, broker.port, "ing-overlap", max_batch_readings=10, writers=2)
    pub = Publisher(broker.port)
    sent = [  # readings 5k .. 5k+9: each message shares 5 readings with the next; sent in one burst
        pub.c.publish(
            readings_topic("B2", "gw2"), readings_payload("B2", "WB2-4", 5 * k, 10, gateway="gw2"), qos=1
        )
        for k in range(60)
    ]
    for s in sent:
        s.wait_for_publish(10)
    wait_for(lambda: count(db_url, "SELECT count(*) FROM ingest_log WHERE topic LIKE '%%/B2/%%'") >= 60, 60)
    ing.stop()
    pub.close()
    stats = ing.svc.stats
    assert count(db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB2-4'") == 5 * 59 + 10
    assert stats.readings_inserted == 305 and stats.duplicates == 600 - 305 and stats.rejected == 0
    # every message acknowledged (a retained gateway status from an earlier test may come too)
    assert stats.acked == stats.messages == 60 + stats.statuses and not ing.t.is_alive()


def test_acknowledgements_leave_in_the_order_the_groups_were_collected():
    """A group committed by the second writer before the first writer's group waits for it. (The order
    of PUBACKs cannot be seen through a broker, so a recorder stands in for paho's client here.)"""
    from meterhub.timeseries.message_store import StoreResult
    from meterhub.timeseries.mqtt_ingest import _Received

    class Recorder:
        def __init__(self) -> None:
            self.acked: list[int] = []
            self.published: list[str] = []

        def ack(self, mid: int, qos: int) -> None:
            self.acked.append(mid)

        def publish(self, topic: str, payload: bytes, qos: int) -> None:
            self.published.append(topic)

    svc = IngestService("postgresql://unused", IngestOptions())
    svc._client = Recorder()  # type: ignore[assignment]

    def group(*mids: int) -> list:
        return [_Received(m, 1, None, 1) for m in mids]  # type: ignore[arg-type]

    def settled(gateway: str) -> StoreResult:
        r = StoreResult()
        r.settle(("B1", gateway), f"batch-of-{gateway}")
        return r

    svc._acknowledge(1, group(3, 4), settled("g2"))  # the second group commits first: held back
    assert svc._client.acked == [] and svc._client.published == []
    svc._acknowledge(0, group(1, 2), settled("g1"))
    assert svc._client.acked == [1, 2, 3, 4]
    assert svc._client.published == ["meterhub/v1/B1/g1/commits", "meterhub/v1/B1/g2/commits"]
    svc._acknowledge(2, group(5), StoreResult())
    assert svc._client.acked == [1, 2, 3, 4, 5] and svc.stats.acked == 5


class AckListener:
    """Listens on a gateway's commits topic, as the gateway does."""

    def __init__(self, port: int, building: str, gateway: str) -> None:
        self.acks: list[dict] = []
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.c.on_message = lambda _c, _u, m: self.acks.append(json.loads(m.payload))
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.c.subscribe(commits_topic(building, gateway), qos=1)
        time.sleep(0.3)

    def batch_ids(self) -> set[str]:
        return {b for a in self.acks for b in a["batch_ids"]}

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def test_commit_acknowledgement_names_each_batch_once_it_is_committed(db_url, broker):
    listener = AckListener(broker.port, "B1", "gw")
    stranger = AckListener(broker.port, "B1", "gw-unknown")
    ing = Running(db_url, broker.port, "ing-commits")
    pub = Publisher(broker.port)
    stored_when_acked: list[int] = []
    mine = "SELECT count(*) FROM readings_named WHERE meter_id = 'WB1-0' AND ts >= %s"
    since = T0 + timedelta(minutes=15 * 500)
    listener.c.on_message = lambda _c, _u, m: (
        stored_when_acked.append(count(db_url, mine, since)),
        listener.acks.append(json.loads(m.payload)),
    )
    good = [readings_payload("B1", "WB1-0", 500 + 3 * k, 3) for k in range(4)]
    for p in good:
        pub.send(readings_topic("B1", "gw"), p)
    # a batch whose envelope breaks the contract, with an id: settled for good, said so
    broken = json.dumps({"schema_version": 1, "batch_id": "broken-1", "gateway_id": "gw"}).encode()
    pub.send(readings_topic("B1", "gw"), broken)
    # an unregistered gateway's batch: kept in dead letters, not acknowledged (it keeps it and re-sends)
    unknown = readings_payload("B1", "WB1-0", 900, 3, gateway="gw-unknown")
    pub.send(readings_topic("B1", "gw-unknown"), unknown)
    expected = {json.loads(p)["batch_id"] for p in good} | {"broken-1"}
    wait_for(lambda: expected <= listener.batch_ids())
    time.sleep(0.5)
    ing.stop()
    pub.close()
    listener.close()
    stranger.close()
    assert listener.batch_ids() == expected and stranger.acks == []
    assert all(n >= 3 for n in stored_when_acked)  # the rows were visible before the acknowledgement
    assert {b for a in listener.acks for b in a.get("dead_lettered", [])} == {"broken-1"}
    assert all(CommitAck.model_validate(a).gateway_id == "gw" for a in listener.acks)
    assert ing.svc.stats.commit_acks == len(listener.acks) and ing.svc.stats.refused == 1


def _ingest_process(db_url: str, broker_url: str, client_id: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "METERHUB_DATABASE_URL": db_url}
    cmd = [sys.executable, "-m", "meterhub.cli", "ingest", "--broker", broker_url, "--client-id", client_id,
           "--rollup-every", "0", "--max-delay", "0.1", *extra]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _puback_reasons(port: int, messages: list[tuple[str, bytes]]) -> list[int]:
    reasons: dict[int, int] = {}
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.on_publish = lambda _c, _u, mid, rc, _p: reasons.__setitem__(mid, rc.value)
    c.connect("127.0.0.1", port)
    c.loop_start()
    infos = [c.publish(t, p, qos=1) for t, p in messages]
    for i in infos:
        i.wait_for_publish(10)
    time.sleep(0.2)
    c.loop_stop()
    c.disconnect()
    return [reasons[i.mid] for i in infos]


def test_sigterm_of_the_only_worker_keeps_its_place_and_leave_group_gives_it_up(db_url):
    """A stopped ingest (SIGTERM: a deploy, ``docker compose restart``) keeps its session in the shared
    group: the broker takes readings meanwhile (PUBACK success, not "no matching subscribers") and
    delivers them when it is back. ``--leave-group`` ends the session: the broker then has nobody."""
    with local_broker(prefer="mosquitto") as b:
        proc = _ingest_process(db_url, b.url, "ing-only")
        _wait_subscribed(proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, proc.communicate()[0]
        while_down = [readings_payload("B1", "WB1-1", 700 + 2 * k, 2) for k in range(5)]
        reasons = _puback_reasons(b.port, [(readings_topic("B1", "gw"), p) for p in while_down])
        assert reasons == [0] * 5  # taken for the stopped worker's session
        proc = _ingest_process(db_url, b.url, "ing-only", "--leave-group")
        try:
            _wait_subscribed(proc)
            wait_for(
                lambda: count(
                    db_url, "SELECT count(*) FROM readings_named WHERE meter_id = 'WB1-1' AND ts >= %s",
                    T0 + timedelta(minutes=15 * 700),
                ) == 10, 30
            )  # fmt: skip
        finally:
            proc.send_signal(signal.SIGTERM)
            out = proc.communicate(timeout=20)[0].decode()
        assert "ingest stopped" in out
        after = readings_payload("B1", "WB1-1", 800, 2)
        reasons = _puback_reasons(b.port, [(readings_topic("B1", "gw"), after)])
        assert reasons == [0x10]  # left for good: no matching subscribers (a gateway keeps the batch)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_storm_of_oversized_payloads_costs_a_bounded_prefix_and_no_lasting_memory(db_url):
    """A broker without ``message_size_limit`` passes 20 MB messages on: the ingest keeps a 64 KiB prefix
    and the SHA-256 of each (checked against what was sent), and its memory returns to where it was."""
    import hashlib

    with local_broker(prefer="mosquitto") as b:
        proc = _ingest_process(db_url, b.url, "ing-storm", "--leave-group")
        try:
            _wait_subscribed(proc)
            time.sleep(1)
            baseline = _rss_kib(proc.pid)
            before = count(db_url, "SELECT count(*) FROM dead_letters WHERE reason = 'oversized_payload'")
            sent = [bytes([65 + k]) * (20 * 1024 * 1024) for k in range(5)]
            _puback_reasons(b.port, [(readings_topic("B1", "gw"), p) for p in sent])
            wait_for(
                lambda: count(db_url, "SELECT count(*) FROM dead_letters WHERE reason = 'oversized_payload'")
                == before + 5, 60
            )  # fmt: skip
            time.sleep(2)
            after = _rss_kib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    with connect(db_url) as c:
        rows = c.execute(
            "SELECT length(payload), context FROM dead_letters WHERE reason = 'oversized_payload' "
            "ORDER BY id DESC LIMIT 5"
        ).fetchall()
    assert {r[1]["payload_sha256"] for r in rows} == {hashlib.sha256(p).hexdigest() for p in sent}
    assert all(size == 64 * 1024 and ctx["payload_bytes"] == 20 * 1024 * 1024 for size, ctx in rows)
    assert after - baseline < 40 * 1024, (baseline, after)  # KiB: far below one 20 MB payload


@pytest.mark.pg_versions
def test_two_writers_making_new_months_and_stamping_gateways_never_see_an_outage(db_url, broker):
    """Each message brings a month no partition exists for yet, and the gateways' statuses arrive in
    between in changing order, while two writers store groups at once: partitions are made before the
    data transactions, gateway rows are locked in one order, so nothing is reported as the database
    being down and every reading is stored."""
    gateways = [f"gw-m{i}" for i in range(4)]
    with connect(db_url) as c:
        register_gateways(c, [(g, "B2") for g in gateways])
        c.commit()
    ing = Running(db_url, broker.port, "ing-months", max_batch_readings=6, writers=2)
    pub = Publisher(broker.port)
    sent = []
    for i in range(40):
        month = datetime(2003 + i // 12, i % 12 + 1, 1, tzinfo=UTC)
        gw = gateways[i % 4]
        rs = [Reading("WB2-3", "water_m3", month + timedelta(days=d), 100.0 + i + d / 10) for d in range(3)]
        body = [reading_to_json(r) for r in rs]
        payload = encode_batch(str(uuid.uuid4()), gw, "B2", datetime.now(UTC), body)
        sent.append(pub.c.publish(readings_topic("B2", gw), payload, qos=1))
        for other in (gateways[(i + 1) % 4], gateways[(i + 3) % 4]):
            status = {"schema_version": 1, "gateway_id": other, "building_id": "B2", "state": "online",
                      "ts": (T0 + timedelta(seconds=i)).isoformat()}  # fmt: skip
            sent.append(pub.c.publish(status_topic("B2", other), json.dumps(status).encode(), qos=1))
    for s in sent:
        s.wait_for_publish(10)
    stored = "SELECT count(*) FROM readings_named WHERE meter_id = 'WB2-3' AND ts < '2007-01-01'"
    wait_for(lambda: count(db_url, stored) == 120, 60)
    wait_for(lambda: count(db_url, "SELECT count(*) FROM gateways WHERE gateway_id LIKE 'gw-m%%'") == 4)
    ing.stop()
    pub.close()
    assert ing.svc.stats.db_errors == 0  # conflicts, if any, were redone silently (conflicts_retried)
