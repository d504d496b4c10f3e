"""The production broker configuration (deploy/mosquitto) on a real mosquitto: no anonymous clients,
gateways publish only under their own gateway id, the ingest reads every gateway (also through the
shared subscription)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

paho = pytest.importorskip("paho.mqtt.client")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
pytestmark = pytest.mark.skipif(
    not (Path(MOSQUITTO).exists() and shutil.which("mosquitto_passwd")), reason="mosquitto is not installed"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def broker(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    passwd = tmp_path / "passwd"
    passwd.touch()
    for user, password in (("gw-1", "pw-gw-1"), ("gw-2", "pw-gw-2"), ("ingest", "pw-ingest")):
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    conf = (DEPLOY / "mosquitto.conf").read_text()
    conf = conf.replace("/mosquitto/data/passwd", str(passwd)).replace(
        "/mosquitto/config/acl", str(DEPLOY / "acl")
    )
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


def _client(port: int, user: str | None, password: str | None, client_id: str):
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    if user:
        c.username_pw_set(user, password)
    result: dict[str, object] = {}
    c.on_connect = lambda _c, _u, _f, reason, _p: result.setdefault("reason", reason)
    c.connect("127.0.0.1", port)
    c.loop_start()
    for _ in range(100):
        if "reason" in result:
            break
        time.sleep(0.02)
    return c, result.get("reason")


def test_anonymous_and_wrong_passwords_are_refused(broker: int) -> None:
    for user, password in ((None, None), ("gw-1", "wrong")):
        c, reason = _client(broker, user, password, f"x-{user}")
        c.loop_stop()
        assert reason is not None and reason.is_failure


def test_gateways_publish_only_their_own_topics_and_ingest_reads_all(broker: int) -> None:
    received: list[str] = []
    ingest, reason = _client(broker, "ingest", "pw-ingest", "ingest-1")
    assert reason is not None and not reason.is_failure
    ingest.on_message = lambda _c, _u, msg: received.append(msg.topic)
    ingest.subscribe([("$share/ingest/meterhub/v1/+/+/readings", 1), ("meterhub/v1/+/+/status", 1)])
    time.sleep(0.3)
    gw, reason = _client(broker, "gw-1", "pw-gw-1", "gw-1")
    assert reason is not None and not reason.is_failure
    for topic in (
        "meterhub/v1/B-001/gw-1/readings",
        "meterhub/v1/B-001/gw-1/status",
        "meterhub/v1/B-001/gw-2/readings",  # another gateway's topic: denied
        "meterhub/v1/B-001/gw-1/other",  # not a meterhub topic of the gateway: denied
    ):
        gw.publish(topic, b"{}", qos=1).wait_for_publish(timeout=5)
    deadline = time.time() + 3
    while time.time() < deadline and len(received) < 2:
        time.sleep(0.05)
    time.sleep(0.3)
    gw.loop_stop()
    ingest.loop_stop()
    assert sorted(received) == ["meterhub/v1/B-001/gw-1/readings", "meterhub/v1/B-001/gw-1/status"]


def test_a_gateway_cannot_read_other_gateways(broker: int) -> None:
    received: list[str] = []
    spy, _ = _client(broker, "gw-2", "pw-gw-2", "gw-2")
    spy.on_message = lambda _c, _u, msg: received.append(msg.topic)
    spy.subscribe("meterhub/v1/#", qos=1)
    time.sleep(0.3)
    gw, _ = _client(broker, "gw-1", "pw-gw-1", "gw-1")
    gw.publish("meterhub/v1/B-001/gw-1/readings", b"{}", qos=1).wait_for_publish(timeout=5)
    time.sleep(0.5)
    gw.loop_stop()
    spy.loop_stop()
    assert received == []
