"""``push`` against a local HTTP stand-in for Grafana. No Grafana server runs here: the stand-in implements
the few endpoints of Grafana's documented HTTP API that push uses (data sources by uid, folders, POST
/api/dashboards/db), keeps their state, and checks every request as the API documentation describes it —
Bearer token, JSON bodies, required fields, overwrite — so pushing twice must leave exactly one data
source, one folder and one copy of each dashboard."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterhub.dashboards.catalog import DASHBOARDS
from meterhub.dashboards.datasource import DATASOURCE_TYPE, DATASOURCE_UID, DatabaseTarget
from meterhub.dashboards.push import connect, push

TOKEN = "glsa_test_token"


class GrafanaStandIn:
    def __init__(self) -> None:
        self.datasources: dict[str, dict] = {}
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.errors: list[str] = []


def _handler(state: GrafanaStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, code: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            if "application/json" not in self.headers.get("Content-Type", ""):
                state.errors.append(f"{self.command} {self.path}: body is not JSON")
            return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

        def _authorised(self) -> bool:
            state.requests.append((self.command, self.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._reply(401, {"message": "Unauthorized"})
                return False
            return True

        def do_GET(self) -> None:
            if not self._authorised():
                return
            if self.path.startswith("/api/datasources/uid/"):
                ds = state.datasources.get(self.path.rsplit("/", 1)[1])
                return self._reply(200, ds) if ds else self._reply(404, {"message": "Data source not found"})
            if self.path.startswith("/api/folders/"):
                f = state.folders.get(self.path.rsplit("/", 1)[1])
                return self._reply(200, f) if f else self._reply(404, {"message": "folder not found"})
            self._reply(404, {"message": "Not found"})

        def do_POST(self) -> None:
            if not self._authorised():
                return
            body = self._body()
            if self.path == "/api/datasources":
                missing = {"name", "type", "access", "url", "uid"} - body.keys()
                if missing:
                    state.errors.append(f"data source without {missing}")
                if body["uid"] in state.datasources:
                    return self._reply(409, {"message": "data source with the same uid already exists"})
                state.datasources[body["uid"]] = body
                return self._reply(200, {"datasource": body, "id": 1, "message": "Datasource added"})
            if self.path == "/api/folders":
                if "title" not in body:
                    state.errors.append("folder without title")
                if body.get("uid") in state.folders:
                    return self._reply(409, {"message": "a folder with the same uid already exists"})
                state.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "version": 1}
                return self._reply(200, state.folders[body["uid"]])
            if self.path == "/api/dashboards/db":
                d = body.get("dashboard", {})
                if d.get("id") is not None:
                    state.errors.append("dashboard.id must be null/absent when saving by uid")
                if not d.get("uid") or not d.get("title"):
                    state.errors.append("dashboard without uid/title")
                if body.get("folderUid") not in state.folders:
                    return self._reply(400, {"message": "folder not found"})
                if d["uid"] in state.dashboards and body.get("overwrite") is not True:
                    return self._reply(412, {"status": "name-exists", "message": "dashboard exists"})
                version = state.dashboards.get(d["uid"], {}).get("version", 0) + 1
                state.dashboards[d["uid"]] = {
                    "dashboard": d,
                    "folderUid": body["folderUid"],
                    "version": version,
                }
                return self._reply(
                    200,
                    {
                        "id": len(state.dashboards),
                        "uid": d["uid"],
                        "url": f"/d/{d['uid']}/x",
                        "status": "success",
                        "version": version,
                    },
                )
            self._reply(404, {"message": "Not found"})

        def do_PUT(self) -> None:
            if not self._authorised():
                return
            body = self._body()
            if self.path.startswith("/api/datasources/uid/"):
                uid = self.path.rsplit("/", 1)[1]
                if uid not in state.datasources:
                    return self._reply(404, {"message": "Data source not found"})
                state.datasources[uid] = body
                return self._reply(200, {"datasource": body, "message": "Datasource updated"})
            self._reply(404, {"message": "Not found"})

    return Handler


@pytest.fixture()
def grafana() -> Iterator[tuple[str, GrafanaStandIn]]:
    state = GrafanaStandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def test_push_twice_is_idempotent(grafana) -> None:
    url, state = grafana
    api = connect(url, TOKEN)
    first = push(api, target=DatabaseTarget(timescaledb=True), db_password="s3cret")
    second = push(api, target=DatabaseTarget(timescaledb=True), db_password="s3cret")
    assert state.errors == []
    assert (first.datasource, first.folder) == ("created", "created")
    assert (second.datasource, second.folder) == ("updated", "exists")
    assert list(state.folders) == ["meterhub"]
    assert set(state.dashboards) == {d.uid for d in DASHBOARDS}
    assert all(d["version"] == 2 and d["folderUid"] == "meterhub" for d in state.dashboards.values())
    ds = state.datasources[DATASOURCE_UID]
    assert ds["type"] == DATASOURCE_TYPE and ds["jsonData"]["timescaledb"] is True
    assert ds["secureJsonData"] == {"password": "s3cret"}
    assert first.dashboards == [f"/d/{d.uid}/x" for d in DASHBOARDS]
    creates = [r for r in state.requests if r[0] == "POST" and r[1] in ("/api/folders", "/api/datasources")]
    assert len(creates) == 2  # each created once, across both pushes


def test_push_with_a_wrong_token_fails(grafana) -> None:
    from grafana_client.client import GrafanaUnauthorizedError

    url, state = grafana
    with pytest.raises(GrafanaUnauthorizedError):
        push(connect(url, "wrong"), target=None)
    assert state.dashboards == {}


def test_cli_export_and_push(grafana, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from meterhub.cli.main import app

    monkeypatch.delenv("METERHUB_DATABASE_URL", raising=False)
    runner = CliRunner()
    out = runner.invoke(app, ["dashboards", "export", str(tmp_path), "--timescaledb", "on"])
    assert out.exit_code == 0, out.output
    ds = yaml.safe_load((tmp_path / "provisioning/datasources/meterhub.yaml").read_text())
    assert ds["datasources"][0]["jsonData"]["timescaledb"] is True
    provider = yaml.safe_load((tmp_path / "provisioning/dashboards/meterhub.yaml").read_text())
    assert provider["providers"][0]["type"] == "file"
    files = sorted(p.name for p in (tmp_path / "dashboards").glob("*.json"))
    assert files == sorted(f"{d.uid}.json" for d in DASHBOARDS)
    url, state = grafana
    out = runner.invoke(app, ["dashboards", "push", "--url", url, "--token", TOKEN, "--timescaledb", "off"])
    assert out.exit_code == 0, out.output
    assert len(state.dashboards) == len(DASHBOARDS) and state.errors == []
