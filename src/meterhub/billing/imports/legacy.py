"""Import one migration file (docs/migration.md): validate everything, then replace that file's buildings.

A migration file is a snapshot of the legacy system: it replaces the rows previously imported for the
buildings it names (rows left out of a corrected export are removed), so importing the same file twice
changes nothing and a corrected file corrects. A file with any problem imports nothing; problems name the
file, the row (header = row 1), the column and the fix. Checks beyond one row:

* every legacy row belongs to a building with a cutover (``cutover.csv``) and to a period before its first
  meterhub period (payments: paid before its first day);
* the cutover cannot start after a period meterhub has already computed for the building, and cannot move
  once the building has a closed period;
* opening balances are frozen once the building has a closed period (a re-import must be identical);
* a meter-month's zones are the registers of one meter (single, day+night or peak+semi-peak+night);
* a principal or penalty debt without ``due_date`` takes the law's due date of its period (the penalty
  tables, Decision 3).

An overpayment (``kind = advance``) becomes a payment of source ``opening_balance`` held as an advance
(аванс) from the day before the cutover, which the first close applies to new charges like any advance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from meterhub.billing.imports.legacy_checks import (
    building_of,
    cutover_problems,
    due_dates,
    meter_links_of,
    period_problems,
    zone_problems,
)
from meterhub.billing.imports.legacy_readings import planned_readings, write_planned_readings
from meterhub.billing.imports.legacy_specs import LEGACY_ENTITIES, LEGACY_ORDER
from meterhub.billing.imports.run import ImportFileError, ImportProblem, ImportResult
from meterhub.billing.imports.run import _check_references as check_references
from meterhub.billing.imports.run import _parse_rows as parse_rows
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["LEGACY_ENTITIES", "LEGACY_ORDER", "OPENING_SOURCE", "LegacyImportResult", "import_legacy_file"]

OPENING_SOURCE = "opening_balance"
"""``payments.source`` of overpayments imported with the opening balances."""

Rows = list[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class LegacyImportResult(ImportResult):
    deleted: int = 0
    """Rows of the file's buildings imported earlier and absent from this file (removed)."""


@dataclass(frozen=True)
class _Target:
    table: str
    key: tuple[str, ...]
    values: tuple[str, ...]
    scope: str  # rows of the buildings %(b)s


_ACCOUNTS_OF = "account_no IN (SELECT account_no FROM accounts WHERE building_id = ANY(%(b)s))"
_TARGETS = {
    "cutover": _Target(
        "legacy_cutovers", ("building_id",), ("first_period", "system"), "building_id = ANY(%(b)s)"
    ),
    "opening_balances": _Target(
        "opening_debts",
        ("account_no", "service", "period", "kind"),
        ("amount_kopecks", "due_date"),
        _ACCOUNTS_OF,
    ),
    "legacy_payments": _Target(
        "legacy_payments",
        ("account_no", "paid_on", "payment_id"),
        ("amount_kopecks", "period_named", "agent", "purpose"),
        _ACCOUNTS_OF,
    ),
    "meter_history": _Target(
        "legacy_meter_volumes",
        ("meter_id", "period", "zone"),
        ("volume", "method", "building_id", "premise_no", "service"),
        "building_id = ANY(%(b)s)",
    ),
    "house_history": _Target(
        "legacy_house_volumes",
        ("building_id", "service", "period"),
        ("house_volume", "individual_total", "preparation", "method"),
        "building_id = ANY(%(b)s)",
    ),
    "legacy_totals": _Target(
        "legacy_totals",
        ("building_id", "service"),
        (
            "debt_kopecks",
            "penalties_kopecks",
            "advance_kopecks",
            "balance_kopecks",
            "paid_kopecks",
            "volume",
            "house_volume",
        ),
        "building_id = ANY(%(b)s)",
    ),
}
_ADVANCES = _Target(
    "payments",
    ("account_no", "payment_id"),
    ("amount_kopecks", "paid_on"),
    _ACCOUNTS_OF + f" AND source = '{OPENING_SOURCE}'",
)


