"""Ingest: write_readings vs a raw binary COPY of the same rows into the same table, same run.

    .venv/bin/python benchmarks/bench_ingest.py [--readings 2000000] [--meters 2000] [--repeat 3]

Target (issue 2): write_readings ≥ 0.6 × raw COPY rows/s. With ``METERHUB_BENCH_STORAGE=timescaledb``
(the PGlite TimescaleDB test server) it also re-sends the batches after every chunk was compressed, as a
gateway replaying its outbox after the compression horizon does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, bench_timescaledb, peak_rss_mb, raw_copy_readings, table

from meterhub.core import MeterKind, Reading
from meterhub.timeseries.database import connect
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meters

START = datetime(2026, 1, 1, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readings", type=int, default=2_000_000)
    ap.add_argument("--meters", type=int, default=2_000)
    ap.add_argument("--batch", type=int, default=50_000, help="readings per write_readings call")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    per_meter = args.readings // args.meters
    with bench_database() as url, connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        print(
            f"PostgreSQL {version}; {args.meters} meters × {per_meter} readings "
            f"(15 min apart) = {args.meters * per_meter:,} rows; batch {args.batch:,}"
        )
        ids = register_meters(
            conn,
            [
                MeterInfo(
                    MeterKind.ELECTRICITY,
                    "BEN",
                    str(i),
                    multiplier=Decimal(1),
                    registers=(RegisterInfo("energy_import_kwh"),),
                )
                for i in range(args.meters)
            ],
        )
        conn.commit()
        sid = {m: r["energy_import_kwh"] for m, r in ids.items()}
        # time order across meters, as gateways deliver them
        readings = [
            Reading(m, "energy_import_kwh", START + timedelta(minutes=15 * k), 1000.0 + k * 0.25)
            for k in range(per_meter)
            for m in sid
        ]
        rows = [(sid[r.meter_id], r.ts, r.value, 0, 0) for r in readings]
        end = readings[-1].ts
        conn.execute("SELECT meterhub_ensure_partitions('readings', %s, %s)", (START, end))
        conn.commit()

        def reset() -> None:
            conn.execute("TRUNCATE readings, series_dirty, series_dirty_log")
            conn.commit()
            conn.execute("CHECKPOINT")

        def raw_copy() -> float:
            return raw_copy_readings(conn, rows, args.batch)

        writer = ReadingWriter(conn, clock=lambda: end + timedelta(hours=1))

        def ingest() -> float:
            t = time.perf_counter()
            for i in range(0, len(readings), args.batch):
                res = writer.write(readings[i : i + args.batch])
                assert res.rejected == 0, res
            return time.perf_counter() - t

        raw_t, ing_t, dup_t, comp_t = [], [], [], []
        for _ in range(args.repeat):
            reset()
            raw_t.append(raw_copy())
            reset()
            ing_t.append(ingest())
            dup_t.append(ingest())  # the same batches again: all duplicates, nothing changes
            if bench_timescaledb():  # and once more after compression (not measured: compress_chunk)
                conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks('readings') c")
                conn.commit()
                comp_t.append(ingest())
        n = len(rows)
        raw, ing, dup = (statistics.median(x) for x in (raw_t, ing_t, dup_t))
        compressed = (
            [
                (
                    "write_readings, re-sent into compressed chunks",
                    f"{n:,}",
                    f"{statistics.median(comp_t):.2f}",
                    f"{n / statistics.median(comp_t):,.0f}",
                    f"{raw / statistics.median(comp_t):.2f}",
                )
            ]
            if comp_t
            else []
        )
        print(
            table(
                [
                    ("raw binary COPY (baseline)", f"{n:,}", f"{raw:.2f}", f"{n / raw:,.0f}", "1.00"),
                    (
                        "write_readings, new rows",
                        f"{n:,}",
                        f"{ing:.2f}",
                        f"{n / ing:,.0f}",
                        f"{raw / ing:.2f}",
                    ),
                    (
                        "write_readings, re-sent",
                        f"{n:,}",
                        f"{dup:.2f}",
                        f"{n / dup:,.0f}",
                        f"{raw / dup:.2f}",
                    ),
                    *compressed,
                ],
                ("method", "rows", "s (median)", "rows/s", "ratio"),
            )
        )
        print(
            f"target: write_readings / raw COPY ≥ 0.60 → {'met' if raw / ing >= 0.6 else 'NOT met'}; "
            f"peak RSS {peak_rss_mb():,.0f} MB"
        )


if __name__ == "__main__":
    main()
