"""Every panel's SQL, expanded as Grafana expands it, runs against the real database loaded with the sample
building (plus gateway status changes, ingest log rows, dead letters, a power-quality meter and the January
close) and returns the columns its visualisation needs."""

from __future__ import annotations

import dataclasses

import pytest

from meterhub.dashboards.catalog import PANELS, VARIABLES
from meterhub.dashboards.macros import QueryContext, expand
from meterhub.dashboards.spec import DashboardSpec, PanelSpec
from meterhub.timeseries.database import connect

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]


def _run(url: str, sql: str) -> tuple[list[str], list[tuple]]:
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        assert cur.description is not None
        return [c.name for c in cur.description], cur.fetchall()


def dashboard_context(d: DashboardSpec, ctx: QueryContext, url: str) -> QueryContext:
    """The month context with the dashboard's own variables: multi-value ones get every value listed
    (as Grafana's "All" does), a single-value resource is cold water."""
    values = dict(ctx.variables)
    multi = frozenset(v.name for v in d.variables if v.multi)
    if "meter" in {v.name for v in d.variables}:
        _, rows = _run(url, "SELECT meter_id FROM meters ORDER BY 1")
        values["meter"] = [r[0] for r in rows]
    if "resource" in {v.name for v in d.variables} and "resource" not in multi:
        values["resource"] = "cold_water"
    return dataclasses.replace(ctx, variables=values, multi=multi)


@pytest.mark.parametrize(("dashboard", "spec"), PANELS, ids=lambda x: getattr(x, "key", ""))
def test_panel_sql_returns_the_expected_columns(
    dashboard: DashboardSpec, spec: PanelSpec, sample_db: str, month_context: QueryContext
) -> None:
    sql = expand(spec.sql, dashboard_context(dashboard, month_context, sample_db))
    assert "$" not in sql, sql  # nothing left unexpanded
    columns, rows = _run(sample_db, sql)
    assert tuple(columns) == spec.columns
    assert rows, f"{spec.key}: no rows over the sample month"
    if spec.fmt == "time_series":
        assert columns[0] == "time"
    if spec.kind == "stat":
        assert len(rows) == 1


@pytest.mark.parametrize(
    ("dashboard", "var"), VARIABLES, ids=lambda x: getattr(x, "uid", getattr(x, "name", ""))
)
def test_variable_queries_list_the_sample(dashboard, var, sample_db: str, month_context) -> None:
    columns, rows = _run(sample_db, expand(var.sql, dashboard_context(dashboard, month_context, sample_db)))
    assert len(columns) == 1
    assert rows


def _panel_rows(key: str, url: str, ctx: QueryContext) -> list[tuple]:
    dashboard, spec = next((d, p) for d, p in PANELS if p.key == key)
    return _run(url, expand(spec.sql, dashboard_context(dashboard, ctx, url)))[1]


def test_health_panels_show_the_sample_faults(sample_db: str, month_context: QueryContext) -> None:
    assert _panel_rows("no_data", sample_db, month_context) == [(1,)]  # the silent meter
    assert _panel_rows("meter_last_seen", sample_db, month_context)[0][:2] == ("SIL-1", "water_m3")
    gaps = _panel_rows("gaps", sample_db, month_context)
    assert max(g[4] for g in gaps) >= 48  # the sample's 48-hour gap
    reasons = {r[3] for r in _panel_rows("suspect", sample_db, month_context)}
    assert {"backwards", "jump"} <= reasons
    states = _panel_rows("gateway_state", sample_db, month_context)
    assert states[0][1:] == ("gw-1", 1)  # state before the range starts the timeline
    assert ("gw-1", 0) in {s[1:] for s in states}


def test_house_balance_is_positive_and_plausible(sample_db: str, month_context: QueryContext) -> None:
    for _building, _resource, _unit, house, apartments, unaccounted, pct in _panel_rows(
        "balance_table", sample_db, month_context
    ):
        assert house > apartments > 0 and unaccounted == house - apartments
        assert 0 < pct < 25


def test_device_errors_are_per_bus(sample_db: str, month_context: QueryContext) -> None:
    now = _panel_rows("device_errors_now", sample_db, month_context)
    assert [(r[1], r[5]) for r in now] == [("mbus-1", 8), ("rs485-1", 0)]
    assert now[0][3] == "SEN-1, SEN-2" and "checksum" in now[0][7]
    history = _panel_rows("device_errors_history", sample_db, month_context)
    assert ("gw-1 mbus-1", 1) in {(r[1], r[2]) for r in history}


