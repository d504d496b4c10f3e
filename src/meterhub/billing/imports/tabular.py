"""Read a CSV or XLSX file into a header and text rows, with the row numbers a person sees.

CSV: UTF-8 (a BOM is accepted), separator ``,`` or ``;`` (chosen from the header line), quotes as
usual. XLSX: the first sheet, the first row is the header; cells become text (dates as ISO dates,
numbers by their shortest decimal form, so ``52.17`` stays ``52.17``). Row numbers count the header as
row 1, like a spreadsheet.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

__all__ = ["Table", "read_table"]


@dataclass(frozen=True)
class Table:
    path: Path
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number, column → text)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value).strip()


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    rows = [(i, [c.strip() for c in r]) for i, r in enumerate(reader, start=1)]
    if not rows:
        return [], []
    return rows[0][1], rows[1:]


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = [(i, [_cell_text(v) for v in r]) for i, r in enumerate(sheet.iter_rows(values_only=True), 1)]
    finally:
        book.close()
    if not rows:
        return [], []
    return rows[0][1], rows[1:]


def read_table(path: Path) -> Table:
    """Header (lower-cased, stripped) and non-empty rows of a ``.csv`` or ``.xlsx`` file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, raw = _read_csv(path)
    elif suffix == ".xlsx":
        header, raw = _read_xlsx(path)
    else:
        raise ValueError(f"{path}: unsupported file type {suffix!r}; use .csv or .xlsx")
    names = [h.strip().lower() for h in header]
    while names and not names[-1]:
        names.pop()
    rows = []
    for number, cells in raw:
        if not any(cells):
            continue
        cells = cells + [""] * (len(names) - len(cells))
        rows.append((number, {name: cells[i] for i, name in enumerate(names) if name}))
    return Table(path, names, rows)
