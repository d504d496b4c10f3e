"""(1) Fleet and data health: gateways, last seen, completeness, gaps, suspect values, dead letters."""

from __future__ import annotations

from meterhub.dashboards.spec import DashboardSpec, PanelSpec, Threshold
from meterhub.dashboards.variables import BUILDING, BUILDING_TZ, RESOURCE

# A cumulative register of a selected meter that was installed during the time range.
_SELECTED_SERIES = """
    mr.cumulative AND m.building_id IN ($building) AND m.kind IN ($resource)
    AND (m.installed_on IS NULL OR m.installed_on <= $__timeTo()::date)
    AND (m.removed_on IS NULL OR m.removed_on >= $__timeFrom()::date)"""

GATEWAY_STATE = PanelSpec(
    key="gateway_state",
    title_en="Gateways online / offline",
    title_ru="Шлюзы в сети / не в сети",
    kind="state-timeline",
    fmt="time_series",
    columns=("time", "metric", "value"),
    description="From gateway_status_history (retained status, LWT); the state before the range starts it.",
    value_mappings=(("1", "online", "green"), ("0", "offline", "red")),
    width=18,
    sql="""
SELECT "time", metric, value FROM (
  SELECT s.status_ts AS "time", s.gateway_id AS metric, CASE s.state WHEN 'online' THEN 1 ELSE 0 END AS value
  FROM gateway_status_history s
  WHERE s.building_id IN ($building) AND $__timeFilter(s.status_ts)
  UNION ALL
  (SELECT DISTINCT ON (s.gateway_id) $__timeFrom()::timestamptz, s.gateway_id,
          CASE s.state WHEN 'online' THEN 1 ELSE 0 END
   FROM gateway_status_history s
   WHERE s.building_id IN ($building) AND s.status_ts < $__timeFrom()
   ORDER BY s.gateway_id, s.status_ts DESC)
) t
ORDER BY 1, 2""",
)

GATEWAY_LAST_SEEN = PanelSpec(
    key="gateway_last_seen",
    title_en="Gateways — last seen (oldest first)",
    title_ru="Шлюзы — последний контакт (сначала самые давние)",
    kind="table",
    columns=("gateway", "building", "state", "last_seen", "silent_s", "outbox_backlog", "version"),
    thresholds=(Threshold(None, "green"), Threshold(900, "orange"), Threshold(3600, "red")),
    sql="""
SELECT g.gateway_id AS gateway, g.building_id AS building, g.state, g.last_seen,
       extract(epoch FROM now() - g.last_seen)::bigint AS silent_s, g.outbox_backlog,
       g.software_version AS version
FROM gateways g
WHERE g.building_id IN ($building)
ORDER BY g.last_seen ASC""",
)

METER_LAST_SEEN = PanelSpec(
    key="meter_last_seen",
    title_en="Meters — last reading (oldest first)",
    title_ru="Счётчики — последнее показание (сначала самые давние)",
    kind="table",
    columns=("meter", "register", "kind", "last_reading", "silent_h"),
    description="One index probe per series (newest reading), not a scan.",
    sql="""
SELECT mr.meter_id AS meter, mr.register, m.kind, last.ts AS last_reading,
       round((extract(epoch FROM now() - last.ts) / 3600)::numeric, 1) AS silent_h
FROM meter_registers mr
JOIN meters m USING (meter_id)
LEFT JOIN LATERAL (
  SELECT r.ts FROM readings r WHERE r.series_id = mr.series_id ORDER BY r.ts DESC LIMIT 1
) last ON true
WHERE mr.cumulative AND m.building_id IN ($building) AND m.kind IN ($resource) AND m.removed_on IS NULL
ORDER BY last.ts ASC NULLS FIRST""",
)

