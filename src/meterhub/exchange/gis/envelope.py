"""The SOAP envelope of a ГИС ЖКХ request: ``RequestHeader`` (org PPA GUID, message GUID, date) + the body.

ГИС ЖКХ services are asynchronous SOAP 1.1 (document/literal): the request is acknowledged with an
``AckRequest`` carrying the operator's MessageGUID, and the result is fetched later with ``getState``.
Signing (XAdES-BES of the body element's ``Id``) and sending belong to the transport
(:mod:`.transport`); this module only builds and validates what is signed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from meterhub.exchange.gis.validation import validate
from meterhub.exchange.gis.xml import NS, child, element, guid

__all__ = ["OPERATIONS", "Operation", "build_envelope", "request_header"]

_SOAP = NS["soapenv"]


@dataclass(frozen=True, slots=True)
class Operation:
    """A WSDL operation: the service (schema folder), its SOAPAction and the endpoint path."""

    name: str
    service: str
    endpoint: str

    @property
    def soap_action(self) -> str:
        return f"urn:{self.name}"


_HOME = "/ext-bus-home-management-service/services/HomeManagementAsync"
OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("importHouseUOData", "house-management", _HOME),
        Operation("importAccountData", "house-management", _HOME),
        Operation("importMeteringDeviceData", "house-management", _HOME),
        Operation(
            "importMeteringDeviceValues",
            "device-metering",
            "/ext-bus-device-metering-service/services/DeviceMeteringAsync",
        ),
        Operation("importPaymentDocumentData", "bills", "/ext-bus-bills-service/services/BillsAsync"),
        Operation(
            "importSupplierNotificationsOfOrderExecution",
            "payment",
            "/ext-bus-payment-service/services/PaymentAsync",
        ),
        Operation("importResponses", "debt-requests", "/ext-bus-debtreq-service/services/DebtRequestsAsync"),
        Operation(
            "exportDebtSubrequests", "debt-requests", "/ext-bus-debtreq-service/services/DebtRequestsAsync"
        ),
    )
}


def request_header(
    org_ppa_guid: uuid.UUID | str, message_guid: uuid.UUID | str, now: datetime
) -> etree._Element:
    """``base:RequestHeader``: Date (tz-aware), MessageGUID, orgPPAGUID; validated against hcs-base."""
    if now.tzinfo is None:
        raise ValueError("the RequestHeader date must be timezone-aware")
    header = element("base:RequestHeader")
    child(header, "base:Date", now.isoformat(timespec="seconds"))
    child(header, "base:MessageGUID", guid(message_guid))
    child(header, "base:orgPPAGUID", guid(org_ppa_guid))
    validate(header, "base", "RequestHeader")
    return header


def build_envelope(header: etree._Element, body: etree._Element, operation: Operation) -> etree._Element:
    """``soapenv:Envelope`` with the header and the request; the request is validated against its service
    schema and given ``Id="signed-data-container"`` (the element the signature references)."""
    body.set("Id", "signed-data-container")
    validate(body, operation.service, operation.name)
    envelope = etree.Element(f"{{{_SOAP}}}Envelope", nsmap={"soapenv": _SOAP})
    etree.SubElement(envelope, f"{{{_SOAP}}}Header").append(header)
    etree.SubElement(envelope, f"{{{_SOAP}}}Body").append(body)
    return envelope
