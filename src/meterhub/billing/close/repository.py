"""Reads of the billing domain tables (buildings, accounts, residents, meter links, tariffs, normatives).

Rows come back as small dataclasses or engine types (:class:`~meterhub.billing.rules.tariffs.Tariff`);
"in force" always means for a building's billing period: an interval ``[valid_from, valid_to)`` that
overlaps the period's local calendar days. Writes of domain data are in ``billing/imports``; writes of
period results in :mod:`meterhub.billing.close.results_store`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

import psycopg

from meterhub.billing.rules.common_property import CommonPropertyMethod
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.schedule_text import parse_zone_schedule
from meterhub.billing.rules.tariffs import PriceBasis, Service, Tariff
from meterhub.billing.rules.zones import Zone, ZoneScheme
from meterhub.registry.counts_store import register_counts_on, register_resident_days

__all__ = [
    "AccountRow",
    "BuildingRow",
    "CounterEventRow",
    "MeterLinkRow",
    "accounts_in_period",
    "building_ids",
    "building_services",
    "counter_events",
    "get_building",
    "meter_links_in_period",
    "normatives_on",
    "residents_in_period",
    "residents_on",
    "tariffs_between",
    "tariffs_in_period",
]

_PRICE_COLUMNS: Mapping[Zone, str] = {
    Zone.SINGLE: "price_single",
    Zone.DAY: "price_day",
    Zone.NIGHT: "price_night",
    Zone.PEAK: "price_peak",
    Zone.SEMI_PEAK: "price_semi_peak",
}


@dataclass(frozen=True)
class BuildingRow:
    building_id: str
    address: str
    time_zone: str
    total_area: Decimal  # S_об [m²]
    common_area: Decimal  # S_ои [m²]
    management_method: str
    prepares_hot_water: bool = False  # V^кр applies to cold-water common property (ф. 11)


@dataclass(frozen=True)
class AccountRow:
    """An account with its premise: ``area`` = premise area × share [m²]."""

    account_no: str
    premise_no: str
    share: Decimal
    owners: int
    residential: bool
    premise_area: Decimal
    meter_install_possible: bool

    @property
    def area(self) -> Decimal:
        return self.premise_area * self.share


class MeterLinkRow(NamedTuple):
    """A meter linked to a premise (``premise_no``) or to the building (house meter, ``premise_no`` None).

    A named tuple: the close builds one per meter, ≈ 1,000 a building, and a frozen dataclass's
    ``__init__`` cost three times as much."""

    meter_id: str
    premise_no: str | None
    service: str
    verification_due: date | None
    multiplier: Decimal
    register_digits: int | None
    valid_from: date | None = None
    valid_to: date | None = None


def building_ids(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT building_id FROM buildings ORDER BY building_id")]


def get_building(conn: psycopg.Connection, building_id: str) -> BuildingRow | None:
    row = conn.execute(
        "SELECT building_id, address, time_zone, total_area, common_area, management_method, "
        "prepares_hot_water FROM buildings WHERE building_id = %s",
        (building_id,),
    ).fetchone()
    return BuildingRow(*row) if row else None


def accounts_in_period(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> list[AccountRow]:
    """Accounts open on at least one day of the period, in account number order."""
    rows = conn.execute(
        """
        SELECT a.account_no, a.premise_no, a.share, a.owners, p.residential, p.area, p.meter_install_possible
        FROM accounts a JOIN premises p USING (building_id, premise_no)
        WHERE a.building_id = %s AND a.opened_on < %s AND (a.closed_on IS NULL OR a.closed_on > %s)
        ORDER BY a.account_no
        """,
        (building_id, period.end_day, period.first_day),
    ).fetchall()
    return [AccountRow(*r) for r in rows]


def residents_on(conn: psycopg.Connection, building_id: str, day: date) -> dict[str, int]:
    """Registered + temporarily residing persons n_i per account on ``day``."""
    rows = conn.execute(
        """
        SELECT r.account_no, r.registered + r.temporary
        FROM resident_counts r JOIN accounts a USING (account_no)
        WHERE a.building_id = %s AND r.valid_from <= %s AND (r.valid_to IS NULL OR r.valid_to > %s)
        """,
        (building_id, day, day),
    ).fetchall()
    register = register_counts_on(conn, building_id, day)
    if register is None:
        return dict(rows)
    return {account: count.total for account, count in register.items()}


def residents_in_period(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod
) -> dict[str, Decimal]:
    """n_i per account weighted by days: Σ (registered + temporary) × days in the period / days of the
    month (ПП 354: the count is prorated when it changes inside the period) [persons]. Days from which
    the building keeps the register (``registry_buildings``) are counted from its registration events
    (:mod:`meterhub.registry`), earlier days from the counts import (``resident_counts``).

    The building's accounts are an array the counts are probed with (``resident_counts_pkey``, one
    index probe per account): joined to ``accounts``, PostgreSQL hashed them and scanned every count of
    the city (3.6 ms of server CPU a building at 35,000 accounts, growing with the city; 0.7 ms probed)."""
    register = register_resident_days(conn, building_id, period.first_day, period.end_day)
    imported_end = register.counts.first if register else period.end_day
    rows = conn.execute(
        """
        SELECT r.account_no,
               sum((r.registered + r.temporary)
                   * (least(coalesce(r.valid_to, %(end)s), %(end)s) - greatest(r.valid_from, %(first)s)))
        FROM resident_counts r
        WHERE r.account_no = ANY(ARRAY(SELECT account_no FROM accounts WHERE building_id = %(b)s))
          AND r.valid_from < %(end)s AND (r.valid_to IS NULL OR r.valid_to > %(first)s)
        GROUP BY r.account_no
        """,
        {"b": building_id, "first": period.first_day, "end": imported_end},
    ).fetchall()
    person_days = dict(rows)
    if register is not None:
        for account in register.counts.by_account:
            person_days[account] = person_days.get(account, 0) + register.counts.person_days(account)
    days = (period.end_day - period.first_day).days
    with engine_context():
        return {account: Decimal(n) / days for account, n in person_days.items()}


def building_services(conn: psycopg.Connection, building_id: str) -> dict[str, CommonPropertyMethod | None]:
    """The services a building bills → its common-property method (None: no common property)."""
    rows = conn.execute(
        "SELECT service, common_property_method FROM building_services "
        "WHERE building_id = %s ORDER BY service",
        (building_id,),
    ).fetchall()
    return {s: (CommonPropertyMethod(m) if m else None) for s, m in rows}


def tariffs_in_period(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> list[Tariff]:
    """Tariffs overlapping the period; a building's own tariffs of a service and zone scheme replace the
    '*' ones of that scheme. Several schemes of one service may be priced (one per tariff plan)."""
    return tariffs_between(conn, building_id, period.first_day, period.end_day)


def tariffs_between(conn: psycopg.Connection, building_id: str, first: date, end: date) -> list[Tariff]:
    """:func:`tariffs_in_period` for the local days ``[first, end)``."""
    rows = conn.execute(
        f"""
        SELECT service, applies_to, valid_from, valid_to, scheme, basis, zone_schedule,
               {", ".join(_PRICE_COLUMNS.values())}
        FROM tariffs
        WHERE applies_to IN ('*', %s) AND valid_from < %s AND (valid_to IS NULL OR valid_to > %s)
        ORDER BY service, scheme, valid_from
        """,
        (building_id, end, first),
    ).fetchall()
    own = {(r[0], r[4]) for r in rows if r[1] == building_id}
    tariffs = []
    for service, applies_to, valid_from, valid_to, scheme, basis, schedule, *prices in rows:
        if service not in {s.value for s in Service}:
            continue  # heat: not billed by the engine (see docs/billing-close.md)
        if applies_to == "*" and (service, scheme) in own:
            continue
        zone_prices = {z: p for z, p in zip(_PRICE_COLUMNS, prices, strict=True) if p is not None}
        tariffs.append(
            Tariff(
                Service(service),
                valid_from,
                zone_prices,
                valid_to=valid_to,
                schedule=parse_zone_schedule(schedule, ZoneScheme(scheme)),
                basis=PriceBasis(basis),
                name=f"{service}/{applies_to} from {valid_from}",
            )
        )
    return tariffs


def normatives_on(conn: psycopg.Connection, building_id: str, day: date) -> dict[tuple[str, str], Decimal]:
    """(service, kind) → normative in force on ``day``; a building's own normative replaces '*'."""
    rows = conn.execute(
        """
        SELECT DISTINCT ON (service, kind) service, kind, value
        FROM normatives
        WHERE applies_to IN ('*', %s) AND valid_from <= %s AND (valid_to IS NULL OR valid_to > %s)
        ORDER BY service, kind, (applies_to = '*'), valid_from DESC
        """,
        (building_id, day, day),
    ).fetchall()
    return {(s, k): v for s, k, v in rows}


