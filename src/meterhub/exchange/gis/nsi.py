"""The НСИ mapping as data the УК edits: ``gis_nsi_refs`` rows, listed and replaced from a CSV file.

Columns: ``kind`` (resource / service / unit), ``local_value`` (meterhub's service code, ``penalties``, or a
unit), ``registry`` (НСИ number), ``code``, ``guid`` and ``name`` as the organisation's ГИС ЖКХ reference
books show them (exportNsiItem or the portal's "Справочники" page). The getState result of exportNsiItem
itself (XML) fills the GUIDs of the rows whose registry and code it lists.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from lxml import etree

from meterhub.exchange.gis.validation import validate
from meterhub.exchange.gis.xml import NS

__all__ = ["NsiImportError", "NsiRow", "import_nsi", "import_nsi_item", "nsi_rows"]

_KINDS = ("resource", "service", "unit")


class NsiImportError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class NsiRow:
    kind: str
    local_value: str
    registry: int | None
    code: str | None
    guid: str | None
    name: str


def nsi_rows(conn: psycopg.Connection) -> list[NsiRow]:
    rows = conn.execute(
        "SELECT kind, local_value, registry, code, guid, name FROM gis_nsi_refs ORDER BY kind, local_value"
    ).fetchall()
    return [NsiRow(k, v, r, c, str(g) if g else None, n) for k, v, r, c, g, n in rows]


def import_nsi(conn: psycopg.Connection, path: Path) -> int:
    """Upsert the mapping rows of a CSV (every row checked first; an error names the line and column)."""
    text = path.read_bytes().decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = {"kind", "local_value", "code"} - set(reader.fieldnames or [])
    if missing:
        raise NsiImportError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
    rows = []
    for line, raw in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in raw.items() if k}
        if row["kind"] not in _KINDS:
            raise NsiImportError(f"line {line}: kind {row['kind']!r} must be one of {', '.join(_KINDS)}")
        if not row["local_value"]:
            raise NsiImportError(f"line {line}: local_value is empty")
        registry = row.get("registry") or None
        if registry is not None and not registry.isdigit():
            raise NsiImportError(f"line {line}: registry {registry!r} must be the НСИ number, e.g. 51")
        if not re.fullmatch(r"[0-9A-Za-z.]{1,20}", row["code"]):
            raise NsiImportError(f"line {line}: code {row['code']!r} is not an НСИ code (digits and dots)")
        guid = row.get("guid") or None
        if guid is not None:
            try:
                guid = str(uuid.UUID(guid))
            except ValueError:
                raise NsiImportError(f"line {line}: guid {guid!r} is not a GUID") from None
        elif row["kind"] != "unit":
            raise NsiImportError(f"line {line}: guid is required for a {row['kind']} entry")
        rows.append(
            (
                row["kind"],
                row["local_value"],
                int(registry) if registry else None,
                row["code"],
                guid,
                row.get("name", ""),
            )
        )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO gis_nsi_refs (kind, local_value, registry, code, guid, name) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (kind, local_value) DO UPDATE SET "
            "registry = EXCLUDED.registry, code = EXCLUDED.code, guid = EXCLUDED.guid, "
            "name = CASE WHEN EXCLUDED.name = '' THEN gis_nsi_refs.name ELSE EXCLUDED.name END, "
            "updated_at = now()",
            rows,
        )
    return len(rows)


def import_nsi_item(conn: psycopg.Connection, path: Path) -> int:
    """Fill the GUIDs of mapped entries from an exportNsiItem getState result (nsi-common): every
    ``gis_nsi_refs`` row of the item's registry whose code the item lists as actual gets that element's
    GUID. Returns the rows updated; the result is validated against the schema first."""
    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError as exc:
        raise NsiImportError(f"{path.name}: not XML: {exc}") from None
    ns = {"c": "http://dom.gosuslugi.ru/schema/integration/nsi-common/", "n": NS["nsi-base"]}
    results = root.xpath("//c:getStateResult", namespaces=ns)
    if not results:
        raise NsiImportError(f"{path.name}: no getStateResult of exportNsiItem (nsi-common)")
    updated = 0
    for result in results:
        try:
            validate(result, "nsi-common", f"{path.name}: getStateResult")
        except ValueError as exc:
            raise NsiImportError(str(exc)) from None
        for item in result.iterfind("c:NsiItem", ns):
            registry = int(item.findtext("n:NsiItemRegistryNumber", namespaces=ns) or 0)
            for element in item.iter(f"{{{NS['nsi-base']}}}NsiElement", f"{{{NS['nsi-base']}}}ChildElement"):
                if element.findtext("n:IsActual", namespaces=ns) != "true":
                    continue
                code = element.findtext("n:Code", namespaces=ns)
                guid = element.findtext("n:GUID", namespaces=ns)
                updated += conn.execute(
                    "UPDATE gis_nsi_refs SET guid = %s, updated_at = now() WHERE registry = %s AND code = %s",
                    (guid, registry, code),
                ).rowcount
    return updated
