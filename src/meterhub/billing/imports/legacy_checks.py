"""Checks of a migration file against the database (docs/migration.md): the building each row belongs
to, the cutover (legacy rows before the first meterhub period; the cutover itself not after a computed
period nor moved once a period is closed), default due dates, and a meter-month's zones."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg

from meterhub.billing.imports.legacy_specs import zone_set_problem
from meterhub.billing.imports.run import ImportProblem
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "building_of",
    "cutover_problems",
    "due_dates",
    "meter_links_of",
    "period_problems",
    "zone_problems",
]

Rows = list[tuple[int, dict[str, Any]]]


def building_of(conn: psycopg.Connection, entity: str, rows: Rows) -> dict[int, str]:
    """Row number → the building the row belongs to (rows whose reference is unknown are left out)."""
    if entity in ("cutover", "house_history", "legacy_totals"):
        return {n: r["building"] for n, r in rows}
    if entity == "meter_history":
        return {n: link[0] for n, link in meter_links_of(conn, rows).items()}
    account = dict(conn.execute("SELECT account_no, building_id FROM accounts").fetchall())
    return {n: account[r["account"]] for n, r in rows if r["account"] in account}


def meter_links_of(conn: psycopg.Connection, rows: Rows) -> dict[int, tuple[str, str, str]]:
    """Row number → (building, premise, service) of the meter link a legacy volume belongs to: the link
    in force on the first day of its period, else the meter's first apartment link."""
    links: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for meter, *link in conn.execute(
        "SELECT meter_id, valid_from, valid_to, building_id, premise_no, service FROM meter_links"
        " WHERE meter_id = ANY(%s) AND premise_no IS NOT NULL ORDER BY meter_id, valid_from",
        (sorted({r["meter_id"] for _, r in rows}),),
    ):
        links[meter].append(tuple(link))
    result = {}
    for number, row in rows:
        options = links.get(row["meter_id"])
        if not options:
            continue
        day = BillingPeriod.parse(row["period"]).first_day
        chosen = next((o for o in options if o[0] <= day and (o[1] is None or o[1] > day)), options[0])
        result[number] = chosen[2:]
    return result


def row_period(entity: str, row: dict[str, Any]) -> tuple[str, str] | None:
    """(column, the period the row is of) for the first-period check."""
    if entity == "legacy_payments":
        paid_on = row["paid_on"]
        return "paid_on", f"{paid_on.year:04d}-{paid_on.month:02d}"
    if entity in ("opening_balances", "meter_history", "house_history"):
        return "period", row["period"]
    return None


def cutover_problems(
    conn: psycopg.Connection, name: str, rows: Rows, buildings: dict[int, str]
) -> list[ImportProblem]:
    problems = []
    stored = dict(conn.execute("SELECT building_id, first_period FROM legacy_cutovers").fetchall())
    earliest = dict(
        conn.execute("SELECT building_id, min(period) FROM billing_periods GROUP BY 1").fetchall()
    )
    closed = dict(
        conn.execute(
            "SELECT building_id, min(period) FROM billing_periods WHERE status = 'closed' GROUP BY 1"
        ).fetchall()
    )
    for number, row in rows:
        building, first = buildings[number], row["first_period"]
        if building in closed and stored.get(building, first) != first:
            problems.append(
                ImportProblem(
                    name,
                    number,
                    "first_period",
                    f"building {building} has closed period {closed[building]}; its cutover "
                    f"{stored[building]} cannot move (keep first_period {stored[building]})",
                )
            )
        elif building in earliest and earliest[building] < first:
            problems.append(
                ImportProblem(
                    name,
                    number,
                    "first_period",
                    f"meterhub already computed period {earliest[building]} of building {building}; "
                    f"first_period must be {earliest[building]} or earlier",
                )
            )
    return problems


def period_problems(
    conn: psycopg.Connection, entity: str, name: str, rows: Rows, buildings: dict[int, str]
) -> list[ImportProblem]:
    first = dict(conn.execute("SELECT building_id, first_period FROM legacy_cutovers").fetchall())
    problems = []
    for number, row in rows:
        building = buildings.get(number)
        checked = row_period(entity, row)
        if building is None or checked is None:
            continue
        column, of = checked
        if building not in first:
            problems.append(
                ImportProblem(
                    name,
                    number,
                    column,
                    f"building {building} has no cutover; import cutover.csv first "
                    "(its first meterhub period)",
                )
            )
        elif of >= first[building]:
            what = "paid on" if column == "paid_on" else "period"
            fix = (
                "post it with `meterhub payments import`"
                if column == "paid_on"
                else "meterhub computes that period itself"
            )
            problems.append(
                ImportProblem(
                    name,
                    number,
                    column,
                    f"{what} {of} is not before building {building}'s first meterhub period "
                    f"{first[building]}; {fix}",
                )
            )
    return problems


def due_dates(name: str, rows: Rows, tables: PenaltyTables) -> list[ImportProblem]:
    problems = []
    for number, row in rows:
        if row["kind"] == "advance" or row.get("due_date") is not None:
            continue
        try:
            row["due_date"] = tables.due_date(BillingPeriod.parse(row["period"]))
        except LookupError as exc:
            problems.append(ImportProblem(name, number, "due_date", f"{exc}; or give the due date"))
    return problems


def zone_problems(name: str, rows: Rows) -> list[ImportProblem]:
    zones: dict[tuple[str, str], set[str]] = defaultdict(set)
    first_row: dict[tuple[str, str], int] = {}
    for number, row in rows:
        key = (row["meter_id"], row["period"])
        zones[key].add(row["zone"])
        first_row.setdefault(key, number)
    problems = []
    for key, found in zones.items():
        problem = zone_set_problem(found)
        if problem:
            problems.append(
                ImportProblem(name, first_row[key], "zone", f"meter {key[0]}, {key[1]}: {problem}")
            )
    return problems
