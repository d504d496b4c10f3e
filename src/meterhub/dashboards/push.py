"""Upload the data source, the folder and the dashboards through Grafana's HTTP API (grafana-client).

Idempotent: the data source and the folder are looked up by uid and updated or created; dashboards are
saved with ``overwrite: true`` under their fixed uids, so pushing twice leaves one copy of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from meterhub.dashboards.builder import dashboard_json
from meterhub.dashboards.catalog import DASHBOARDS
from meterhub.dashboards.datasource import DATASOURCE_UID, DatabaseTarget, datasource_api_body
from meterhub.dashboards.export import FOLDER_TITLE, FOLDER_UID
from meterhub.dashboards.spec import DashboardSpec


@dataclass
class PushReport:
    datasource: str = ""  # 'created' / 'updated' / 'skipped'
    folder: str = ""
    dashboards: list[str] = field(default_factory=list)  # urls Grafana returned


def _not_found(e: GrafanaClientError) -> bool:
    return getattr(e, "status_code", None) == 404


def push(
    api: GrafanaApi,
    *,
    target: DatabaseTarget | None = None,
    db_password: str | None = None,
    dashboards: tuple[DashboardSpec, ...] = DASHBOARDS,
    folder_title: str = FOLDER_TITLE,
    folder_uid: str = FOLDER_UID,
) -> PushReport:
    report = PushReport()
    if target is None:
        report.datasource = "skipped"
    else:
        body = datasource_api_body(target, db_password)
        try:
            api.datasource.get_datasource_by_uid(DATASOURCE_UID)
        except GrafanaClientError as e:
            if not _not_found(e):
                raise
            api.datasource.create_datasource(body)
            report.datasource = "created"
        else:
            api.datasource.update_datasource_by_uid(DATASOURCE_UID, body)
            report.datasource = "updated"
    try:
        api.folder.get_folder(folder_uid)
        report.folder = "exists"
    except GrafanaClientError as e:
        if not _not_found(e):
            raise
        api.folder.create_folder(folder_title, uid=folder_uid)
        report.folder = "created"
    for spec in dashboards:
        result = api.dashboard.update_dashboard(
            {
                "dashboard": dashboard_json(spec),
                "folderUid": folder_uid,
                "overwrite": True,
                "message": "meterhub dashboards push",
            }
        )
        report.dashboards.append(str((result or {}).get("url", spec.uid)))
    return report


def connect(url: str, token: str, timeout: float = 10.0) -> GrafanaApi:
    return GrafanaApi.from_url(url=url, credential=token, timeout=timeout)