def test_daily_volume_is_split_by_entrance(sample_db: str, month_context: QueryContext) -> None:
    dashboard, _ = next((d, p) for d, p in PANELS if p.key == "profile_daily")
    ctx = dashboard_context(dashboard, month_context, sample_db)
    by_entrance = _run(
        sample_db, expand(next(p for p in dashboard.panels if p.key == "profile_daily_entrance").sql, ctx)
    )[1]
    total = _run(sample_db, expand(next(p for p in dashboard.panels if p.key == "profile_daily").sql, ctx))[1]
    assert {r[1] for r in by_entrance} == {"D-1 подъезд 1 / entrance 1", "D-1 подъезд 2 / entrance 2"}
    assert sum(r[2] for r in by_entrance) == sum(r[2] for r in total)


TIME_GROUP_PANELS = [(d, p) for d, p in PANELS if "$__timeGroup" in p.sql]


@pytest.mark.parametrize(("dashboard", "spec"), TIME_GROUP_PANELS, ids=lambda x: getattr(x, "key", ""))
def test_panels_with_the_timescaledb_toggle(
    dashboard: DashboardSpec, spec: PanelSpec, sample_db: str, month_context: QueryContext
) -> None:
    """With the data source's TimescaleDB toggle Grafana writes time_bucket('3600.000s', col). On plain
    PostgreSQL a SQL stand-in with TimescaleDB's signature and default origin (Monday 2000-01-03) checks
    that the panels still parse and return the same rows, timestamps for epochs; in the TimescaleDB pass
    TimescaleDB's own time_bucket runs. (The context is built first: the TimescaleDB test server serves
    one connection at a time.)"""
    ctx = dashboard_context(dashboard, month_context, sample_db)
    with connect(sample_db) as conn:
        tsdb = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        sql = expand(spec.sql, dataclasses.replace(ctx, timescaledb=True))
        if not tsdb:
            conn.execute(
                "CREATE OR REPLACE FUNCTION pg_temp.time_bucket(bucket_width interval, ts timestamptz)"
                " RETURNS timestamptz LANGUAGE sql IMMUTABLE AS"
                " $$ SELECT date_bin(bucket_width, ts, timestamptz '2000-01-03 00:00:00+00') $$"
            )
            sql = sql.replace("time_bucket(", "pg_temp.time_bucket(")
        plain = conn.execute(expand(spec.sql, ctx)).fetchall()
        bucketed = conn.execute(sql).fetchall()
    assert [(r[0].timestamp(), *r[1:]) for r in bucketed] == [(float(r[0]), *r[1:]) for r in plain]


@pytest.mark.parametrize("key", ["completeness", "profile_daily", "profile_daily_entrance", "balance_trend"])
def test_daily_panels_bucket_by_the_buildings_local_day(key, sample_db, month_context) -> None:
    """The sample building is in Europe/Moscow (UTC+3): a day starts at 21:00 UTC the evening before."""
    dashboard, spec = next((d, s) for d, s in PANELS if s.key == key)
    sql = expand(spec.sql, dashboard_context(dashboard, month_context, sample_db))
    _, rows = _run(sample_db, sql)
    starts = {r[0] for r in rows}
    assert starts and all((t.hour, t.minute) == (21, 0) for t in starts), sorted(starts)[:3]


def test_completeness_counts_the_hours_of_the_local_day(sample_db, month_context) -> None:
    dashboard, spec = next((d, s) for d, s in PANELS if s.key == "completeness")
    _, rows = _run(sample_db, expand(spec.sql, dashboard_context(dashboard, month_context, sample_db)))
    values = [float(r[2]) for r in rows]
    assert all(0 <= v <= 100 for v in values)
    # a whole local day of a healthy hourly meter is complete: 24 of its 24 hours
    assert max(values) == 100.0


def test_dead_letters_follow_the_building_filter(sample_db, month_context) -> None:
    dashboard, spec = next((d, s) for d, s in PANELS if s.key == "dead_letters")
    ctx = dashboard_context(dashboard, month_context, sample_db)
    _, mine = _run(sample_db, expand(spec.sql, ctx))
    other = dataclasses.replace(ctx, variables={**ctx.variables, "building": ["NO-SUCH-BUILDING"]})
    _, theirs = _run(sample_db, expand(spec.sql, other))
    assert sum(r[2] for r in theirs) < sum(r[2] for r in mine)
