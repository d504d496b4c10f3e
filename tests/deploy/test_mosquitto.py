"""The production broker configuration (deploy/mosquitto) on a real mosquitto, with the password and ACL
files written by ``meterhub gateways broker-config`` from the gateway registry: no anonymous clients;
a gateway publishes only under its own building and id and reads only its own commit
acknowledgements; the ingest reads every gateway (also through the shared subscription) and
publishes the acknowledgements; a payload over the contract's limit is refused at the door. And end to
end with real credentials: a gateway cannot get a reading stored for another building's meter."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meterhub.core import MeterKind
from meterhub.core.mqtt_contract import MAX_PAYLOAD_BYTES, encode_batch
from meterhub.timeseries.broker_acl import mosquitto_hash, verify_mosquitto_hash
from meterhub.timeseries.database import connect
from meterhub.timeseries.gateway_registry import register_gateway
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter

paho = pytest.importorskip("paho.mqtt.client")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
pytestmark = [
    pytest.mark.skipif(
        not (Path(MOSQUITTO).exists() and shutil.which("mosquitto_passwd")),
        reason="mosquitto is not installed",
    ),
    pytest.mark.db,
]
PASSWORDS = {"gw-1": "pw-gw-1", "gw-2": "pw-gw-2", "gw-old": "pw-gw-old"}
NOT_AUTHORIZED = 0x87


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _meterhub(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "METERHUB_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "meterhub.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def registry(db_url: str) -> str:
    with connect(db_url) as c:
        register_gateway(c, "gw-1", "B-001", password_hash=mosquitto_hash(PASSWORDS["gw-1"]))
        register_gateway(c, "gw-2", "B-002", password_hash=mosquitto_hash(PASSWORDS["gw-2"]))
        register_gateway(c, "gw-old", "B-002")  # registered without a password: its old line is kept
        register_gateway(c, "gw-gone", "B-001", password_hash=mosquitto_hash("pw-gone"))
        for serial, b in (("1001", "B-001"), ("2002", "B-002")):
            water = (RegisterInfo("water_m3"),)
            register_meter(c, MeterInfo(MeterKind.COLD_WATER, "WAT", serial, building_id=b, registers=water))
        c.commit()
    result = _meterhub(db_url, "gateways", "remove", "gw-gone")
    assert result.returncode == 0, result.stderr
    return db_url


@pytest.fixture()
def broker(registry: str, tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    passwd, acl = tmp_path / "gateways.passwd", tmp_path / "acl"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "gw-old", PASSWORDS["gw-old"]], check=True)
    result = _meterhub(registry, "gateways", "broker-config", "--acl", str(acl), "--passwd", str(passwd))
    assert result.returncode == 0, result.stderr
    assert "gw-gone" not in passwd.read_text() and "gw-gone" not in acl.read_text()
    assert (passwd.stat().st_mode & 0o777) == 0o600
    # what deploy/mosquitto/entrypoint.sh does: the ingest's password from the environment
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), "ingest", "pw-ingest"], check=True)
    conf = (DEPLOY / "mosquitto.conf").read_text()
    conf = conf.replace("/mosquitto/data/passwd", str(passwd)).replace("/mosquitto/config/acl", str(acl))
    conf = conf.replace("persistence true", "persistence false").replace(
        "/mosquitto/data/", str(tmp_path) + "/"
    )
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1") + "\nuser root\n"
    (tmp_path / "mosquitto.conf").write_text(conf)
    proc = subprocess.Popen([MOSQUITTO, "-c", str(tmp_path / "mosquitto.conf")], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=5)


class Client:
    def __init__(self, port: int, user: str | None, password: str | None, client_id: str) -> None:
        self.c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        if user:
            self.c.username_pw_set(user, password)
        self.connack: object | None = None
        self.received: list[tuple[str, bytes]] = []
        self.pubacks: dict[int, int] = {}
        self._lock = threading.Lock()
        self.c.on_connect = lambda _c, _u, _f, reason, _p: setattr(self, "connack", reason)
        self.c.on_message = lambda _c, _u, m: self._got(m.topic, m.payload)
        self.c.on_publish = lambda _c, _u, mid, reason, _p: self.pubacks.__setitem__(mid, reason.value)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        for _ in range(200):
            if self.connack is not None:
                break
            time.sleep(0.02)

    def _got(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self.received.append((topic, payload))

    def topics(self) -> list[str]:
        with self._lock:
            return [t for t, _ in self.received]

    def publish(self, topic: str, payload: bytes) -> int:
        """PUBACK reason code (MQTT 5)."""
        info = self.c.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=5)
        for _ in range(100):
            if info.mid in self.pubacks:
                return self.pubacks[info.mid]
            time.sleep(0.02)
        raise AssertionError(f"no PUBACK for {topic}")

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def test_the_generated_password_lines_are_mosquittos_own() -> None:
    hashed = mosquitto_hash("secret")
    assert verify_mosquitto_hash("secret", hashed) and not verify_mosquitto_hash("Secret", hashed)
    out = subprocess.run(["mosquitto_passwd", "-b", "-c", "/dev/stdout", "u", "secret"], capture_output=True)
    if out.returncode == 0 and out.stdout:  # some builds cannot write to /dev/stdout
        assert verify_mosquitto_hash("secret", out.stdout.decode().strip().split(":", 1)[1])


def test_anonymous_wrong_passwords_and_retired_gateways_are_refused(broker: int) -> None:
    for user, password in ((None, None), ("gw-1", "wrong"), ("gw-gone", "pw-gone")):
        c = Client(broker, user, password, f"x-{user}")
        c.close()
        assert c.connack is not None and c.connack.is_failure  # type: ignore[attr-defined]
    c = Client(broker, "gw-old", PASSWORDS["gw-old"], "gw-old")  # its pre-registry line was kept
    c.close()
    assert c.connack is not None and not c.connack.is_failure  # type: ignore[attr-defined]


def test_gateways_publish_only_their_own_building_and_read_only_their_acks(broker: int) -> None:
    ingest = Client(broker, "ingest", "pw-ingest", "ingest-1")
    ingest.c.subscribe([("$share/ingest/meterhub/v1/+/+/readings", 1), ("meterhub/v1/+/+/status", 1)])
    gw1 = Client(broker, "gw-1", PASSWORDS["gw-1"], "gw-1")
    gw1.c.subscribe([("meterhub/v1/B-001/gw-1/commits", 1), ("meterhub/v1/B-002/gw-2/commits", 1)])
    time.sleep(0.3)
    codes = {
        topic: gw1.publish(topic, b"{}")
        for topic in (
            "meterhub/v1/B-001/gw-1/readings",
            "meterhub/v1/B-001/gw-1/status",
            "meterhub/v1/B-002/gw-1/readings",  # its own id under another building: denied
            "meterhub/v1/B-001/gw-2/readings",  # another gateway's topic: denied
            "meterhub/v1/B-001/gw-1/other",  # not a meterhub topic of the gateway: denied
            "meterhub/v1/B-001/gw-1/commits",  # acknowledging itself: denied
        )
    }
    assert [t for t, code in codes.items() if code == 0] == [
        "meterhub/v1/B-001/gw-1/readings",
        "meterhub/v1/B-001/gw-1/status",
    ]
    assert all(code == NOT_AUTHORIZED for code in list(codes.values())[2:])
    for topic in ("meterhub/v1/B-001/gw-1/commits", "meterhub/v1/B-002/gw-2/commits"):
        assert ingest.publish(topic, b"{}") == 0
    deadline = time.time() + 3
    while time.time() < deadline and (len(ingest.topics()) < 2 or not gw1.topics()):
        time.sleep(0.05)
    time.sleep(0.3)
    for c in (gw1, ingest):
        c.close()
    assert sorted(ingest.topics()) == ["meterhub/v1/B-001/gw-1/readings", "meterhub/v1/B-001/gw-1/status"]
    assert gw1.topics() == ["meterhub/v1/B-001/gw-1/commits"]  # not gw-2's


def test_a_gateway_cannot_read_other_gateways(broker: int) -> None:
    spy = Client(broker, "gw-2", PASSWORDS["gw-2"], "gw-2")
    spy.c.subscribe("meterhub/v1/#", qos=1)
    time.sleep(0.3)
    gw = Client(broker, "gw-1", PASSWORDS["gw-1"], "gw-1")
    gw.publish("meterhub/v1/B-001/gw-1/readings", b"{}")
    time.sleep(0.5)
    gw.close()
    spy.close()
    assert spy.topics() == []


def test_a_payload_over_the_contract_limit_is_refused_by_the_broker(broker: int) -> None:
    """``message_size_limit``: Mosquitto drops the message (its PUBACK says 0x95 "packet too large", which
    paho 2.2 takes for a protocol error and reconnects); nothing of it reaches the ingest."""
    ingest = Client(broker, "ingest", "pw-ingest", "ingest-2")
    ingest.c.subscribe("meterhub/v1/+/+/readings", qos=1)
    time.sleep(0.3)
    for qos in (0, 1):
        gw = Client(broker, "gw-1", PASSWORDS["gw-1"], f"gw-1-big-{qos}")
        gw.c.publish("meterhub/v1/B-001/gw-1/readings", b"x" * (MAX_PAYLOAD_BYTES + 1), qos=qos)
        time.sleep(0.5)
        gw.close()
    gw = Client(broker, "gw-1", PASSWORDS["gw-1"], "gw-1")
    assert gw.publish("meterhub/v1/B-001/gw-1/readings", b"y" * 1000) == 0
    time.sleep(0.5)
    gw.close()
    ingest.close()
    assert [len(p) for _, p in ingest.received] == [1000]


def test_a_gateway_cannot_store_a_reading_of_another_building(broker: int, registry: str) -> None:
    """Real credentials, real ingest: gw-1 (B-001) gets its own building's reading stored and its
    commit acknowledged; a B-002 meter in its own topic is refused by the ingest; its login cannot
    even publish under B-002."""
    from meterhub.timeseries.mqtt_ingest import IngestOptions, IngestService

    svc = IngestService(
        registry,
        IngestOptions(broker_url=f"mqtt://127.0.0.1:{broker}", client_id="ingest-e2e", username="ingest",
                      password="pw-ingest", max_delay=0.1, rollup_every=None, leave_group=True),
    )  # fmt: skip
    thread = threading.Thread(target=svc.run, daemon=True)
    thread.start()
    assert svc._connected.wait(15)
    gw = Client(broker, "gw-1", PASSWORDS["gw-1"], "gw-1")
    gw.c.subscribe("meterhub/v1/B-001/gw-1/commits", qos=1)
    time.sleep(0.3)
    ts = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)

    def batch(building: str, meter: str) -> tuple[str, bytes]:
        batch_id = str(uuid.uuid4())
        reading = {"meter_id": meter, "register": "water_m3", "ts": ts.isoformat(), "value": 12.5}
        return batch_id, encode_batch(batch_id, "gw-1", building, datetime.now(UTC), [reading])

    own_id, own = batch("B-001", "WAT-1001")
    foreign_id, foreign_meter = batch("B-001", "WAT-2002")  # a meter of B-002
    _, other_building = batch("B-002", "WAT-2002")
    assert gw.publish("meterhub/v1/B-001/gw-1/readings", own) == 0
    assert gw.publish("meterhub/v1/B-001/gw-1/readings", foreign_meter) == 0
    assert gw.publish("meterhub/v1/B-002/gw-1/readings", other_building) == NOT_AUTHORIZED
    deadline = time.time() + 20
    acked: set[str] = set()
    while time.time() < deadline and not {own_id, foreign_id} <= acked:
        acked = {b for _, p in gw.received for b in json.loads(p)["batch_ids"]}
        time.sleep(0.1)
    svc.stop()
    thread.join(20)
    gw.close()
    assert {own_id, foreign_id} <= acked
    with connect(registry) as c:
        stored = c.execute("SELECT meter_id FROM readings_named WHERE ts = %s", (ts,)).fetchall()
        dead = c.execute(
            "SELECT reason FROM dead_letters WHERE context->>'batch_id' = %s", (foreign_id,)
        ).fetchall()
    assert stored == [("WAT-1001",)]
    assert dead == [("meter_not_in_building",)]
