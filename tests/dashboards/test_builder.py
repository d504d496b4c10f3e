"""The generated dashboards are valid SDK models and refer to the meterhub data source."""

from __future__ import annotations

import json

import pytest
from grafana_foundation_sdk.models.dashboard import Dashboard

from meterhub.dashboards.builder import dashboard_json
from meterhub.dashboards.catalog import DASHBOARDS
from meterhub.dashboards.datasource import DATASOURCE_UID


@pytest.mark.parametrize("spec", DASHBOARDS, ids=lambda d: d.uid)
def test_dashboard_json_round_trips_through_the_sdk_types(spec) -> None:
    data = dashboard_json(spec)
    again = json.loads(json.dumps(Dashboard.from_json(data).to_json(), default=lambda o: o.to_json()))
    assert again == data
    assert data["uid"] == spec.uid and "/" in data["title"]
    assert [v["name"] for v in data["templating"]["list"]] == [v.name for v in spec.variables]
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids)) == len(spec.panels)
    for panel, ps in zip(data["panels"], spec.panels, strict=True):
        assert panel["datasource"]["uid"] == DATASOURCE_UID
        (target,) = panel["targets"]
        assert target["rawSql"] == ps.sql.strip() and target["format"] == ps.fmt
        assert panel["gridPos"]["w"] == ps.width
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, ps.key  # inside Grafana's 24-column grid


def test_heavy_panels_read_the_hourly_series_not_raw_readings() -> None:
    for d in DASHBOARDS:
        for p in d.panels:
            if any(f"{w} {t}" in p.sql for w in ("FROM", "JOIN") for t in ("readings", "reading_values")):
                # raw readings only as an index probe (newest reading) or on short-range electrical panels
                assert "LIMIT 1" in p.sql or p.key.startswith("electrical_"), p.key
