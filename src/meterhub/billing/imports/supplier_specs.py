"""Import files of the suppliers' money configuration (migration 0160, docs/suppliers.md): the supplier of
each service per building from a date, and the banks' / payment agents' contracts (commission percent,
minimum per payment, who bears it) from a date. Each row applies until the next row of the same key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from meterhub.billing.imports.columns import choice, day, decimal, integer, text
from meterhub.billing.imports.specs import Column, Entity, Reference

__all__ = ["SUPPLIER_ENTITIES", "SUPPLIER_ORDER"]

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

_SERVICES = ("electricity", "cold_water", "hot_water", "wastewater", "heat", "maintenance", "capital_repair")


def _check_contract(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = []
    if not 0 <= row["percent"] < 100:
        errors.append(("percent", "a percent of the payment, 0 ≤ percent < 100 (e.g. 1.2)"))
    if row["minimum_kopecks"] < 0:
        errors.append(("minimum_kopecks", "must not be negative"))
    return errors


def _check_charge(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    if not _PERIOD.match(row["period"]):
        return [("period", f"{row['period']!r} is not a period YYYY-MM")]
    if row["amount"] != row["amount"].quantize(Decimal("0.01")):
        return [("amount", "rubles with at most two decimals (kopecks)")]
    return []


SUPPLIER_ENTITIES: Mapping[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "service_suppliers",
            "service_suppliers",
            (
                Column("building", text, "building_id"),
                Column("service", choice(*_SERVICES)),
                Column("valid_from", day),
                Column("supplier", text, "supplier_id"),
            ),
            ("building", "service", "valid_from"),
            (
                Reference(("building",), "SELECT building_id FROM buildings", "import buildings first"),
                Reference(("supplier",), "SELECT supplier_id FROM suppliers", "import suppliers first"),
            ),
        ),
        Entity(
            "agent_contracts",
            "agent_contracts",
            (
                Column("source", text),
                Column("valid_from", day),
                Column("contract_no", text, default=""),
                Column("percent", decimal),
                Column("minimum_kopecks", integer, default=0),
                Column("borne_by", choice("supplier", "management", "payer"), default="supplier"),
            ),
            ("source", "valid_from"),
            check=_check_contract,
        ),
        Entity(
            "supplier_charges",
            "supplier_charges",
            (
                Column("supplier", text, "supplier_id"),
                Column("account", text, "account_no"),
                Column("service", choice(*_SERVICES)),
                Column("period", text),
                Column("amount", decimal),
                Column("volume", decimal, default=0),
                Column("unit", text, default=""),
                Column("tariff", decimal, default=0),
                Column("description", text, default=""),
            ),
            ("supplier", "account", "service", "period"),
            (
                Reference(("supplier",), "SELECT supplier_id FROM suppliers", "import suppliers first"),
                Reference(("account",), "SELECT account_no FROM accounts", "import accounts first"),
            ),
            _check_charge,
        ),
    )
}
SUPPLIER_ORDER = tuple(SUPPLIER_ENTITIES)
