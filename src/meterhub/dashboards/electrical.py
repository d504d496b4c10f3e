"""(4) Electrical quality: per-phase voltage, current, power and power factor from instantaneous registers.

These panels read raw ``readings`` (momentary values have no hourly series), so the dashboard opens on a
short range and every query is limited to the selected meters' instantaneous registers.
"""

from __future__ import annotations

from meterhub.dashboards.spec import DashboardSpec, PanelSpec, Threshold
from meterhub.dashboards.variables import BUILDING, METER, RESOURCE


def _phase_panel(
    key: str,
    title_en: str,
    title_ru: str,
    registers: tuple[str, ...],
    unit: str,
    thresholds: tuple[Threshold, ...] = (),
    agg: str = "avg",
) -> PanelSpec:
    names = ", ".join(f"'{r}'" for r in registers)
    return PanelSpec(
        key=f"electrical_{key}",
        title_en=title_en,
        title_ru=title_ru,
        kind="timeseries",
        fmt="time_series",
        columns=("time", "metric", "value"),
        unit=unit,
        thresholds=thresholds,
        sql=f"""
SELECT $__timeGroupAlias(r.ts, $__interval), mr.meter_id || ' ' || mr.register AS metric,
       {agg}(r.value) AS value
FROM reading_values r
JOIN meter_registers mr USING (series_id)
WHERE $__timeFilter(r.ts) AND mr.meter_id IN ($meter) AND NOT mr.cumulative AND mr.register IN ({names})
GROUP BY 1, 2
ORDER BY 1, 2""",
    )


# GOST 32144-2013: ±10 % of 230 V at the point of supply.
VOLTAGE = _phase_panel(
    "voltage",
    "Voltage per phase",
    "Напряжение по фазам",
    ("voltage_l1_v", "voltage_l2_v", "voltage_l3_v", "voltage_v"),
    "volt",
    (Threshold(None, "red"), Threshold(207, "green"), Threshold(253, "red")),
)
CURRENT = _phase_panel(
    "current",
    "Current per phase",
    "Ток по фазам",
    ("current_l1_a", "current_l2_a", "current_l3_a", "current_a"),
    "amp",
)
POWER = _phase_panel(
    "power",
    "Active power per phase",
    "Активная мощность по фазам",
    ("power_l1_w", "power_l2_w", "power_l3_w", "power_w"),
    "watt",
)
POWER_FACTOR = _phase_panel(
    "power_factor",
    "Power factor per phase (minimum)",
    "Коэффициент мощности по фазам (минимум)",
    ("power_factor_l1", "power_factor_l2", "power_factor_l3", "power_factor"),
    "none",
    (Threshold(None, "red"), Threshold(0.85, "orange"), Threshold(0.93, "green")),
    agg="min",
)

VOLTAGE_LIMITS = PanelSpec(
    key="electrical_voltage_excursions",
    title_en="Voltage outside 207–253 V",
    title_ru="Напряжение вне 207–253 В",
    kind="table",
    columns=("meter", "register", "readings", "below", "above", "min_v", "max_v"),
    thresholds=(Threshold(None, "green"), Threshold(1, "red")),
    sql="""
SELECT mr.meter_id AS meter, mr.register, count(*) AS readings,
       count(*) FILTER (WHERE r.value < 207) AS below, count(*) FILTER (WHERE r.value > 253) AS above,
       min(r.value) AS min_v, max(r.value) AS max_v
FROM reading_values r
JOIN meter_registers mr USING (series_id)
WHERE $__timeFilter(r.ts) AND mr.meter_id IN ($meter) AND NOT mr.cumulative
  AND mr.register IN ('voltage_l1_v', 'voltage_l2_v', 'voltage_l3_v', 'voltage_v')
GROUP BY 1, 2
ORDER BY count(*) FILTER (WHERE r.value < 207 OR r.value > 253) DESC, 1, 2""",
)

ELECTRICAL = DashboardSpec(
    uid="meterhub-electrical",
    title_en="Electrical quality",
    title_ru="Качество электроэнергии",
    description="Per-phase voltage, current, power, power factor of meters that report them (short ranges).",
    variables=(BUILDING, RESOURCE, METER),
    panels=(VOLTAGE, CURRENT, POWER, POWER_FACTOR, VOLTAGE_LIMITS),
    time_from="now-6h",
    refresh="1m",
)
