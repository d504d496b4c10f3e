"""Grafana provisioning files: the data source, a dashboard provider and the dashboards' JSON."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import yaml

from meterhub.dashboards.builder import dashboard_json
from meterhub.dashboards.catalog import DASHBOARDS
from meterhub.dashboards.datasource import DatabaseTarget, datasource_provisioning
from meterhub.dashboards.spec import DashboardSpec

FOLDER_TITLE = "meterhub"
FOLDER_UID = "meterhub"
DEFAULT_DASHBOARDS_PATH = "/var/lib/grafana/dashboards/meterhub"


def detect_database(conn: psycopg.Connection) -> tuple[bool, int]:
    """Whether the timescaledb extension is installed in this database, and the server version in
    Grafana's encoding (1600 for 16.x, 1500 for 15.x …)."""
    ts = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')").fetchone()
    version = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    assert ts is not None and version is not None
    return bool(ts[0]), (version[0] // 10000) * 100


def provider_provisioning(dashboards_path: str) -> dict[str, object]:
    """A file dashboard provider (Grafana provisioning, apiVersion 1) reading the exported JSON files."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "meterhub",
                "orgId": 1,
                "folder": FOLDER_TITLE,
                "folderUid": FOLDER_UID,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": dashboards_path, "foldersFromFilesStructure": False},
            }
        ],
    }


def export_provisioning(
    out_dir: Path,
    target: DatabaseTarget,
    *,
    dashboards: tuple[DashboardSpec, ...] = DASHBOARDS,
    dashboards_path: str = DEFAULT_DASHBOARDS_PATH,
) -> list[Path]:
    """Write ``provisioning/datasources/meterhub.yaml``, ``provisioning/dashboards/meterhub.yaml`` and
    ``dashboards/<uid>.json``; mount ``provisioning/`` at ``/etc/grafana/provisioning`` and ``dashboards/``
    at ``dashboards_path``. Returns the files written."""
    ds_file = out_dir / "provisioning" / "datasources" / "meterhub.yaml"
    provider_file = out_dir / "provisioning" / "dashboards" / "meterhub.yaml"
    written = []
    for path, data in (
        (ds_file, datasource_provisioning(target)),
        (provider_file, provider_provisioning(dashboards_path)),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        written.append(path)
    json_dir = out_dir / "dashboards"
    json_dir.mkdir(parents=True, exist_ok=True)
    for spec in dashboards:
        path = json_dir / f"{spec.uid}.json"
        path.write_text(
            json.dumps(dashboard_json(spec), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        written.append(path)
    return written
