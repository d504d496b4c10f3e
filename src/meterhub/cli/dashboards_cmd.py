"""``meterhub dashboards export DIR`` and ``meterhub dashboards push --url --token``."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import typer

app = typer.Typer(
    help="Grafana dashboards for engineers: provisioning files and upload.", no_args_is_help=True
)


class Toggle(StrEnum):
    auto = "auto"
    on = "on"
    off = "off"


def _target(db_host: str, db_name: str, db_user: str, password_env: str, timescaledb: Toggle):
    from meterhub.dashboards.datasource import DatabaseTarget

    enabled, version = timescaledb is Toggle.on, 1600
    if timescaledb is Toggle.auto:
        from meterhub.core.settings import get_settings

        settings = get_settings()
        if settings.database_url:  # ask the configured database; the embedded one never has TimescaleDB
            from meterhub.dashboards.export import detect_database
            from meterhub.timeseries.database import connect

            with connect(settings.database_url) as conn:
                enabled, version = detect_database(conn)
    return DatabaseTarget(
        host=db_host,
        database=db_name,
        user=db_user,
        password_env=password_env,
        timescaledb=enabled,
        postgres_version=version,
    )


_OUT_DIR = typer.Argument(..., help="directory to write provisioning/ and dashboards/ into")
_HOST = typer.Option("timescaledb:5432", help="host:port Grafana connects to")
_NAME = typer.Option("meterhub", help="database name")
_USER = typer.Option("grafana_reader", help="read-only database user for Grafana")
_PASSWORD_ENV = typer.Option("METERHUB_GRAFANA_DB_PASSWORD", help="environment variable with its password")
_TSDB = typer.Option(
    Toggle.auto,
    help="TimescaleDB toggle of the data source; auto: on when METERHUB_DATABASE_URL has the extension",
)


@app.command("export")
def export(
    out_dir: Path = _OUT_DIR,
    db_host: str = _HOST,
    db_name: str = _NAME,
    db_user: str = _USER,
    password_env: str = _PASSWORD_ENV,
    timescaledb: Toggle = _TSDB,
    dashboards_path: str = typer.Option(
        "/var/lib/grafana/dashboards/meterhub", help="where Grafana sees the dashboards/ directory"
    ),
) -> None:
    """Write Grafana provisioning: data source YAML, dashboard provider YAML and the dashboards' JSON."""
    from meterhub.dashboards.export import export_provisioning

    target = _target(db_host, db_name, db_user, password_env, timescaledb)
    for path in export_provisioning(out_dir, target, dashboards_path=dashboards_path):
        typer.echo(str(path))
    typer.echo(f"TimescaleDB toggle: {'on' if target.timescaledb else 'off'}")


@app.command("push")
def push(
    url: str = typer.Option(..., help="Grafana base URL, e.g. http://grafana:3000"),
    token: str = typer.Option(..., envvar="GRAFANA_TOKEN", help="service account token (or GRAFANA_TOKEN)"),
    datasource: bool = typer.Option(True, help="also create or update the PostgreSQL data source"),
    db_host: str = _HOST,
    db_name: str = _NAME,
    db_user: str = _USER,
    password_env: str = _PASSWORD_ENV,
    timescaledb: Toggle = _TSDB,
) -> None:
    """Upload the folder, the dashboards (overwrite, idempotent) and the data source via the HTTP API."""
    from meterhub.dashboards import push as push_mod

    target = _target(db_host, db_name, db_user, password_env, timescaledb) if datasource else None
    report = push_mod.push(
        push_mod.connect(url, token), target=target, db_password=os.environ.get(password_env)
    )
    typer.echo(f"data source: {report.datasource}; folder: {report.folder}")
    for u in report.dashboards:
        typer.echo(f"dashboard: {u}")
