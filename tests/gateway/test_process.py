"""``meterhub gateway`` as a real process: SIGKILL mid-batch and restart, LWT, clean SIGTERM.

The crash test freezes the broker (SIGSTOP) so batches are certainly published and unacknowledged
when the gateway is killed, snapshots the outbox the dead process left, and checks after a restart
that every reading in it reaches a subscriber and that each unacknowledged batch was re-sent with
its original ``batch_id`` and readings. Readings are compared by (meter, register, ts).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

from meterhub.cli.local_broker import LocalBroker
from meterhub.core.mqtt_contract import parse_status

from .conftest import GatewayProcess, ModbusSimThread, modbus_config

STATUS = "meterhub/v1/B-001/gw-1/status"


def outbox_snapshot(path: Path) -> tuple[set[tuple[str, str, str]], dict[str, list[tuple[str, str, str]]]]:
    """(every reading key in the outbox, batch id → its reading keys) of a dead gateway's outbox."""
    from meterhub.gateway.outbox import EPOCH, MICROSECOND

    db = sqlite3.connect(path)
    try:
        rows = {
            rid: (m, r, (EPOCH + ts * MICROSECOND).isoformat())
            for rid, m, r, ts in db.execute("SELECT id, meter_id, register, ts FROM readings")
        }
        batches = {
            bid: [rows[i] for i in sorted(rows) if first <= i <= last]
            for bid, first, last in db.execute("SELECT batch_id, first_id, last_id FROM batches")
        }
    finally:
        db.close()
    return set(rows.values()), batches


def backlog(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM readings").fetchone()[0])
    finally:
        db.close()


def test_sigkill_mid_batch_then_restart_resends_everything_with_the_same_batch_ids(
    tmp_path: Path, broker: LocalBroker, modbus_sim: ModbusSimThread, subscribe: Any
) -> None:
    readings_sub = subscribe(["meterhub/v1/+/+/readings"], session="collector", commit_acks=True)
    status_sub = subscribe([STATUS])
    config = modbus_config(tmp_path, broker, modbus_sim)
    outbox = tmp_path / "outbox.sqlite3"
    gw = GatewayProcess(config, tmp_path / "gateway-1.log")
    try:
        assert readings_sub.wait_for(lambda: len(readings_sub.batches()) >= 3, 20), gw.output()
        assert broker.proc is not None
        os.kill(broker.proc.pid, signal.SIGSTOP)  # no more PUBACKs: batches stay in flight
        try:
            time.sleep(1.5)
            gw.kill()
        finally:
            os.kill(broker.proc.pid, signal.SIGCONT)
    finally:
        gw.close()
    keys, pending = outbox_snapshot(outbox)
    assert pending, "the kill should find batches published and not acknowledged"
    assert keys and all(set(b) <= keys for b in pending.values())
    # the broker publishes the LWT: retained offline status without devices
    assert status_sub.wait_for(
        lambda: any(s["state"] == "offline" and s["devices"] == [] for s in status_sub.statuses()), 10
    ), [s["state"] for s in status_sub.statuses()]

    lwt_seen = len(status_sub.statuses())
    gw = GatewayProcess(config, tmp_path / "gateway-2.log")
    try:
        # the second process is up (its online status follows the LWT) and re-sent the old batches
        assert status_sub.wait_for(
            lambda: any(s["state"] == "online" for s in status_sub.statuses()[lwt_seen:]), 15
        ), ([s["state"] for s in status_sub.statuses()], lwt_seen, gw.output())
        assert readings_sub.wait_for(lambda: keys <= set(readings_sub.reading_keys()), 20), (
            len(keys - set(readings_sub.reading_keys())),
            gw.output(),
        )
        assert readings_sub.wait_for(
            lambda: set(pending) <= {b["batch_id"] for b in readings_sub.batches()}, 5
        ), (set(pending) - {b["batch_id"] for b in readings_sub.batches()}, gw.output())
        assert gw.terminate() == 0, gw.output()
    finally:
        gw.close()
    received: dict[str, list[tuple[str, str, str]]] = {}
    for batch in readings_sub.batches():
        received.setdefault(batch["batch_id"], [])
        got = [(r["meter_id"], r["register"], r["ts"]) for r in batch["readings"]]
        assert received[batch["batch_id"]] in ([], got)  # a re-sent batch carries the same readings
        received[batch["batch_id"]] = got
    for batch_id, batch_keys in pending.items():
        assert received[batch_id] == batch_keys
    assert backlog(outbox) == 0  # everything acknowledged as committed, nothing left behind
    assert "re-sending them with their ids" in (tmp_path / "gateway-2.log").read_text()


def test_sigterm_flushes_publishes_offline_and_closes_the_outbox(
    tmp_path: Path, broker: LocalBroker, modbus_sim: ModbusSimThread, subscribe: Any
) -> None:
    sub = subscribe(commit_acks=True)
    config = modbus_config(tmp_path, broker, modbus_sim, batch_size=10_000, batch_time="30s")
    gw = GatewayProcess(config, tmp_path / "gateway.log")
    try:
        assert sub.wait_for(lambda: any(s["state"] == "online" for s in sub.statuses()), 15), gw.output()
        time.sleep(1.5)
        assert not sub.batches()  # a 30 s batch window: everything still waits in the outbox
        started = time.monotonic()
        assert gw.terminate() == 0, gw.output()
        assert time.monotonic() - started < 8
    finally:
        gw.close()
    assert sub.wait_for(lambda: sub.statuses()[-1]["state"] == "offline", 5)
    final = parse_status(json.dumps(sub.statuses()[-1]).encode())
    assert len(final.devices) == 3 and final.outbox_backlog == 0
    assert len(sub.reading_keys()) > 0 and backlog(tmp_path / "outbox.sqlite3") == 0
    assert (
        not (tmp_path / "outbox.sqlite3-wal").exists()
        or (tmp_path / "outbox.sqlite3-wal").stat().st_size == 0
    )
    assert "stopped; 0 reading(s) left" in (tmp_path / "gateway.log").read_text()
