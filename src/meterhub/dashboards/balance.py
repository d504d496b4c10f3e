"""(2) House balance: the house meter (ОДПУ) against Σ apartment meters (ИПУ), from the hourly series."""

from __future__ import annotations

from meterhub.dashboards.spec import DashboardSpec, PanelSpec, Threshold
from meterhub.dashboards.variables import BUILDING, RESOURCE, TOTAL_REGISTERS, local_day

_HOURS = f"""
FROM hourly_consumption h
JOIN meter_registers mr USING (series_id)
JOIN meters m USING (meter_id)
LEFT JOIN buildings b ON b.building_id = m.building_id
WHERE $__timeFilter(h.hour) AND h.quality < 3
  AND m.building_id IN ($building) AND m.kind IN ($resource) AND mr.register IN {TOTAL_REGISTERS}"""

_PCT_THRESHOLDS = (Threshold(None, "green"), Threshold(5, "orange"), Threshold(15, "red"))

HOUSE_VS_APARTMENTS = PanelSpec(
    key="balance_series",
    title_en="House meter vs Σ apartment meters",
    title_ru="ОДПУ и сумма ИПУ",
    kind="bars",
    fmt="time_series",
    columns=("time", "metric", "value"),
    min_interval="1h",
    description="Per resource: the house meter's volume and the sum of apartment meters' volumes "
    "(suspect hours excluded).",
    width=24,
    sql=f"""
SELECT $__timeGroupAlias(h.hour, $__interval),
       m.kind || CASE WHEN m.is_house_meter THEN ' ОДПУ / house' ELSE ' Σ ИПУ / apartments' END AS metric,
       sum(h.volume_micro) / 1e6 AS value
{_HOURS}
GROUP BY 1, 2
ORDER BY 1, 2""",
)

UNACCOUNTED = PanelSpec(
    key="balance_table",
    title_en="Unaccounted volume over the range",
    title_ru="Небаланс за период",
    kind="table",
    columns=("building", "resource", "unit", "house", "apartments", "unaccounted", "unaccounted_pct"),
    thresholds=_PCT_THRESHOLDS,
    description="Unaccounted = house − Σ apartments (losses, common property, unmetered consumers).",
    sql=f"""
SELECT m.building_id AS building, m.kind AS resource, min(mr.unit) AS unit,
       sum(h.volume_micro) FILTER (WHERE m.is_house_meter) / 1e6 AS house,
       sum(h.volume_micro) FILTER (WHERE NOT m.is_house_meter) / 1e6 AS apartments,
       (sum(h.volume_micro) FILTER (WHERE m.is_house_meter)
        - coalesce(sum(h.volume_micro) FILTER (WHERE NOT m.is_house_meter), 0)) / 1e6 AS unaccounted,
       round(100.0 * (sum(h.volume_micro) FILTER (WHERE m.is_house_meter)
                      - coalesce(sum(h.volume_micro) FILTER (WHERE NOT m.is_house_meter), 0))
             / nullif(sum(h.volume_micro) FILTER (WHERE m.is_house_meter), 0), 2) AS unaccounted_pct
{_HOURS}
GROUP BY 1, 2
ORDER BY 1, 2""",
)

UNACCOUNTED_TREND = PanelSpec(
    key="balance_trend",
    title_en="Unaccounted share per day, %",
    title_ru="Доля небаланса по суткам, %",
    kind="timeseries",
    fmt="time_series",
    columns=("time", "metric", "value"),
    unit="percent",
    thresholds=_PCT_THRESHOLDS,
    sql=f"""
SELECT {local_day("h.hour")} AS "time", m.building_id || ' ' || m.kind AS metric,
       100.0 * (sum(h.volume_micro) FILTER (WHERE m.is_house_meter)
                - coalesce(sum(h.volume_micro) FILTER (WHERE NOT m.is_house_meter), 0))
             / nullif(sum(h.volume_micro) FILTER (WHERE m.is_house_meter), 0) AS value
{_HOURS}
GROUP BY 1, 2
ORDER BY 1, 2""",
)

NOT_MEASURED = PanelSpec(
    key="balance_not_measured",
    title_en="Apartments with interpolated or estimated volumes",
    title_ru="Квартиры с интерполированными или расчётными объёмами",
    kind="table",
    columns=("meter", "resource", "interpolated_h", "estimated_h", "volume", "not_measured_volume"),
    description="Apartment meters normally read at least hourly whose hours in the range were filled in "
    "(daily-read meters, interpolated by design, are left out).",
    sql=f"""
SELECT mr.meter_id AS meter, m.kind AS resource,
       count(*) FILTER (WHERE h.quality = 1) AS interpolated_h,
       count(*) FILTER (WHERE h.quality = 2) AS estimated_h,
       sum(h.volume_micro) / 1e6 AS volume,
       sum(h.volume_micro) FILTER (WHERE h.quality IN (1, 2)) / 1e6 AS not_measured_volume
{_HOURS} AND NOT m.is_house_meter
GROUP BY 1, 2
HAVING count(*) FILTER (WHERE h.quality IN (1, 2)) > 0 AND count(*) FILTER (WHERE h.quality = 0) > 0
ORDER BY estimated_h DESC, interpolated_h DESC""",
)

BALANCE = DashboardSpec(
    uid="meterhub-balance",
    title_en="House balance",
    title_ru="Баланс дома",
    description="House meter vs Σ apartment meters per resource, unaccounted volume and share, estimates.",
    variables=(BUILDING, RESOURCE),
    panels=(HOUSE_VS_APARTMENTS, UNACCOUNTED, UNACCOUNTED_TREND, NOT_MEASURED),
    time_from="now-30d",
    refresh="5m",
)
