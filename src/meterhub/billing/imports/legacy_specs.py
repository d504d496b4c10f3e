"""The files of a migration from a legacy billing system: columns, natural keys and row checks.

File layouts, the order to import them and how to check the result are in docs/migration.md. Rows are
parsed by the same machinery as the domain files (:mod:`meterhub.billing.imports.run`); the checks that
need the database (the building's cutover, frozen opening balances) are in
:mod:`meterhub.billing.imports.legacy`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from meterhub.billing.imports.columns import choice, day, decimal, text
from meterhub.billing.imports.specs import _BUILDING_REF, Column, Entity, Reference

__all__ = ["LEGACY_ENTITIES", "LEGACY_ORDER", "kopecks", "period", "volume"]

LEGACY_ORDER = (
    "cutover",
    "opening_balances",
    "legacy_payments",
    "meter_history",
    "house_history",
    "legacy_totals",
)
"""The order ``import_directory`` uses for migration files, after the domain files."""

_PERIOD_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_PERIOD_DOTTED = re.compile(r"^(\d{1,2})\.(\d{4})$")
_SERVICES = ("electricity", "cold_water", "hot_water", "wastewater", "heat", "maintenance")
_METERED = ("electricity", "cold_water", "hot_water")
_ZONES = ("single", "day", "night", "peak", "semi_peak")
_ZONE_SETS = (frozenset({"single"}), frozenset({"day", "night"}), frozenset({"peak", "semi_peak", "night"}))


def period(value: str) -> str:
    """A billing period as ``YYYY-MM`` or ``MM.YYYY`` → ``YYYY-MM``."""
    v = value.strip()
    m = _PERIOD_ISO.match(v)
    year, month = (m.group(1), m.group(2)) if m else (None, None)
    if m is None and (d := _PERIOD_DOTTED.match(v)):
        year, month = d.group(2), d.group(1)
    if year is None or month is None or not 1 <= int(month) <= 12:
        raise ValueError(f"{value!r} is not a billing period (use YYYY-MM or MM.YYYY, e.g. 2026-03)")
    return f"{year}-{int(month):02d}"


def kopecks(value: str) -> int:
    """An amount in rubles with at most two decimals (``1 234,56``) → integer kopecks."""
    amount = decimal(value)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{value!r} has more than two decimals (kopecks); give rubles like 1234.56")
    return int(amount * 100)


def volume(value: str) -> Decimal:
    number = decimal(value)
    if number < 0:
        raise ValueError(f"{value!r} is negative; a volume is 0 or more")
    return number


def _positive(row: Mapping[str, Any], column: str) -> list[tuple[str, str]]:
    if row.get(column) is not None and row[column] <= 0:
        return [(column, f"{row[column] / 100:.2f} must be positive")]
    return []


def _check_opening(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = _positive(row, "amount")
    if row["kind"] == "advance":
        if row.get("service") not in (None, "advance"):
            errors.append(("service", "an overpayment (kind advance) belongs to no service; leave it empty"))
        if row.get("due_date") is not None:
            errors.append(("due_date", "an overpayment (kind advance) has no due date; leave it empty"))
    elif row.get("service") is None:
        errors.append(("service", f"a {row['kind']} row needs the service it is owed for"))
    return errors


def _check_payment(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    if row["amount"] == 0:
        return [("amount", "a payment of 0.00; leave the row out")]
    return []


def _check_reading(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    if row.get("read_on") is not None and row.get("reading") is None:
        return [("reading", "read_on is given without the reading")]
    if row.get("read_on") is not None and period(row["read_on"].strftime("%Y-%m")) != row["period"]:
        return [("read_on", f"{row['read_on']} is not in period {row['period']}")]
    return []


def _check_house(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    if row["preparation"] and row["service"] != "cold_water":
        return [("preparation", "V^кр (cold water for preparing hot water) applies to cold_water only")]
    return []


def _check_totals(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    if row["service"] == "*":
        return []
    return [
        (column, f"{what} no service; give {column} on the building's '*' row")
        for column, what in (("paid", "payments have"), ("advance", "an overpayment has"))
        if row.get(column) is not None
    ]


def zone_set_problem(zones: set[str]) -> str | None:
    """Why a meter-month's zones cannot be one meter's registers (``None`` when they can)."""
    if any(zones <= allowed for allowed in _ZONE_SETS):
        return None
    return f"zones {', '.join(sorted(zones))} mix schemes; use single, or day+night, or peak+semi_peak+night"


_ACCOUNT_REF = Reference(("account",), "SELECT account_no FROM accounts", "import accounts first")

LEGACY_ENTITIES: Mapping[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "cutover",
            "legacy_cutovers",
            (
                Column("building", text, "building_id"),
                Column("first_period", period),
                Column("system", text, default=""),
            ),
            ("building",),
            (_BUILDING_REF,),
        ),
        Entity(
            "opening_balances",
            "opening_debts",
            (
                Column("account", text, "account_no"),
                Column("service", choice(*_SERVICES, "advance"), default=None),
                Column("period", period),
                Column("kind", choice("principal", "penalty", "advance"), default="principal"),
                Column("amount", kopecks, "amount_kopecks"),
                Column("due_date", day, default=None),
            ),
            ("account", "service", "period", "kind"),
            (_ACCOUNT_REF,),
            _check_opening,
        ),
        Entity(
            "legacy_payments",
            "legacy_payments",
            (
                Column("account", text, "account_no"),
                Column("paid_on", day),
                Column("payment_id", text),
                Column("amount", kopecks, "amount_kopecks"),
                Column("period", period, "period_named", default=None),
                Column("agent", text, default=""),
                Column("purpose", text, default=""),
            ),
            ("account", "paid_on", "payment_id"),
            (_ACCOUNT_REF,),
            _check_payment,
        ),
        Entity(
            "meter_history",
            "legacy_meter_volumes",
            (
                Column("meter_id", text),
                Column("period", period),
                Column("zone", choice(*_ZONES), default="single"),
                Column("volume", volume),
                Column("method", choice("meter", "average", "normative"), default="meter"),
                # the register value the month was billed with (its end), kept as a reading of the meter
                Column("reading", volume, default=None),
                Column("read_on", day, default=None),
            ),
            ("meter_id", "period", "zone"),
            (
                Reference(
                    ("meter_id",),
                    "SELECT DISTINCT meter_id FROM meter_links WHERE premise_no IS NOT NULL",
                    "import the meter first (meters.csv, linked to its premise)",
                ),
            ),
            _check_reading,
        ),
        Entity(
            "house_history",
            "legacy_house_volumes",
            (
                Column("building", text, "building_id"),
                Column("service", choice(*_METERED)),
                Column("period", period),
                Column("house_volume", volume),
                Column("individual_total", volume),
                Column("preparation", volume, default=Decimal(0)),
                Column("method", choice("actual", "actual_capped", "normative", "average"), default="actual"),
            ),
            ("building", "service", "period"),
            (_BUILDING_REF,),
            _check_house,
        ),
        Entity(
            "legacy_totals",
            "legacy_totals",
            (
                Column("building", text, "building_id"),
                Column("service", choice("*", *_SERVICES), default="*"),
                Column("debt", kopecks, "debt_kopecks", default=None),
                Column("penalties", kopecks, "penalties_kopecks", default=None),
                Column("advance", kopecks, "advance_kopecks", default=None),
                Column("balance", kopecks, "balance_kopecks", default=None),
                Column("paid", kopecks, "paid_kopecks", default=None),
                Column("volume", volume, default=None),
                Column("house_volume", volume, default=None),
            ),
            ("building", "service"),
            (_BUILDING_REF,),
            _check_totals,
        ),
    )
}
