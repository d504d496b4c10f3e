"""End to end: 1,000 simulated gateways → Mosquitto → `meterhub ingest` → PostgreSQL.

    .venv/bin/python benchmarks/bench_e2e.py [--gateways 1000] [--meters 50] [--reads 40]

In one run, on one database and one broker:
  * baseline: raw binary COPY of the same number of rows into `readings`;
  * drain throughput with 1 and with 2 ingest processes (real `meterhub ingest` subprocesses sharing
    `$share/ingest/...`): the fleet publishes everything while the ingest processes are paused
    (SIGSTOP), then they are resumed and the time to commit every message is measured;
  * latency publish → commit (p50, p99) at a steady publish rate with one ingest process.
The ingest works as in production: every message is checked against the gateway registry, and after
each commit a commit acknowledgement per gateway is published (the fleet's gateways subscribe to
theirs while connected).
Needs the mosquitto binary (shared subscriptions).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, raw_copy_readings, server_version, table

from meterhub.cli.local_broker import local_broker
from meterhub.simulators.gateway_fleet import fleet, run_fleet
from meterhub.timeseries.database import connect
from meterhub.timeseries.gateway_registry import register_gateways

START = datetime(2026, 1, 1, tzinfo=UTC)


def register_fleet(conn, gateways) -> None:
    rows = [(m, gw.building_id) for gw in gateways for m in gw.meter_ids]
    with (
        conn.cursor() as cur,
        cur.copy("COPY meters (meter_id, kind, manufacturer, serial, building_id) FROM STDIN") as cp,
    ):
        for meter_id, building in rows:
            cp.write_row((meter_id, "electricity", "SIM", meter_id.split("SIM", 1)[1], building))
    conn.execute(
        "INSERT INTO meter_registers (meter_id, register, unit, cumulative) "
        "SELECT meter_id, 'energy_import_kwh', 'kWh', true FROM meters WHERE manufacturer = 'SIM'"
    )
    register_gateways(conn, [(gw.gateway_id, gw.building_id) for gw in gateways])  # checked per message
    conn.commit()


def raw_copy_rate(conn, n_meters: int, reads: int) -> float:
    sids = [r[0] for r in conn.execute("SELECT series_id FROM meter_registers ORDER BY 1").fetchall()]
    rows = [
        (sid, START + timedelta(minutes=15 * k), 1000.0 + k * 0.25, 0, 0)
        for k in range(reads)
        for sid in sids
    ]
    conn.execute("SELECT meterhub_ensure_partitions('readings', %s, %s)", (START, rows[-1][1]))
    conn.commit()
    rate = len(rows) / raw_copy_readings(conn, rows)
    conn.execute("TRUNCATE readings, series_dirty, series_dirty_log")
    conn.commit()
    return rate


def start_ingest(url: str, broker_url: str, client_id: str) -> subprocess.Popen:
    env = {**os.environ, "METERHUB_DATABASE_URL": url}
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process; not a pipe, which could fill and stall it)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meterhub.cli",
            "ingest",
            "--broker",
            broker_url,
            "--client-id",
            client_id,
            "--rollup-every",
            "0",
            "--max-batch",
            "20000",
            "--max-delay",
            "0.3",
            # each step's processes leave the shared group when stopped: a stopped worker that kept its
            # session would go on receiving its share (the fleet here, unlike gateways, never re-sends)
            "--leave-group",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    proc.errors = errors  # type: ignore[attr-defined]
    return proc


def wait_subscribed(procs: list[subprocess.Popen], timeout: float = 120) -> None:
    """Until every ingest process has logged its subscription (a loaded machine needs more than a few
    seconds to start one; a fleet publishing before that would be answered "no matching subscribers")."""
    deadline = time.monotonic() + timeout
    for p in procs:
        while True:
            p.errors.seek(0)  # type: ignore[attr-defined]
            if b"subscribed to" in p.errors.read():  # type: ignore[attr-defined]
                break
            if p.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"an ingest process did not subscribe (exit code {p.poll()})")
            time.sleep(0.2)


def wait_for_messages(conn, messages: int, procs: list[subprocess.Popen], pause: float) -> None:
    """Until the ingest log holds ``messages`` rows; stop with the process's error if an ingest died."""
    while count(conn, "SELECT count(*) FROM ingest_log") < messages:
        for p in procs:
            if p.poll() is not None:
                p.errors.seek(0)  # type: ignore[attr-defined]
                err = p.errors.read().decode(errors="replace")  # type: ignore[attr-defined]
                sys.exit(f"an ingest process exited with {p.returncode}:\n{err[-3000:]}")
        time.sleep(pause)
        conn.commit()


