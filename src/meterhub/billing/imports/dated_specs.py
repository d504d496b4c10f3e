"""Import files of the validity-dated configuration (migration 0134, docs/billing-close.md "Dated
configuration"): common-property methods, holiday calendars, zone schedules, tariff plans, meter states
and acts of technical impossibility per service. Each row applies from ``valid_from`` until the next row
of the same key (billing-rules.md decision 11).

A ``building_services`` file that changes the common-property method of a building with closed periods
is dated from the building's first open period by a trigger (migration 0135), whatever the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meterhub.billing.imports.columns import boolean, choice, day, text
from meterhub.billing.imports.specs import Column, Entity, Reference
from meterhub.billing.rules.schedule_text import day_typed_schedule
from meterhub.billing.rules.zones import ZoneScheme

__all__ = ["DATED_ENTITIES", "DATED_ORDER"]

_SCHEMES = tuple(s.value for s in ZoneScheme)
_SERVICES = ("electricity", "cold_water", "hot_water", "wastewater", "heat", "maintenance")
_METERED = ("electricity", "cold_water", "hot_water", "wastewater")
_METHODS = ("normative", "actual_capped", "actual", "average")
_DAY_TYPES = ("workday", "saturday", "sunday", "holiday")
_BUILDING_REF = Reference(("building",), "SELECT building_id FROM buildings", "import buildings first")


def _check_schedule(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    try:
        day_typed_schedule(row["schedule"], ZoneScheme(row["scheme"]), {t: row.get(t) for t in _DAY_TYPES})
    except ValueError as exc:
        column = next((t for t in _DAY_TYPES if f", {t}:" in str(exc)), "workday")
        return [(column, str(exc))]
    return []


def _check_plan(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    if row["account"] and row["meter"]:
        return [("meter", "a plan is of an account or of a meter, not both; leave one of them empty")]
    return []


DATED_ENTITIES: Mapping[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "holidays",
            "holiday_calendars",
            (
                Column("calendar", text),
                Column("day", day),
                Column("kind", choice("holiday", "workday"), default="holiday"),
                Column("name", text, default=""),
            ),
            ("calendar", "day"),
        ),
        Entity(
            "zone_schedules",
            "zone_schedules",
            (
                Column("schedule", text),
                Column("scheme", choice(*_SCHEMES)),
                *(Column(t, text, default=None) for t in _DAY_TYPES),
                Column("calendar", text, default=""),
            ),
            ("schedule",),
            check=_check_schedule,
        ),
        Entity(
            "common_property_methods",
            "common_property_methods",
            (
                Column("building", text, "building_id"),
                Column("service", choice(*_SERVICES)),
                Column("valid_from", day),
                Column("method", choice(*_METHODS), default=None),
            ),
            ("building", "service", "valid_from"),
            (_BUILDING_REF,),
        ),
        Entity(
            "tariff_plans",
            "tariff_plans",
            (
                Column("building", text, "building_id"),
                Column("account", text, "account_no", default=""),
                Column("meter", text, "meter_id", default=""),
                Column("service", choice(*_METERED), default="electricity"),
                Column("valid_from", day),
                Column("scheme", choice(*_SCHEMES)),
                Column("zone_schedule", text, default=None),
            ),
            ("building", "account", "meter", "service", "valid_from"),
            (
                _BUILDING_REF,
                Reference(
                    ("building", "account"),
                    "SELECT building_id, account_no FROM accounts "
                    "UNION SELECT building_id, '' FROM buildings",
                    "the account is not in this building; import accounts first",
                ),
                Reference(
                    ("building", "meter"),
                    "SELECT building_id, meter_id FROM meter_links "
                    "UNION SELECT building_id, '' FROM buildings",
                    "the meter is not linked in this building; import meters first",
                ),
                Reference(
                    ("zone_schedule", "scheme"),
                    "SELECT schedule, scheme FROM zone_schedules",
                    "import the zone schedule first; its scheme must be the plan's scheme",
                ),
            ),
            _check_plan,
        ),
        Entity(
            "meter_states",
            "meter_states",
            (
                Column("meter_id", text),
                Column("valid_from", day),
                Column("state", choice("working", "failed", "being_replaced", "verification_expired")),
                Column("note", text, default=""),
            ),
            ("meter_id", "valid_from"),
            (Reference(("meter_id",), "SELECT meter_id FROM meters", "import meters first"),),
        ),
        Entity(
            "impossibility_acts",
            "technical_impossibility_acts",
            (
                Column("building", text, "building_id"),
                Column("premise", text, "premise_no"),
                Column("service", choice(*_METERED)),
                Column("valid_from", day),
                Column("impossible", boolean, default=True),
                Column("act_no", text, default=""),
            ),
            ("building", "premise", "service", "valid_from"),
            (
                Reference(
                    ("building", "premise"),
                    "SELECT building_id, premise_no FROM premises",
                    "import premises first",
                ),
            ),
        ),
    )
}

DATED_ORDER = tuple(DATED_ENTITIES)
"""Import order of the dated configuration (after meters, tariffs and normatives)."""
