"""Reads of the validity-dated configuration (migration 0134) for one building and period.

Every row applies from its ``valid_from`` until the next row of the same key (billing-rules.md decision
11); these functions return what is in force for the period the close computes: common-property methods,
tariff plans with their named zone schedules (weekday/holiday zones and the holiday calendar), meter
states and acts of technical impossibility per service.

Lists of meter ids go to the server as binary parameters (``%b``): a building's thousand ids dumped as
text cost ≈ 0.4 ms more client CPU a statement (psycopg checks every element for quoting).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import psycopg

from meterhub.billing.close.repository import tariffs_between
from meterhub.billing.rules.common_property import CommonPropertyMethod
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.schedule_text import day_typed_schedule
from meterhub.billing.rules.tariff_plans import PlanRow, PlanSpan, plan_spans, tariffs_for_plans
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.zones import ZoneSchedule, ZoneScheme

__all__ = [
    "METER_STATES",
    "account_plan_tariffs",
    "common_property_methods_on",
    "failed_since",
    "impossibility_acts_on",
    "meter_state_changes",
    "meter_states_on",
    "tariff_plan_rows",
    "zone_schedules",
]

METER_STATES = ("working", "failed", "being_replaced", "verification_expired")
"""States of an individual meter (состояние ИПУ) in ``meter_states``."""


def common_property_methods_on(
    conn: psycopg.Connection, building_id: str, day: date
) -> dict[str, CommonPropertyMethod | None]:
    """service → the dated common-property method in force on ``day`` (services without a row absent)."""
    rows = conn.execute(
        """
        SELECT DISTINCT ON (service) service, method FROM common_property_methods
        WHERE building_id = %s AND valid_from <= %s ORDER BY service, valid_from DESC
        """,
        (building_id, day),
    ).fetchall()
    return {s: (CommonPropertyMethod(m) if m else None) for s, m in rows}


def zone_schedules(
    conn: psycopg.Connection, names: Iterable[str], first: date, end: date
) -> dict[str, ZoneSchedule]:
    """Named zone schedules with the holidays and transferred working days of ``[first, end)``."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = conn.execute(
        """
        SELECT z.schedule, z.scheme, z.workday, z.saturday, z.sunday, z.holiday,
               coalesce(array_agg(h.day) FILTER (WHERE h.kind = 'holiday'), '{}'),
               coalesce(array_agg(h.day) FILTER (WHERE h.kind = 'workday'), '{}')
        FROM zone_schedules z
        LEFT JOIN holiday_calendars h ON h.calendar = z.calendar AND h.day >= %s AND h.day < %s
        WHERE z.schedule = ANY(%s)
        GROUP BY z.schedule
        """,
        (first, end, wanted),
    ).fetchall()
    result = {}
    for name, scheme, workday, saturday, sunday, holiday, holidays, workdays in rows:
        result[name] = day_typed_schedule(
            name,
            ZoneScheme(scheme),
            {"workday": workday, "saturday": saturday, "sunday": sunday, "holiday": holiday},
            holidays=frozenset(holidays),
            workdays=frozenset(workdays),
        )
    missing = [n for n in wanted if n not in result]
    if missing:
        raise ValueError(f"zone schedule(s) {', '.join(missing)} not found; import zone_schedules")
    return result


def account_plan_tariffs(
    conn: psycopg.Connection, building_id: str, account_no: str, service: str, first: date, end: date
) -> tuple[list[Tariff], list[PlanSpan]]:
    """The tariffs an account pays for ``service`` over the local days ``[first, end)`` under its tariff
    plans (meter, account, building, implicit default — as the close), and the plan spans. For the
    cabinet's charts and the tariff advice."""
    tariffs = tariffs_between(conn, building_id, first, end)
    if service not in {s.value for s in Service}:
        return [], []
    meters = {
        r[0]
        for r in conn.execute(
            "SELECT l.meter_id FROM meter_links l JOIN accounts a "
            "ON a.building_id = l.building_id AND a.premise_no = l.premise_no "
            "WHERE a.account_no = %s AND l.service = %s AND l.valid_from < %s "
            "AND (l.valid_to IS NULL OR l.valid_to > %s)",
            (account_no, service, end, first),
        )
    }
    rows = conn.execute(
        "SELECT account_no, meter_id, valid_from, scheme, zone_schedule, source FROM tariff_plans "
        "WHERE building_id = %s AND service = %s AND valid_from < %s",
        (building_id, service, end),
    ).fetchall()
    schedules = zone_schedules(conn, {r[4] for r in rows if r[4]}, first, end)
    levels: list[list[PlanRow]] = [[], [], []]
    for acc, meter, valid_from, scheme, schedule, source in rows:
        level = 0 if meter in meters else 1 if acc == account_no else 2 if not (acc or meter) else None
        if level is not None:
            levels[level].append(
                PlanRow(
                    service, valid_from, ZoneScheme(scheme), schedules.get(schedule or ""), acc, meter, source
                )
            )
    spans = plan_spans((first, end), Service(service), tariffs, levels)
    return tariffs_for_plans(tariffs, Service(service), spans, f"account {account_no}"), spans


