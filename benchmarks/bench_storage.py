"""Storage per row of raw readings and of the hourly series, plain PostgreSQL and TimescaleDB, one run.

    .venv/bin/python benchmarks/bench_storage.py [--meters 400] [--days 35] [--skip-postgres]

The same generated month is stored on both storage paths: on plain PostgreSQL (the embedded server, or
``METERHUB_BENCH_DATABASE_URL``: monthly partitions) and on TimescaleDB (the PGlite test server of
``tests/timescaledb_server``, run ``npm install --prefix tests/timescaledb_server`` once), there with the
chunk intervals of the migrations and with alternatives, each on a fresh server. The data is shaped like
meter data at the registers' real resolution: 15-minute cumulative registers of electricity meters that
count Wh and report IEEE float32 kWh (as the SDM120 does), stored as the Modbus collector delivers them
(the shortest decimal that reads back as the same float32, ``shortest_float32``), with a daily load
profile, and of water pulse counters in litres (m³ with 3 decimals, idle at night); the hourly series
is built by meterhub's rollup (``rebuild``). Values are stored as the ingest stores them
(``timeseries/values.py``: scaled integers at the register's 3 decimals); the variants store them at a
fixed micro scale (6 decimals) and as doubles (before migration 0012). Bytes are whole relations: heap,
TOAST and indexes (the primary key), summed over partitions or chunks. Compressed sizes are printed as
``compress_chunk`` leaves them and after ``meterhub db vacuum-compressed`` (``vacuum_compressed_chunks``),
which gives back the empty pages the compression's bulk insert leaves at the end of each compressed chunk
on PostgreSQL 16+.

The hourly series is also copied, in the first TimescaleDB server, into scratch hypertables with other
settings (``HOURLY_VARIANTS``: chunk interval, a cumulative column instead of the volume, volumes at the
register's resolution instead of micro-units), each compressed and vacuumed the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.timescaledb_server

from _db import bench_database, server_version, table

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.collectors.modbus.codec import shortest_float32
from meterhub.timeseries.compressed_vacuum import vacuum_compressed_chunks
from meterhub.timeseries.database import connect
from meterhub.timeseries.migrate import migrate
from meterhub.timeseries.pgbinary import NULL, PG_EPOCH_US, build_rows, row_dtype
from meterhub.timeseries.rollup import rebuild
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
SERIES_TABLES = ("readings", "hourly_consumption")


def profile(n_reads: int) -> np.ndarray:
    """Relative load per 15 minutes over the day: low at night, peaks morning and evening."""
    hour = (np.arange(n_reads) % 96) / 4
    return 0.3 + np.exp(-((hour - 8) ** 2) / 4) + 1.4 * np.exp(-((hour - 20) ** 2) / 6)


def generate(meters: int, n_reads: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Cumulative register values per meter: even meters electricity [kWh], odd ones water [m³]."""
    shape = profile(n_reads - 1)
    out = []
    for i in range(meters):
        if i % 2 == 0:  # electricity: ~0.05 kWh a quarter hour; the meter counts Wh, reports float32 kWh
            inc = rng.gamma(2.0, 0.025, n_reads - 1) * shape
            start = rng.uniform(1_000, 40_000)
            wh = np.round(np.concatenate(([start], start + np.cumsum(inc))), 3)
            values = np.array([shortest_float32(float(x)) for x in wh.astype(np.float32)])
        else:  # water: whole litres, mostly idle at night
            litres = rng.poisson(6 * shape * (shape > 0.5))
            start = rng.integers(10_000, 900_000)
            values = np.concatenate(([start], start + np.cumsum(litres))) / 1000.0
        out.append(np.round(values, 6))
    return out


DOUBLES_DTYPE = row_dtype(  # before migration 0012: every value a double
    ["int4", "timestamptz", NULL, "int2", "float8", "int2", "int2"],
    ["sid", "ts", "value_int", "value_scale", "value_float", "quality", "source"],
)
ENCODINGS = {"register": 3, "micro": 6, "double": None}  # decimals of value_int; None: value_float