def meter_links_in_period(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, since: date | None = None
) -> list[MeterLinkRow]:
    """Meters linked to the building or its premises on at least one day of the period (or of
    ``[since, period end)`` when ``since`` is given, e.g. the start of the readings window).

    Each link's meter is one ``meters_pkey`` probe (``OFFSET 0`` keeps the lateral sub-query from being
    flattened into a join): as a plain join PostgreSQL hashed the building's links and scanned every meter
    of the city (9.5 ms of server CPU a building at 35,000 accounts, growing with the city; 3 ms probed)."""
    rows = conn.execute(
        """
        SELECT l.meter_id, l.premise_no, l.service, m.verification_due, m.multiplier, m.register_digits,
               l.valid_from, l.valid_to
        FROM meter_links l
        CROSS JOIN LATERAL (
            SELECT verification_due, multiplier, register_digits FROM meters m
            WHERE m.meter_id = l.meter_id OFFSET 0
        ) m
        WHERE l.building_id = %s AND l.valid_from < %s AND (l.valid_to IS NULL OR l.valid_to > %s)
        ORDER BY l.premise_no NULLS FIRST, l.service, l.meter_id
        """,
        (building_id, period.end_day, since or period.first_day),
    ).fetchall()
    return [MeterLinkRow(*r) for r in rows]