def count(conn, sql: str) -> int:
    return conn.execute(sql).fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateways", type=int, default=1000)
    ap.add_argument("--meters", type=int, default=50, help="meters per gateway")
    ap.add_argument("--reads", type=int, default=40, help="read cycles per meter")
    ap.add_argument("--latency-seconds", type=float, default=10.0)
    args = ap.parse_args()
    if not shutil.which("mosquitto"):
        sys.exit("bench_e2e needs the mosquitto binary (apt-get install mosquitto)")
    gateways = fleet(args.gateways, args.meters)
    with bench_database() as url, connect(url) as conn, local_broker(prefer="mosquitto") as broker:
        register_fleet(conn, gateways)
        total = args.gateways * args.meters * args.reads
        print(
            f"PostgreSQL {server_version(url)}, mosquitto on :{broker.port}; {args.gateways} gateways × "
            f"{args.meters} meters × {args.reads} reads = {total:,} readings"
        )
        raw = raw_copy_rate(conn, args.gateways * args.meters, args.reads)
        results = [("raw binary COPY into readings (baseline)", f"{total:,}", "-", f"{raw:,.0f}", "1.00")]
        cycle = 0
        for n in (1, 2):
            conn.execute("TRUNCATE readings, ingest_log, series_dirty, series_dirty_log")
            conn.commit()
            procs = [start_ingest(url, broker.url, f"bench-ingest-{n}-{i}") for i in range(n)]
            wait_subscribed(procs)
            for p in procs:
                os.kill(p.pid, signal.SIGSTOP)
            start = START + timedelta(days=30 * cycle)
            cycle += 1
            run = run_fleet("127.0.0.1", broker.port, gateways, args.reads, start)
            messages, readings, pub_t = run.messages, run.readings, run.seconds
            t = time.perf_counter()
            for p in procs:
                os.kill(p.pid, signal.SIGCONT)
            wait_for_messages(conn, messages, procs, 0.05)
            drain = time.perf_counter() - t
            stored = count(conn, "SELECT count(*) FROM readings")
            conn.commit()
            assert stored == readings, (stored, readings)
            for p in procs:
                p.send_signal(signal.SIGTERM)
                p.wait(30)
            rate = readings / drain
            results.append(
                (
                    f"{n} ingest process{'es' if n > 1 else ''}: drain {messages:,} messages",
                    f"{readings:,}",
                    f"{drain:.1f}",
                    f"{rate:,.0f}",
                    f"{rate / raw:.2f}",
                )
            )
            print(
                f"  fleet published {messages:,} messages ({readings:,} readings) in {pub_t:.1f} s "
                f"({readings / pub_t:,.0f} readings/s, all PUBACKed)"
            )

        # latency at a steady rate: one ingest process, the fleet publishing one batch per gateway per tick
        conn.execute("TRUNCATE ingest_log")
        conn.commit()
        proc = start_ingest(url, broker.url, "bench-ingest-latency")
        wait_subscribed([proc])
        start = START + timedelta(days=30 * cycle)
        # every gateway sends one batch (one read of its meters) per interval: a steady load
        steady = run_fleet(
            "127.0.0.1",
            broker.port,
            gateways,
            int(args.latency_seconds),
            start,
            batch_size=args.meters,
            interval=1.0,
        )
        sent = steady.messages
        wait_for_messages(conn, sent, [proc], 0.1)
        p50, p99, rps = conn.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM committed_at - sent_at)), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM committed_at - sent_at)), "
            "sum(readings) / greatest(extract(epoch FROM max(committed_at) - min(committed_at)), 1) "
            "FROM ingest_log"
        ).fetchone()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        print(table(results, ("step", "readings", "s", "readings/s", "vs raw COPY")))
        print(
            f"latency publish → commit at a steady {rps:,.0f} readings/s ({sent:,} messages): "
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
        )
        print("target: 1 ingest process ≥ 0.50 × raw COPY")


if __name__ == "__main__":
    main()
