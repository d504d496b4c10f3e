"""deploy/timescaledb/10-grafana-reader.sh on a real PostgreSQL: the role it creates can read the tables
meterhub's migrations create afterwards (the TimescaleDB image runs it on first start, as POSTGRES_USER),
and cannot write."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.timeseries.database import connect
from meterhub.timeseries.migrate import migrate

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "timescaledb" / "10-grafana-reader.sh"
pytestmark = [
    pytest.mark.pg_versions,
    pytest.mark.db,
    pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed"),
]


def test_reader_role_reads_tables_created_later(empty_db_url: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(empty_db_url)
    with psycopg.connect(empty_db_url) as c:
        user = c.execute("SELECT current_user").fetchone()[0]
    env = {
        **os.environ,
        "POSTGRES_USER": user,
        "POSTGRES_DB": str(params["dbname"]),
        "GRAFANA_DB_PASSWORD": "reader-pw",
        "PGHOST": str(params.get("host", "")),
        "PGPORT": str(params.get("port", "5432")),
    }
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    subprocess.run(["sh", str(SCRIPT)], env=env, check=True, capture_output=True)
    subprocess.run(["sh", str(SCRIPT)], env=env, check=True, capture_output=True)  # idempotent (role exists)
    with connect(empty_db_url) as conn:
        migrate(conn, MIGRATION_SOURCES)
        conn.execute("SELECT meterhub_ensure_partitions('hourly_consumption', now(), now())")
        conn.commit()
    reader = psycopg.conninfo.make_conninfo(empty_db_url, user="grafana_reader", password="reader-pw")
    with psycopg.connect(reader) as r:
        for table in ("meters", "hourly_consumption", "gateway_status_history", "billing_periods"):
            r.execute(f"SELECT count(*) FROM {table}").fetchone()
        r.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            r.execute("DELETE FROM meters")
