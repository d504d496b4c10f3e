"""(6) Ingest pipeline: readings per second, publish-to-commit lag, outbox backlog reported by gateways."""

from __future__ import annotations

from meterhub.dashboards.spec import DashboardSpec, PanelSpec, Threshold
from meterhub.dashboards.variables import BUILDING

READINGS_RATE = PanelSpec(
    key="ingest_rate",
    title_en="Readings per second",
    title_ru="Показаний в секунду",
    kind="timeseries",
    fmt="time_series",
    columns=("time", "inserted", "duplicates", "rejected"),
    unit="suffix:/s",
    description="From ingest_log: rows stored, duplicates (re-deliveries) and rejected per second.",
    sql="""
SELECT $__timeGroupAlias(committed_at, $__interval),
       sum(inserted) * 1000.0 / $__interval_ms AS inserted,
       sum(duplicates) * 1000.0 / $__interval_ms AS duplicates,
       sum(rejected) * 1000.0 / $__interval_ms AS rejected
FROM ingest_log
WHERE $__timeFilter(committed_at) AND building_id IN ($building)
GROUP BY 1
ORDER BY 1""",
)

LAG = PanelSpec(
    key="ingest_lag",
    title_en="Publish-to-commit lag",
    title_ru="Задержка от публикации до записи",
    kind="timeseries",
    fmt="time_series",
    columns=("time", "p50", "p95", "max"),
    unit="s",
    thresholds=(Threshold(None, "green"), Threshold(5, "orange"), Threshold(60, "red")),
    description="committed_at − sent_at of every readings message (gateway clock vs database clock).",
    sql="""
SELECT $__timeGroupAlias(committed_at, $__interval),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM committed_at - sent_at)) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM committed_at - sent_at)) AS p95,
       max(extract(epoch FROM committed_at - sent_at)) AS max
FROM ingest_log
WHERE $__timeFilter(committed_at) AND building_id IN ($building) AND sent_at IS NOT NULL
GROUP BY 1
ORDER BY 1""",
)

WORKERS = PanelSpec(
    key="ingest_workers",
    title_en="Messages per worker",
    title_ru="Сообщений на обработчик",
    kind="timeseries",
    fmt="time_series",
    columns=("time", "metric", "value"),
    unit="short",
    sql="""
SELECT $__timeGroupAlias(committed_at, $__interval), ingest_worker AS metric, count(*) AS value
FROM ingest_log
WHERE $__timeFilter(committed_at) AND building_id IN ($building)
GROUP BY 1, 2
ORDER BY 1, 2""",
)

BACKLOG_HISTORY = PanelSpec(
    key="outbox_backlog_history",
    title_en="Outbox backlog reported by gateways",
    title_ru="Очередь неотправленных показаний на шлюзах",
    kind="timeseries",
    fmt="time_series",
    columns=("time", "metric", "value"),
    unit="short",
    thresholds=(Threshold(None, "green"), Threshold(1000, "orange"), Threshold(100000, "red")),
    description="outbox_backlog of each status message (gateway_status_history).",
    sql="""
SELECT status_ts AS "time", gateway_id AS metric, outbox_backlog AS value
FROM gateway_status_history
WHERE $__timeFilter(status_ts) AND building_id IN ($building)
ORDER BY 1, 2""",
)

BACKLOG_NOW = PanelSpec(
    key="outbox_backlog_now",
    title_en="Outbox now (largest first)",
    title_ru="Очередь сейчас (сначала наибольшая)",
    kind="table",
    columns=("gateway", "state", "outbox_backlog", "oldest_unsent", "oldest_age_s", "outbox_dropped"),
    thresholds=(Threshold(None, "green"), Threshold(1000, "orange"), Threshold(100000, "red")),
    description="outbox_dropped: readings the gateway's full outbox refused since it was created — "
    "data lost at the edge; anything above 0 needs a look.",
    sql="""
SELECT gateway_id AS gateway, state, outbox_backlog, outbox_oldest AS oldest_unsent,
       extract(epoch FROM now() - outbox_oldest)::bigint AS oldest_age_s, outbox_dropped
FROM gateways
WHERE building_id IN ($building)
ORDER BY outbox_dropped DESC, outbox_backlog DESC, gateway_id""",
)

INGEST = DashboardSpec(
    uid="meterhub-ingest",
    title_en="Ingest pipeline",
    title_ru="Конвейер приёма данных",
    description="Readings per second, publish-to-commit lag, per-worker load, gateways' outbox backlog.",
    variables=(BUILDING,),
    panels=(READINGS_RATE, LAG, WORKERS, BACKLOG_HISTORY, BACKLOG_NOW),
    time_from="now-24h",
    refresh="30s",
)
