"""The gateway against a real broker and real simulated meters, in this process.

Readings arrive as valid v1 batches with unique ids; the retained status carries per-device health;
a dead device does not block the others; readings buffered while the broker is down arrive after it
returns; username/password; MQTT 3.1.1 fallback (amqtt); TLS with a self-signed certificate.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meterhub.cli.local_broker import LocalBroker, free_port, local_broker
from meterhub.core.mqtt_contract import parse_batch, parse_readings, parse_status
from meterhub.gateway.clock import WallClock
from meterhub.gateway.config import load_config
from meterhub.gateway.devices import build_readers
from meterhub.gateway.outbox import Outbox

from .conftest import GatewayThread, ModbusSimThread, Subscriber, gateway_toml, modbus_config


class RecordingReaders:
    """Wrap the real readers and remember every reading they returned (what must arrive)."""

    def __init__(self, config: Any) -> None:
        self.inner = build_readers(config, WallClock().now)
        self.read: list[tuple[str, str, str]] = []
        for reader in self.inner.readers:
            original = reader.read

            async def read(original=original):
                outcome = await original()
                # the gateway sends whole seconds: the floor of the read's moment (UTC)
                self.read.extend(
                    (r.meter_id, r.register, r.ts.replace(microsecond=0).isoformat())
                    for r in outcome.readings
                )
                return outcome

            reader.read = read  # type: ignore[method-assign]
        self.readers = self.inner.readers

    def close(self) -> None:
        self.inner.close()


def test_batches_status_and_a_dead_device(
    tmp_path: Path, broker: LocalBroker, modbus_sim: ModbusSimThread, subscribe: Any
) -> None:
    sub = subscribe(commit_acks=True)
    path = modbus_config(tmp_path, broker, modbus_sim)
    text = (
        path.read_text()
        + '[[devices]]\nbus = "lan"\naddress = 9\nprofile = "eastron-sdm120"\ntimeout = "0.3s"\nretries = 0\n'
    )
    path.write_text(text)
    config = load_config(path)
    readers = RecordingReaders(config)
    gw = GatewayThread(config, readers=readers)
    try:
        assert sub.wait_for(lambda: len({k[2] for k in sub.reading_keys()}) >= 9, 20)
        assert sub.wait_for(
            lambda: any(
                d["device"] == "lan/9" and not d["online"] and d["consecutive_failures"] >= 1
                for s in sub.statuses()
                for d in s["devices"]
            )
        )
    finally:
        gw.stop()
    assert sub.wait_for(lambda: sub.statuses() and sub.statuses()[-1]["state"] == "offline", 5)
    batches = [parse_batch(p) for t, p, _ in sub.snapshot() if t == "meterhub/v1/B-001/gw-1/readings"]
    assert len({b.batch_id for b in batches}) == len(batches)
    assert all(len(b.readings) <= 20 for b in batches)
    for b in batches:
        _, bad = parse_readings(b)
        assert not bad and b.gateway_id == "gw-1" and b.building_id == "B-001"
    got = Counter(sub.reading_keys())
    assert set(readers.read) == set(got)  # every reading read was published (clean stop flushes)
    assert {k[0] for k in got} == {"EASTRON-20001", "EASTRON-20002", "EASTRON-20003"}
    # status: validated by the contract, retained, health per device
    statuses = [parse_status(p) for t, p, _ in sub.snapshot() if t.endswith("/status") and p]
    online = [s for s in statuses if s.state == "online"]
    health = {d.device: d for d in online[-1].devices}
    assert health["lan/1"].online and health["lan/1"].meter_ids == ["EASTRON-20001"]
    assert health["lan/1"].last_success is not None and health["lan/1"].consecutive_failures == 0
    # nobody at unit 9: the Modbus/TCP simulator, like a TCP-to-RTU gateway, answers exception 0x0B
    assert not health["lan/9"].online and "exception 11" in (health["lan/9"].last_error or "")
    final = statuses[-1]
    assert final.state == "offline" and final.outbox_backlog == 0 and len(final.devices) == 4
    dead = next(d for d in final.devices if d.device == "lan/9")
    assert dead.consecutive_failures >= 2 and dead.last_success is None
    # the retained status is what a late subscriber sees
    late = Subscriber(broker.port, ["meterhub/v1/B-001/gw-1/status"])
    try:
        assert late.wait_for(lambda: bool(late.snapshot()), 5)
        _, payload, retained = late.snapshot()[0]
        assert retained and parse_status(payload).state == "offline"
    finally:
        late.close()


def test_readings_buffered_while_the_broker_is_down_arrive_after_it_returns(
    tmp_path: Path, broker: LocalBroker, modbus_sim: ModbusSimThread, subscribe: Any
) -> None:
    sub = subscribe(["meterhub/v1/+/+/readings"], session="test-collector", commit_acks=True)
    config = load_config(modbus_config(tmp_path, broker, modbus_sim))
    readers = RecordingReaders(config)
    gw = GatewayThread(config, readers=readers)
    try:
        assert sub.wait_for(lambda: len(sub.batches()) >= 2, 15)
        broker.stop()
        down_at = len(readers.read)
        time.sleep(3)  # polls go on; readings wait in the outbox
        assert len(readers.read) > down_at
        assert gw.gateway.outbox is not None and gw.gateway.outbox.backlog > 0
        buffered = set(readers.read)  # everything read so far, most of it while the broker was down
        broker.start()
        assert sub.wait_for(lambda: buffered <= set(sub.reading_keys()), 30), (
            len(buffered - set(sub.reading_keys())),
            gw.gateway.outbox.backlog,
            gw.gateway.link.last_error,
        )
    finally:
        gw.stop()
    missing = set(readers.read) - set(sub.reading_keys())
    assert sub.wait_for(lambda: set(readers.read) <= set(sub.reading_keys()), 15), (
        len(missing),
        gw.gateway.outbox.backlog,
    )
    assert gw.gateway.outbox is not None and gw.gateway.outbox.backlog == 0


@contextlib.contextmanager
def password_broker(workdir: Path, users: dict[str, str], acl: str | None = None) -> Iterator[LocalBroker]:
    """Mosquitto with a password file. (``local_broker(users=...)`` fails when run as root with a
    private temporary directory: Mosquitto drops to its own user before reading the password file;
    ``user root`` keeps it able to read it.)"""
    workdir.mkdir()
    passwd = workdir / "passwd"
    passwd.write_text("")
    for user, password in users.items():
        command = ["mosquitto_passwd", "-b", str(passwd), user, password]
        subprocess.run(command, check=True, capture_output=True)
    extra = ["user root"] if os.geteuid() == 0 else []
    if acl is not None:
        (workdir / "acl").write_text(acl)
        extra.append(f"acl_file {workdir / 'acl'}")
    broker = LocalBroker(free_port(), "mosquitto", workdir, password_file=passwd, extra_config=extra)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def test_username_and_password(tmp_path: Path, modbus_sim: ModbusSimThread) -> None:
    with password_broker(tmp_path / "broker", {"gw-1": "s3cret", "reader": "r"}) as broker:
        sub = Subscriber(broker.port, ["meterhub/v1/#"], username="reader", password="r", commit_acks=True)
        try:
            (tmp_path / "pw").write_text("s3cret\n")
            good = modbus_config(
                tmp_path, broker, modbus_sim, mqtt_extra='username = "gw-1"\npassword_file = "pw"'
            )
            gw = GatewayThread(load_config(good))
            try:
                assert sub.wait_for(lambda: len(sub.batches()) >= 1, 15)
            finally:
                gw.stop()
            assert sub.wait_for(lambda: sub.statuses()[-1]["state"] == "offline", 5)
            wrong_dir = tmp_path / "wrong"
            wrong_dir.mkdir()
            bad = modbus_config(
                wrong_dir, broker, modbus_sim, mqtt_extra='username = "gw-1"\npassword = "nope"'
            )
            before = len(sub.snapshot())
            gw = GatewayThread(load_config(bad))
            try:
                time.sleep(2.5)
                assert gw.gateway.link is not None and not gw.gateway.link.connected
                assert "refused" in (gw.gateway.link.last_error or "")
                assert gw.gateway.outbox is not None and gw.gateway.outbox.backlog > 0  # kept, not lost
            finally:
                gw.stop()
            time.sleep(0.3)
            assert len(sub.snapshot()) == before  # nothing from the gateway with the wrong password
        finally:
            sub.close()


def test_mqtt_311_fallback_with_amqtt(tmp_path: Path, modbus_sim: ModbusSimThread) -> None:
    with local_broker(prefer="amqtt") as broker:
        sub = Subscriber(broker.port, ["meterhub/v1/+/+/readings"], mqtt5=False)
        try:
            gw = GatewayThread(load_config(modbus_config(tmp_path, broker, modbus_sim)))
            try:
                assert sub.wait_for(lambda: len(sub.batches()) >= 2, 20)
                assert gw.gateway.link is not None and gw.gateway.link.protocol_name == "3.1.1"
            finally:
                gw.stop()
        finally:
            sub.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a test certificate")
def test_tls_with_a_self_signed_certificate(tmp_path: Path, modbus_sim: ModbusSimThread) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(certs / "server.key"),
         "-out", str(certs / "server.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    tls_port = free_port()
    workdir = tmp_path / "broker"
    workdir.mkdir()
    tls_listener = [f"listener {tls_port} 127.0.0.1", f"certfile {certs / 'server.crt'}"]
    tls_listener.append(f"keyfile {certs / 'server.key'}")
    if os.geteuid() == 0:  # Mosquitto drops to its own user, which cannot read a private temp dir
        tls_listener.append("user root")
    broker = LocalBroker(free_port(), "mosquitto", workdir, extra_config=tls_listener)
    broker.start()
    try:
        sub = Subscriber(broker.port, ["meterhub/v1/+/+/readings"])
        config_path = gateway_toml(
            tmp_path, f"mqtts://127.0.0.1:{tls_port}",
            [{"bus": "lan", "address": 1, "profile": "eastron-sdm120", "timeout": "0.3s"}],
            [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": modbus_sim.port}],
            mqtt_extra=f'[mqtt.tls]\nca_file = "{certs / "server.crt"}"',
        )  # fmt: skip
        gw = GatewayThread(load_config(config_path))
        try:
            assert sub.wait_for(lambda: len(sub.batches()) >= 1, 15)
        finally:
            gw.stop()
            sub.close()
    finally:
        broker.stop()


def test_broker_refusing_batches_keeps_them_until_allowed(
    tmp_path: Path, modbus_sim: ModbusSimThread, caplog: pytest.LogCaptureFixture
) -> None:
    """Mosquitto answers a publish its ACL denies with PUBACK "Not authorized" (MQTT 5): the batch
    stays in the outbox and is re-sent with its id once the ACL allows it (reloaded with SIGHUP)."""
    reader = "user reader\ntopic read meterhub/#\ntopic write meterhub/v1/+/+/commits\n"
    gw1 = "user gw-1\ntopic read meterhub/v1/B-001/gw-1/commits\n"
    deny = gw1 + "topic write meterhub/v1/+/+/status\n" + reader
    allow = gw1 + "topic write meterhub/v1/#\n" + reader
    with password_broker(tmp_path / "broker", {"gw-1": "pw", "reader": "r"}, acl=deny) as broker:
        sub = Subscriber(broker.port, ["meterhub/v1/#"], username="reader", password="r", commit_acks=True)
        config = modbus_config(tmp_path, broker, modbus_sim, mqtt_extra='username = "gw-1"\npassword = "pw"')
        gw = GatewayThread(load_config(config))
        try:
            assert sub.wait_for(lambda: bool(sub.statuses()), 10)  # connected: status is allowed
            time.sleep(1.5)
            assert not sub.batches()
            outbox = gw.gateway.outbox
            assert outbox is not None and outbox.backlog > 0
            assert any("broker did not take batch" in r.getMessage() for r in caplog.records)
            refused = set(Outbox(outbox.path).pending_batch_ids())  # own connection: another thread
            (tmp_path / "broker" / "acl").write_text(allow)
            assert broker.proc is not None
            os.kill(broker.proc.pid, signal.SIGHUP)
            assert sub.wait_for(lambda: refused <= {b["batch_id"] for b in sub.batches()}, 20)
        finally:
            gw.stop()
            sub.close()
    assert gw.gateway.outbox is not None and gw.gateway.outbox.backlog == 0
