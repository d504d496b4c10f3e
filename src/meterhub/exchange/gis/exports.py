"""``meterhub gis export KIND``: build a kind's messages from the database, validate, write, record.

Each message is a SOAP envelope (RequestHeader + request) written to
``OUT/<kind>-<building>-<period>-<n>.xml`` after both parts validate against the shipped schemas;
``gis_exports`` records it (status ``built``) and ``gis_export_items`` every object under its
TransportGUID, so the response's identifiers find their way back (:mod:`.identifiers`). Objects that
cannot be sent yet (an identifier ГИС ЖКХ has not returned) are listed as skipped with the reason; a kind
with nothing to send writes no file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import psycopg

from meterhub.billing.receipts import iter_receipts
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.exchange.gis.envelope import OPERATIONS, build_envelope, request_header
from meterhub.exchange.gis.identifiers import identifiers
from meterhub.exchange.gis.messages.accounts import MAX_ACCOUNTS, build_accounts
from meterhub.exchange.gis.messages.devices import MAX_DEVICES, build_metering_devices
from meterhub.exchange.gis.messages.house import build_house_uo
from meterhub.exchange.gis.messages.payment_documents import (
    MAX_DOCUMENTS,
    PaymentDocumentIds,
    build_payment_documents,
)
from meterhub.exchange.gis.messages.payments import MAX_PAYMENTS, build_payment_notifications
from meterhub.exchange.gis.messages.readings import MAX_VALUES, build_meter_values
from meterhub.exchange.gis.model import BuiltMessage, GuidFactory, MissingIdentifier
from meterhub.exchange.gis.sources import (
    building_ids,
    load_accounts,
    load_devices,
    load_house,
    load_nsi,
    load_payments,
    load_readings,
)
from meterhub.exchange.gis.xml import tostring

__all__ = ["KINDS", "ExportResult", "export", "record_message", "write_message"]

KINDS = ("houses", "accounts", "devices", "readings", "payment-documents", "payments")
_NEEDS_PERIOD = {"readings", "payment-documents", "payments"}


@dataclass
class ExportResult:
    kind: str
    files: list[Path] = field(default_factory=list)
    message_guids: list[uuid.UUID] = field(default_factory=list)
    items: int = 0
    skipped: list[str] = field(default_factory=list)


def _chunks(values: list, size: int) -> list[list]:
    return [values[i : i + size] for i in range(0, len(values), size)] or [[]]


def record_message(
    conn: psycopg.Connection,
    kind: str,
    built: BuiltMessage,
    message_guid: uuid.UUID,
    path: Path,
    period: str | None,
    building_id: str | None,
) -> None:
    """Record a written message in ``gis_exports`` and its objects in ``gis_export_items``."""
    conn.execute(
        "INSERT INTO gis_exports (kind, operation, period, building_id, message_guid, file_name, items) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (kind, built.operation, period, building_id, message_guid, str(path), len(built.items)),
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO gis_export_items (transport_guid, message_guid, entity, local_key) "
            "VALUES (%s, %s, %s, %s)",
            [(i.transport_guid, message_guid, i.entity, i.local_key) for i in built.items],
        )


def write_message(
    built: BuiltMessage, path: Path, org_ppa_guid: uuid.UUID, now: datetime, new_guid: GuidFactory
) -> uuid.UUID:
    """Wrap ``built`` in a validated SOAP envelope and write it; returns the message GUID."""
    message_guid = new_guid()
    envelope = build_envelope(
        request_header(org_ppa_guid, message_guid, now), built.body, OPERATIONS[built.operation]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tostring(envelope))
    return message_guid


def _messages(
    conn: psycopg.Connection,
    kind: str,
    building: str,
    period: BillingPeriod | None,
    today: date,
    new_guid: GuidFactory,
    result: ExportResult,
) -> list[BuiltMessage]:
    if kind == "houses":
        return [build_house_uo(load_house(conn, building), new_guid)]
    if kind == "accounts":
        accounts = load_accounts(conn, building, period.end_day if period else today)
        return [build_accounts(chunk, new_guid) for chunk in _chunks(accounts, MAX_ACCOUNTS) if chunk]
    if kind == "devices":
        devices = load_devices(conn, building, period.end_day if period else today)
        resources = load_nsi(conn, "resource")
        return [build_metering_devices(c, resources, new_guid) for c in _chunks(devices, MAX_DEVICES) if c]
    assert period is not None
    if kind == "readings":
        readings, missing = load_readings(conn, building, period)
        result.skipped.extend(missing)
        resources = load_nsi(conn, "resource")
        return [build_meter_values(c, resources, new_guid) for c in _chunks(readings, MAX_VALUES) if c]
    if kind == "payment-documents":
        status = conn.execute(
            "SELECT status FROM billing_periods WHERE building_id = %s AND period = %s",
            (building, str(period)),
        ).fetchone()
        if status is None or status[0] != "closed":
            result.skipped.append(f"building {building}: period {period} is not closed; close it first")
            return []
        receipts = list(iter_receipts(conn, building, period, issued_on=today))
        accounts = [r.payer.account_no for r in receipts]
        guids = identifiers(conn, "account_guid", accounts)
        documents = identifiers(conn, "payment_document_id", [f"{a}/{period}" for a in accounts])
        ids = {a: PaymentDocumentIds(guids.get(a), documents.get(f"{a}/{period}")) for a in accounts}
        services = load_nsi(conn, "service")
        return [
            build_payment_documents(chunk, ids, services, new_guid)
            for chunk in _chunks(receipts, MAX_DOCUMENTS)
            if chunk
        ]
    raise ValueError(kind)


def export(
    conn: psycopg.Connection,
    kind: str,
    out_dir: Path,
    *,
    org_ppa_guid: uuid.UUID,
    now: datetime,
    period: BillingPeriod | None = None,
    buildings: Sequence[str] | None = None,
    new_guid: Callable[[], uuid.UUID] = uuid.uuid4,
) -> ExportResult:
    """Export ``kind`` (one of :data:`KINDS`) for the buildings (default all) into ``out_dir``.

    Runs in the caller's transaction (commit to keep the status records). Raises
    :class:`MissingIdentifier` when something every message needs is missing (an НСИ entry, a house GUID).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; one of {', '.join(KINDS)}")
    if kind in _NEEDS_PERIOD and period is None:
        raise ValueError(f"export {kind} needs --period YYYY-MM")
    result = ExportResult(kind)
    today = now.date()
    suffix = f"-{period}" if period else ""
    built_messages: list[tuple[str | None, BuiltMessage]] = []
    if kind == "payments":
        assert period is not None
        payments = load_payments(conn, period, building_ids(conn, buildings) if buildings else None)
        built_messages = [
            (None, build_payment_notifications(c, new_guid)) for c in _chunks(payments, MAX_PAYMENTS)
        ]
    else:
        for building in building_ids(conn, buildings):
            try:
                built_messages.extend(
                    (building, m) for m in _messages(conn, kind, building, period, today, new_guid, result)
                )
            except MissingIdentifier as exc:
                if buildings:
                    raise
                result.skipped.append(str(exc))
    for index, (building, built) in enumerate(built_messages, start=1):
        result.skipped.extend(built.skipped)
        if not built.items or all(i.entity == "payment_information" for i in built.items):
            continue
        path = out_dir / f"{kind}-{building or 'all'}{suffix}-{index}.xml"
        message_guid = write_message(built, path, org_ppa_guid, now, new_guid)
        record_message(conn, kind, built, message_guid, path, str(period) if period else None, building)
        result.files.append(path)
        result.message_guids.append(message_guid)
        result.items += sum(1 for i in built.items if i.entity != "payment_information")
    return result
