"""Reliability of the whole chain with real processes: Modbus simulator → `meterhub gateway` (a child
process) → Mosquitto → the ingest → PostgreSQL.

During one run the gateway is killed with SIGKILL and restarted, the broker is stopped and started
again, and the database refuses connections for a while. Afterwards the readings in the database are
reconciled with every reading the broker delivered to an independent persistent subscriber: nothing
lost between broker and database, nothing duplicated, and the gateway's readings survive its own
crash (its outbox resends what was not acknowledged).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime

import psycopg
import pytest

from meterhub.cli.local_broker import local_broker
from meterhub.core import MeterKind
from meterhub.timeseries.database import connect
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from tests.gateway.conftest import ModbusSimThread, Subscriber, gateway_toml, sim_meter
from tests.timeseries.test_mqtt_ingest import Running, _set_connections

pytestmark = [pytest.mark.db, pytest.mark.slow]

UNITS = (1, 2, 3)
REGISTERS = (
    "energy_import_kwh",
    "energy_export_kwh",
    "voltage_v",
    "current_a",
    "power_w",
    "frequency_hz",
    "power_factor",
)


def _gateway(config, env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "meterhub.cli", "gateway", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_kill9_gateway_broker_restart_and_db_outage_lose_and_duplicate_nothing(db_url, tmp_path):
    with connect(db_url) as c:
        for u in UNITS:
            register_meter(
                c,
                MeterInfo(
                    MeterKind.ELECTRICITY,
                    "Eastron",
                    str(20_000 + u),
                    building_id="B-001",
                    registers=tuple(RegisterInfo(r) for r in REGISTERS),
                ),
            )
    with local_broker(prefer="mosquitto") as broker:
        sim = ModbusSimThread([sim_meter("eastron-sdm120", u) for u in UNITS])
        truth = Subscriber(broker.port, ["meterhub/v1/+/+/readings"], session="reconcile-subscriber")
        config = gateway_toml(
            tmp_path,
            broker.url,
            [{"bus": "lan", "address": u, "profile": "eastron-sdm120", "timeout": "0.3s"} for u in UNITS],
            [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": sim.port}],
        )
        env = {**os.environ}
        ingest = Running(db_url, broker.port, "reliability-ingest", db_retry_max=0.5)
        gw = _gateway(config, env)
        try:
            time.sleep(4)
            gw.send_signal(signal.SIGKILL)  # mid-stream, probably mid-batch
            gw.wait(10)
            gw = _gateway(config, env)
            time.sleep(3)
            broker.restart()  # the broker goes away and comes back (persistence on)
            time.sleep(4)
            _set_connections(db_url, False)  # the database refuses connections for a while
            try:
                time.sleep(3)
            finally:
                _set_connections(db_url, True)
            time.sleep(3)
            gw.send_signal(signal.SIGTERM)  # a clean stop flushes the outbox
            gw.wait(30)
        finally:
            if gw.poll() is None:
                gw.kill()
            sim.stop()
        # wait until every reading the broker delivered is in the database
        published = set(truth.reading_keys())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with psycopg.connect(db_url) as c:
                n = c.execute(
                    "SELECT count(*) FROM readings_named WHERE meter_id LIKE 'EASTRON-2000_'"
                ).fetchone()[0]
            if n >= len(published):
                break
            time.sleep(0.5)
        ingest.stop()
        truth.close()
    with psycopg.connect(db_url) as c:
        stored = [
            (m, r, ts)
            for m, r, ts in c.execute(
                "SELECT meter_id, register, ts FROM readings_named WHERE meter_id LIKE 'EASTRON-2000_'"
            ).fetchall()
        ]
        dead = c.execute("SELECT count(*) FROM dead_letters WHERE source = 'mqtt'").fetchone()[0]
    stored_keys = {(m, r, ts) for m, r, ts in stored}
    published_keys = {(m, r, datetime.fromisoformat(ts)) for m, r, ts in published}
    assert len(published_keys) > 3 * len(REGISTERS) * 5  # a real stream: several polls of every meter
    assert max(Counter(stored).values()) == 1  # nothing duplicated (the unique key held)
    missing = published_keys - stored_keys
    assert not missing, f"{len(missing)} readings the broker delivered are not in the database"
    # the database may hold more than this one subscriber saw (it reconnects after the broker restart
    # a little later than the ingest), never less; every stored reading is one the gateway polled
    assert {m for m, _, _ in stored_keys} == {f"EASTRON-{20_000 + u}" for u in UNITS}
    assert dead == 0
