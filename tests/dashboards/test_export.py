"""Provisioning export with the TimescaleDB toggle detected from the real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from meterhub.dashboards.catalog import DASHBOARDS
from meterhub.dashboards.datasource import DATASOURCE_UID, DatabaseTarget
from meterhub.dashboards.export import detect_database, export_provisioning

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]


def test_export_detects_the_storage_path(conn, storage_path, tmp_path: Path) -> None:
    has_timescaledb, version = detect_database(conn)
    server = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()[0]
    assert has_timescaledb is (storage_path.value == "timescaledb")  # the toggle follows the database
    assert version == server * 100
    target = DatabaseTarget(timescaledb=has_timescaledb, postgres_version=version)
    written = export_provisioning(tmp_path, target, dashboards_path="/dash")
    assert len(written) == 2 + len(DASHBOARDS)
    ds = yaml.safe_load((tmp_path / "provisioning/datasources/meterhub.yaml").read_text())["datasources"][0]
    assert ds["uid"] == DATASOURCE_UID and ds["jsonData"]["timescaledb"] is has_timescaledb
    assert ds["jsonData"]["postgresVersion"] == version
    provider = yaml.safe_load((tmp_path / "provisioning/dashboards/meterhub.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/dash"
    for d in DASHBOARDS:
        data = json.loads((tmp_path / "dashboards" / f"{d.uid}.json").read_text(encoding="utf-8"))
        assert data["uid"] == d.uid and data["title"] == d.title
