"""Раздел 3 and 4 rows of the receipt from one account's stored lines — pure functions, no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from meterhub.billing.receipts.labels import method_title, service_title, unit_title
from meterhub.billing.receipts.model import ZERO, ChargeRow, ServiceReference

__all__ = ["SERVICE_ORDER", "ZONE_ORDER", "charge_rows", "service_references"]

SERVICE_ORDER = ("maintenance", "heat", "electricity", "cold_water", "hot_water", "wastewater")
ZONE_ORDER = ("single", "day", "peak", "semi_peak", "night")


def _sort_key(service: str, zone: str) -> tuple[int, int, str]:
    s = SERVICE_ORDER.index(service) if service in SERVICE_ORDER else len(SERVICE_ORDER)
    z = ZONE_ORDER.index(zone) if zone in ZONE_ORDER else len(ZONE_ORDER)
    return (s, z, service)


def charge_rows(
    lines: Sequence[tuple[Any, ...]], recalculation_by_service: dict[str, Decimal]
) -> tuple[ChargeRow, ...]:
    """Раздел 3 rows from one account's charge lines.

    ``lines``: ``(service, kind, zone, volume, unit, tariff, coefficient, method, amount, excess)``.
    A row is a service × zone × tariff; a common-property line joins the individual row of the same
    service, zone and tariff, else it is a row of its own. The recalculations of a service go on its first
    row (a service with recalculations but no charge gets a row of its own).
    """
    groups: dict[tuple[str, str, Decimal], dict[str, Any]] = {}
    for service, kind, zone, volume, unit, tariff, coefficient, method, amount, excess in lines:
        g = groups.setdefault(
            (service, zone, tariff),
            {"unit": unit, "vi": None, "vc": None, "ai": ZERO, "ac": ZERO, "mi": None, "mc": None,
             "coef": None, "excess": ZERO},
        )  # fmt: skip
        if kind == "common_property":
            g["vc"] = (g["vc"] or ZERO) + volume
            g["ac"] += amount
            g["mc"] = g["mc"] or method
        else:
            g["vi"] = (g["vi"] or ZERO) + volume
            g["ai"] += amount
            g["mi"] = g["mi"] or method
            if coefficient != 1:
                g["coef"] = coefficient
            g["excess"] += excess
    rows: list[ChargeRow] = []
    placed: set[str] = set()
    for (service, zone, tariff), g in sorted(groups.items(), key=lambda kv: _sort_key(kv[0][0], kv[0][1])):
        recalculation = ZERO if service in placed else recalculation_by_service.get(service, ZERO)
        placed.add(service)
        rows.append(
            ChargeRow(
                service=service,
                title=service_title(service, zone),
                unit=unit_title(service, g["unit"]),
                volume_individual=g["vi"],
                volume_common=g["vc"],
                method=method_title(g["mi"] or g["mc"] or ""),
                tariff=tariff,
                amount_individual=g["ai"],
                amount_common=g["ac"],
                coefficient=g["coef"],
                excess=g["excess"],
                recalculation=recalculation,
            )
        )
    for service in sorted(set(recalculation_by_service) - placed, key=lambda s: _sort_key(s, "single")):
        rows.append(
            ChargeRow(service, service_title(service), unit_title(service), None, None, "—", None,
                      ZERO, ZERO, None, ZERO, recalculation_by_service[service])
        )  # fmt: skip
    return tuple(rows)


def service_references(
    services: Sequence[str],
    normatives: dict[tuple[str, str], Decimal],
    common: dict[str, tuple[Decimal | None, Decimal, Decimal]],
) -> tuple[ServiceReference, ...]:
    refs = []
    for service in sorted(services, key=lambda s: _sort_key(s, "single")):
        if service == "maintenance":
            continue
        house, in_premises, distributed = common.get(service, (None, None, None))
        refs.append(
            ServiceReference(
                service,
                service_title(service),
                unit_title(service),
                normatives.get((service, "per_person")),
                normatives.get((service, "common_per_m2")),
                house,
                in_premises,
                distributed,
            )
        )
    return tuple(refs)


def with_benefits(rows: tuple[ChargeRow, ...], benefits: Mapping[str, Decimal]) -> tuple[ChargeRow, ...]:
    """Put each service's discount-regime benefit [₽] (docs/benefits.md) on its first row."""
    seen: set[str] = set()
    result = []
    for row in rows:
        if row.service in benefits and row.service not in seen:
            seen.add(row.service)
            row = replace(row, benefits=benefits[row.service])
        result.append(row)
    return tuple(result)
