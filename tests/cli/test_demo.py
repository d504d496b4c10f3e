"""`meterhub demo` end to end in a subprocess, against a real database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.db


def test_sample_demo_prints_what_it_stored(db_url, tmp_path):
    env = {
        **os.environ,
        "METERHUB_DATABASE_URL": db_url,
        "METERHUB_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }
    out = subprocess.run(
        [sys.executable, "-m", "meterhub.cli", "demo", "--sample", "--apartments", "6", "--days", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "0 rejected" in text and "inserted" in text
    assert "hours by quality" in text and "measured" in text
    assert "backwards" in text and "jump" in text  # injected faults were flagged
    assert "unknown_meter" in text and "future_timestamp" in text  # bad input went to dead letters
    assert "house balance" in text


def test_pipeline_demo_runs_simulators_gateways_broker_and_ingest(db_url, tmp_path):
    """Two buildings through real simulators, gateways, a private broker and the ingest."""
    env = {
        **os.environ,
        "METERHUB_DATABASE_URL": db_url,
        "METERHUB_DATA_DIR": str(tmp_path),
        "COLUMNS": "220",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "meterhub.cli",
            "demo",
            "--buildings",
            "2",
            "--apartments",
            "8",
            "--duration",
            "15",
            "--speed",
            "1440",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "summary" in text and "DEMO-1" in text and "DEMO-2" in text
    assert "lan/4: timeout" in text  # the dead apartment meter shows in the gateway's device health
    import psycopg

    with psycopg.connect(db_url) as c:
        readings = c.execute(
            "SELECT count(*) FROM readings_named WHERE meter_id IN "
            "(SELECT meter_id FROM meters WHERE building_id LIKE 'DEMO-%')"
        ).fetchone()[0]
        gateways = c.execute("SELECT count(*) FROM gateways").fetchone()[0]
        dead = c.execute(
            "SELECT count(*) FROM dead_letters WHERE context->>'topic' LIKE 'meterhub/v1/DEMO-%%'"
        ).fetchone()[0]
    assert readings > 100 and gateways == 2
    assert dead == 0  # every reading the gateways sent was for a registered meter and register
