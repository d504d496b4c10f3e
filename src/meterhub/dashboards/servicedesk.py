"""(7) Service desk (обращения): requests by category, channel and executor with the share resolved on
time, the daily intake and resolution, and the open overdue requests now — from ``api_requests`` and the
service desk's tables (docs/requests.md)."""

from __future__ import annotations

from meterhub.dashboards.spec import DashboardSpec, PanelSpec, Threshold
from meterhub.dashboards.variables import BUILDING

_IN_RANGE = "r.building_id IN ($building) AND $__timeFilter(r.created_at)"
_COUNTS = """count(*) AS registered,
       count(*) FILTER (WHERE r.resolved_at IS NOT NULL) AS resolved,
       count(*) FILTER (WHERE r.resolved_at <= r.resolution_due_at) AS on_time,
       round(100.0 * count(*) FILTER (WHERE r.resolved_at <= r.resolution_due_at)
             / nullif(count(*) FILTER (WHERE r.resolved_at IS NOT NULL), 0), 1) AS share_on_time_pct,
       count(*) FILTER (WHERE r.status IN ('new', 'in_progress') AND r.resolution_due_at < now())
           AS overdue_open,
       round(avg(r.rating), 2) AS rating"""
_COLUMNS = ("registered", "resolved", "on_time", "share_on_time_pct", "overdue_open", "rating")


def _by(key: str, title_en: str, title_ru: str, label_sql: str, joins: str) -> PanelSpec:
    return PanelSpec(
        key=f"servicedesk_by_{key}",
        title_en=title_en,
        title_ru=title_ru,
        kind="table",
        columns=(key, *_COLUMNS),
        description="share_on_time_pct = resolved no later than the resolution deadline ÷ resolved [%].",
        width=8,
        sql=f"""
SELECT {label_sql} AS {key}, {_COUNTS}
FROM api_requests r {joins}
WHERE {_IN_RANGE}
GROUP BY 1 ORDER BY registered DESC, 1""",
    )


BY_CATEGORY = _by(
    "category",
    "By category",
    "По категориям",
    "COALESCE(c.name_ru, r.sd_category, r.category)",
    "LEFT JOIN sd_categories c ON c.category = r.sd_category",
)
BY_CHANNEL = _by("channel", "By channel", "По каналам", "r.channel", "")
BY_EXECUTOR = _by(
    "executor",
    "By executor",
    "По исполнителям",
    "COALESCE(x.name, 'не назначен')",
    "LEFT JOIN sd_executors x ON x.executor_id = r.executor_id",
)

DAILY = PanelSpec(
    key="servicedesk_daily",
    title_en="Registered and resolved per day",
    title_ru="Поступило и выполнено за сутки",
    kind="bars",
    fmt="time_series",
    columns=("time", "registered", "resolved_on_time", "resolved_late"),
    width=16,
    sql="""
SELECT $__timeGroupAlias(day, '1d'), sum(registered) AS registered, sum(on_time) AS resolved_on_time,
       sum(late) AS resolved_late
FROM (
  SELECT r.created_at AS day, 1 AS registered, 0 AS on_time, 0 AS late FROM api_requests r
   WHERE r.building_id IN ($building) AND $__timeFilter(r.created_at)
  UNION ALL
  SELECT r.resolved_at, 0, (r.resolved_at <= r.resolution_due_at)::int,
         (r.resolved_at > r.resolution_due_at)::int
    FROM api_requests r
   WHERE r.building_id IN ($building) AND $__timeFilter(r.resolved_at) AND r.resolution_due_at IS NOT NULL
) e
GROUP BY 1 ORDER BY 1""",
)

OVERDUE_NOW = PanelSpec(
    key="servicedesk_overdue_now",
    title_en="Open and overdue now",
    title_ru="Просрочено сейчас",
    kind="stat",
    columns=("overdue",),
    width=8,
    thresholds=(Threshold(None, "green"), Threshold(1, "red")),
    sql="""
SELECT count(*) AS overdue FROM api_requests r
WHERE r.building_id IN ($building) AND r.status IN ('new', 'in_progress') AND r.resolution_due_at < now()""",
)

SERVICE_DESK = DashboardSpec(
    uid="meterhub-servicedesk",
    title_en="Service desk",
    title_ru="Обращения",
    description="Requests by category, channel and executor with the share resolved on time; overdue now.",
    variables=(BUILDING,),
    panels=(DAILY, OVERDUE_NOW, BY_CATEGORY, BY_CHANNEL, BY_EXECUTOR),
    time_from="now-30d",
    refresh="5m",
)
