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
register's resolution with carried rounding instead of micro-units), each compressed and vacuumed the
same way.

Two data sets of the same counters (``--data``): ``aligned`` reads every meter exactly on every quarter
hour; ``realistic`` reads them when the gateway's poller would (``read_times``: aligned slots plus a
fixed per-device offset, the RS-485 bus queue and the read's duration, start-up reads, failed reads;
15-minute, hourly and daily meters), stamped at whole seconds as the gateway stamps them
(``gateway.stamping.read_stamp_us``); ``realistic-us`` is the same with the microsecond stamps of the
gateway before that, and its readings are also copied with their read times truncated
(``READINGS_VARIANTS``).
A second table gives the compressed columns' bytes per row by class of series (``column_bytes``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.timescaledb_server

from _db import bench_database, server_version, table

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.collectors.modbus.codec import shortest_float32
from meterhub.gateway.schedule import jitter_for, slot_at_or_after
from meterhub.gateway.stamping import read_stamp_us
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


def true_counters(meters: int, n_reads: int, rng: np.random.Generator) -> list[np.ndarray]:
    """What each meter has counted at each quarter hour, before the register's resolution: even
    meters electricity [kWh] (~0.05 kWh a quarter hour), odd ones water [litres] (idle at night)."""
    shape = profile(n_reads - 1)
    out = []
    for i in range(meters):
        if i % 2 == 0:
            inc = rng.gamma(2.0, 0.025, n_reads - 1) * shape
            start = rng.uniform(1_000, 40_000)
            out.append(np.concatenate(([start], start + np.cumsum(inc))))
        else:
            litres = rng.poisson(6 * shape * (shape > 0.5))
            start = rng.integers(10_000, 900_000)
            out.append(np.concatenate(([start], start + np.cumsum(litres))).astype(np.float64))
    return out


def register_values(i: int, counted: np.ndarray) -> np.ndarray:
    """Register values as the collectors deliver them: electricity counts Wh and reports float32 kWh
    (the shortest decimal that reads back as the same float32), water counts whole litres [m³]."""
    if i % 2 == 0:
        wh = np.round(counted, 3)
        values = np.array([shortest_float32(float(x)) for x in wh.astype(np.float32)])
    else:
        values = np.floor(counted + 1e-9) / 1000.0
    return np.round(values, 6)


