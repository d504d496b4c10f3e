"""ГИС ЖКХ (dom.gosuslugi.ru) messages, validated against the operator's schemas (release 14.4.0.1, shipped
in ``schemas/``). See docs/gis-zhkh.md.

* :mod:`.messages` — pure builders, one per operation; :mod:`.envelope` — SOAP envelope and RequestHeader;
  :mod:`.validation` — the schemas and :class:`GisSchemaError` naming the failing element;
* :mod:`.sources` — what the messages carry, read from the database (:mod:`.account_payers` — pure: which
  owner pays which account of a premise); :mod:`.exports` — build, validate,
  write and record; :mod:`.identifiers` — identifiers ГИС ЖКХ assigns, from responses or spreadsheets;
* :mod:`.debt_answers` — debt requests answered from the ledger and court decisions; :mod:`.nsi` — the НСИ
  mapping as data; :mod:`.transport` / :mod:`.sending` — the installation's signer/sender.
"""

from meterhub.exchange.gis.envelope import OPERATIONS, Operation, build_envelope, request_header
from meterhub.exchange.gis.exports import KINDS, ExportResult, export
from meterhub.exchange.gis.identifiers import import_identifiers_file, receipt_state_ids
from meterhub.exchange.gis.model import BuiltMessage, MissingIdentifier
from meterhub.exchange.gis.transport import GisSettings, GisTransport, SendResult, load_transport
from meterhub.exchange.gis.validation import SCHEMA_RELEASE, GisSchemaError, validate

__all__ = [
    "KINDS",
    "OPERATIONS",
    "SCHEMA_RELEASE",
    "BuiltMessage",
    "ExportResult",
    "GisSchemaError",
    "GisSettings",
    "GisTransport",
    "MissingIdentifier",
    "Operation",
    "SendResult",
    "build_envelope",
    "export",
    "import_identifiers_file",
    "load_transport",
    "receipt_state_ids",
    "request_header",
    "validate",
]
