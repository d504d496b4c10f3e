"""Validate and upsert one import file; a file with any error imports nothing (all-or-nothing per file).

Errors name the file, the row (as a spreadsheet shows it: the header is row 1) and the column, and every
error of the file is collected before anything is written. A valid file is upserted in one transaction
by its natural key, so importing the same file twice leaves the database as after the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from meterhub.billing.imports import columns
from meterhub.billing.imports.benefit_specs import BENEFIT_ENTITIES, BENEFIT_ORDER
from meterhub.billing.imports.dated_specs import DATED_ENTITIES, DATED_ORDER
from meterhub.billing.imports.heating_specs import HEATING_ENTITIES, HEATING_ORDER
from meterhub.billing.imports.specs import ENTITIES, Entity
from meterhub.billing.imports.supplier_specs import SUPPLIER_ENTITIES, SUPPLIER_ORDER
from meterhub.billing.imports.tabular import read_table

__all__ = [
    "ENTITY_ORDER",
    "ImportFileError",
    "ImportProblem",
    "ImportResult",
    "import_directory",
    "import_file",
]

ENTITY_ORDER = (
    "suppliers",
    "buildings",
    "premises",
    "accounts",
    "residents",
    "building_services",
    "meters",
    "tariffs",
    "normatives",
    *DATED_ORDER,
    *HEATING_ORDER,
    *SUPPLIER_ORDER,
    *BENEFIT_ORDER,
    "payees",
)
"""The order ``import_directory`` uses, so referenced rows exist first."""

_METER_KINDS = {"electricity", "cold_water", "hot_water", "heat"}
_DEFAULT_REGISTERS = {
    "electricity": "energy_import_kwh",
    "cold_water": "water_m3",
    "hot_water": "water_m3",
    "heat": "heat_gcal",
}


@dataclass(frozen=True)
class ImportProblem:
    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}, column {self.column}: {self.message}"


class ImportFileError(ValueError):
    """A file had errors; nothing of it was imported. ``problems`` lists all of them."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class ImportResult:
    file: str
    entity: str
    rows: int
    inserted: int
    updated: int


def _parse_rows(
    entity: Entity, path: Path
) -> tuple[list[tuple[int, dict[str, Any]]], list[ImportProblem], frozenset[str]]:
    """The parsed rows, the problems found and the column names of the file's header."""
    table = read_table(path)
    name = str(path)
    problems: list[ImportProblem] = []
    known = {c.name for c in entity.columns} | set(entity.extra)
    for col in table.header:
        if col and col not in known:
            problems.append(
                ImportProblem(
                    name, 1, col, f"unknown column; {entity.name} files have {', '.join(sorted(known))}"
                )
            )
    for col in entity.columns:
        if col.required and col.name not in table.header:
            problems.append(ImportProblem(name, 1, col.name, "required column is missing from the header"))
    if problems:
        return [], problems, frozenset(table.header)
    parsed: list[tuple[int, dict[str, Any]]] = []
    keys: dict[tuple[Any, ...], int] = {}
    for number, cells in table.rows:
        row: dict[str, Any] = {}
        row_problems: list[ImportProblem] = []
        for col in entity.columns:
            raw = cells.get(col.name, "")
            if raw == "":
                if col.required:
                    row_problems.append(ImportProblem(name, number, col.name, "value is required"))
                row[col.name] = None if col.required else col.default
                continue
            try:
                row[col.name] = col.parse(raw)
            except ValueError as exc:
                row_problems.append(ImportProblem(name, number, col.name, str(exc)))
        for col_name, kind in entity.extra.items():
            raw = cells.get(col_name, "")
            try:
                row[col_name] = getattr(columns, kind)(raw) if raw else None
            except ValueError as exc:
                row_problems.append(ImportProblem(name, number, col_name, str(exc)))
        if not row_problems and entity.check:
            row_problems += [ImportProblem(name, number, c, m) for c, m in entity.check(row)]
        if not row_problems:
            key = tuple(row[k] for k in entity.key)
            if key in keys:
                row_problems.append(
                    ImportProblem(
                        name, number, entity.key[-1], f"duplicate key {key} (first in row {keys[key]})"
                    )
                )
            keys[key] = number
        problems += row_problems
        if not row_problems:
            parsed.append((number, row))
    return parsed, problems, frozenset(table.header)


def _check_references(
    conn: psycopg.Connection, entity: Entity, path: Path, rows: list[tuple[int, dict[str, Any]]]
) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    for ref in entity.references:
        existing = {tuple(r) for r in conn.execute(ref.sql)}  # type: ignore[arg-type]
        for number, row in rows:
            values = tuple(row[c] for c in ref.columns)
            if any(v is None for v in values) or (len(values) == 1 and values[0] in ref.allow):
                continue
            if values not in existing:
                problems.append(
                    ImportProblem(
                        str(path),
                        number,
                        ref.columns[-1],
                        f"{'/'.join(map(str, values))} not found; {ref.hint}",
                    )
                )
    if entity.name == "meters":
        problems += _check_meters(conn, path, rows)
    return problems