def generate(meters: int, n_reads: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Cumulative register values per meter read exactly on every quarter hour."""
    return [register_values(i, c) for i, c in enumerate(true_counters(meters, n_reads, rng))]


# Realistic read times, as the gateway's poller makes them (src/meterhub/gateway/): each device is read
# at its aligned slot (local midnight, then every interval; schedule.slot_at_or_after) plus a fixed
# offset in [0, 30 s) from a hash of "<gateway>/<device>" (schedule.jitter_for, max_jitter's default);
# devices on one RS-485 line share its bus lock, so a read waits for the one before it; ``ts`` is the
# poller's clock after the device's last request (collectors/modbus/poller.py). Every gateway starts
# (and restarts once, mid-month) at an arbitrary instant and reads every device at once
# (read_on_start), and a few reads fail (the next read carries the consumption).
GATEWAY_ZONE = ZoneInfo("Europe/Moscow")
METERS_PER_LINE = 16
LINES_PER_GATEWAY = 4
MAX_JITTER = timedelta(seconds=30)
# read interval by kind (electricity, water) and (meter index // 2) % 4: mostly 15 min for electricity,
# hourly for water pulse counters, a quarter of the water meters read once a day (M-Bus)
INTERVALS = (
    (timedelta(minutes=15), timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=1)),
    (timedelta(hours=1), timedelta(hours=1), timedelta(minutes=15), timedelta(days=1)),
)
READ_SECONDS = (0.12, 0.5, 0.03, 2.0)  # a device's read: lognormal median, sigma, clipped to [lo, hi]
WAKE_SECONDS = 0.005  # the event loop's wake-up after sleep_until: uniform [0, 5 ms)
FAILED_READS = 0.002


def _us(t: datetime) -> int:
    return int(t.timestamp()) * 1_000_000 + t.microsecond


def read_times(meters: int, n_reads: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Each meter's read instants [µs since the Unix epoch, UTC] over the quarter-hour grid's span."""
    start_us, end_us = _us(START), _us(START) + (n_reads - 1) * QUARTER_US
    stop = end_us - 5 * 60 * 1_000_000  # no read after the grid's end
    per_line = METERS_PER_LINE
    out: list[np.ndarray] = [np.empty(0, np.int64)] * meters
    for line0 in range(0, meters, per_line):
        gateway = line0 // (per_line * LINES_PER_GATEWAY)
        g_rng = np.random.default_rng([11, gateway])  # one gateway's start and restart, for all its lines
        boot = start_us + int(g_rng.uniform(0, 600) * 1e6)
        restart = start_us + int(g_rng.uniform(0.3, 0.7) * (end_us - start_us))
        due_parts, dev_parts = [], []
        devices = list(range(line0, min(line0 + per_line, meters)))
        for d, i in enumerate(devices):
            interval = INTERVALS[i % 2][(i // 2) % 4]
            jitter = _us_delta(jitter_for(f"gw-{gateway}/meter-{i}", MAX_JITTER, interval))
            first, _ = slot_at_or_after(datetime.fromtimestamp(boot / 1e6, UTC), interval, GATEWAY_ZONE)
            step = _us_delta(interval)
            slots = np.arange(_us(first), stop, step, dtype=np.int64) + jitter
            slots = slots[slots > boot]
            slots = slots[rng.random(len(slots)) >= FAILED_READS]
            due = np.sort(np.concatenate(([boot, restart], slots)))
            due_parts.append(due)
            dev_parts.append(np.full(len(due), d))
        due = np.concatenate(due_parts)
        dev = np.concatenate(dev_parts)
        order = np.argsort(due, kind="stable")
        due, dev = due[order], dev[order]
        median, sigma, lo, hi = READ_SECONDS
        took = (np.clip(rng.lognormal(np.log(median), sigma, len(due)), lo, hi) * 1e6).astype(np.int64)
        wake = (rng.uniform(0, WAKE_SECONDS, len(due)) * 1e6).astype(np.int64)
        ts = np.empty(len(due), np.int64)
        free = 0
        for k, (at, dur) in enumerate(zip((due + wake).tolist(), took.tolist(), strict=True)):
            free = max(at, free) + dur  # the bus lock: one read at a time on the line
            ts[k] = free
        for d, i in enumerate(devices):
            out[i] = ts[dev == d]
    return out


def _us_delta(td: timedelta) -> int:
    return td // timedelta(microseconds=1)


def generate_realistic(
    meters: int, n_reads: int, rng: np.random.Generator, *, whole_seconds: bool = True
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The same counters as ``generate`` (same seed), read at the poller's read times: (times [µs since
    the Unix epoch], register values) per meter; the register's value at a read is what it had
    counted then (linear between the quarter hours), at its resolution.

    ``whole_seconds``: stamped as the gateway stamps them (``gateway.stamping.read_stamp_us``, the floor
    of the read's moment; of two reads of a meter in one second the later value is kept, as
    ``SecondGuard`` does); else in microseconds (the gateway before whole seconds)."""
    counted = true_counters(meters, n_reads, rng)
    times = read_times(meters, n_reads, rng)
    grid = np.arange(n_reads, dtype=np.float64)
    out_times, values = [], []
    for i, (c, t) in enumerate(zip(counted, times, strict=True)):
        at = (t - _us(START)) / QUARTER_US
        v = register_values(i, np.interp(at, grid, c))
        if whole_seconds:
            t = read_stamp_us(t)
            later = np.append(t[1:] != t[:-1], True)  # the last read of each second (t is sorted)
            t, v = t[later], v[later]
        out_times.append(t)
        values.append(v)
    return out_times, values


DOUBLES_DTYPE = row_dtype(  # before migration 0012: every value a double
    ["int4", "timestamptz", NULL, "int2", "float8", "int2", "int2"],
    ["sid", "ts", "value_int", "value_scale", "value_float", "quality", "source"],
)
ENCODINGS = {"register": 3, "micro": 6, "double": None}  # decimals of value_int; None: value_float


Series = list[tuple[np.ndarray, np.ndarray]]  # per meter: (read times [µs since the Unix epoch], values)


def aligned_series(values: list[np.ndarray], n_reads: int) -> Series:
    ts = _us(START) + np.arange(n_reads, dtype=np.int64) * QUARTER_US
    return [(ts, v) for v in values]


def load(url: str, series: Series, encoding: str = "register") -> float:
    """Meters, registers and readings by binary COPY, then the hourly series; returns load seconds."""
    meters = len(series)
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
        first = min(int(ts[0]) for ts, _ in series)
        last = max(int(ts[-1]) for ts, _ in series)
        for t_ in SERIES_TABLES:
            conn.execute(
                "SELECT meterhub_ensure_partitions(%s, %s, %s)",
                (t_, datetime.fromtimestamp(first / 1e6, UTC), datetime.fromtimestamp(last / 1e6, UTC)),
            )
        conn.commit()
        pg_offset = -PG_EPOCH_US  # µs since the Unix epoch → since PostgreSQL's
        for lo in range(0, meters, 50):
            block = range(lo, min(lo + 50, meters))
            vals = np.concatenate([series[i][1] for i in block])
            columns = {
                "sid": np.repeat(
                    np.array([sids[f"BEN-{i}"] for i in block], np.int32), [len(series[i][0]) for i in block]
                ),
                "ts": np.concatenate([series[i][0] for i in block]) + pg_offset,
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
        "sum(volume_micro) OVER w",
    ),
    (
        "volumes at the register's resolution [10^-3 unit] with carried rounding",
        "40 days",
        "volume bigint",
        # hour = round(cum at its end) - round(cum at its start): spans still add up exactly
        "(round(sum(volume_micro) OVER w / 1000.0)"
        " - round((sum(volume_micro) OVER w - volume_micro) / 1000.0))::bigint",
    ),
]


# readings copied into scratch hypertables with their read times at a coarser resolution (what-if:
# the ingest would store ts truncated), 10-day chunks, segmented and ordered as readings
READINGS_VARIANTS = [
    ("read times truncated to the millisecond", "milliseconds"),
    ("… to the second", "second"),
]


def measure_readings_variants(conn, where: str, data: str) -> list[tuple]:
    """Each READINGS_VARIANTS copy of readings: B/row compressed, and after vacuum-compressed."""
    out = []
    for i, (label, unit) in enumerate(READINGS_VARIANTS):
        name = f"readings_variant_{i}"
        conn.execute(f"CREATE TABLE {name} (LIKE readings INCLUDING DEFAULTS, PRIMARY KEY (series_id, ts))")
        conn.execute(
            "SELECT create_hypertable(%s::regclass, 'ts', chunk_time_interval => interval '10 days')", (name,)
        )
        conn.execute(
            f"ALTER TABLE {name} SET (timescaledb.compress, timescaledb.compress_segmentby = 'series_id', "
            "timescaledb.compress_orderby = 'ts')"
        )
        conn.execute(
            f"INSERT INTO {name} (series_id, ts, value_int, value_scale, value_float, quality, source) "
            f"SELECT series_id, date_trunc('{unit}', ts), value_int, value_scale, value_float, quality, "
            "source FROM readings ORDER BY series_id, ts ON CONFLICT DO NOTHING"
        )
        rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks(%s) c", (name,))
        _, compressed = rows_and_bytes(conn, name, True)
        vacuum_compressed_chunks(conn)
        _, vacuumed = rows_and_bytes(conn, name, True)
        label = f"{where}, readings copy: {label}, 10 days chunks"
        out.append((data, f"{label}, compressed", "readings", rows, compressed / rows, 0.0))
        out.append((data, f"{label}, + vacuum-compressed", "readings", rows, vacuumed / rows, 0.0))
        conn.execute(f"DROP TABLE {name}")
    return out


def measure_hourly_variants(conn, where: str, data: str) -> list[tuple]:
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
            "WINDOW w AS (PARTITION BY series_id ORDER BY hour) ORDER BY series_id, hour"
        )
        conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks(%s) c", (name,))
        _, compressed = rows_and_bytes(conn, name, True)
        vacuum_compressed_chunks(conn)
        _, vacuumed = rows_and_bytes(conn, name, True)
        label = f"{where}, hourly copy: {label}, {interval} chunks"
        out.append((data, f"{label}, compressed", "hourly_consumption", rows, compressed / rows, 0.0))
        out.append((data, f"{label}, + vacuum-compressed", "hourly_consumption", rows, vacuumed / rows, 0.0))
        conn.execute(f"DROP TABLE {name}")
    return out


COLUMNS = {  # compressed columns besides the segment (series_id)
    "readings": ("ts", "value_int", "value_scale", "value_float", "quality", "source"),
    "hourly_consumption": ("hour", "volume_micro", "quality"),
}


def series_class(data: str, meter: int) -> str:
    """What a meter is and how often it is read, for the per-class breakdown."""
    kind = ("electricity", "water")[meter % 2]
    interval = timedelta(minutes=15) if data == "aligned" else INTERVALS[meter % 2][(meter // 2) % 4]
    return f"{kind} every {_interval(interval)}"


def column_bytes(conn, name: str, data: str) -> list[tuple]:
    """Bytes per row of each compressed column (``pg_column_size`` of the compressed batches) by class
    of series: what the values, the timestamps and the rest cost, before the pages around them."""
    meter_of = {
        sid: int(mid.removeprefix("BEN-"))
        for mid, sid in conn.execute("SELECT meter_id, series_id FROM meter_registers").fetchall()
    }
    cols = COLUMNS[name]
    chunks = conn.execute(
        "SELECT format('%%I.%%I', cc.schema_name, cc.table_name) FROM _timescaledb_catalog.chunk c "
        "JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id "
        "JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id "
        "WHERE h.table_name = %s AND NOT c.dropped",
        (name,),
    ).fetchall()
    sums: dict[str, np.ndarray] = {}
    for (chunk,) in chunks:
        sizes = ", ".join(f"coalesce(sum(pg_column_size({c})), 0)" for c in cols)
        for sid, batches, rows, *per_col in conn.execute(
            f"SELECT series_id, count(*), sum(_ts_meta_count), {sizes} FROM {chunk} GROUP BY series_id"
        ).fetchall():
            key = series_class(data, meter_of[sid])
            acc = sums.setdefault(key, np.zeros(2 + len(cols)))
            acc += np.array([batches, rows, *per_col], dtype=np.float64)
    out = []
    for key, acc in sorted(sums.items()):
        batches, rows, *per_col = acc
        b = dict(zip(cols, (x / rows for x in per_col), strict=True))
        time_col, value_col = cols[:2]
        other = b.get("value_scale", 0) + b.get("value_float", 0) + b["quality"] + b.get("source", 0)
        out.append(
            (data, name, key, int(rows), rows / batches, b[time_col], b[value_col], other, sum(b.values()))
        )
    return out


def measure_postgres(series: Series, data: str) -> list[tuple]:
    with bench_database() as url:
        secs = load(url, series)
        with connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE readings")
            conn.execute("VACUUM ANALYZE hourly_consumption")
            out = []
            for name in SERIES_TABLES:
                rows, size = rows_and_bytes(conn, name, False)
                where = f"PostgreSQL {server_version(url)}, monthly partitions"
                out.append((data, where, name, rows, size / rows, secs))
    return out


def measure_timescaledb(
    series: Series,
    data: str,
    label: str,
    settings: dict[str, tuple[str, str, str]] | None,
    encoding: str = "register",
    hourly_variants: bool = False,
    breakdown: list[tuple] | None = None,
) -> list[tuple]:
    """One fresh TimescaleDB server, migrated; ``settings`` overrides table → (chunk interval,
    segmentby, orderby) before loading (None: as the migrations leave it); ``encoding`` of the values:
    ENCODINGS; ``hourly_variants``: also measure HOURLY_VARIANTS; ``breakdown``: append the compressed
    columns' bytes per row by class of series (``column_bytes``)."""
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
        secs = load(url, series, encoding)
        out = []
        with connect(url, autocommit=True) as conn:
            for name in SERIES_TABLES:
                rows, before = rows_and_bytes(conn, name, True)
                t = time.perf_counter()
                conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks(%s) c", (name,))
                comp_t = time.perf_counter() - t
                if breakdown is not None:
                    breakdown += column_bytes(conn, name, data)
                _, after = rows_and_bytes(conn, name, True)
                where = f"TimescaleDB, {label}: {intervals[name]} chunks"
                out.append((data, f"{where}, uncompressed", name, rows, before / rows, secs))
                out.append((data, f"{where}, compressed", name, rows, after / rows, comp_t))
            vacuum_compressed_chunks(conn)
            for name in SERIES_TABLES:
                rows, vacuumed = rows_and_bytes(conn, name, True)
                where = f"TimescaleDB, {label}: {intervals[name]} chunks"
                out.append((data, f"{where}, + vacuum-compressed", name, rows, vacuumed / rows, 0.0))
            if hourly_variants:
                out += measure_hourly_variants(conn, "TimescaleDB", data)
                if data == "realistic-us":  # the others are at whole seconds already
                    out += measure_readings_variants(conn, "TimescaleDB", data)
    return out


def describe(data: str, series: Series) -> str:
    reads = sum(len(ts) for ts, _ in series)
    if data == "aligned":
        return f"aligned: every meter read exactly on every quarter hour, {reads:,} readings"
    mix = {}
    for i in range(len(series)):
        key = ("electricity", "water")[i % 2], INTERVALS[i % 2][(i // 2) % 4]
        mix[key] = mix.get(key, 0) + 1
    kinds = ", ".join(f"{n} {kind} every {_interval(iv)}" for (kind, iv), n in sorted(mix.items()))
    off = np.concatenate([(ts % 1_000_000) for ts, _ in series])
    return (
        f"{data}: read times as the gateway's poller reads ({kinds}; slot + a fixed per-device "
        f"offset < {MAX_JITTER.seconds} s + bus queue + read {READ_SECONDS[0] * 1000:.0f} ms median; "
        f"boot and one restart per gateway read at once; {FAILED_READS:.1%} failed reads), {reads:,} "
        f"readings, {np.count_nonzero(off):,} of them off the whole second"
    )


def _interval(iv: timedelta) -> str:
    if iv.days:
        return f"{iv.days} d"
    return f"{iv.seconds // 3600} h" if iv.seconds >= 3600 else f"{iv.seconds // 60} min"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meters", type=int, default=400)
    ap.add_argument("--days", type=int, default=35)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--only-migrated", action="store_true", help="TimescaleDB: skip the value variants")
    ap.add_argument(
        "--data",
        default="aligned,realistic",
        help="aligned (quarter-hour reads), realistic (read times as the gateway stamps them: whole "
        "seconds, mixed intervals), realistic-us (the same read times in microseconds, as the gateway "
        "stamped them before, with the truncation what-ifs), comma-separated",
    )
    args = ap.parse_args()
    n_reads = args.days * 96 + 1
    datasets: dict[str, Series] = {}
    for data in args.data.split(","):
        if data == "aligned":
            datasets[data] = aligned_series(generate(args.meters, n_reads, np.random.default_rng(7)), n_reads)
        elif data in ("realistic", "realistic-us"):
            times, values = generate_realistic(
                args.meters, n_reads, np.random.default_rng(7), whole_seconds=data == "realistic"
            )
            datasets[data] = list(zip(times, values, strict=True))
        else:
            ap.error(f"--data: unknown {data!r} (aligned, realistic, realistic-us)")
    print(
        f"{args.meters} meters (half electricity float32 kWh, half water litres), {args.days} days, "
        f"the same counters in each data set:"
    )
    for data, series in datasets.items():
        print(f"  {describe(data, series)}")
    load0 = os.getloadavg()
    cpu0 = time.process_time()
    results: list[tuple] = []
    breakdown: list[tuple] = []
    for data, series in datasets.items():
        if not args.skip_postgres:
            results += measure_postgres(series, data)
        variants = [
            ("as migrated (values at the register's 3 decimals)", None, "register"),
            ("values at a fixed micro scale", None, "micro"),
            ("values as doubles (before 0012)", None, "double"),
        ]
        if args.only_migrated:
            variants = variants[:1]
        for i, (label, settings, encoding) in enumerate(variants):
            results += measure_timescaledb(
                series,
                data,
                label,
                settings,
                encoding,
                hourly_variants=i == 0,
                breakdown=breakdown if i == 0 else None,
            )
    base = {(data, name): per for data, where, name, _, per, _ in results if where.startswith("PostgreSQL")}
    print(
        f"load average (1, 5, 15 min) at the start {load0}, at the end {os.getloadavg()}; "
        f"this process's CPU {time.process_time() - cpu0:.0f} s"
    )
    print(
        table(
            [
                (
                    data,
                    where,
                    name,
                    f"{rows:,}",
                    f"{per:.2f}",
                    f"{base[data, name] / per:.1f}x" if (data, name) in base else "",
                    f"{secs:.1f}",
                )
                for data, where, name, rows, per, secs in results
            ],
            ("data", "storage", "table", "rows", "B/row", "vs PostgreSQL", "load or compress s"),
        )
    )
    print("\nTimescaleDB as migrated, compressed columns by class of series (pg_column_size per row):")
    print(
        table(
            [
                (data, name, key, f"{rows:,}", f"{per_batch:.0f}", *(f"{b:.2f}" for b in cols))
                for data, name, key, rows, per_batch, *cols in breakdown
            ],
            (
                "data",
                "table",
                "series",
                "rows",
                "rows/batch",
                "ts or hour",
                "value",
                "scale, quality, source",
                "all",
            ),
        )
    )


if __name__ == "__main__":
    main()
