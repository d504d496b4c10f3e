"""Benchmark database: a fresh, migrated database on the embedded PostgreSQL or on
``METERHUB_BENCH_DATABASE_URL`` (e.g. postgresql://postgres@127.0.0.1:5432/postgres), or with
``METERHUB_BENCH_STORAGE=timescaledb`` on a fresh TimescaleDB test server (tests/timescaledb_server:
PGlite with TimescaleDB, one connection at a time; ``npm install --prefix tests/timescaledb_server``)."""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.timeseries.database import connect, embedded_postgres, with_database
from meterhub.timeseries.migrate import migrate
from meterhub.timeseries.values import encode_value


def bench_timescaledb() -> bool:
    return os.environ.get("METERHUB_BENCH_STORAGE", "").lower() == "timescaledb"


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    if bench_timescaledb():
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.timescaledb_server.launcher import timescaledb_server

        with timescaledb_server() as url:
            with connect(url) as conn:
                migrate(conn, MIGRATION_SOURCES)
            yield url
        return
    server = os.environ.get("METERHUB_BENCH_DATABASE_URL")
    with contextlib.ExitStack() as stack:
        if not server:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="meterhub-bench-"))
            server = stack.enter_context(embedded_postgres(Path(tmp)))
        name = f"mh_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(server, name)
        try:
            with connect(url) as conn:
                migrate(conn, MIGRATION_SOURCES)
            yield url
        finally:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raw_copy_readings(conn: psycopg.Connection, rows: list[tuple], batch: int = 50_000) -> float:
    """The baseline: binary COPY of (series_id, ts, value, quality, source) rows, a commit per batch,
    each value already in its stored form (``timeseries/values.py``, the register scale 3; encoded
    before the clock starts).

    Returns the seconds taken.
    """
    stored = [(sid, ts, *encode_value(v, 3), q, src) for sid, ts, v, q, src in rows]
    t = time.perf_counter()
    for i in range(0, len(stored), batch):
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY readings (series_id, ts, value_int, value_scale, value_float, quality, source) "
                "FROM STDIN (FORMAT BINARY)"
            ) as cp,
        ):
            cp.set_types(["int4", "timestamptz", "int8", "int2", "float8", "int2", "int2"])
            for row in stored[i : i + batch]:
                cp.write_row(row)
        conn.commit()
    return time.perf_counter() - t


def server_version(url: str) -> str:
    with connect(url) as c:
        return c.execute("SHOW server_version").fetchone()[0]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(rows: list[tuple], header: tuple[str, ...]) -> str:
    cells = [header, *[tuple(str(c) for c in r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])
