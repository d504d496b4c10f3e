"""A whole pipeline of real processes, and the faults to inflict on it; the truth is the producer.

Simulated Modbus meters (in-process, on a TCP socket) → ``meterhub gateway`` processes, each with its
SQLite outbox → Mosquitto (a child process, persistence switchable) → ``meterhub ingest`` processes →
a private PostgreSQL started for the run (pgserver's binaries in a temporary directory, so it can be
crashed with ``pg_ctl stop -m immediate`` without touching anyone else's server).

**The truth** is what the gateways accepted: before a gateway first starts, a SQLite trigger is added to
its outbox that copies every reading inserted into ``readings`` into a ``truth`` table of the same
file, in the same transaction. Whatever the gateway, the broker, the ingest or the database do later,
the truth table keeps every reading the gateway took responsibility for, with its value and the time
it was taken. ``Pipeline.reconcile`` compares it key by key, value by value, with the database.

The failures and a whole run are in ``tests/pipeline_fault_scenarios.py``, used by
``tests/test_pipeline_reliability.py`` (a short run in CI) and ``benchmarks/bench_pipeline_faults.py``
(long runs, a table per scenario).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from meterhub.cli.local_broker import LocalBroker, local_broker
from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.core import MeterKind
from meterhub.gateway.outbox import EPOCH, MICROSECOND, Outbox
from meterhub.timeseries.database import connect
from meterhub.timeseries.gateway_registry import register_gateways
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.migrate import migrate
from tests.gateway.conftest import REPO, GatewayProcess, ModbusSimThread, gateway_toml, sim_meter

REGISTERS = ("energy_import_kwh", "energy_export_kwh", "voltage_v", "current_a", "power_w", "frequency_hz",
             "power_factor")  # fmt: skip

_TRUTH = """
CREATE TABLE IF NOT EXISTS truth (
    meter_id TEXT NOT NULL, register TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
    taken_at REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS truth_copy AFTER INSERT ON readings BEGIN
    INSERT INTO truth VALUES (NEW.meter_id, NEW.register, NEW.ts, NEW.value,
                              (julianday('now') - 2440587.5) * 86400.0);
END;
"""


class PrivatePostgres:
    """A PostgreSQL server of our own in a temporary directory (pgserver's binaries), crashable.

    The directory is a fresh one under the system's temporary directory, not pytest's ``tmp_path``:
    run as root, the server runs as pgserver's own user, which must be able to reach the directory,
    and pytest resets its base directory to mode 0700 whenever another session starts."""

    def __init__(self) -> None:
        import pgserver

        self._tmp = tempfile.TemporaryDirectory(prefix="meterhub-faults-pg-")
        self.workdir = Path(self._tmp.name)
        self.server = pgserver.get_server(self.workdir, cleanup_mode="stop")
        self.url = self.server.get_uri()

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: the postmaster and its backends quit at once, no checkpoint;
        the next start runs crash recovery from the WAL."""
        from pgserver._commands import pg_ctl

        user = self.server.system_user
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.workdir, user=user, timeout=30)

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def close(self) -> None:
        try:
            self.server.cleanup()
        finally:
            self._tmp.cleanup()


@dataclass
class GatewaySite:
    gateway_id: str
    building_id: str
    units: list[int]
    config: Path
    outbox: Path
    log_dir: Path
    proc: GatewayProcess | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        self.proc = GatewayProcess(self.config, self.log_dir / f"{self.gateway_id}-{self.starts}.log")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.close()
            self.proc = None

    def terminate(self) -> None:
        if self.proc is not None:
            self.proc.terminate(30)
            self.proc.close()
            self.proc = None

    def backlog(self) -> int:
        return _sqlite_count(self.outbox, "SELECT count(*) FROM readings")

    def truth(self) -> dict[tuple[str, str, datetime], tuple[float, float]]:
        """(meter, register, ts) → (value, when the gateway took it [unix s])."""
        db = sqlite3.connect(self.outbox, timeout=30)
        try:
            rows = db.execute("SELECT meter_id, register, ts, value, taken_at FROM truth").fetchall()
        finally:
            db.close()
        return {(m, r, EPOCH + ts * MICROSECOND): (v, at) for m, r, ts, v, at in rows}


@dataclass
class IngestProcess:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    subscribed_seen: int = 0  # "subscribed to" lines in the log so far

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "meterhub.cli", "ingest", "--client-id", self.name, *self.args],
            env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
        )  # fmt: skip
        out.close()

    def send(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        if self.proc is None:
            return
        self.send(signal.SIGCONT)
        self.send(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def wait_subscribed(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace") if self.log.exists() else ""
            if text.count("subscribed to") > self.subscribed_seen:
                self.subscribed_seen = text.count("subscribed to")
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"ingest {self.name} exited:\n{text[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"ingest {self.name} did not subscribe in {timeout} s")


@dataclass
class Phase:
    name: str
    started: float
    ended: float = 0.0


@dataclass
class Reconciliation:
    truth: int
    stored: int
    lost: list[tuple[str, str, datetime]]
    changed: list[tuple[tuple[str, str, datetime], float, float]]
    invented: list[tuple[str, str, datetime]]
    by_phase: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name → (taken, lost, changed)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.changed or self.invented)


class Pipeline:
    """Everything running; ``phase(name)`` marks what happens when (for the per-scenario counts)."""

    def __init__(
        self,
        workdir: Path,
        *,
        gateways: int = 2,
        meters_per_gateway: int = 3,
        commit_timeout: str = "3s",
        commit_timeout_max: str = "6s",
    ) -> None:
        self.workdir = workdir
        self.stack = contextlib.ExitStack()
        self.phases: list[Phase] = []
        self.pg = PrivatePostgres()
        self.stack.callback(self.pg.close)
        with connect(self.pg.url) as conn:
            migrate(conn, MIGRATION_SOURCES)
        self.broker: LocalBroker = self.stack.enter_context(local_broker(prefer="mosquitto"))
        units = list(range(1, gateways * meters_per_gateway + 1))
        self.sim = ModbusSimThread([sim_meter("eastron-sdm120", u) for u in units])
        self.stack.callback(self._stop_sim)
        self.sites: list[GatewaySite] = []
        for g in range(gateways):
            site_dir = workdir / f"gw-{g + 1}"
            site_dir.mkdir()
            mine = units[g * meters_per_gateway : (g + 1) * meters_per_gateway]
            config = gateway_toml(
                site_dir, self.broker.url,
                [{"bus": "lan", "address": u, "profile": "eastron-sdm120", "timeout": "0.5s"} for u in mine],
                [{"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": self.sim.port}],
                gateway_id=f"gw-{g + 1}", building=f"B-{g + 1:03d}",
                mqtt_extra=f'commit_timeout = "{commit_timeout}"\n'
                f'commit_timeout_max = "{commit_timeout_max}"',
            )  # fmt: skip
            outbox = site_dir / "outbox.sqlite3"
            Outbox(outbox).close()  # the schema, so the truth trigger can be added before the first start
            db = sqlite3.connect(outbox)
            db.executescript(_TRUTH)
            db.close()
            self.sites.append(GatewaySite(f"gw-{g + 1}", f"B-{g + 1:03d}", mine, config, outbox, workdir))
        with connect(self.pg.url) as conn:
            register_gateways(conn, [(s.gateway_id, s.building_id) for s in self.sites])
            for s in self.sites:
                for u in s.units:
                    registers = tuple(RegisterInfo(r) for r in REGISTERS)
                    meter = MeterInfo(
                        MeterKind.ELECTRICITY, "Eastron", str(20_000 + u), building_id=s.building_id,
                        registers=registers,
                    )  # fmt: skip
                    register_meter(conn, meter)
            conn.commit()
        self.ingest_env = {**os.environ, "METERHUB_DATABASE_URL": self.pg.url, "PYTHONUNBUFFERED": "1"}
        self.ingests: dict[str, IngestProcess] = {}
        self.stack.callback(self._stop_all)

    # --- processes -----------------------------------------------------------------------------------
    def ingest(self, name: str, *extra: str) -> IngestProcess:
        args = ["--broker", self.broker.url, "--rollup-every", "0", "--max-delay", "0.1", *extra]
        p = self.ingests.get(name) or IngestProcess(name, args, self.ingest_env, self.workdir / f"{name}.log")
        self.ingests[name] = p
        p.args = args
        p.start()
        p.wait_subscribed()
        return p

    def start_gateways(self) -> None:
        for s in self.sites:
            s.start()

    def set_broker_persistence(self, on: bool) -> None:
        self.broker.extra_config = [c for c in self.broker.extra_config if not c.startswith("persistence ")]
        if not on:
            self.broker.extra_config.append("persistence false")

    def _stop_sim(self) -> None:
        if getattr(self, "_sim_stopped", False):
            return
        self._sim_stopped = True
        with contextlib.suppress(Exception):
            self.sim.stop()

    def _stop_all(self) -> None:
        for s in self.sites:
            with contextlib.suppress(Exception):
                s.kill()
        for p in self.ingests.values():
            with contextlib.suppress(Exception):
                p.stop(signal.SIGKILL, 10)

    def close(self) -> None:
        self.stack.close()

    # --- phases ----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        p = Phase(name, time.time())
        self.phases.append(p)
        try:
            yield
        finally:
            p.ended = time.time()

    def settle(self, timeout: float = 180.0, on_wait: Callable[[], None] | None = None) -> bool:
        """Stop the meters, then wait until every outbox is empty (every batch acknowledged as
        committed) and the database holds every reading of the truth."""
        self._stop_sim()
        time.sleep(1.0)  # a poll in progress lands in the outbox
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if on_wait:
                on_wait()
            if all(s.backlog() == 0 for s in self.sites) and self.reconcile().ok:
                return True
            time.sleep(1.0)
        return False

    def reconcile(self) -> Reconciliation:
        truth: dict[tuple[str, str, datetime], tuple[float, float]] = {}
        for s in self.sites:
            truth.update(s.truth())
        meters = sorted({f"EASTRON-{20_000 + u}" for s in self.sites for u in s.units})
        with psycopg.connect(self.pg.url, options="-c timezone=UTC") as c:
            stored = {
                (m, r, ts): v
                for m, r, ts, v in c.execute(
                    "SELECT meter_id, register, ts, value FROM readings_named WHERE meter_id = ANY(%s)",
                    (meters,),
                )
            }
        lost = sorted(k for k in truth if k not in stored)
        changed = sorted(
            (k, truth[k][0], stored[k]) for k in truth if k in stored and stored[k] != truth[k][0]
        )
        invented = sorted(k for k in stored if k not in truth)
        by_phase: dict[str, tuple[int, int, int]] = {}
        lost_set, changed_set = set(lost), {c[0] for c in changed}
        for p in self.phases:
            keys = [k for k, (_, at) in truth.items() if p.started <= at < (p.ended or time.time())]
            by_phase[p.name] = (
                len(keys), sum(k in lost_set for k in keys), sum(k in changed_set for k in keys)
            )  # fmt: skip
        return Reconciliation(len(truth), len(stored), lost, changed, invented, by_phase)

    def logs_tail(self, chars: int = 2000) -> str:
        out = []
        for path in sorted(self.workdir.glob("*.log")):
            out.append(f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(out)


def _sqlite_count(path: Path, sql: str) -> int:
    db = sqlite3.connect(path, timeout=30)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()