def _stored(conn: psycopg.Connection, target: _Target, buildings: Sequence[str]) -> dict[tuple, tuple]:
    cols = ", ".join(target.key + target.values)
    rows = conn.execute(f"SELECT {cols} FROM {target.table} WHERE {target.scope}", {"b": list(buildings)})
    n = len(target.key)
    return {tuple(r[:n]): tuple(r[n:]) for r in rows}


def _diff(stored: dict[tuple, tuple], new: dict[tuple, tuple]) -> tuple[list, list, list]:
    inserted = [k for k in new if k not in stored]
    updated = [k for k in new if k in stored and stored[k] != new[k]]
    deleted = [k for k in stored if k not in new]
    return inserted, updated, deleted


def _db_rows(
    entity: str, rows: Rows, extra: dict[int, dict[str, Any]]
) -> tuple[dict[tuple, tuple], dict[tuple, tuple]]:
    """(rows for the entity's table, overpayments as opening-balance payments) keyed like their targets;
    a table column that is no file column comes from ``extra`` (a meter volume's link)."""
    spec, target = LEGACY_ENTITIES[entity], _TARGETS[entity]
    by_db = {c.db_name: c.name for c in spec.columns}
    main: dict[tuple, tuple] = {}
    advances: dict[tuple, tuple] = {}
    for number, row in rows:
        if entity == "opening_balances" and row["kind"] == "advance":
            advances[(row["account"], f"{row['account']}:{row['period']}")] = (row["amount"], row["period"])
            continue
        values = tuple(row[by_db[v]] if v in by_db else extra[number][v] for v in target.values)
        main[tuple(row[by_db[k]] for k in target.key)] = values
    return main, advances


def _write(conn: psycopg.Connection, target: _Target, stored: dict, new: dict) -> tuple[int, int, int]:
    inserted, updated, deleted = _diff(stored, new)
    where = " AND ".join(f"{k} = %s" for k in target.key)
    cols = target.key + target.values
    sets = ", ".join(f"{v} = EXCLUDED.{v}" for v in target.values)
    with conn.cursor() as cur:
        if deleted:
            cur.executemany(f"DELETE FROM {target.table} WHERE {where}", deleted)
        if inserted or updated:
            cur.executemany(
                f"INSERT INTO {target.table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
                f" ON CONFLICT ({', '.join(target.key)}) DO UPDATE SET {sets}",
                [k + new[k] for k in inserted + updated],
            )
    return len(inserted), len(updated), len(deleted)


