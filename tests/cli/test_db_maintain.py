"""``meterhub db maintain``: one cycle does the readings' retention and vacuums newly compressed chunks
(TimescaleDB), through the real command in a subprocess; the loop survives an unavailable database and
stops on SIGTERM between cycles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meterhub.timeseries.database import connect
from tests.cli.meterhub_cli import run_cli
from tests.timescaledb_server.launcher import compress_all

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

# 40 days of hours for 20 series from 2025-12-18, the start of a 40-day hourly chunk on TimescaleDB
FILL = """
INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality)
SELECT s, '2025-12-18 00:00+00'::timestamptz + h * interval '1 hour', (s * 1000 + h % 7) * 1000, 0
FROM generate_series(1, 20) s, generate_series(0, 959) h
"""


def _lines(out: str) -> list[str]:
    # each line is "<UTC time> <what>": keep what
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.strip()]


def test_one_cycle_without_retention_says_what_it_did(db_url: str, storage_path, tmp_path: Path) -> None:
    compressed = storage_path.value == "timescaledb"
    if compressed:
        with connect(db_url, autocommit=True) as conn:
            conn.execute(FILL)
            compress_all(conn, "hourly_consumption")
    out = run_cli(db_url, tmp_path, "db", "maintain", "--once")
    assert out.returncode == 0, out.stderr
    assert _lines(out.stdout) == [
        "retention: METERHUB_READINGS_RETENTION_DAYS is not set, readings are kept for ever",
        # the chunk compressed above is vacuumed once; plain PostgreSQL has no compressed chunks
        "vacuum: vacuumed 1 compressed chunk(s)" if compressed else "vacuum: no compressed chunk to vacuum",
    ]
    beat = tmp_path / "maintain.ok"
    again = run_cli(db_url, tmp_path, "db", "maintain", "--once", "--heartbeat", str(beat))
    assert _lines(again.stdout)[-1] == "vacuum: no compressed chunk to vacuum"
    assert beat.exists()  # touched after the successful cycle (compose's health check reads it)


def test_one_cycle_with_retention_reports_its_plan(db_url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("METERHUB_READINGS_RETENTION_DAYS", "400")
    out = run_cli(db_url, tmp_path, "db", "maintain", "--once")
    assert out.returncode == 0, out.stderr
    lines = _lines(out.stdout)
    # the same words as `meterhub db retention`, prefixed; nothing is old enough to drop here
    assert lines[0].startswith("retention: keep readings from ")
    assert lines[1] == "retention: nothing to drop"
    direct = run_cli(db_url, tmp_path, "db", "retention", "--dry-run")
    assert direct.returncode == 0, direct.stderr
    assert direct.stdout.splitlines()[-1] == "nothing to drop"


def _start(url: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "METERHUB_DATABASE_URL": url, "METERHUB_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    env.pop("METERHUB_READINGS_RETENTION_DAYS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "meterhub.cli", "db", "maintain", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_stops_the_loop_between_cycles(db_url: str, tmp_path: Path) -> None:
    proc = _start(db_url, tmp_path, "--interval", "3600")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first cycle ran; the loop now waits an hour
        assert "retention: " in first, first
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.strip().endswith("maintenance stopped")


def test_an_unavailable_database_fails_a_cycle_not_the_loop(tmp_path: Path) -> None:
    # nothing listens on port 9 (discard): every cycle fails to connect, the loop goes on
    url = "postgresql://postgres@127.0.0.1:9/postgres?connect_timeout=2"
    once = subprocess.run(
        [
            sys.executable,
            "-m",
            "meterhub.cli",
            "db",
            "maintain",
            "--once",
            "--heartbeat",
            str(tmp_path / "maintain.ok"),
        ],
        env={**os.environ, "METERHUB_DATABASE_URL": url, "METERHUB_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert once.returncode == 1
    assert "maintenance failed: " in once.stderr
    assert not (tmp_path / "maintain.ok").exists()
    proc = _start(url, tmp_path, "--interval", "1")
    try:
        assert proc.stderr is not None
        failures = [proc.stderr.readline() for _ in range(2)]  # two cycles failed, still running
        assert all("maintenance failed: " in f for f in failures), failures
        time.sleep(0.2)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert out.strip().endswith("maintenance stopped")
