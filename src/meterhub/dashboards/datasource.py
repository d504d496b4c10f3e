"""The PostgreSQL data source every meterhub panel queries."""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_TYPE = "grafana-postgresql-datasource"  # the plugin id of Grafana's built-in PostgreSQL source
DATASOURCE_UID = "meterhub-pg"
DATASOURCE_NAME = "meterhub PostgreSQL"


def datasource_ref() -> DataSourceRef:
    return DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


@dataclass(frozen=True)
class DatabaseTarget:
    """Where Grafana connects: host:port, database, a read-only user (password from the environment)."""

    host: str = "timescaledb:5432"
    database: str = "meterhub"
    user: str = "grafana_reader"
    password_env: str = "METERHUB_GRAFANA_DB_PASSWORD"
    sslmode: str = "disable"
    timescaledb: bool = False
    postgres_version: int = 1600  # Grafana's encoding: 1600 = PostgreSQL 16


def datasource_provisioning(target: DatabaseTarget) -> dict[str, object]:
    """The data source as Grafana's provisioning file (apiVersion 1) describes it."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": DATASOURCE_NAME,
                "type": DATASOURCE_TYPE,
                "uid": DATASOURCE_UID,
                "access": "proxy",
                "url": target.host,
                "user": target.user,
                "isDefault": True,
                "editable": False,
                "jsonData": {
                    "database": target.database,
                    "sslmode": target.sslmode,
                    "postgresVersion": target.postgres_version,
                    "timescaledb": target.timescaledb,
                    "timeInterval": "1m",
                },
                "secureJsonData": {"password": "${" + target.password_env + "}"},
            }
        ],
    }


def datasource_api_body(target: DatabaseTarget, password: str | None) -> dict[str, object]:
    """The same data source as the body of ``POST /api/datasources``."""
    ds = dict(datasource_provisioning(target)["datasources"][0])  # type: ignore[index]
    ds.pop("editable", None)
    ds["secureJsonData"] = {"password": password} if password else {}
    return ds