def _write_advances(
    conn: psycopg.Connection, buildings: Sequence[str], new: dict[tuple, tuple]
) -> tuple[int, int, int]:
    """Overpayments → ``payments`` (source ``opening_balance``) each held whole as an advance."""
    first = dict(conn.execute("SELECT building_id, first_period FROM legacy_cutovers").fetchall())
    building = dict(
        conn.execute(
            "SELECT account_no, building_id FROM accounts WHERE building_id = ANY(%s)", (list(buildings),)
        )
    )
    stored = _stored(conn, _ADVANCES, buildings)
    wanted = {
        (account, payment_id): (
            amount,
            BillingPeriod.parse(first[building[account]]).first_day - timedelta(days=1),
        )
        for (account, payment_id), (amount, _) in new.items()
    }
    inserted, updated, deleted = _diff(stored, wanted)
    for _, payment_id in updated + deleted:  # allocations go with the payment (ON DELETE CASCADE)
        conn.execute(
            "DELETE FROM payments WHERE source = %s AND payment_id = %s", (OPENING_SOURCE, payment_id)
        )
    for account, payment_id in inserted + updated:
        amount, paid_on = wanted[(account, payment_id)]
        legacy_period = new[(account, payment_id)][1]
        pk = conn.execute(
            "INSERT INTO payments (source, payment_id, account_no, amount_kopecks, paid_on, period_named,"
            " purpose) VALUES (%s, %s, %s, %s, %s, NULL, %s) RETURNING payment_pk",
            (OPENING_SOURCE, payment_id, account, amount, paid_on, f"Переплата на {paid_on:%d.%m.%Y}"),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO payment_allocations (payment_pk, account_no, booked_period, paid_on, debt_period,"
            " service, kind, amount_kopecks, rule) VALUES (%s, %s, %s, %s, NULL, 'advance', 'advance', %s,"
            " 'opening_balance')",
            (pk, account, legacy_period, paid_on, amount),
        )
    return len(inserted), len(updated), len(deleted)


def _frozen_problems(
    conn: psycopg.Connection, name: str, rows: Rows, buildings: dict[int, str], changed: Iterable[str]
) -> list[ImportProblem]:
    closed = dict(
        conn.execute(
            "SELECT building_id, min(period) FROM billing_periods WHERE status = 'closed'"
            " AND building_id = ANY(%s) GROUP BY 1",
            (sorted(set(changed)),),
        ).fetchall()
    )
    first_row: dict[str, int] = {}
    for number, _ in rows:
        first_row.setdefault(buildings[number], number)
    return [
        ImportProblem(
            name,
            first_row.get(b, 1),
            "amount",
            f"building {b} has closed period {p}: its opening balances are frozen and this file changes "
            "them; correct the difference with a payment or a recalculation in an open period instead",
        )
        for b, p in sorted(closed.items())
    ]


def _changed_buildings(
    conn: psycopg.Connection, main: dict, advances: dict, buildings: Sequence[str]
) -> set[str]:
    account_building = dict(
        conn.execute(
            "SELECT account_no, building_id FROM accounts WHERE building_id = ANY(%s)", (list(buildings),)
        )
    )
    stored = _stored(conn, _TARGETS["opening_balances"], buildings)
    stored_adv = {k: (a,) for k, (a, _) in _stored(conn, _ADVANCES, buildings).items()}
    new_adv = {k: (a,) for k, (a, _) in advances.items()}
    changed = set()
    for old, new in ((stored, main), (stored_adv, new_adv)):
        for keys in _diff(old, new):
            changed |= {account_building[k[0]] for k in keys}
    return changed


def import_legacy_file(
    conn: psycopg.Connection, entity_name: str, path: Path | str, tables: PenaltyTables | None = None
) -> LegacyImportResult:
    """Import one migration file of ``entity_name`` (:data:`LEGACY_ORDER`); raises
    :class:`~meterhub.billing.imports.run.ImportFileError` listing every problem (nothing imported)."""
    path = Path(path)
    entity = LEGACY_ENTITIES[entity_name]
    name = str(path)
    rows, problems, _ = parse_rows(entity, path)
    problems += check_references(conn, entity, path, rows)
    bad = {p.row for p in problems}
    good = [(n, r) for n, r in rows if n not in bad]
    buildings = building_of(conn, entity_name, good)
    if entity_name == "cutover":
        problems += cutover_problems(conn, name, good, buildings)
    else:
        problems += period_problems(conn, entity_name, name, good, buildings)
    if entity_name == "opening_balances":
        problems += due_dates(name, good, tables or PenaltyTables.default())
    readings: list = []
    if entity_name == "meter_history":
        problems += zone_problems(name, good)
        if not problems:
            readings, reading_problems = planned_readings(conn, name, good)
            problems += reading_problems
    scope = sorted(set(buildings.values()))
    extra: dict[int, dict[str, Any]] = {}
    if entity_name == "meter_history":
        extra = {
            n: {"building_id": b, "premise_no": p, "service": s}
            for n, (b, p, s) in meter_links_of(conn, good).items()
        }
    main, advances = _db_rows(entity_name, good, extra)
    if not problems and entity_name == "opening_balances":
        changed = _changed_buildings(conn, main, advances, scope)
        problems += _frozen_problems(conn, name, good, buildings, changed)
    problems.sort(key=lambda p: p.row)
    if problems:
        conn.rollback()
        raise ImportFileError(problems)
    target = _TARGETS[entity_name]
    with conn.transaction():
        counts = _write(conn, target, _stored(conn, target, scope), main)
        if entity_name == "opening_balances":
            extra = _write_advances(conn, scope, advances)
            counts = (counts[0] + extra[0], counts[1] + extra[1], counts[2] + extra[2])
        write_planned_readings(conn, readings)
    conn.commit()
    return LegacyImportResult(name, entity_name, len(rows), counts[0], counts[1], counts[2])
