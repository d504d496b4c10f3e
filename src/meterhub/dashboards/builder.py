"""DashboardSpec → Grafana dashboard JSON through grafana-foundation-sdk's typed builders."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dash_b
from grafana_foundation_sdk.builders import stat, statetimeline, statushistory, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.runtime import UnknownDataquery
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dash_m

from meterhub.dashboards.datasource import datasource_ref
from meterhub.dashboards.spec import DashboardSpec, PanelSpec, VariableSpec

GRID_WIDTH = 24


class SqlTarget(cogbuilder.Builder[cogvariants.Dataquery]):
    """A raw-SQL query of Grafana's PostgreSQL data source (the SDK has no typed builder for it)."""

    def __init__(self, sql: str, fmt: str, ref_id: str = "A") -> None:
        self._data: dict[str, Any] = {
            "refId": ref_id,
            "datasource": datasource_ref().to_json(),
            "editorMode": "code",
            "format": fmt,
            "rawQuery": True,
            "rawSql": sql.strip(),
        }

    def build(self) -> cogvariants.Dataquery:
        return UnknownDataquery(dict(self._data))


def _thresholds(spec: PanelSpec) -> dash_b.ThresholdsConfig | None:
    if not spec.thresholds:
        return None
    steps = [dash_m.Threshold(value=t.value, color=t.color) for t in spec.thresholds]
    return dash_b.ThresholdsConfig().mode(dash_m.ThresholdsMode.ABSOLUTE).steps(steps)


def _mappings(spec: PanelSpec) -> list[dash_m.ValueMapping]:
    if not spec.value_mappings:
        return []
    options = {v: dash_m.ValueMappingResult(text=text, color=color) for v, text, color in spec.value_mappings}
    return [dash_m.ValueMap(options=options)]


def _panel_builder(spec: PanelSpec) -> Any:
    if spec.kind in ("timeseries", "bars"):
        p: Any = timeseries.Panel().fill_opacity(10 if spec.kind == "timeseries" else 80)
        if spec.kind == "bars":
            p = p.draw_style(common.GraphDrawStyle.BARS)
        return p
    if spec.kind == "stat":
        return (
            stat.Panel()
            .color_mode(common.BigValueColorMode.BACKGROUND)
            .graph_mode(common.BigValueGraphMode.NONE)
            .reduce_options(common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        )
    if spec.kind == "state-timeline":
        return statetimeline.Panel().merge_values(True).show_value(common.VisibilityMode.AUTO)
    if spec.kind == "status-history":
        return statushistory.Panel().show_value(common.VisibilityMode.AUTO)
    if spec.kind in ("table", "heatmap-table"):
        p = table.Panel().show_header(True)
        if spec.kind == "heatmap-table":
            # every numeric cell coloured by its value: a weekday × hour-of-day heatmap
            p = p.override_by_field_type(
                "number",
                [dash_m.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"})],
            ).color_scheme(dash_b.FieldColor().mode(dash_m.FieldColorModeId.CONTINUOUS_GR_YL_RD))
        return p
    raise ValueError(f"unknown panel kind {spec.kind}")


def panel(spec: PanelSpec) -> Any:
    p = (
        _panel_builder(spec)
        .title(spec.title)
        .description(spec.description)
        .datasource(datasource_ref())
        .with_target(SqlTarget(spec.sql, spec.fmt))
        .span(spec.width)
        .height(spec.height)
    )
    if spec.unit:
        p = p.unit(spec.unit)
    if spec.min_interval:
        p = p.interval(spec.min_interval)
    if spec.decimals is not None:
        p = p.decimals(spec.decimals)
    th = _thresholds(spec)
    if th is not None:
        p = p.thresholds(th)
    mappings = _mappings(spec)
    if mappings:
        p = p.mappings(mappings)
    return p


def variable(spec: VariableSpec) -> dash_b.QueryVariable:
    return (
        dash_b.QueryVariable(spec.name)
        .label(spec.label)
        .datasource(datasource_ref())
        .query(spec.sql)
        .refresh(dash_m.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dash_m.VariableSort.ALPHABETICAL_ASC)
        .multi(spec.multi)
        .include_all(spec.multi)
    )


def build_dashboard(spec: DashboardSpec) -> dash_m.Dashboard:
    d = (
        dash_b.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(list(spec.tags))
        .time(spec.time_from, "now")
        .timezone("browser")
        .refresh(spec.refresh)
        .editable()
    )
    for v in spec.variables:
        d = d.with_variable(variable(v))
    for i, p in enumerate(spec.panels, start=1):
        d = d.with_panel(panel(p).id(i))
    return d.build()


def dashboard_json(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard model as Grafana stores it (plain JSON types)."""
    return json.loads(json.dumps(build_dashboard(spec), cls=JSONEncoder))
