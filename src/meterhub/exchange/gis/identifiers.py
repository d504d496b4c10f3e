"""Identifiers ГИС ЖКХ assigns, stored in ``gis_identifiers``: read them, and import them from the
operator's getState responses (XML) or from the spreadsheets the portal lets a УК download (CSV/XLSX).

Responses name objects only by the TransportGUID meterhub gave them, so they are matched through
``gis_export_items``; spreadsheets name them by meterhub's own keys (account number, building id,
meter id) or, for accounts, by the number printed in the "номер ЛС" column.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from lxml import etree

from meterhub.billing.receipts import StateIds
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.exchange.gis.validation import validate
from meterhub.exchange.gis.xml import NS

__all__ = [
    "KINDS",
    "IdentifierImport",
    "IdentifierImportError",
    "building_identifiers",
    "identifiers",
    "import_identifiers_file",
    "receipt_state_ids",
    "store_identifier",
]

KINDS = (
    "house_fias_guid",
    "house_unique_number",
    "premises_guid",
    "account_guid",
    "account_els",
    "account_izhku",
    "device_root_guid",
    "device_version_guid",
    "payment_document_id",
    "payment_document_guid",
    "payment_notification_guid",
)

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "account_els": (re.compile(r"^[0-9А-ЯA-Z]{10}$"), "10 characters (ЕЛС, e.g. 12АБ345678)"),
    "account_izhku": (re.compile(r"^.{13}$"), "13 characters (ИЖКУ, e.g. 12АБ345678-01)"),
    "payment_document_id": (re.compile(r"^.{18}$"), "18 characters (идентификатор платёжного документа)"),
}


class IdentifierImportError(ValueError):
    pass


@dataclass
class IdentifierImport:
    """What an import stored: values per kind, objects ГИС ЖКХ refused (with its error) and rows that
    could not be matched to a meterhub object."""

    stored: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.stored.values())


def identifiers(conn: psycopg.Connection, kind: str, keys: Iterable[str] | None = None) -> dict[str, str]:
    """``{local_key: value}`` of one kind (all, or only ``keys``)."""
    if keys is None:
        rows = conn.execute("SELECT local_key, value FROM gis_identifiers WHERE kind = %s", (kind,))
    else:
        rows = conn.execute(
            "SELECT local_key, value FROM gis_identifiers WHERE kind = %s AND local_key = ANY(%s)",
            (kind, list(keys)),
        )
    return dict(rows.fetchall())


_BUILDING_KEYS = {
    "premises": "SELECT %(b)s || '/' || premise_no FROM premises WHERE building_id = %(b)s",
    "account": "SELECT account_no FROM accounts WHERE building_id = %(b)s",
    "device": "SELECT meter_id FROM meter_links WHERE building_id = %(b)s",
}


def building_identifiers(conn: psycopg.Connection, kind: str, building_id: str) -> dict[str, str]:
    """``{local_key: value}`` of one kind for the premises, accounts or meters of one building (an export
    reads one building at a time, so a city's exports stay linear in its size)."""
    owner = kind.split("_")[0]
    keys = _BUILDING_KEYS[owner]
    rows = conn.execute(
        f"SELECT local_key, value FROM gis_identifiers WHERE kind = %(k)s AND local_key IN ({keys})",
        {"k": kind, "b": building_id},
    )
    return dict(rows.fetchall())


def _check(kind: str, value: str) -> str:
    value = value.strip()
    if kind not in KINDS:
        raise IdentifierImportError(f"unknown identifier kind {kind!r}; one of {', '.join(KINDS)}")
    if kind.endswith("_guid") and kind != "house_unique_number":
        if not _GUID_RE.match(value):
            raise IdentifierImportError(f"{kind} {value!r} is not a GUID (8-4-4-4-12 hex digits)")
        return value.lower()
    pattern = _FORMATS.get(kind)
    if pattern and not pattern[0].match(value):
        raise IdentifierImportError(f"{kind} {value!r} must be {pattern[1]}")
    if not value:
        raise IdentifierImportError(f"{kind}: empty value")
    return value


def store_identifier(conn: psycopg.Connection, kind: str, local_key: str, value: str, source: str) -> None:
    """Insert or replace one identifier (validated: GUID form, ЕЛС/ИЖКУ/document id lengths)."""
    conn.execute(
        "INSERT INTO gis_identifiers (kind, local_key, value, source) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (kind, local_key) DO UPDATE SET value = EXCLUDED.value, source = EXCLUDED.source, "
        "received_at = now()",
        (kind, local_key, _check(kind, value), source),
    )


# --- getState responses ------------------------------------------------------------------------------

_RESULT_KINDS = {  # entity of the exported object → identifier kind of the result's GUID
    "premise": "premises_guid",
    "account": "account_guid",
    "device": "device_version_guid",
    "payment_document": "payment_document_guid",
    "payment": "payment_notification_guid",
}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _first(el: etree._Element, *names: str) -> str | None:
    for node in el.iter():
        if isinstance(node.tag, str) and _local(node) in names and node.text and node.text.strip():
            return node.text.strip()
    return None


_SERVICE_OF_NAMESPACE = {
    NS[p]: s
    for p, s in (
        ("hm", "house-management"),
        ("dm", "device-metering"),
        ("bills", "bills"),
        ("pay", "payment"),
        ("drs", "debt-requests"),
    )
}


def _validate_results(root: etree._Element, source: str) -> None:
    """Each getStateResult of the file against its service's schema (a damaged response names the element)."""
    for el in root.iter():
        if isinstance(el.tag, str) and _local(el) == "getStateResult":
            service = _SERVICE_OF_NAMESPACE.get(etree.QName(el).namespace or "")
            if service is None:
                raise IdentifierImportError(f"{source}: getStateResult of an unknown service {el.tag}")
            try:
                validate(el, service, f"{source}: getStateResult")
            except ValueError as exc:
                raise IdentifierImportError(str(exc)) from None


def _import_response(
    conn: psycopg.Connection, root: etree._Element, source: str, out: IdentifierImport
) -> None:
    _validate_results(root, source)
    results = [
        el
        for el in root.iter()
        if isinstance(el.tag, str)
        and _local(el) in ("CommonResult", "ImportResult", "importResult")
        and any(isinstance(c.tag, str) and _local(c) == "TransportGUID" for c in el)
    ]
    if not results:
        raise IdentifierImportError(
            f"{source}: no import results (CommonResult/ImportResult with a TransportGUID); "
            f"is it the getState "
            f"response of an import meterhub exported?"
        )
    transports = [(_first(r, "TransportGUID") or "").lower() for r in results]
    items = {
        str(t): (entity, key, str(m))
        for t, entity, key, m in conn.execute(
            "SELECT transport_guid, entity, local_key, message_guid FROM gis_export_items "
            "WHERE transport_guid = ANY(%s::uuid[])",
            ([t for t in transports if _GUID_RE.match(t)],),
        ).fetchall()
    }
    for result in results:
        transport = _first(result, "TransportGUID") or ""
        found = items.get(transport.lower())
        if found is None:
            out.unmatched.append(f"TransportGUID {transport}: not an object of a message meterhub exported")
            continue
        entity, key, message = found
        out.messages.add(message)
        errors = [
            f"{_first(e, 'ErrorCode') or ''} {_first(e, 'Description') or ''}".strip()
            for e in result.iter()
            if isinstance(e.tag, str) and _local(e) in ("Error", "CreateOrUpdateError")
        ]
        if errors:
            out.errors.append(f"{entity} {key}: {'; '.join(errors)}")
            continue
        found_values: list[tuple[str, str | None]] = []
        gis_guid = next(
            (c.text.strip() for c in result if isinstance(c.tag, str) and _local(c) == "GUID" and c.text),
            None,
        )
        if entity == "house":
            found_values.append(("house_unique_number", _first(result, "UniqueNumber")))
        elif entity in _RESULT_KINDS:
            found_values.append((_RESULT_KINDS[entity], gis_guid))
        if entity == "account":
            found_values.append(("account_els", _first(result, "UnifiedAccountNumber")))
            found_values.append(("account_izhku", _first(result, "ServiceID")))
            found_values.append(("account_guid", _first(result, "AccountGUID")))
        if entity == "device":
            found_values.append(("device_root_guid", _first(result, "MeteringDeviceGUID")))
        if entity == "payment_document":
            found_values.append(("payment_document_id", _first(result, "PaymentDocumentID", "UniqueNumber")))
        for kind, value in found_values:
            if value:
                store_identifier(conn, kind, key, value, source)
                out.stored[kind] = out.stored.get(kind, 0) + 1


# --- spreadsheets ------------------------------------------------------------------------------------

_COLUMNS = {  # normalised header → identifier kind
    "fias_house_guid": "house_fias_guid",
    "фиас": "house_fias_guid",
    "гар": "house_fias_guid",
    "house_unique_number": "house_unique_number",
    "premises_guid": "premises_guid",
    "account_guid": "account_guid",
    "идентификатор лс": "account_guid",
    "els": "account_els",
    "елс": "account_els",
    "единый лицевой счет": "account_els",
    "izhku": "account_izhku",
    "ижку": "account_izhku",
    "идентификатор жку": "account_izhku",
    "device_root_guid": "device_root_guid",
    "device_version_guid": "device_version_guid",
    "payment_document_id": "payment_document_id",
    "идентификатор пд": "payment_document_id",
    "payment_document_guid": "payment_document_guid",
}
_KEYS = {  # normalised header → which key column it is
    "account": "account",
    "account_no": "account",
    "номер лс": "account",
    "лицевой счет": "account",
    "building": "building",
    "premise": "premise",
    "meter": "meter",
    "meter_id": "meter",
    "period": "period",
}


def _norm(header: str) -> str:
    return " ".join(header.strip().lower().replace("ё", "е").replace("№", "номер").split())


def _rows(path: Path) -> list[dict[str, str]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        values = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else _decode(raw)
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
        values = list(csv.reader(io.StringIO(text), dialect))
    if not values:
        return []
    header = [_norm(h) for h in values[0]]
    return [dict(zip(header, (v.strip() for v in row), strict=False)) for row in values[1:] if any(row)]


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251")


def _import_sheet(conn: psycopg.Connection, path: Path, out: IdentifierImport) -> None:
    rows = _rows(path)
    if not rows:
        raise IdentifierImportError(f"{path.name}: empty file")
    header = set(rows[0])
    kinds = {h: _COLUMNS[h] for h in header if h in _COLUMNS}
    keys = {h: _KEYS[h] for h in header if h in _KEYS}
    if not kinds:
        raise IdentifierImportError(
            f"{path.name}: no identifier column; expected some of {', '.join(sorted(set(_COLUMNS)))}"
        )
    accounts = {a for (a,) in conn.execute("SELECT account_no FROM accounts").fetchall()}
    buildings = {b for (b,) in conn.execute("SELECT building_id FROM buildings").fetchall()}
    meters = {m for (m,) in conn.execute("SELECT meter_id FROM meters").fetchall()}
    for line, row in enumerate(rows, start=2):
        key_of = {role: row.get(h, "") for h, role in keys.items()}
        for header_name, kind in kinds.items():
            value = row.get(header_name, "")
            if not value:
                continue
            if kind.startswith("account_"):
                local, known = key_of.get("account", ""), accounts
            elif kind.startswith("house_"):
                local, known = key_of.get("building", ""), buildings
            elif kind == "premises_guid":
                local = f"{key_of.get('building', '')}/{key_of.get('premise', '')}"
                known = {f"{b}/{p}" for b, p in conn.execute("SELECT building_id, premise_no FROM premises")}
            elif kind.startswith("device_"):
                local, known = key_of.get("meter", ""), meters
            else:
                local = f"{key_of.get('account', '')}/{key_of.get('period', '')}"
                known = {local} if key_of.get("account") in accounts and key_of.get("period") else set()
            if local not in known:
                out.unmatched.append(f"{path.name} line {line}: {kind} {value}: no meterhub object {local!r}")
                continue
            try:
                store_identifier(conn, kind, local, value, path.name)
            except IdentifierImportError as exc:
                out.errors.append(f"{path.name} line {line}: {exc}")
                continue
            out.stored[kind] = out.stored.get(kind, 0) + 1


def import_identifiers_file(conn: psycopg.Connection, path: Path) -> IdentifierImport:
    """Import a getState response (``.xml``) or a spreadsheet (``.csv``/``.xlsx``); marks the exports a
    response answers as ``answered``. Runs in the caller's transaction."""
    out = IdentifierImport()
    if path.suffix.lower() == ".xml":
        try:
            root = etree.parse(str(path)).getroot()
        except etree.XMLSyntaxError as exc:
            raise IdentifierImportError(f"{path.name}: not XML: {exc}") from None
        _import_response(conn, root, path.name, out)
        for message in out.messages:
            conn.execute(
                "UPDATE gis_exports SET status = 'answered', answered_at = now(), response_file = %s, "
                "ids_received = ids_received + %s, errors = errors || %s::jsonb WHERE message_guid = %s",
                (path.name, out.total, _json(out.errors), uuid.UUID(message)),
            )
    else:
        _import_sheet(conn, path, out)
    return out


def _json(values: list[str]) -> str:
    import json

    return json.dumps(values, ensure_ascii=False)


def receipt_state_ids(
    conn: psycopg.Connection, account_nos: Sequence[str], period: BillingPeriod
) -> dict[str, StateIds]:
    """The ЕЛС, ИЖКУ and payment document identifier of each account for its ЕПД of ``period`` — the
    source the wiring plugs into :func:`meterhub.billing.receipts.set_state_ids_source`."""
    accounts = list(account_nos)
    els = identifiers(conn, "account_els", accounts)
    izhku = identifiers(conn, "account_izhku", accounts)
    documents = identifiers(conn, "payment_document_id", [f"{a}/{period}" for a in accounts])
    return {
        a: StateIds(els.get(a), izhku.get(a), documents.get(f"{a}/{period}"))
        for a in accounts
        if a in els or a in izhku or f"{a}/{period}" in documents
    }