def load(url: str, values: list[np.ndarray], n_reads: int, encoding: str = "register") -> float:
    """Meters, registers and readings by binary COPY, then the hourly series; returns load seconds."""
    meters = len(values)
    t = time.perf_counter()
    with connect(url) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO meters (meter_id, kind, manufacturer, serial) VALUES (%s, %s, 'BEN', %s)",
                [(f"BEN-{i}", "cold_water" if i % 2 else "electricity", str(i)) for i in range(meters)],
            )
            cur.executemany(
                "INSERT INTO meter_registers (meter_id, register, unit, cumulative) "
                "VALUES (%s, %s, %s, true)",
                [
                    (f"BEN-{i}", *(("water_m3", "m3") if i % 2 else ("energy_import_kwh", "kWh")))
                    for i in range(meters)
                ],
            )
        sids = dict(conn.execute("SELECT meter_id, series_id FROM meter_registers").fetchall())
        end = START + timedelta(minutes=15 * (n_reads - 1))
        for t_ in SERIES_TABLES:
            conn.execute("SELECT meterhub_ensure_partitions(%s, %s, %s)", (t_, START, end))
        conn.commit()
        ts0 = int(START.timestamp()) * 1_000_000 - PG_EPOCH_US
        ts = ts0 + np.arange(n_reads, dtype=np.int64) * QUARTER_US
        for lo in range(0, meters, 50):
            block = range(lo, min(lo + 50, meters))
            vals = np.concatenate([values[i] for i in block])
            columns = {
                "sid": np.repeat(np.array([sids[f"BEN-{i}"] for i in block], np.int32), n_reads),
                "ts": np.tile(ts, len(block)),
                "quality": 0,
                "source": 0,
            }
            decimals = ENCODINGS[encoding]
            if decimals is None:
                payload = build_rows(DOUBLES_DTYPE, {**columns, "value_scale": 3, "value_float": vals})
            else:
                value_int, value_scale, exact = encode_values(vals, np.int16(decimals))
                assert exact.all()
                payload = build_rows(
                    READINGS_DTYPE, {**columns, "value_int": value_int, "value_scale": value_scale}
                )
            with conn.cursor() as cur, cur.copy(COPY_READINGS) as cp:
                cp.write(payload)
            conn.commit()
        rebuild(conn)
        conn.execute("TRUNCATE series_dirty, series_dirty_log")
        conn.commit()
    return time.perf_counter() - t


def rows_and_bytes(conn, name: str, timescaledb: bool) -> tuple[int, int]:
    rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    if timescaledb:
        size = conn.execute("SELECT hypertable_size(%s::regclass)", (name,)).fetchone()[0]
    else:
        size = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
            "WHERE inhparent = %s::regclass",
            (name,),
        ).fetchone()[0]
    return int(rows), int(size)


# hourly_consumption copied into scratch hypertables: (label, chunk interval, column, its value);
# every one segmented by series_id and ordered by hour, as the migrations set hourly_consumption
HOURLY_VARIANTS = [
    ("volumes [10^-6 unit]", "30 days", "volume_micro bigint", "volume_micro"),
    ("volumes [10^-6 unit]", "80 days", "volume_micro bigint", "volume_micro"),
    (
        "cumulative [10^-6 unit] instead of the volume",
        "40 days",
        "cum_micro bigint",
        "sum(volume_micro) OVER (PARTITION BY series_id ORDER BY hour)",
    ),
    (
        "volumes at the register's resolution [10^-3 unit], not meterhub's unit",
        "40 days",
        "volume bigint",
        "volume_micro / 1000",
    ),
]


def measure_hourly_variants(conn, where: str) -> list[tuple]:
    """Each HOURLY_VARIANTS copy of hourly_consumption: B/row compressed, and after vacuum-compressed."""
    rows = conn.execute("SELECT count(*) FROM hourly_consumption").fetchone()[0]
    out = []
    for i, (label, interval, column, expr) in enumerate(HOURLY_VARIANTS):
        name = f"hourly_variant_{i}"
        conn.execute(
            f"CREATE TABLE {name} (series_id integer NOT NULL, hour timestamptz NOT NULL, {column} NOT NULL, "
            "quality smallint NOT NULL, PRIMARY KEY (series_id, hour))"
        )
        conn.execute(
            "SELECT create_hypertable(%s::regclass, 'hour', chunk_time_interval => %s::interval)",
            (name, interval),
        )
        conn.execute(
            f"ALTER TABLE {name} SET (timescaledb.compress, timescaledb.compress_segmentby = 'series_id', "
            "timescaledb.compress_orderby = 'hour')"
        )
        conn.execute(
            f"INSERT INTO {name} SELECT series_id, hour, {expr}, quality FROM hourly_consumption "
            "ORDER BY series_id, hour"
        )
        conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks(%s) c", (name,))
        _, compressed = rows_and_bytes(conn, name, True)
        vacuum_compressed_chunks(conn)
        _, vacuumed = rows_and_bytes(conn, name, True)
        label = f"{where}, hourly copy: {label}, {interval} chunks"
        out.append((f"{label}, compressed", "hourly_consumption", rows, compressed / rows, 0.0))
        out.append((f"{label}, + vacuum-compressed", "hourly_consumption", rows, vacuumed / rows, 0.0))
        conn.execute(f"DROP TABLE {name}")
    return out


