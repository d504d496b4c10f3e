"""Template variables shared by the dashboards: building, resource (meter kind), meter."""

from __future__ import annotations

from meterhub.dashboards.spec import VariableSpec

BUILDING = VariableSpec(
    "building",
    "Дом / Building",
    "SELECT DISTINCT building_id FROM meters WHERE building_id IS NOT NULL ORDER BY 1",
)
RESOURCE = VariableSpec(
    "resource",
    "Ресурс / Resource",
    "SELECT DISTINCT kind FROM meters WHERE building_id IN ($building) ORDER BY 1",
)
METER = VariableSpec(
    "meter",
    "Счётчик / Meter",
    "SELECT meter_id FROM meters WHERE building_id IN ($building) AND kind IN ($resource) ORDER BY 1",
)

# The one register per kind whose volume is the resource's total (electricity also has T1/T2 registers).
TOTAL_REGISTERS = "('energy_import_kwh', 'water_m3', 'heat_gcal')"

# One resource at a time, for panels whose values must share a unit (profiles): Grafana inserts a
# single-value variable unquoted, so the SQL quotes it ('$resource').
RESOURCE_ONE = VariableSpec(
    "resource",
    "Ресурс / Resource",
    "SELECT DISTINCT kind FROM meters WHERE building_id IN ($building) ORDER BY 1",
    multi=False,
)


# The building's local time zone (billing's ``buildings.time_zone``; UTC when the building is not in
# billing) and the start of the local day of an hour, as an instant: daily panels bucket by the day
# the residents and the bill see, not the UTC day (UTC+3…+12 shifts a UTC day by up to half a day).
BUILDING_TZ = "coalesce(b.time_zone, 'UTC')"


def local_day(column: str, tz: str = BUILDING_TZ) -> str:
    """SQL: the instant the local day of ``column`` starts in the zone ``tz``."""
    return f"(date_trunc('day', {column} AT TIME ZONE {tz}) AT TIME ZONE {tz})"
