"""Import files of benefits (migration 0161, docs/benefits.md): categories from a date, assignments to
persons with validity dates, subsidy recipients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meterhub.billing.imports.columns import choice, day, decimal, integer, text
from meterhub.billing.imports.specs import Column, Entity, Reference

__all__ = ["BENEFIT_ENTITIES", "BENEFIT_ORDER"]

_SERVICES = {"electricity", "cold_water", "hot_water", "wastewater", "heat", "maintenance", "capital_repair"}
_ACCOUNT_REF = Reference(("account",), "SELECT account_no FROM accounts", "import accounts first")


def service_list(value: str) -> list[str]:
    """``maintenance, heat`` → ``['maintenance', 'heat']`` (comma or space separated, known services)."""
    items = [v for v in value.replace(",", " ").split() if v]
    unknown = [v for v in items if v not in _SERVICES]
    if not items or unknown:
        raise ValueError(f"list services from {', '.join(sorted(_SERVICES))}, e.g. 'maintenance, heat'")
    return items


def _check_category(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = []
    if (row.get("share") is None) == (row.get("amount_kopecks") is None):
        errors.append(("share", "give either share (0.5 = 50 %) or amount_kopecks, not both"))
    if row.get("share") is not None and not 0 < row["share"] <= 1:
        errors.append(("share", "a share 0 < share ≤ 1"))
    if row["base"] == "social_norm_area" and row.get("social_norm_m2") is None:
        errors.append(("social_norm_m2", "the social norm of area [m² per person] is required for this base"))
    return errors


def _check_dates(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    if row.get("valid_to") is not None and row["valid_to"] <= row["valid_from"]:
        return [("valid_to", f"{row['valid_to']} must be after valid_from {row['valid_from']}")]
    return []


BENEFIT_ENTITIES: Mapping[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "benefit_categories",
            "benefit_categories",
            (
                Column("category", text),
                Column("valid_from", day),
                Column("name", text),
                Column("legal_basis", text, default=""),
                Column("share", decimal, default=None),
                Column("amount_kopecks", integer, default=None),
                Column("services", service_list),
                Column("base", choice("charge", "social_norm_area", "normative_volume")),
                Column("social_norm_m2", decimal, default=None),
                Column("persons_covered", choice("beneficiary", "household"), default="beneficiary"),
                Column("regime", choice("discount", "compensation"), default="discount"),
            ),
            ("category", "valid_from"),
            check=_check_category,
        ),
        Entity(
            "benefit_assignments",
            "benefit_assignments",
            (
                Column("account", text, "account_no"),
                Column("person_name", text),
                Column("category", text),
                Column("valid_from", day),
                Column("valid_to", day, default=None),
                Column("snils", text, default=""),
                Column("document", text, default=""),
                Column("person_id", integer, default=None),
            ),
            ("account", "person_name", "category", "valid_from"),
            (
                _ACCOUNT_REF,
                Reference(
                    ("category",), "SELECT category FROM benefit_categories", "import the category first"
                ),
            ),
            _check_dates,
        ),
        Entity(
            "subsidy_recipients",
            "subsidy_recipients",
            (
                Column("account", text, "account_no"),
                Column("person_name", text),
                Column("decision_no", text),
                Column("valid_from", day),
                Column("valid_to", day, default=None),
            ),
            ("account", "decision_no"),
            (_ACCOUNT_REF,),
            _check_dates,
        ),
    )
}
BENEFIT_ORDER = tuple(BENEFIT_ENTITIES)
