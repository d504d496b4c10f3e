"""deploy/compose.yaml is consistent with what it runs. No Docker daemon or Compose plugin runs here, so
this checks the file's structure: the required secrets, health checks, mounted files, and that the
Grafana provisioning it generates (meterhub dashboards export) points where Grafana reads it and at the
database role the init script creates."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SECRETS = {
    "POSTGRES_PASSWORD",
    "GRAFANA_DB_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "MQTT_INGEST_PASSWORD",
    "METERHUB_SECRET_KEY",
}


def _compose() -> tuple[str, dict]:
    text = (DEPLOY / "compose.yaml").read_text()
    return text, yaml.safe_load(text)


def test_secrets_are_required_variables_never_values() -> None:
    text, _ = _compose()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert required == SECRETS
    assert not re.search(r"PASSWORD: +[^$\s{]", text)  # no literal password anywhere


def test_long_running_services_have_health_checks_and_start_in_order() -> None:
    _, c = _compose()
    s = c["services"]
    assert set(s) == {
        "timescaledb",
        "mosquitto",
        "migrate",
        "ingest",
        "maintenance",
        "api",
        "dashboards",
        "grafana",
    }
    for name in ("timescaledb", "mosquitto", "ingest", "maintenance", "api", "grafana"):
        assert s[name]["healthcheck"]["test"], name
    assert s["migrate"]["depends_on"]["timescaledb"]["condition"] == "service_healthy"
    assert s["ingest"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert s["ingest"]["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    assert s["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert s["maintenance"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # the health check reads the file the command touches after each successful cycle
    beat = s["maintenance"]["command"][s["maintenance"]["command"].index("--heartbeat") + 1]
    assert beat in s["maintenance"]["healthcheck"]["test"][-1]
    assert s["grafana"]["depends_on"]["dashboards"]["condition"] == "service_completed_successfully"
    assert s["ingest"]["environment"]["METERHUB_MQTT_USERNAME"] == "ingest"


def test_mounted_files_exist() -> None:
    _, c = _compose()
    for svc in c["services"].values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.endswith("gateways.passwd"):  # made by the operator
                assert (DEPLOY / source).exists(), source
    assert (DEPLOY / c["x-meterhub"]["build"]["dockerfile"].removeprefix("deploy/")).exists()


def test_grafana_reads_the_exported_provisioning() -> None:
    from meterhub.dashboards.datasource import DatabaseTarget

    _, c = _compose()
    s = c["services"]
    cmd = s["dashboards"]["command"]
    out_dir = cmd[cmd.index("export") + 1]
    dashboards_path = cmd[cmd.index("--dashboards-path") + 1]
    assert dashboards_path == f"{out_dir}/dashboards"
    assert s["grafana"]["environment"]["GF_PATHS_PROVISIONING"] == f"{out_dir}/provisioning"
    shared = {v.split(":")[0] for v in s["dashboards"]["volumes"]} & {
        v.split(":")[0] for v in s["grafana"]["volumes"]
    }
    assert shared == {"grafana-provisioning"}
    target = DatabaseTarget()  # the data source the export writes by default
    assert (
        target.host == "timescaledb:5432"
        and target.database == s["timescaledb"]["environment"]["POSTGRES_DB"]
    )
    script = (DEPLOY / "timescaledb" / "10-grafana-reader.sh").read_text()
    assert target.user == "grafana_reader" and "CREATE ROLE grafana_reader LOGIN" in script
    assert target.password_env in s["grafana"]["environment"]


def test_api_service_runs_meterhub_serve_in_production_mode_with_a_real_health_route() -> None:
    import typer.main

    from meterhub.api.app import API_PREFIX
    from meterhub.cli.main import app as cli

    _, c = _compose()
    api = c["services"]["api"]
    env = api["environment"]
    assert env["METERHUB_ENV"] == "production" and env["METERHUB_COOKIE_SECURE"] == "true"
    assert env["METERHUB_SECRET_KEY"].startswith("${METERHUB_SECRET_KEY:?")
    # the command parses with the real CLI (options exist, values are valid)
    args = [a.replace("${API_TRUSTED_PROXIES:-127.0.0.1}", "10.0.0.1") for a in api["command"]]
    group = typer.main.get_command(cli)
    with group.make_context("meterhub", list(args)) as ctx:
        serve = group.get_command(ctx, args[0])
        assert serve is not None
        sub = serve.make_context(args[0], args[1:])
        assert sub.params["host"] == "0.0.0.0" and sub.params["migrate"] is False
    # the health check asks a route the app serves
    probe = " ".join(api["healthcheck"]["test"])
    assert f"{API_PREFIX}/health" in probe
    from meterhub.api.routes.health import router

    assert "/health" in {r.path for r in router.routes}