@dataclass(frozen=True)
class CounterEventRow:
    """A replacement act on a register (timeseries ``register_events``): ``removal`` with the old
    meter's final reading (``value_before``), ``installation`` with the new meter's initial reading
    (``value_after``), or a ``reset`` of the counter."""

    kind: str
    ts: datetime
    value_before: float | None
    value_after: float | None


def counter_events(
    conn: psycopg.Connection, meter_ids: Sequence[str], start: datetime, end: datetime
) -> dict[tuple[str, str], list[CounterEventRow]]:
    """(meter, register) → its counter events in ``(start, end]``, oldest first."""
    if not meter_ids:
        return {}
    rows = conn.execute(
        """
        SELECT mr.meter_id, mr.register, e.kind, e.ts, e.value_before, e.value_after
        FROM register_events e JOIN meter_registers mr USING (series_id)
        WHERE mr.meter_id = ANY(%b) AND e.ts > %s AND e.ts <= %s
        ORDER BY mr.meter_id, mr.register, e.ts
        """,
        (list(meter_ids), start, end),
    ).fetchall()
    result: dict[tuple[str, str], list[CounterEventRow]] = {}
    for meter, register, kind, ts, before, after in rows:
        result.setdefault((meter, register), []).append(
            CounterEventRow(kind, ts.astimezone(UTC), before, after)
        )
    return result