COMPLETENESS = PanelSpec(
    key="completeness",
    title_en="Completeness per meter per day, %",
    title_ru="Полнота данных по счётчику за сутки, %",
    kind="status-history",
    fmt="time_series",
    columns=("time", "metric", "value"),
    unit="percent",
    decimals=0,
    description="Share of the hours of the building's local day with measured or interpolated volume "
    "(hourly series); a day with no data at all is 0 %. Days are local (buildings.time_zone).",
    thresholds=(Threshold(None, "red"), Threshold(90, "orange"), Threshold(99.5, "green")),
    width=24,
    height=12,
    sql=f"""
WITH sel AS (
  SELECT mr.series_id, mr.meter_id || ' ' || mr.register AS metric, {BUILDING_TZ} AS tz
  FROM meter_registers mr JOIN meters m USING (meter_id)
  LEFT JOIN buildings b ON b.building_id = m.building_id
  WHERE {_SELECTED_SERIES}
), days AS (
  SELECT z.tz, d.local_day, d.local_day AT TIME ZONE z.tz AS day_start,
         (d.local_day + interval '1 day') AT TIME ZONE z.tz AS day_end
  FROM (SELECT DISTINCT tz FROM sel) z
  CROSS JOIN LATERAL generate_series(
      date_trunc('day', $__timeFrom()::timestamptz AT TIME ZONE z.tz),
      ($__timeTo()::timestamptz - interval '1 microsecond') AT TIME ZONE z.tz,
      interval '1 day') AS d (local_day)
), present AS (
  SELECT h.series_id, date_trunc('day', h.hour AT TIME ZONE sel.tz) AS local_day, count(*) AS hours
  FROM hourly_consumption h JOIN sel USING (series_id)
  WHERE h.hour >= (SELECT min(day_start) FROM days) AND h.hour < (SELECT max(day_end) FROM days)
    AND h.quality <= 1
  GROUP BY 1, 2
)
SELECT d.day_start AS "time", sel.metric,
       100.0 * coalesce(p.hours, 0) / (extract(epoch FROM d.day_end - d.day_start) / 3600) AS value
FROM sel
JOIN days d USING (tz)
LEFT JOIN present p ON p.series_id = sel.series_id AND p.local_day = d.local_day
ORDER BY 1, 2""",
)

GAPS = PanelSpec(
    key="gaps",
    title_en="Gaps (runs of hours without a measurement)",
    title_ru="Пропуски (часы без измерений подряд)",
    kind="table",
    columns=("meter", "register", "gap_from", "gap_to", "hours", "worst_quality"),
    description="Runs of ≥ 3 hours that are not 'measured' in series that are otherwise measured "
    "(daily-read heat meters are interpolated by design and not listed).",
    sql=f"""
WITH sel AS (
  SELECT mr.series_id, mr.meter_id, mr.register
  FROM meter_registers mr JOIN meters m USING (meter_id)
  WHERE {_SELECTED_SERIES}
), h AS (
  SELECT h.series_id, h.hour, h.quality,
         h.hour - row_number() OVER (PARTITION BY h.series_id ORDER BY h.hour) * interval '1 hour' AS grp
  FROM hourly_consumption h JOIN sel USING (series_id)
  WHERE $__timeFilter(h.hour) AND h.quality >= 1
    AND EXISTS (SELECT 1 FROM hourly_consumption x
                WHERE x.series_id = h.series_id AND $__timeFilter(x.hour) AND x.quality = 0)
)
SELECT sel.meter_id AS meter, sel.register, min(h.hour) AS gap_from,
       max(h.hour) + interval '1 hour' AS gap_to, count(*) AS hours,
       CASE max(h.quality) WHEN 1 THEN 'interpolated' WHEN 2 THEN 'estimated' ELSE 'suspect' END
           AS worst_quality
FROM h JOIN sel USING (series_id)
GROUP BY sel.meter_id, sel.register, h.grp
HAVING count(*) >= 3
ORDER BY hours DESC, gap_from""",
)

SUSPECT = PanelSpec(
    key="suspect",
    title_en="Suspect values (VEE flags)",
    title_ru="Подозрительные значения (флаги VEE)",
    kind="table",
    columns=("time", "meter", "register", "reason", "detail"),
    sql="""
SELECT f.ts AS "time", mr.meter_id AS meter, mr.register, f.reason, f.detail
FROM reading_flags f
JOIN meter_registers mr USING (series_id)
JOIN meters m USING (meter_id)
WHERE $__timeFilter(f.ts) AND m.building_id IN ($building) AND m.kind IN ($resource)
ORDER BY f.ts DESC
LIMIT 500""",
)

