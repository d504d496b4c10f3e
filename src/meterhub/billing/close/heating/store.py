"""Reads of the heating configuration (migration 0150) in force for a building and period.

Every dated row applies from its date until the next row of the same key (decision 11): the close reads
the configuration of the period it computes, so a change never re-bills a closed period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from meterhub.billing.rules.heating.volumes import HeatingPolicy, PaymentMode, PremiseHeatKind, UnmeteredRule
from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "HeatingConfig",
    "HeatingConfigError",
    "distributor_units",
    "heat_tariff_parts",
    "heating_config_on",
    "heating_days",
    "heating_references",
    "house_year_override",
    "premise_devices_on",
]


@dataclass(frozen=True)
class HeatingConfig:
    """A building's heating configuration row in force: the policy plus the normative N_T."""

    valid_from: date
    enabled: bool
    policy: HeatingPolicy
    normative: Decimal  # N_T, Гкал/m²/month


def heating_config_on(conn: psycopg.Connection, building_id: str, day: date) -> HeatingConfig | None:
    """The heating configuration in force on ``day`` (None: the building has no heating configuration)."""
    row = conn.execute(
        """
        SELECT valid_from, enabled, payment_mode, has_odpu, normative_gcal_m2, unmetered_rule,
               ipu_share_threshold, ipu_share_basis, season_months, volume_decimals, correction_month
        FROM heating_configs WHERE building_id = %s AND valid_from <= %s
        ORDER BY valid_from DESC LIMIT 1
        """,
        (building_id, day),
    ).fetchone()
    if row is None:
        return None
    valid_from, enabled, mode, has_odpu, normative, rule, threshold, basis, months, decimals, corr = row
    policy = HeatingPolicy(
        PaymentMode(mode),
        has_odpu,
        unmetered_rule=UnmeteredRule(rule),
        ipu_share_threshold=Decimal(threshold),
        ipu_share_basis=basis,
        season_months=months,
        volume_decimals=decimals,
        correction_month=corr,
    )
    return HeatingConfig(valid_from, enabled, policy, Decimal(normative))


def heating_days(conn: psycopg.Connection, building_id: str, first: date, end: date) -> int:
    """Days of ``[first, end)`` inside the building's heating seasons (start inclusive, end exclusive)."""
    row = conn.execute(
        """
        SELECT coalesce(sum(greatest(0, least(coalesce(ends_on, %(end)s), %(end)s::date)
                                       - greatest(starts_on, %(first)s::date))), 0)
        FROM heating_seasons WHERE building_id = %(b)s
        """,
        {"b": building_id, "first": first, "end": end},
    ).fetchone()
    return int(row[0]) if row else 0


def premise_devices_on(conn: psycopg.Connection, building_id: str, day: date) -> dict[str, PremiseHeatKind]:
    """premise → heating devices in force on ``day``; without a row: 'ipu' when a heat meter is linked
    to the premise on that day, otherwise radiators."""
    rows = conn.execute(
        """
        SELECT p.premise_no,
               coalesce(
                   (SELECT d.devices FROM premise_heating_devices d
                     WHERE d.building_id = p.building_id AND d.premise_no = p.premise_no
                       AND d.valid_from <= %(d)s
                     ORDER BY d.valid_from DESC LIMIT 1),
                   CASE WHEN EXISTS (
                       SELECT 1 FROM meter_links l WHERE l.building_id = p.building_id
                          AND l.premise_no = p.premise_no AND l.service = 'heat'
                          AND l.valid_from <= %(d)s AND (l.valid_to IS NULL OR l.valid_to > %(d)s))
                   THEN 'ipu' ELSE 'radiators' END)
        FROM premises p WHERE p.building_id = %(b)s
        """,
        {"b": building_id, "d": day},
    ).fetchall()
    return {premise: PremiseHeatKind(kind) for premise, kind in rows}


def distributor_units(conn: psycopg.Connection, building_id: str, period: str) -> dict[str, Decimal]:
    rows = conn.execute(
        "SELECT premise_no, units FROM heat_distributor_units WHERE building_id = %s AND period = %s",
        (building_id, period),
    ).fetchall()
    return {p: Decimal(u) for p, u in rows}


def house_year_override(conn: psycopg.Connection, building_id: str, year: int) -> Decimal | None:
    row = conn.execute(
        "SELECT gcal FROM heating_house_years WHERE building_id = %s AND year = %s", (building_id, year)
    ).fetchone()
    return Decimal(row[0]) if row else None


class HeatingConfigError(ValueError):
    """The building bills heating but its configuration is incomplete (e.g. no heat tariff)."""


def heat_tariff_parts(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod
) -> list[tuple[date, date, Decimal]]:
    """The month's heat tariff parts (first day, end day, ₽/Гкал); the building's own rows replace '*'."""
    rows = conn.execute(
        """
        SELECT applies_to, valid_from, valid_to, price_single FROM tariffs
        WHERE service = 'heat' AND applies_to IN ('*', %s) AND valid_from < %s
          AND (valid_to IS NULL OR valid_to > %s) AND price_single IS NOT NULL
        ORDER BY valid_from
        """,
        (building_id, period.end_day, period.first_day),
    ).fetchall()
    if any(r[0] == building_id for r in rows):
        rows = [r for r in rows if r[0] == building_id]
    parts = []
    for i, (_, start, end, price) in enumerate(rows):
        following = rows[i + 1][1] if i + 1 < len(rows) else None
        stop = min(d for d in (end, following, period.end_day) if d is not None)
        first = max(start, period.first_day)
        if stop > first:
            parts.append((first, stop, Decimal(price)))
    covered = sum((e - s).days for s, e, _ in parts)
    if covered != period.days:
        raise HeatingConfigError(
            f"building {building_id}: heat tariffs (service heat, ₽/Гкал) cover {covered} of {period.days} "
            f"days of {period}; import the heat tariff"
        )
    return parts


def heating_references(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod
) -> dict[str, tuple[Decimal | None, Decimal, Decimal]]:
    """ЕПД Раздел 4 for heating: ``{"heat": (house meter Гкал or None, Σ premises' own, common-property
    heat)}`` from the close's ``heating_house_periods`` (nothing when the month billed no heating)."""
    row = conn.execute(
        "SELECT measured_gcal, own_gcal, common_gcal FROM heating_house_periods "
        "WHERE building_id = %s AND period = %s",
        (building_id, str(period)),
    ).fetchone()
    if row is None:
        return {}
    return {"heat": (row[0], Decimal(row[1]), Decimal(row[2]))}