def _check_meters(
    conn: psycopg.Connection, path: Path, rows: list[tuple[int, dict[str, Any]]]
) -> list[ImportProblem]:
    known = {r[0] for r in conn.execute("SELECT meter_id FROM meters")}
    problems = []
    for number, row in rows:
        if row["meter_id"] in known:
            continue
        if not (row.get("manufacturer") and row.get("serial")):
            problems.append(
                ImportProblem(
                    str(path),
                    number,
                    "meter_id",
                    f"meter {row['meter_id']} is not registered; give manufacturer and serial to register it",
                )
            )
        elif row["service"] not in _METER_KINDS:
            problems.append(
                ImportProblem(
                    str(path),
                    number,
                    "service",
                    f"a new meter must measure one of {', '.join(sorted(_METER_KINDS))}",
                )
            )
    return problems


def _register_meters(conn: psycopg.Connection, rows: list[tuple[int, dict[str, Any]]]) -> None:
    from meterhub.core.registers import MeterKind
    from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter

    known = {r[0] for r in conn.execute("SELECT meter_id FROM meters")}
    for _, row in rows:
        if row["meter_id"] in known:
            if row.get("verification_due") is not None:
                conn.execute(
                    "UPDATE meters SET verification_due = %s WHERE meter_id = %s",
                    (row["verification_due"], row["meter_id"]),
                )
            continue
        registers = [
            r.strip() for r in (row.get("registers") or _DEFAULT_REGISTERS[row["service"]]).split(";")
        ]
        register_meter(
            conn,
            MeterInfo(
                kind=MeterKind(row["service"]),
                manufacturer=row["manufacturer"],
                serial=row["serial"],
                registers=tuple(RegisterInfo(r) for r in registers if r),
                model=row.get("model"),
                building_id=row["building"],
                is_house_meter=row.get("premise") is None,
                multiplier=row.get("multiplier") or 1,
                register_digits=row.get("register_digits"),
                verification_due=row.get("verification_due"),
                meter_id=row["meter_id"],
            ),
        )
        known.add(row["meter_id"])


def _upsert(
    conn: psycopg.Connection,
    entity: Entity,
    rows: list[tuple[int, dict[str, Any]]],
    header: frozenset[str] = frozenset(),
) -> tuple[int, int]:
    cols = [c.db_name for c in entity.columns]
    key = [c.db_name for c in entity.columns if c.name in entity.key]
    kept = {c.db_name for c in entity.columns if c.kept_when_absent and c.name not in header}
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in key and c not in kept)
    sql = (
        f"INSERT INTO {entity.table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} RETURNING (xmax = 0)"
    )
    inserted = 0
    with conn.cursor() as cur:
        cur.executemany(sql, [tuple(row[c.name] for c in entity.columns) for _, row in rows], returning=True)
        while True:
            r = cur.fetchone()
            inserted += bool(r and r[0])
            if not cur.nextset():
                break
    return inserted, len(rows) - inserted


def import_file(conn: psycopg.Connection, entity_name: str, path: Path | str) -> ImportResult:
    """Import one file of ``entity_name``; raises :class:`ImportFileError` listing every problem."""
    path = Path(path)
    entity = (
        ENTITIES.get(entity_name)
        or DATED_ENTITIES.get(entity_name)
        or HEATING_ENTITIES.get(entity_name)
        or SUPPLIER_ENTITIES.get(entity_name)
        or BENEFIT_ENTITIES.get(entity_name)
    )
    if entity is None:
        from meterhub.billing.imports.legacy import LEGACY_ENTITIES, import_legacy_file

        if entity_name in LEGACY_ENTITIES:  # a migration file (docs/migration.md)
            return import_legacy_file(conn, entity_name, path)
        known = (*ENTITY_ORDER, *LEGACY_ENTITIES)
        raise ValueError(f"unknown entity {entity_name!r}; use one of {', '.join(known)}")
    rows, problems, header = _parse_rows(entity, path)
    problems += _check_references(conn, entity, path, rows)  # on every row that parsed
    problems.sort(key=lambda p: p.row)
    if problems:
        conn.rollback()
        raise ImportFileError(problems)
    with conn.transaction():
        if entity.name == "meters":
            _register_meters(conn, rows)
        inserted, updated = _upsert(conn, entity, rows, header)
    conn.commit()
    return ImportResult(str(path), entity.name, len(rows), inserted, updated)


def import_directory(conn: psycopg.Connection, folder: Path | str) -> list[ImportResult]:
    """Import ``<entity>.csv`` / ``<entity>.xlsx`` files of a folder in :data:`ENTITY_ORDER`, then the
    migration files in ``LEGACY_ORDER`` (docs/migration.md).

    Stops at the first file with errors (raising its :class:`ImportFileError`); the files before it stay
    imported (each file is its own transaction).
    """
    from meterhub.billing.imports.legacy_specs import LEGACY_ORDER

    folder = Path(folder)
    results = []
    for name in (*ENTITY_ORDER, *LEGACY_ORDER):
        for suffix in (".csv", ".xlsx"):
            path = folder / f"{name}{suffix}"
            if path.exists():
                results.append(import_file(conn, name, path))
    if not results:
        raise ValueError(
            f"{folder}: no import files found; expected names like {', '.join(ENTITY_ORDER)} .csv/.xlsx"
        )
    return results