def tariff_plan_rows(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> list[PlanRow]:
    """The building's plan rows that can be in force during the period: every row starting before its end
    (the latest one of each key before the period start included, earlier ones are superseded)."""
    rows = conn.execute(
        """
        SELECT account_no, meter_id, service, valid_from, scheme, zone_schedule, source FROM tariff_plans p
        WHERE building_id = %(b)s AND valid_from < %(end)s
          AND NOT EXISTS (
              SELECT 1 FROM tariff_plans q
              WHERE q.building_id = p.building_id AND q.account_no = p.account_no
                AND q.meter_id = p.meter_id AND q.service = p.service
                AND q.valid_from > p.valid_from AND q.valid_from <= %(first)s)
        ORDER BY account_no, meter_id, service, valid_from
        """,
        {"b": building_id, "first": period.first_day, "end": period.end_day},
    ).fetchall()
    schedules = zone_schedules(conn, {r[5] for r in rows if r[5]}, period.first_day, period.end_day)
    return [
        PlanRow(
            service,
            valid_from,
            ZoneScheme(scheme),
            schedules[schedule] if schedule else None,
            account_no,
            meter_id,
            source,
        )
        for account_no, meter_id, service, valid_from, scheme, schedule, source in rows
    ]


def meter_states_on(
    conn: psycopg.Connection, meter_ids: Iterable[str], day: date
) -> dict[str, tuple[str, date]]:
    """meter → (state, since) in force on ``day``; meters without a state row are absent (working)."""
    ids = sorted(set(meter_ids))
    if not ids:
        return {}
    rows = conn.execute(
        """
        SELECT DISTINCT ON (meter_id) meter_id, state, valid_from FROM meter_states
        WHERE meter_id = ANY(%b) AND valid_from <= %s ORDER BY meter_id, valid_from DESC
        """,
        (ids, day),
    ).fetchall()
    return {m: (s, since) for m, s, since in rows}


def meter_state_changes(
    conn: psycopg.Connection, meter_ids: Iterable[str], first_day: date, end_day: date
) -> dict[str, list[tuple[date, str]]]:
    """meter → [(valid_from, state)] of its ``meter_states`` rows dated inside the period (after its first
    day, before ``end_day``), oldest first: the state changes that split the period (ПП 354 п. 59 «а»)."""
    ids = sorted(set(meter_ids))
    if not ids:
        return {}
    changes: dict[str, list[tuple[date, str]]] = {}
    for meter, valid_from, state in conn.execute(
        "SELECT meter_id, valid_from, state FROM meter_states WHERE meter_id = ANY(%b) "
        "AND valid_from > %s AND valid_from < %s ORDER BY meter_id, valid_from",
        (ids, first_day, end_day),
    ):
        changes.setdefault(meter, []).append((valid_from, state))
    return changes


def failed_since(conn: psycopg.Connection, meter_ids: Iterable[str], since: date) -> dict[str, date]:
    """meter → the latest day on or after ``since`` from which it had a state other than ``working``."""
    ids = sorted(set(meter_ids))
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT meter_id, max(valid_from) FROM meter_states WHERE meter_id = ANY(%b) AND state <> 'working' "
        "AND valid_from >= %s GROUP BY meter_id",
        (ids, since),
    ).fetchall()
    return dict(rows)


_IMPOSSIBLE = """
WITH acts AS (
    SELECT premise_no, service, valid_from, impossible FROM technical_impossibility_acts
     WHERE building_id = %(b)s
), latest AS (
    SELECT DISTINCT ON (premise_no, service) premise_no, service, impossible FROM acts
     WHERE valid_from <= %(d)s ORDER BY premise_no, service, valid_from DESC
)
SELECT p.premise_no, s.service
  FROM premises p
 CROSS JOIN (SELECT service FROM building_services WHERE building_id = %(b)s) s
  LEFT JOIN latest a ON a.premise_no = p.premise_no AND a.service = s.service
 WHERE p.building_id = %(b)s
   AND CASE WHEN p.premise_no IN (SELECT premise_no FROM acts) THEN coalesce(a.impossible, false)
            ELSE coalesce(NOT p.meter_install_possible, false) END
"""
"""``meter_install_impossible`` (migration 0134) for every premise and service of a building in one pass
over its acts (calling the function per premise × service cost one index probe each: ≈ 15 ms of server
time per 350-flat building)."""


def impossibility_acts_on(conn: psycopg.Connection, building_id: str, day: date) -> set[tuple[str, str]]:
    """(premise, service) pairs where installing a meter is technically impossible on ``day`` (an act of
    that service in force; a premise without act rows keeps its premise-wide legacy flag)."""
    rows = conn.execute(_IMPOSSIBLE, {"b": building_id, "d": day}).fetchall()
    return {(p, s) for p, s in rows}
