"""What the close's change marker costs readings ingest (the trigger on ``series_dirty_log``, migration 0103).

    .venv/bin/python benchmarks/bench_close_marker.py [--buildings 20] [--meters 350] [--batches 600]

Each simulated ingest batch is what ``write_readings`` does for one gateway message: a binary COPY of one
reading per meter of a building into ``readings`` and one ``series_dirty_log`` row naming the batch's
series; ten batches per transaction (one MQTT commit group). Three runs over the same data:

* baseline — the billing trigger disabled (what ingest cost before the marker);
* live — the trigger on, readings of the open month (after every building's horizon): nothing logged;
* late — the trigger on, readings behind the horizon (late data of a closed month): one
  ``billing_input_changes`` row per building and transaction.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, server_version, table

from meterhub.timeseries.database import connect

SETUP = [
    """INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method)
       SELECT 'M' || b, 'x', 'Europe/Moscow', 1000, 100, 'hoa' FROM generate_series(1, %(b)s) b""",
    """INSERT INTO premises (building_id, premise_no, area)
       SELECT 'M' || b, p::text, 50 FROM generate_series(1, %(b)s) b, generate_series(1, %(m)s) p""",
    """INSERT INTO meters (meter_id, kind, manufacturer, serial, building_id)
       SELECT 'W-' || b || '-' || p, 'cold_water', 'BEN', b || '-' || p, 'M' || b
       FROM generate_series(1, %(b)s) b, generate_series(1, %(m)s) p""",
    """INSERT INTO meter_registers (meter_id, register, unit, cumulative)
       SELECT meter_id, 'water_m3', 'm3', true FROM meters""",
    """INSERT INTO meter_links (meter_id, valid_from, building_id, premise_no, service)
       SELECT meter_id, DATE '2020-01-01', building_id, split_part(meter_id, '-', 3), 'cold_water'
       FROM meters""",
    # every building closed January: the horizon is Feb 1 00:00 Moscow + 1 h
    """INSERT INTO billing_change_horizon (building_id, watch_until)
       SELECT building_id, TIMESTAMPTZ '2026-02-01 01:00+03' FROM buildings""",
    "SELECT meterhub_ensure_partitions('readings', '2026-01-01', '2026-03-31')",
]


def _run(url: str, series: list[list[int]], batches: int, first: datetime) -> float:
    """``batches`` ingest batches round-robin over the buildings; 10 per transaction. Seconds."""
    started = time.perf_counter()
    with connect(url) as conn:
        for i in range(batches):
            sids = series[i % len(series)]
            ts = first + timedelta(minutes=i)
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY readings (series_id, ts, value_int, value_scale) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["int4", "timestamptz", "int8", "int2"])
                    for sid in sids:
                        copy.write_row((sid, ts, i * 1000, 3))  # the value i at the register's scale
                cur.execute(
                    "INSERT INTO series_dirty_log (series_ids, from_ts, to_ts) VALUES (%s, %s, %s)",
                    (sids, ts, ts),
                )
            if i % 10 == 9:
                conn.commit()
        conn.commit()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--buildings", type=int, default=20)
    ap.add_argument("--meters", type=int, default=350)
    ap.add_argument("--batches", type=int, default=600)
    args = ap.parse_args()
    with bench_database() as url:
        print(f"PostgreSQL {server_version(url)}; {args.buildings} buildings × {args.meters} meters")
        with connect(url) as conn:
            for sql in SETUP:
                conn.execute(sql, {"b": args.buildings, "m": args.meters})  # type: ignore[arg-type]
            conn.commit()
            rows = conn.execute(
                "SELECT array_agg(mr.series_id ORDER BY mr.series_id) FROM meter_registers mr "
                "JOIN meters m USING (meter_id) GROUP BY m.building_id ORDER BY m.building_id"
            ).fetchall()
            series = [r[0] for r in rows]
            conn.execute("ALTER TABLE series_dirty_log DISABLE TRIGGER billing_input_changes")
            conn.commit()
        n = args.batches
        base = _run(url, series, n, datetime(2026, 3, 1, tzinfo=UTC))
        with connect(url) as conn:
            conn.execute("ALTER TABLE series_dirty_log ENABLE TRIGGER billing_input_changes")
            conn.commit()
        live = _run(url, series, n, datetime(2026, 3, 10, tzinfo=UTC))
        late = _run(url, series, n, datetime(2026, 1, 10, tzinfo=UTC))
        with connect(url) as conn:
            logged = conn.execute("SELECT count(*) FROM billing_input_changes").fetchone()[0]
        readings = n * args.meters
        print(
            table(
                [
                    ("baseline (trigger disabled)", f"{base:.2f} s", f"{readings / base:,.0f}", "1.00"),
                    (
                        "live data (not logged)",
                        f"{live:.2f} s",
                        f"{readings / live:,.0f}",
                        f"{live / base:.2f}",
                    ),
                    (
                        f"late data ({logged:,} change rows)",
                        f"{late:.2f} s",
                        f"{readings / late:,.0f}",
                        f"{late / base:.2f}",
                    ),
                ],
                ("run", f"{n} batches", "readings/s", "× baseline"),
            )
        )


if __name__ == "__main__":
    main()
