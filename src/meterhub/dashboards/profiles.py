"""(3) Consumption profiles: hour-of-day × weekday, daily volumes, night base load (a leak indicator)."""

from __future__ import annotations

from meterhub.dashboards.spec import DashboardSpec, PanelSpec, Threshold
from meterhub.dashboards.variables import (
    BUILDING,
    BUILDING_TZ,
    RESOURCE_ONE,
    TOTAL_REGISTERS,
    local_day,
)

# Hours of the selected resource's apartment meters, with the building's local time (UTC without a
# billing record of the building).
_LOCAL_HOURS = f"""
  FROM hourly_consumption h
  JOIN meter_registers mr USING (series_id)
  JOIN meters m USING (meter_id)
  LEFT JOIN buildings b ON b.building_id = m.building_id
  WHERE $__timeFilter(h.hour) AND h.quality < 3 AND NOT m.is_house_meter
    AND m.building_id IN ($building) AND m.kind = '$resource' AND mr.register IN {TOTAL_REGISTERS}"""

_WEEKDAYS = "ARRAY['Пн Mon', 'Вт Tue', 'Ср Wed', 'Чт Thu', 'Пт Fri', 'Сб Sat', 'Вс Sun']"
_HOUR_COLUMNS = ",\n       ".join(f'max(v) FILTER (WHERE hod = {i}) AS "{i:02d}"' for i in range(24))

WEEK_HEATMAP = PanelSpec(
    key="profile_week_heatmap",
    title_en="Hour of day × weekday (mean Σ apartments per hour)",
    title_ru="Час суток × день недели (среднее Σ ИПУ за час)",
    kind="heatmap-table",
    columns=("weekday", *(f"{i:02d}" for i in range(24))),
    min_interval="1h",
    description="Local time of the building. Each cell: the mean over the range of the hour's total.",
    width=24,
    height=9,
    sql=f"""
WITH per_hour AS (
  SELECT h.hour AT TIME ZONE coalesce(min(b.time_zone), 'UTC') AS local, sum(h.volume_micro) / 1e6 AS v
  {_LOCAL_HOURS}
  GROUP BY h.hour
), cells AS (
  SELECT extract(isodow FROM local)::int AS dow, extract(hour FROM local)::int AS hod, avg(v) AS v
  FROM per_hour
  GROUP BY 1, 2
)
SELECT ({_WEEKDAYS})[dow] AS weekday,
       {_HOUR_COLUMNS}
FROM cells
GROUP BY dow
ORDER BY dow""",
)

DAILY = PanelSpec(
    key="profile_daily",
    title_en="Daily volume per building",
    title_ru="Суточный объём по дому",
    kind="bars",
    fmt="time_series",
    columns=("time", "metric", "value"),
    min_interval="1d",
    description="Σ apartment meters per local day of the building.",
    sql=f"""
SELECT {local_day("h.hour")} AS "time", m.building_id AS metric, sum(h.volume_micro) / 1e6 AS value
  {_LOCAL_HOURS}
GROUP BY 1, 2
ORDER BY 1, 2""",
)

