#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python >= 3.11.

    python3 tasks.py demo     # create .venv, install meterhub, run the demo
    python3 tasks.py test     # create .venv, install meterhub + dev tools, run ruff and the whole test suite
                              # then version-sensitive DB tests on a local PostgreSQL, storage on TimescaleDB

Extra arguments after the task are passed on (``python3 tasks.py test -k ingest``,
``python3 tasks.py demo --speed 3600``). The virtual environment is reused while
pyproject.toml is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("METERHUB_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def ensure_venv(extras: str) -> None:
    """Create .venv and install meterhub with ``extras`` (the demo: the runtime ones; the tests: all
    plus the dev tools). Reused while pyproject.toml is unchanged and already holds those extras."""
    if sys.version_info < (3, 11):  # noqa: UP036  (this file must run on any python3 to say so)
        sys.exit(f"meterhub needs Python >= 3.11, this is {sys.version.split()[0]}")
    stamp = VENV / ".meterhub-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and PY.exists():
        stamped_digest, _, stamped_extras = stamp.read_text().partition(" ")
        if stamped_digest == digest and set(extras.split(",")) <= set(stamped_extras.split(",")):
            return
    if not PY.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    rc = _run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    rc = rc or _run(PY, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    if rc:
        sys.exit(rc)
    stamp.write_text(f"{digest} {extras}")


RUNTIME_EXTRAS = "all"  # gateway, server, dashboards, api: what the demo and `meterhub serve` need
TEST_EXTRAS = "all,dev"  # plus pytest, hypothesis, ruff, the browser driver and PDF/QR readers


def task_demo(args: list[str]) -> int:
    ensure_venv(RUNTIME_EXTRAS)
    return _run(BIN / "meterhub", "demo", *args)


LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _local_postgres_answers() -> bool:
    probe = (
        "import psycopg,sys\n"
        "try:\n psycopg.connect(sys.argv[1], connect_timeout=2).close()\n"
        "except Exception:\n sys.exit(1)\n"
    )
    return subprocess.call([str(PY), "-c", probe, LOCAL_POSTGRES], stderr=subprocess.DEVNULL) == 0


TIMESCALEDB_SERVER = ROOT / "tests" / "timescaledb_server"


def _timescaledb_server_ready() -> bool:
    """npm-install the TimescaleDB test server (PGlite + TimescaleDB) once; False when it cannot be."""
    if (TIMESCALEDB_SERVER / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        return shutil.which("node") is not None
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        print("no node/npm on this machine: cannot run the TimescaleDB test server", file=sys.stderr)
        return False
    return _run(npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", TIMESCALEDB_SERVER) == 0


def task_test(args: list[str]) -> int:
    """ruff (lint and format check), the whole suite on the embedded PostgreSQL 16, then the database
    tests whose SQL can differ between server versions (marker ``pg_versions``, docs/testing.md) again on
    a local PostgreSQL server
    (127.0.0.1:5432, e.g. the PostgreSQL 15 of CI's machine) when one answers, then
    the storage tests (marker ``storage``) on TimescaleDB: the test server in tests/timescaledb_server,
    one per test module, installed with npm. ``METERHUB_REQUIRE_TIMESCALEDB=1`` (CI) makes a missing
    node/npm a failure instead of a warning."""
    ensure_venv(TEST_EXTRAS)
    rc = _run(BIN / "ruff", "check", ".") or _run(BIN / "ruff", "format", "--check", ".")
    if rc:
        return rc
    rc = _run(PY, "-m", "pytest", *args)
    if rc == 5:  # pytest: no tests collected; treat as a failure so CI never passes silently
        print("no tests were collected", file=sys.stderr)
    if rc or args or "METERHUB_TEST_DATABASE_URL" in os.environ:
        return rc
    if _local_postgres_answers():
        print(f"\nrunning the server-version tests again on {LOCAL_POSTGRES}", flush=True)
        env = {**os.environ, "METERHUB_TEST_DATABASE_URL": LOCAL_POSTGRES}
        rc = _run(PY, "-m", "pytest", "-m", "db and pg_versions", "-q", env=env)
    else:
        print("no PostgreSQL on 127.0.0.1:5432: database tests ran on the embedded server only")
    if rc:
        return rc
    if not _timescaledb_server_ready():
        if os.environ.get("METERHUB_REQUIRE_TIMESCALEDB") == "1":
            return 1
        print("WARNING: the storage tests did not run on TimescaleDB (no node/npm or npm install failed)")
        return 0
    print("\nrunning the storage tests again on TimescaleDB (PGlite test server, one per module)", flush=True)
    env = {**os.environ, "METERHUB_TEST_STORAGE": "timescaledb"}
    return _run(PY, "-m", "pytest", "-m", "storage", "-q", env=env)


def main() -> int:
    tasks = {"demo": task_demo, "test": task_test}
    if len(sys.argv) < 2 or sys.argv[1] not in tasks:
        print(__doc__)
        return 2
    return tasks[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
