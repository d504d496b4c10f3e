"""Hourly rollup: 10,000 meters × 31 days of 15-minute reads (≈ 30 M readings).

    .venv/bin/python benchmarks/bench_rollup.py [--meters 10000] [--days 31]

Measures, in one run on one database:
  * the hourly series built from scratch (``rebuild``: VEE + interpolation, written back);
  * a baseline in the same run: a bare set-based SQL rollup (lag + date_bin, no interpolation across
    hour boundaries, no validation) materialised into an unlogged table — the floor for the work;
  * one late batch of 10,000 readings (one per meter, between existing reads) through
    ``write_readings`` + ``process_dirty`` (incremental backfill of only the affected spans);
  * peak memory (RSS) of this process.
Readings are loaded with a raw binary COPY (setup, not measured).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, peak_rss_mb, server_version, table

from meterhub.core import MeterKind, Reading
from meterhub.timeseries.database import connect
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meters
from meterhub.timeseries.pgbinary import NULL, PG_EPOCH_US, build_rows, row_dtype
from meterhub.timeseries.rollup import process_dirty, rebuild
from meterhub.timeseries.values import encode_values

START = datetime(2026, 1, 1, tzinfo=UTC)
QUARTER_US = 15 * 60 * 1_000_000
READINGS_DTYPE = row_dtype(  # values as the ingest stores them (timeseries/values.py)
    ["int4", "timestamptz", "int8", "int2", NULL, "int2", "int2"],
    ["sid", "ts", "value_int", "value_scale", "value_float", "quality", "source"],
)
COPY_READINGS = (
    "COPY readings (series_id, ts, value_int, value_scale, value_float, quality, source) "
    "FROM STDIN (FORMAT BINARY)"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meters", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=31)
    args = ap.parse_args()
    n_reads = args.days * 96 + 1
    rng = np.random.default_rng(1)
    with bench_database() as url, connect(url) as conn:
        print(
            f"PostgreSQL {server_version(url)}; {args.meters:,} meters × {n_reads:,} reads = "
            f"{args.meters * n_reads:,} readings"
        )
        ids = register_meters(
            conn,
            [
                MeterInfo(
                    MeterKind.ELECTRICITY, "ROL", str(i), registers=(RegisterInfo("energy_import_kwh"),)
                )
                for i in range(args.meters)
            ],
        )
        conn.commit()
        sids = np.array(sorted(r["energy_import_kwh"] for r in ids.values()), dtype=np.int32)
        end = START + timedelta(minutes=15 * (n_reads - 1))
        conn.execute("SELECT meterhub_ensure_partitions('readings', %s, %s)", (START, end))
        conn.commit()
        t = time.perf_counter()
        ts0 = int(START.timestamp()) * 1_000_000 - PG_EPOCH_US
        ts = ts0 + np.arange(n_reads, dtype=np.int64) * QUARTER_US
        for lo in range(0, len(sids), 500):
            chunk = sids[lo : lo + 500]
            inc = rng.gamma(0.6, 0.05, size=(len(chunk), n_reads - 1))
            vals = np.round(
                np.concatenate((np.full((len(chunk), 1), 1000.0), 1000.0 + np.cumsum(inc, 1)), 1), 2
            )
            value_int, value_scale, exact = encode_values(vals.ravel(), np.int16(3))
            assert exact.all()
            payload = build_rows(
                READINGS_DTYPE,
                {
                    "sid": np.repeat(chunk, n_reads),
                    "ts": np.tile(ts, len(chunk)),
                    "value_int": value_int,
                    "value_scale": value_scale,
                    "quality": 0,
                    "source": 0,
                },
            )
            with conn.cursor() as cur, cur.copy(COPY_READINGS) as cp:
                cp.write(payload)
            conn.commit()
        conn.execute("TRUNCATE series_dirty, series_dirty_log")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE readings")
        total = args.meters * n_reads
        print(f"setup: loaded {total:,} readings in {time.perf_counter() - t:.1f} s (raw COPY, not measured)")

        conn.autocommit = True
        t = time.perf_counter()
        conn.execute("CREATE UNLOGGED TABLE baseline_hourly (series_id int, hour timestamptz, volume float8)")
        conn.execute("""
            INSERT INTO baseline_hourly
            SELECT series_id, date_bin('1 hour', ts, 'epoch'), sum(d)
            FROM (SELECT series_id, ts, value - lag(value) OVER (PARTITION BY series_id ORDER BY ts) AS d
                  FROM reading_values) x
            WHERE d IS NOT NULL GROUP BY 1, 2
        """)
        base_t = time.perf_counter() - t
        base_rows = conn.execute("SELECT count(*) FROM baseline_hourly").fetchone()[0]
        conn.autocommit = False

        rss_before = peak_rss_mb()
        t = time.perf_counter()
        stats = rebuild(conn)
        build_t = time.perf_counter() - t
        rss_build = peak_rss_mb()

        # one late batch: a reading at hh:07 on day 15 for every meter (between two stored reads)
        late_ts = START + timedelta(days=15, minutes=7)
        k = 15 * 96
        late = [Reading(f"ROL-{i}", "energy_import_kwh", late_ts, 0.0) for i in range(args.meters)]
        vals = dict(
            conn.execute(
                "SELECT series_id, value FROM reading_values WHERE ts = %s",
                (START + timedelta(minutes=15 * k),),
            ).fetchall()
        )
        late = [
            Reading(r.meter_id, r.register, r.ts, vals[ids[r.meter_id]["energy_import_kwh"]]) for r in late
        ]
        t = time.perf_counter()
        res = ReadingWriter(conn, clock=lambda: end + timedelta(days=1)).write(late)
        conn.commit()
        write_t = time.perf_counter() - t
        t = time.perf_counter()
        inc = process_dirty(conn)
        inc_t = time.perf_counter() - t
        assert res.inserted == args.meters and inc.series == args.meters

        print(
            table(
                [
                    (
                        "SQL lag+date_bin rollup (baseline, no VEE)",
                        f"{total:,}",
                        f"{base_rows:,}",
                        f"{base_t:.1f}",
                        f"{total / base_t:,.0f}",
                        "1.00",
                    ),
                    (
                        "rebuild: VEE + interpolated hourly series",
                        f"{stats.readings:,}",
                        f"{stats.hours_written:,}",
                        f"{build_t:.1f}",
                        f"{stats.readings / build_t:,.0f}",
                        f"{base_t / build_t:.2f}",
                    ),
                    (
                        "late batch: write_readings",
                        f"{len(late):,}",
                        "-",
                        f"{write_t:.2f}",
                        f"{len(late) / write_t:,.0f}",
                        "-",
                    ),
                    (
                        "late batch: process_dirty (backfill)",
                        f"{inc.readings:,}",
                        f"{inc.hours_written:,}",
                        f"{inc_t:.2f}",
                        f"{inc.readings / inc_t:,.0f}",
                        "-",
                    ),
                ],
                ("step", "readings", "hours written", "s", "readings/s", "vs baseline"),
            )
        )
        print(
            f"peak RSS: {rss_before:,.0f} MB before the rebuild (data generation), "
            f"{rss_build:,.0f} MB after it; the late batch re-read {inc.readings / args.meters:.1f} "
            f"readings per meter instead of {n_reads:,}"
        )


if __name__ == "__main__":
    main()
