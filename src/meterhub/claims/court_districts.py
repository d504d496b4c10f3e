"""The court district (судебный участок) of each building, imported from a CSV the УК keeps: columns
``building_id, court_name`` and optionally ``court_address, district, fee_recipient`` (comma, semicolon
or tab separated, UTF-8). Every row is checked before anything is written; an error names the line."""

from __future__ import annotations

import csv
import io

import psycopg

__all__ = ["CourtDistrictImportError", "import_court_districts"]

_REQUIRED = ("building_id", "court_name")
_OPTIONAL = ("court_address", "district", "fee_recipient")


class CourtDistrictImportError(ValueError):
    pass


def import_court_districts(conn: psycopg.Connection, data: bytes, name: str = "courts.csv") -> int:
    """Upsert the districts of ``data``; returns the number of buildings."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CourtDistrictImportError(f"{name}: not UTF-8; save the table as CSV UTF-8") from None
    if not text.strip():
        raise CourtDistrictImportError(f"{name}: the file is empty")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise CourtDistrictImportError(f"{name}: missing columns {', '.join(missing)}")
    buildings = {b for (b,) in conn.execute("SELECT building_id FROM buildings")}
    rows, seen = [], set()
    for line, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        building = row["building_id"]
        if building not in buildings:
            raise CourtDistrictImportError(f"{name} line {line}: building {building!r} does not exist")
        if building in seen:
            raise CourtDistrictImportError(f"{name} line {line}: building {building!r} appears twice")
        if not row["court_name"]:
            raise CourtDistrictImportError(f"{name} line {line}: court_name is empty")
        seen.add(building)
        rows.append((building, row["court_name"], *(row.get(c, "") for c in _OPTIONAL)))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO claims_court_districts (building_id, court_name, court_address, district,"
            " fee_recipient) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (building_id) DO UPDATE SET"
            " court_name = EXCLUDED.court_name, court_address = EXCLUDED.court_address,"
            " district = EXCLUDED.district, fee_recipient = EXCLUDED.fee_recipient, imported_at = now()",
            rows,
        )
    return len(rows)
