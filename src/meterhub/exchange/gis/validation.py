"""Validation of messages against the shipped ГИС ЖКХ schemas (release :data:`SCHEMA_RELEASE`).

Each service's ``*-types.xsd`` is compiled once per process with lxml (libxml2's XML Schema validator);
its relative imports resolve inside the shipped folder, so validation needs neither the network nor a copy
of the schemas elsewhere. A failing validation raises :class:`GisSchemaError` naming the element (its
XPath), the line and the schema's complaint.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path

from lxml import etree

__all__ = ["SCHEMA_RELEASE", "SERVICES", "GisSchemaError", "schema_dir", "service_schema", "validate"]

SCHEMA_RELEASE = "14.4.0.1"

SERVICES: dict[str, str] = {
    "house-management": "house-management/hcs-house-management-types.xsd",
    "device-metering": "device-metering/hcs-device-metering-types.xsd",
    "bills": "bills/hcs-bills-types.xsd",
    "payment": "payment/hcs-payment-types.xsd",
    "debt-requests": "debt-requests/hcs-debt-requests-types.xsd",
    "nsi-common": "nsi-common/hcs-nsi-common-types.xsd",
    "base": "lib/hcs-base.xsd",
}


class GisSchemaError(ValueError):
    """A message does not validate; ``problems`` are ``(xpath, line, message)`` of each error."""

    def __init__(self, what: str, problems: list[tuple[str, int, str]]) -> None:
        self.problems = problems
        lines = "; ".join(f"{path} (line {line}): {message}" for path, line, message in problems[:10])
        more = f" … and {len(problems) - 10} more" if len(problems) > 10 else ""
        super().__init__(f"{what} does not validate against ГИС ЖКХ {SCHEMA_RELEASE}: {lines}{more}")


def schema_dir() -> Path:
    """The folder of the shipped schema release."""
    return Path(str(importlib.resources.files("meterhub.exchange.gis") / "schemas" / SCHEMA_RELEASE))


@cache
def service_schema(service: str) -> etree.XMLSchema:
    """The compiled schema of ``service`` (a key of :data:`SERVICES`)."""
    try:
        relative = SERVICES[service]
    except KeyError:
        raise ValueError(f"unknown ГИС ЖКХ service {service!r}; one of {', '.join(SERVICES)}") from None
    return etree.XMLSchema(etree.parse(str(schema_dir() / relative)))


def validate(el: etree._Element, service: str, what: str | None = None) -> None:
    """Validate ``el`` (a request/result element of ``service``) or raise :class:`GisSchemaError`.

    The element is serialised and re-parsed first so error lines refer to the message as it is written.
    """
    schema = service_schema(service)
    doc = etree.fromstring(etree.tostring(el, pretty_print=True))
    if schema.validate(doc):
        return
    problems = [(e.path or "/", e.line, e.message) for e in schema.error_log]
    raise GisSchemaError(what or etree.QName(el).localname, problems)