def measure_postgres(values: list[np.ndarray], n_reads: int) -> list[tuple]:
    with bench_database() as url:
        secs = load(url, values, n_reads)
        with connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE readings")
            conn.execute("VACUUM ANALYZE hourly_consumption")
            out = []
            for name in SERIES_TABLES:
                rows, size = rows_and_bytes(conn, name, False)
                where = f"PostgreSQL {server_version(url)}, monthly partitions"
                out.append((where, name, rows, size / rows, secs))
    return out


def measure_timescaledb(
    values: list[np.ndarray],
    n_reads: int,
    label: str,
    settings: dict[str, tuple[str, str, str]] | None,
    encoding: str = "register",
    hourly_variants: bool = False,
) -> list[tuple]:
    """One fresh TimescaleDB server, migrated; ``settings`` overrides table → (chunk interval,
    segmentby, orderby) before loading (None: as the migrations leave it); ``encoding`` of the values:
    ENCODINGS; ``hourly_variants``: also measure HOURLY_VARIANTS."""
    from tests.timescaledb_server.launcher import timescaledb_server

    with timescaledb_server() as url:
        with connect(url, autocommit=True) as conn:
            migrate(conn, MIGRATION_SOURCES)
            for name, (interval, segmentby, orderby) in (settings or {}).items():
                conn.execute("SELECT set_chunk_time_interval(%s::regclass, %s::interval)", (name, interval))
                conn.execute(
                    f"ALTER TABLE {name} SET (timescaledb.compress_segmentby = '{segmentby}', "
                    f"timescaledb.compress_orderby = '{orderby}')"
                )
            intervals = dict(
                conn.execute(
                    "SELECT hypertable_name, time_interval::text FROM timescaledb_information.dimensions"
                ).fetchall()
            )
        secs = load(url, values, n_reads, encoding)
        out = []
        with connect(url, autocommit=True) as conn:
            for name in SERIES_TABLES:
                rows, before = rows_and_bytes(conn, name, True)
                t = time.perf_counter()
                conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks(%s) c", (name,))
                comp_t = time.perf_counter() - t
                _, after = rows_and_bytes(conn, name, True)
                where = f"TimescaleDB, {label}: {intervals[name]} chunks"
                out.append((f"{where}, uncompressed", name, rows, before / rows, secs))
                out.append((f"{where}, compressed", name, rows, after / rows, comp_t))
            vacuum_compressed_chunks(conn)
            for name in SERIES_TABLES:
                rows, vacuumed = rows_and_bytes(conn, name, True)
                where = f"TimescaleDB, {label}: {intervals[name]} chunks"
                out.append((f"{where}, + vacuum-compressed", name, rows, vacuumed / rows, 0.0))
            if hourly_variants:
                out += measure_hourly_variants(conn, "TimescaleDB")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meters", type=int, default=400)
    ap.add_argument("--days", type=int, default=35)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--only-migrated", action="store_true", help="TimescaleDB: skip the value variants")
    args = ap.parse_args()
    n_reads = args.days * 96 + 1
    values = generate(args.meters, n_reads, np.random.default_rng(7))
    print(
        f"{args.meters} meters (half electricity float32 kWh, half water litres) × {n_reads:,} quarter-hour "
        f"reads = {args.meters * n_reads:,} readings, {args.meters * (n_reads - 1) // 4:,} hours"
    )
    load0 = os.getloadavg()
    results: list[tuple] = []
    if not args.skip_postgres:
        results += measure_postgres(values, n_reads)
    variants = [
        ("as migrated (values at the register's 3 decimals)", None, "register"),
        ("values at a fixed micro scale", None, "micro"),
        ("values as doubles (before 0012)", None, "double"),
    ]
    if args.only_migrated:
        variants = variants[:1]
    for i, (label, settings, encoding) in enumerate(variants):
        results += measure_timescaledb(values, n_reads, label, settings, encoding, hourly_variants=i == 0)
    base = {name: per for where, name, _, per, _ in results if where.startswith("PostgreSQL")}
    print(f"load average (1, 5, 15 min) at the start {load0}, at the end {os.getloadavg()}")
    print(
        table(
            [
                (
                    where,
                    name,
                    f"{rows:,}",
                    f"{per:.2f}",
                    f"{base[name] / per:.1f}x" if name in base else "",
                    f"{secs:.1f}",
                )
                for where, name, rows, per, secs in results
            ],
            ("storage", "table", "rows", "B/row", "vs PostgreSQL", "load or compress s"),
        )
    )


if __name__ == "__main__":
    main()
