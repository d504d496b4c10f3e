"""Benchmark database: a fresh, migrated database on the embedded PostgreSQL or on
``METERHUB_BENCH_DATABASE_URL`` (e.g. postgresql://postgres@127.0.0.1:5432/postgres), or with
``METERHUB_BENCH_STORAGE=timescaledb`` on a fresh TimescaleDB test server (tests/timescaledb_server:
PGlite with TimescaleDB, one connection at a time; ``npm install --prefix tests/timescaledb_server``).

On a lasting server (``METERHUB_BENCH_DATABASE_URL``) a benchmark whose set-up is long can keep the data it
generated as a template database (``template_database``) and start each later run from a copy of it
(``bench_database(template=…)``); the copy is migrated, so a template made by an older tree still serves."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.timeseries.database import connect, embedded_postgres, with_database
from meterhub.timeseries.migrate import migrate
from meterhub.timeseries.values import encode_value


def bench_timescaledb() -> bool:
    return os.environ.get("METERHUB_BENCH_STORAGE", "").lower() == "timescaledb"


def template_database(server: str, name: str, key: str, build: Callable[[str], dict]) -> dict:
    """Make sure database ``name`` on ``server`` holds what ``build(url)`` generates for ``key``.

    ``build`` runs on a fresh migrated database and returns facts to keep (JSON); they are stored with
    ``key`` as the database's comment, and a later call with the same key returns them without building.
    A build that fails leaves no comment, so the next call builds again.
    """
    with psycopg.connect(server, autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if row is not None and row[0]:
            kept = json.loads(row[0])
            if kept.get("key") == key:
                return {**kept["facts"], "built_now": False}
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    with connect(url) as conn:
        migrate(conn, MIGRATION_SOURCES)
    facts = build(url)
    comment = json.dumps({"key": key, "facts": facts})
    with psycopg.connect(server, autocommit=True) as admin:
        comment_sql = sql.SQL("COMMENT ON DATABASE {} IS {}")
        admin.execute(comment_sql.format(sql.Identifier(name), sql.Literal(comment)))
    return {**facts, "built_now": True}


@contextlib.contextmanager
def bench_database(template: str | None = None) -> Iterator[str]:
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
            if template is None:
                admin.execute(f'CREATE DATABASE "{name}"')
            else:  # a file copy: WAL_LOG (the default since 15) would write the whole template to the WAL
                strategy = " STRATEGY FILE_COPY" if admin.info.server_version >= 150000 else ""
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}" + strategy).format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
        url = with_database(server, name)
        try:
            if template is not None:
                _cache_as_if_generated(server, template, name)
            with connect(url) as conn:
                migrate(conn, MIGRATION_SOURCES)
            yield url
        finally:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cache_as_if_generated(server: str, template: str, copy: str) -> None:
    """Leave the OS page cache as a freshly generated database would: the copy's files read in, the
    template's dropped (``POSIX_FADV_DONTNEED``). Otherwise the two copies of a 10 GB city compete for
    the cache of a 24 GB machine and the close reads from disk what a generated city has in memory.
    Only for a server whose data directory this process can read (the embedded one); else nothing."""
    with psycopg.connect(server, autocommit=True) as admin:
        try:
            data = Path(admin.execute("SHOW data_directory").fetchone()[0])
        except psycopg.Error:
            return
        oids = dict(
            admin.execute("SELECT datname, oid FROM pg_database WHERE datname = ANY(%s)", ([template, copy],))
        )
    if not (data / "base").is_dir() or len(oids) != 2:
        return
    for name, advice in ((template, os.POSIX_FADV_DONTNEED), (copy, os.POSIX_FADV_WILLNEED)):
        for f in (data / "base" / str(oids[name])).iterdir():
            with contextlib.suppress(OSError), open(f, "rb") as fh:
                os.posix_fadvise(fh.fileno(), 0, 0, advice)
                if advice == os.POSIX_FADV_WILLNEED:
                    while fh.read(1 << 24):
                        pass


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
