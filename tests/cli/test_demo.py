"""`meterhub demo` end to end in a subprocess, against a real database.

The demo works in a database of its own next to METERHUB_DATABASE_URL's (``<name>_demo`` and
``<name>_demo_sample``), recreated at every start; these tests count rows in that database
themselves and compare them with what the demo printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest

from meterhub.timeseries.database import with_database

pytestmark = pytest.mark.db


def _demo(db_url: str, tmp_path, *args: str, columns: int = 80, timeout: int = 300) -> str:
    env = {
        **os.environ,
        "METERHUB_DATABASE_URL": db_url,
        "METERHUB_DATA_DIR": str(tmp_path),
        "COLUMNS": str(columns),
    }
    out = subprocess.run(
        [sys.executable, "-m", "meterhub.cli", "demo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.fixture()
def demo_urls(db_url: str, tmp_path) -> Iterator[tuple[str, str]]:
    """The two demo databases next to this module's database; removed with --remove-data after."""
    name = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    yield with_database(db_url, f"{name}_demo"), with_database(db_url, f"{name}_demo_sample")
    text = _demo(db_url, tmp_path, "--remove-data")
    assert "removed" in text or "no demo data" in text


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as c:
        return int(c.execute(sql).fetchone()[0])


def test_sample_demo_prints_what_it_stored(db_url, tmp_path, demo_urls):
    text = _demo(db_url, tmp_path, "--sample", "--apartments", "6", "--days", "3", columns=200)
    assert "0 rejected" in text and "inserted" in text
    assert "hours by quality" in text and "measured" in text
    assert "backwards" in text and "jump" in text  # injected faults were flagged
    assert "unknown_meter" in text and "future_timestamp" in text  # bad input went to dead letters
    assert "house balance" in text
    # a second sample run starts clean: the same numbers, nothing counted as a duplicate of the first
    again = _demo(db_url, tmp_path, "--sample", "--apartments", "6", "--days", "3", columns=200)
    first = re.search(r"ingest: ([\d,]+) inserted, ([\d,]+) duplicates", text)
    second = re.search(r"ingest: ([\d,]+) inserted, ([\d,]+) duplicates", again)
    assert first and second and first.groups() == second.groups() and first.group(2) == "0"
    inserted = int(first.group(1).replace(",", ""))
    assert _count(demo_urls[1], "SELECT count(*) FROM readings") == inserted
    assert _count(db_url, "SELECT count(*) FROM readings") == 0  # the configured database is untouched


_INGEST = re.compile(r"ingest: ([\d,]+) MQTT messages with ([\d,]+) readings committed")
_WINDOW = re.compile(r"simulated (\d{4}-\d\d-\d\d \d\d:\d\d) → (\d{4}-\d\d-\d\d \d\d:\d\d) MSK")


def _committed(text: str) -> int:
    m = _INGEST.search(text)
    assert m, text[-2000:]
    return int(m.group(2).replace(",", ""))


def _window(text: str) -> tuple[datetime, datetime]:
    m = _WINDOW.search(" ".join(text.split()))
    assert m, text[-2000:]
    return tuple(datetime.strptime(g, "%Y-%m-%d %H:%M") for g in m.groups())  # type: ignore[return-value]


def test_pipeline_demo_runs_simulators_gateways_broker_and_ingest(db_url, tmp_path, demo_urls):
    """Two buildings through real simulators, gateways, a private broker and the ingest; the summary
    counts only its own run, names the injected faults as the gateway saw them and fits 80 columns."""
    demo = demo_urls[0]
    args = ("--buildings", "2", "--apartments", "14", "--duration", "12", "--speed", "1440")
    first = _demo(db_url, tmp_path, *args)
    readings_1 = _count(demo, "SELECT count(*) FROM readings")
    assert readings_1 > 100 and _committed(first) == readings_1  # a fresh database holds this run only
    assert _count(demo, "SELECT count(*) FROM gateways") == 2
    assert _count(demo, "SELECT count(*) FROM dead_letters") == 0  # every reading had a registered meter

    text = " ".join(first.split())
    assert "DEMO-1" in text and "DEMO-2" in text
    assert "lan/4: timeout" in text  # the dead apartment meter, as the gateway reports it
    assert "rs485/6: crc" in text  # the corrupted CRC on the RS-485 line is a CRC error, not a short frame
    assert "gw-1 (online)" in text and "gw-2 (online)" in text  # state while running, not after the stop
    assert "MSK (Europe/Moscow)" in text and "UTC" not in text.split("summary of this run")[1][:200]
    assert "warnings logged during the run" in text and "device lan/4 is down" in text
    summary = first.split("summary of this run")[1]
    assert all(len(line) <= 80 for line in summary.splitlines())
    data_rows = [line for line in summary.splitlines() if line.strip().startswith("DEMO-")]
    assert data_rows and not any("…" in line for line in data_rows[:2])

    # --continue goes on from where the first run's simulated time ended and counts only itself
    second = _demo(db_url, tmp_path, *args, "--continue")
    assert "continuing the previous demo" in " ".join(second.split())  # the line may wrap at 80 columns
    (_, end_1), (start_2, _) = _window(first), _window(second)
    assert 0 <= (start_2 - end_1).total_seconds() <= 3600
    readings_2 = _count(demo, "SELECT count(*) FROM readings")
    assert readings_2 - readings_1 == _committed(second) > 0

    # without --continue the next run starts clean again
    third = _demo(db_url, tmp_path, *args)
    assert "fresh" in " ".join(third.split())
    assert _count(demo, "SELECT count(*) FROM readings") == _committed(third)
