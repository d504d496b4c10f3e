"""Dashboard panel queries over a month of demo data.

    .venv/bin/python benchmarks/bench_dashboards.py [--buildings 1] [--apartments 80] [--runs 3]

Loads sample buildings (simulators/sample_data.py, 31 days of January 2026) through ``write_readings``
and ``process_dirty``, adds a month of gateway status changes and ingest log rows (a message every
15 minutes per building), then runs every panel's SQL expanded as Grafana would for "the whole month,
all buildings, all resources" (interval 1h) and prints the best of ``--runs`` per panel, slowest first.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, server_version

from meterhub.cli.sample_loader import load_sample_readings, register_sample_meters
from meterhub.dashboards.catalog import PANELS
from meterhub.dashboards.macros import QueryContext, expand
from meterhub.simulators.sample_data import generate_building
from meterhub.timeseries.database import connect
from meterhub.timeseries.rollup import process_dirty

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)


def _pipeline_rows(conn, building: str) -> None:
    gw = f"gw-{building}"
    conn.execute(
        "INSERT INTO gateways (gateway_id, building_id, state, status_ts, last_seen)"
        " VALUES (%s, %s, 'online', %s, %s)",
        (gw, building, END, END),
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO gateway_status_history (gateway_id, building_id, status_ts, state)"
            " VALUES (%s, %s, %s, %s)",
            [
                (gw, building, START + timedelta(days=d, hours=h), s)
                for d in range(31)
                for h, s in ((2, "offline"), (3, "online"))
            ],
        )
        cur.executemany(
            "INSERT INTO ingest_log (topic, gateway_id, building_id, batch_id, sent_at, committed_at,"
            " readings, inserted, ingest_worker) VALUES (%s, %s, %s, %s, %s, %s, 400, 400, 'ingest-1')",
            [
                (
                    f"meterhub/v1/{building}/{gw}/readings",
                    gw,
                    building,
                    f"{gw}-{i}",
                    t,
                    t + timedelta(milliseconds=150),
                )
                for i in range(31 * 96)
                for t in [START + timedelta(minutes=15 * i)]
            ],
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--buildings", type=int, default=1)
    ap.add_argument("--apartments", type=int, default=80)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with bench_database() as url, connect(url) as conn:
        t = time.perf_counter()
        buildings = []
        for i in range(args.buildings):
            b = generate_building(
                f"B-{i + 1:03d}",
                apartments=args.apartments,
                start=date(2025, 12, 31),
                days=33,
                seed=7 + i,
                serial_base=20_000_000 + i * 100_000,
            )
            register_sample_meters(conn, b)
            load_sample_readings(conn, b)
            process_dirty(conn)
            _pipeline_rows(conn, b.building_id)
            conn.commit()
            buildings.append(b.building_id)
        conn.execute("ANALYZE")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM meters), (SELECT count(*) FROM readings),"
            " (SELECT count(*) FROM hourly_consumption)"
        ).fetchone()
        print(
            f"PostgreSQL {server_version(url)}; loaded in {time.perf_counter() - t:.1f} s: "
            f"{counts[0]} meters, {counts[1]:,} readings, {counts[2]:,} hourly rows"
        )
        meters = [r[0] for r in conn.execute("SELECT meter_id FROM meters ORDER BY 1")]
        results = []
        for d, p in PANELS:
            multi = frozenset(v.name for v in d.variables if v.multi)
            variables: dict[str, str | list[str]] = {
                "building": buildings,
                "resource": ["electricity", "cold_water", "hot_water", "heat"]
                if "resource" in multi
                else "cold_water",
                "meter": meters,
            }
            ctx = QueryContext(START, END, "1h", variables, multi)
            sql = expand(p.sql, ctx)
            best, rows = float("inf"), 0
            for _ in range(args.runs):
                t = time.perf_counter()
                rows = len(conn.execute(sql).fetchall())
                best = min(best, time.perf_counter() - t)
            results.append((best, d.uid, p.key, rows))
        print(f"{'ms':>9}  {'dashboard':<22} {'panel':<32} rows")
        for best, uid, key, rows in sorted(results, reverse=True):
            print(f"{best * 1000:9.1f}  {uid:<22} {key:<32} {rows}")


if __name__ == "__main__":
    main()
