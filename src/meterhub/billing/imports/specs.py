"""What each import file holds: columns, natural key, target table and cross-column checks.

File columns are the names in docs/billing-close.md; a column missing from the file takes its default
(required columns must be present). The natural key is the table's primary key, so re-importing a file
updates rows in place (upsert) and never duplicates them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from meterhub.billing.imports.columns import boolean, choice, day, decimal, integer, text, time_zone
from meterhub.billing.rules.schedule_text import parse_zone_schedule
from meterhub.billing.rules.tariffs import PriceBasis, Service, Tariff
from meterhub.billing.rules.zones import Zone, ZoneScheme

__all__ = ["ENTITIES", "Column", "Entity", "Reference"]

_SERVICES = ("electricity", "cold_water", "hot_water", "wastewater", "heat", "maintenance")
_METHODS = ("normative", "actual_capped", "actual", "average")
_MISSING = object()


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    db: str = ""  # database column; default = name
    default: Any = _MISSING  # _MISSING = required; None = optional (NULL)
    # a column absent from the file's header leaves an existing row's stored value as it is (new rows take
    # the default): for columns added after files were in use, so re-importing an old file changes nothing
    kept_when_absent: bool = False

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    @property
    def db_name(self) -> str:
        return self.db or self.name


@dataclass(frozen=True)
class Reference:
    """Row columns that must match an existing key; ``sql`` returns the existing key tuples."""

    columns: tuple[str, ...]
    sql: str
    hint: str
    allow: frozenset[str] = frozenset()  # values that need no match (e.g. '*')


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    check: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None
    extra: Mapping[str, str] = field(default_factory=dict)  # accepted file columns not stored in table


def _check_dates(row: Mapping[str, Any], start: str, end: str) -> list[tuple[str, str]]:
    if row.get(end) is not None and row.get(start) is not None and row[end] <= row[start]:
        return [(end, f"{row[end]} must be after {start} {row[start]}")]
    return []


def _check_tariff(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = _check_dates(row, "valid_from", "valid_to")
    try:
        schedule = parse_zone_schedule(row.get("zone_schedule"), ZoneScheme(row["scheme"]))
    except ValueError as exc:
        return [*errors, ("zone_schedule", str(exc))]
    if row["service"] == "heat":
        return errors
    prices = {z: row[f"price_{z.value}"] for z in Zone if row.get(f"price_{z.value}") is not None}
    try:
        tariff = Tariff(
            Service(row["service"]),
            row["valid_from"],
            prices,
            row.get("valid_to"),
            schedule,
            PriceBasis(row["basis"]),
        )
    except ValueError as exc:
        return [*errors, ("price_" + (tariff_zone_hint(str(exc))), str(exc))]
    if (tariff.service is Service.MAINTENANCE) != (tariff.basis is PriceBasis.PER_M2):
        errors.append(("basis", "maintenance is priced per_m2; resource services per_unit"))
    return errors


def tariff_zone_hint(message: str) -> str:
    for zone in (Zone.SEMI_PEAK, Zone.SINGLE, Zone.DAY, Zone.NIGHT, Zone.PEAK):
        if zone.value in message:
            return zone.value
    return "single"


def _check_valid(start: str, end: str) -> Callable[[Mapping[str, Any]], list[tuple[str, str]]]:
    return lambda row: _check_dates(row, start, end)


def _check_meter_link(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors = _check_dates(row, "valid_from", "valid_to")
    if row["service"] == "maintenance":
        errors.append(("service", "maintenance has no meters"))
    return errors


def _check_payee(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    from meterhub.billing.receipts.model import payee_problems  # the receipt's own validation

    return payee_problems(row)


_BUILDING_REF = Reference(("building",), "SELECT building_id FROM buildings", "import buildings first")
_PREMISE_REF = Reference(
    ("building", "premise"), "SELECT building_id, premise_no FROM premises", "import premises first"
)
_SCOPE_REF = Reference(
    ("applies_to",), "SELECT building_id FROM buildings", "use '*' or an imported building", frozenset({"*"})
)

ENTITIES: Mapping[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "suppliers",
            "suppliers",
            (
                Column("supplier", text, "supplier_id"),
                Column("name", text),
                Column("inn", text, default=None),
                # migration 0160 (docs/suppliers.md): kind and the bank details printed for the payee
                Column(
                    "kind",
                    choice("management", "resource_supplier", "capital_repair_operator", "agent"),
                    default="resource_supplier",
                    kept_when_absent=True,
                ),
                *(
                    Column(c, text, default=None, kept_when_absent=True)
                    for c in ("kpp", "bank_name", "bic", "settlement_account", "correspondent_account")
                ),
            ),
            ("supplier",),
        ),
        Entity(
            "buildings",
            "buildings",
            (
                Column("building", text, "building_id"),
                Column("address", text),
                Column("time_zone", time_zone),
                Column("total_area", decimal),
                Column("common_area", decimal),
                Column(
                    "management_method",
                    choice("management_company", "hoa", "cooperative", "direct", "none"),
                    default="management_company",
                ),
                # the building prepares its own hot water (ИТП): V^кр in cold-water common property
                Column("prepares_hot_water", boolean, default=False, kept_when_absent=True),
            ),
            ("building",),
        ),
        Entity(
            "premises",
            "premises",
            (
                Column("building", text, "building_id"),
                Column("premise", text, "premise_no"),
                Column("residential", boolean, default=True),
                Column("area", decimal),
                Column("entrance", integer, default=None),
                Column("floor", integer, default=None),
                Column("meter_install_possible", boolean, default=True),
            ),
            ("building", "premise"),
            (_BUILDING_REF,),
        ),
        Entity(
            "accounts",
            "accounts",
            (
                Column("account", text, "account_no"),
                Column("building", text, "building_id"),
                Column("premise", text, "premise_no"),
                Column("share", decimal, default=1),
                Column("owner", text, "owner_name", default=""),
                Column("owners", integer, default=1),
                Column("opened_on", day),
                Column("closed_on", day, default=None),
            ),
            ("account",),
            (_PREMISE_REF,),
            _check_valid("opened_on", "closed_on"),
        ),
        Entity(
            "residents",
            "resident_counts",
            (
                Column("account", text, "account_no"),
                Column("valid_from", day),
                Column("valid_to", day, default=None),
                Column("registered", integer),
                Column("temporary", integer, default=0),
            ),
            ("account", "valid_from"),
            (Reference(("account",), "SELECT account_no FROM accounts", "import accounts first"),),
            _check_valid("valid_from", "valid_to"),
        ),
        Entity(
            "building_services",
            "building_services",
            (
                Column("building", text, "building_id"),
                Column("service", choice(*_SERVICES)),
                Column("common_property_method", choice(*_METHODS), default=None),
            ),
            ("building", "service"),
            (_BUILDING_REF,),
        ),
        Entity(
            "meters",
            "meter_links",
            (
                Column("meter_id", text),
                Column("valid_from", day),
                Column("valid_to", day, default=None),
                Column("building", text, "building_id"),
                Column("premise", text, "premise_no", default=None),
                Column("service", choice(*_SERVICES)),
            ),
            ("meter_id", "valid_from"),
            (
                _BUILDING_REF,
                Reference(
                    ("building", "premise"),
                    "SELECT building_id, premise_no FROM premises",
                    "import premises first, or leave premise empty for a house meter",
                ),
            ),
            _check_meter_link,
            {
                "manufacturer": "text",
                "serial": "text",
                "model": "text",
                "verification_due": "day",
                "multiplier": "decimal",
                "register_digits": "integer",
                "registers": "text",
            },
        ),
        Entity(
            "tariffs",
            "tariffs",
            (
                Column("service", choice(*_SERVICES)),
                Column("applies_to", text, default="*"),
                Column("valid_from", day),
                Column("valid_to", day, default=None),
                Column("scheme", choice(*(s.value for s in ZoneScheme)), default="single_rate"),
                Column("basis", choice(*(b.value for b in PriceBasis)), default="per_unit"),
                *(Column(f"price_{z.value}", decimal, default=None) for z in Zone),
                Column("zone_schedule", text, default=None),
                Column("supplier", text, "supplier_id", default=None),
            ),
            ("service", "applies_to", "scheme", "valid_from"),
            (
                _SCOPE_REF,
                Reference(("supplier",), "SELECT supplier_id FROM suppliers", "import suppliers first"),
            ),
            _check_tariff,
        ),
        Entity(
            "normatives",
            "normatives",
            (
                Column("service", choice(*_SERVICES)),
                Column("applies_to", text, default="*"),
                Column("kind", choice("per_person", "common_per_m2")),
                Column("valid_from", day),
                Column("valid_to", day, default=None),
                Column("value", decimal),
            ),
            ("service", "applies_to", "kind", "valid_from"),
            (_SCOPE_REF,),
            _check_valid("valid_from", "valid_to"),
        ),
        Entity(  # provider and payee bank requisites of the receipt (ЕПД), see docs/receipts.md
            "payees",
            "receipt_payees",
            (
                Column("applies_to", text, default="*"),
                Column("name", text),
                Column("payee_name", text, default=None),
                Column("inn", text, default=None),
                Column("kpp", text, default=None),
                Column("address", text, default=""),
                Column("phone", text, default=""),
                Column("email", text, default=""),
                Column("website", text, default=""),
                Column("bank_name", text),
                Column("bic", text),
                Column("settlement_account", text),
                Column("correspondent_account", text),
            ),
            ("applies_to",),
            (_SCOPE_REF,),
            _check_payee,
        ),
    )
}