DAILY_ENTRANCE = PanelSpec(
    key="profile_daily_entrance",
    title_en="Daily volume per entrance",
    title_ru="Суточный объём по подъездам",
    kind="bars",
    fmt="time_series",
    columns=("time", "metric", "value"),
    min_interval="1d",
    description="Σ apartment meters per local day and entrance (meter → premise from the billing links).",
    sql=f"""
WITH daily AS (
  SELECT mr.meter_id, m.building_id, {local_day("h.hour")} AS day,
         (h.hour AT TIME ZONE {BUILDING_TZ})::date AS local_date, sum(h.volume_micro) / 1e6 AS v
  FROM hourly_consumption h
  JOIN meter_registers mr USING (series_id)
  JOIN meters m USING (meter_id)
  LEFT JOIN buildings b ON b.building_id = m.building_id
  WHERE $__timeFilter(h.hour) AND h.quality < 3 AND NOT m.is_house_meter
    AND m.building_id IN ($building) AND m.kind = '$resource' AND mr.register IN {TOTAL_REGISTERS}
  GROUP BY 1, 2, 3, 4
)
SELECT d.day AS "time",
       d.building_id || coalesce(' подъезд ' || p.entrance || ' / entrance ' || p.entrance,
                                 ' без подъезда / no entrance') AS metric,
       sum(d.v) AS value
FROM daily d
LEFT JOIN LATERAL (
  SELECT l.premise_no FROM meter_links l
  WHERE l.meter_id = d.meter_id AND l.valid_from <= d.local_date
  ORDER BY l.valid_from DESC LIMIT 1
) l ON true
LEFT JOIN premises p ON p.building_id = d.building_id AND p.premise_no = l.premise_no
GROUP BY 1, 2
ORDER BY 1, 2""",
)

NIGHT_BASE = PanelSpec(
    key="profile_night_base",
    title_en="Night base load per apartment meter (01–05 local)",
    title_ru="Ночной минимум по квартирным счётчикам (01–05 местного)",
    kind="table",
    columns=("meter", "unit", "night_min_per_h", "nights", "nights_never_zero"),
    decimals=4,
    thresholds=(Threshold(None, "green"), Threshold(0.005, "orange"), Threshold(0.02, "red")),
    description="Mean over nights of the smallest hourly volume between 01:00 and 05:00 local time. "
    "Water that never stops at night (5 l/h and more) is a leak or a running toilet.",
    sql=f"""
WITH nightly AS (
  SELECT mr.meter_id, mr.unit,
         ((h.hour AT TIME ZONE coalesce(b.time_zone, 'UTC')) - interval '1 hour')::date AS night,
         min(h.volume_micro) / 1e6 AS night_min
  {_LOCAL_HOURS}
    AND extract(hour FROM h.hour AT TIME ZONE coalesce(b.time_zone, 'UTC')) BETWEEN 1 AND 4
  GROUP BY 1, 2, 3
)
SELECT meter_id AS meter, unit, avg(night_min) AS night_min_per_h, count(*) AS nights,
       count(*) FILTER (WHERE night_min > 0) AS nights_never_zero
FROM nightly
GROUP BY 1, 2
ORDER BY night_min_per_h DESC""",
)

NIGHT_TREND = PanelSpec(
    key="profile_night_trend",
    title_en="Night base load of the building per night",
    title_ru="Ночной минимум дома по ночам",
    kind="timeseries",
    fmt="time_series",
    columns=("time", "metric", "value"),
    sql=f"""
WITH nightly AS (
  SELECT m.building_id, mr.meter_id,
         date_trunc('day', h.hour AT TIME ZONE coalesce(b.time_zone, 'UTC') - interval '1 hour')
             AT TIME ZONE coalesce(b.time_zone, 'UTC') AS night,
         min(h.volume_micro) / 1e6 AS night_min
  {_LOCAL_HOURS}
    AND extract(hour FROM h.hour AT TIME ZONE coalesce(b.time_zone, 'UTC')) BETWEEN 1 AND 4
  GROUP BY 1, 2, 3
)
SELECT night AS "time", building_id AS metric, sum(night_min) AS value
FROM nightly
GROUP BY 1, 2
ORDER BY 1, 2""",
)

PROFILES = DashboardSpec(
    uid="meterhub-profiles",
    title_en="Consumption profiles",
    title_ru="Профили потребления",
    description="Hour-of-day × weekday, daily volumes and the night base load of one resource.",
    variables=(BUILDING, RESOURCE_ONE),
    panels=(WEEK_HEATMAP, DAILY, DAILY_ENTRANCE, NIGHT_BASE, NIGHT_TREND),
    time_from="now-30d",
    refresh="15m",
)
