"""Import files of the heating configuration (migration 0150, docs/billing-engine.md "Heating"):
heating methods per building from a date, heating seasons, premises' heating devices from a date,
distributor units per month and the house's yearly heat when it is not in the time series.

Heat tariffs (₽/Гкал) are ordinary ``tariffs`` rows with service ``heat``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from meterhub.billing.imports.columns import boolean, choice, day, decimal, integer, text
from meterhub.billing.imports.specs import Column, Entity, Reference

__all__ = ["HEATING_ENTITIES", "HEATING_ORDER"]

_BUILDING_REF = Reference(("building",), "SELECT building_id FROM buildings", "import buildings first")
_PREMISE_REF = Reference(
    ("building", "premise"), "SELECT building_id, premise_no FROM premises", "import premises first"
)
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _check_config(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = []
    if not 0 <= row["ipu_share_threshold"] <= 1:
        errors.append(("ipu_share_threshold", "a share between 0 and 1 (e.g. 0.5)"))
    if not 1 <= row["season_months"] <= 12:
        errors.append(("season_months", "1..12 months"))
    if not 3 <= row["volume_decimals"] <= 6:
        errors.append(("volume_decimals", "3..6 decimals"))
    if not 1 <= row["correction_month"] <= 3:
        errors.append(("correction_month", "1..3 (the yearly correction is booked in the I quarter)"))
    if row["normative_gcal_m2"] < 0:
        errors.append(("normative_gcal_m2", "must not be negative"))
    return errors


def _check_season(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    if row.get("ends_on") is not None and row["ends_on"] <= row["starts_on"]:
        return [("ends_on", f"{row['ends_on']} must be after starts_on {row['starts_on']}")]
    return []


def _check_units(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = []
    if not _PERIOD.match(row["period"]):
        errors.append(("period", f"{row['period']!r} is not a period YYYY-MM"))
    if row["units"] < 0:
        errors.append(("units", "must not be negative"))
    return errors


def _check_year(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [("gcal", "must not be negative")] if row["gcal"] < 0 else []


HEATING_ENTITIES: Mapping[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "heating_configs",
            "heating_configs",
            (
                Column("building", text, "building_id"),
                Column("valid_from", day),
                Column("enabled", boolean, default=True),
                Column("payment_mode", choice("season", "even_year")),
                Column("has_odpu", boolean),
                Column("normative_gcal_m2", decimal),
                Column(
                    "unmetered_rule",
                    choice("avg_specific_of_metered", "normative"),
                    default="avg_specific_of_metered",
                ),
                Column("ipu_share_threshold", decimal, default=0),
                Column("ipu_share_basis", choice("area", "count"), default="area"),
                Column("season_months", integer, default=8),
                Column("volume_decimals", integer, default=4),
                Column("correction_month", integer, default=1),
            ),
            ("building", "valid_from"),
            (_BUILDING_REF,),
            _check_config,
        ),
        Entity(
            "heating_seasons",
            "heating_seasons",
            (
                Column("building", text, "building_id"),
                Column("starts_on", day),
                Column("ends_on", day, default=None),
            ),
            ("building", "starts_on"),
            (_BUILDING_REF,),
            _check_season,
        ),
        Entity(
            "premise_heating_devices",
            "premise_heating_devices",
            (
                Column("building", text, "building_id"),
                Column("premise", text, "premise_no"),
                Column("valid_from", day),
                Column("devices", choice("radiators", "ipu", "distributor", "no_devices")),
                Column("note", text, default=""),
            ),
            ("building", "premise", "valid_from"),
            (_PREMISE_REF,),
        ),
        Entity(
            "heat_distributor_units",
            "heat_distributor_units",
            (
                Column("building", text, "building_id"),
                Column("premise", text, "premise_no"),
                Column("period", text),
                Column("units", decimal),
            ),
            ("building", "premise", "period"),
            (_PREMISE_REF,),
            _check_units,
        ),
        Entity(
            "heating_house_years",
            "heating_house_years",
            (
                Column("building", text, "building_id"),
                Column("year", integer),
                Column("gcal", decimal),
            ),
            ("building", "year"),
            (_BUILDING_REF,),
            _check_year,
        ),
    )
}

HEATING_ORDER = tuple(HEATING_ENTITIES)
"""Import order of the heating configuration (after premises, meters and tariffs)."""