DEAD_LETTERS = PanelSpec(
    key="dead_letters",
    title_en="Dead letters by reason",
    title_ru="Отклонённые данные по причинам",
    kind="bars",
    fmt="time_series",
    columns=("time", "metric", "value"),
    unit="short",
    description="Every rejected input (dead_letters) per reason code and interval, for the selected "
    "buildings (by the meter, else by the MQTT topic); inputs that name no building at all (an unknown "
    "topic, a file row without a meter) are always shown.",
    sql="""
SELECT $__timeGroupAlias(d.received_at, $__interval), d.reason AS metric, count(*) AS value
FROM dead_letters d
LEFT JOIN meters m ON m.meter_id = d.meter_id
WHERE $__timeFilter(d.received_at)
  AND (coalesce(m.building_id, nullif(split_part(d.context ->> 'topic', '/', 3), '')) IN ($building)
       OR coalesce(m.building_id, nullif(split_part(d.context ->> 'topic', '/', 3), '')) IS NULL)
GROUP BY 1, 2
ORDER BY 1, 2""",
)

# A device as the gateway reports it: "rs485-1/17", "mbus-1/secondary:12345678" — the bus is before the '/'.
DEVICE_ERRORS_HISTORY = PanelSpec(
    key="device_errors_history",
    title_en="Devices failing per bus",
    title_ru="Неотвечающие устройства по шинам",
    kind="timeseries",
    fmt="time_series",
    columns=("time", "metric", "value"),
    unit="short",
    thresholds=(Threshold(None, "green"), Threshold(1, "red")),
    description="From each gateway status: devices with failed reads (decode errors, timeouts) per bus.",
    sql="""
SELECT s.status_ts AS "time", s.gateway_id || ' ' || split_part(d.dev ->> 'device', '/', 1) AS metric,
       count(*) FILTER (WHERE NOT (d.dev ->> 'online')::boolean
                        OR (d.dev ->> 'consecutive_failures')::int > 0) AS value
FROM gateway_status_history s
CROSS JOIN LATERAL jsonb_array_elements(s.devices) AS d (dev)
WHERE $__timeFilter(s.status_ts) AND s.building_id IN ($building)
GROUP BY 1, 2
ORDER BY 1, 2""",
)

DEVICE_ERRORS_NOW = PanelSpec(
    key="device_errors_now",
    title_en="Device errors now (per bus)",
    title_ru="Ошибки устройств сейчас (по шинам)",
    kind="table",
    columns=(
        "gateway",
        "bus",
        "device",
        "meters",
        "online",
        "consecutive_failures",
        "last_success",
        "last_error",
    ),
    thresholds=(Threshold(None, "green"), Threshold(1, "orange"), Threshold(5, "red")),
    sql="""
SELECT g.gateway_id AS gateway, split_part(d.dev ->> 'device', '/', 1) AS bus, d.dev ->> 'device' AS device,
       (SELECT string_agg(x, ', ') FROM jsonb_array_elements_text(d.dev -> 'meter_ids') AS x) AS meters,
       (d.dev ->> 'online')::boolean AS online,
       (d.dev ->> 'consecutive_failures')::int AS consecutive_failures,
       (d.dev ->> 'last_success')::timestamptz AS last_success, d.dev ->> 'last_error' AS last_error
FROM gateways g
CROSS JOIN LATERAL jsonb_array_elements(g.devices) AS d (dev)
WHERE g.building_id IN ($building)
ORDER BY consecutive_failures DESC, gateway, device""",
)

NO_DATA = PanelSpec(
    key="no_data",
    title_en="Meters with no data at all",
    title_ru="Счётчики без данных вообще",
    kind="stat",
    columns=("value",),
    unit="short",
    width=6,
    height=5,
    description="Cumulative registers of installed meters without a single hourly value in the range.",
    thresholds=(Threshold(None, "green"), Threshold(1, "red")),
    sql=f"""
SELECT count(*) AS value
FROM meter_registers mr JOIN meters m USING (meter_id)
WHERE {_SELECTED_SERIES}
  AND NOT EXISTS (SELECT 1 FROM hourly_consumption h
                  WHERE h.series_id = mr.series_id AND $__timeFilter(h.hour))""",
)

FLEET = DashboardSpec(
    uid="meterhub-fleet",
    title_en="Fleet and data health",
    title_ru="Парк устройств и качество данных",
    description="Gateways online/offline, last seen, completeness, gaps, suspect values, dead letters, "
    "device errors per bus.",
    variables=(BUILDING, RESOURCE),
    panels=(
        NO_DATA,
        GATEWAY_STATE,
        GATEWAY_LAST_SEEN,
        METER_LAST_SEEN,
        COMPLETENESS,
        GAPS,
        SUSPECT,
        DEAD_LETTERS,
        DEVICE_ERRORS_HISTORY,
        DEVICE_ERRORS_NOW,
    ),
)
