"""XML building blocks of ГИС ЖКХ messages: namespaces, element helpers and value formats (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from lxml import etree

__all__ = ["NS", "child", "decimal_text", "element", "guid", "money_text", "nsi_ref", "tostring"]

_BASE = "http://dom.gosuslugi.ru/schema/integration/"
NS: dict[str, str] = {
    "base": _BASE + "base/",
    "hm": _BASE + "house-management/",
    "dm": _BASE + "device-metering/",
    "bills": _BASE + "bills/",
    "pay": _BASE + "payment/",
    "drs": _BASE + "drs/",
    "nsi-base": _BASE + "nsi-base/",
    "premises-base": _BASE + "premises-base/",
    "account-base": _BASE + "account-base/",
    "bills-base": _BASE + "bills-base/",
    "payments-base": _BASE + "payments-base/",
    "individual-registry-base": _BASE + "individual-registry-base/",
    "metering-device-base": _BASE + "metering-device-base/",
    "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}

Value = str | int | Decimal | date | datetime | bool | uuid.UUID | None


@cache
def _qname(name: str) -> str:
    prefix, _, local = name.rpartition(":")
    return f"{{{NS[prefix]}}}{local}" if prefix else local


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def element(name: str, value: Value = None, **attributes: str) -> etree._Element:
    """A new element ``prefix:Name`` (prefixes of :data:`NS`) with text ``value``."""
    el = etree.Element(_qname(name), nsmap={k: v for k, v in NS.items() if k not in ("soapenv", "ds")})
    if value is not None:
        el.text = _text(value)
    for key, text in attributes.items():
        el.set(_qname(key), text)
    return el


def child(parent: etree._Element, name: str, value: Value = None, **attributes: str) -> etree._Element:
    """Append ``prefix:Name`` to ``parent``; a ``None`` value still makes an (empty) element."""
    el = etree.SubElement(parent, _qname(name))
    if value is not None:
        el.text = _text(value)
    for key, text in attributes.items():
        el.set(_qname(key), text)
    return el


def optional(parent: etree._Element, name: str, value: Value) -> etree._Element | None:
    """Append ``prefix:Name`` only when ``value`` is not None."""
    return None if value is None else child(parent, name, value)


def decimal_text(value: Decimal) -> str:
    """A decimal in plain notation without exponent or trailing zeros (``12.50`` → ``12.5``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def money_text(value: Decimal) -> str:
    """Rubles with exactly two decimals (the schemas' MoneyType / MoneyPositiveType)."""
    return format(value.quantize(Decimal("0.01"), ROUND_HALF_UP), "f")


def guid(value: uuid.UUID | str) -> str:
    """A GUID in the schemas' GUIDType form (lowercase, with hyphens)."""
    return str(uuid.UUID(str(value)))


def nsi_ref(parent: etree._Element, name: str, code: str, ref_guid: str, title: str | None = None) -> None:
    """An nsiRef (``Code`` + ``GUID`` [+ ``Name``] in the nsi-base namespace) under ``prefix:Name``."""
    ref = child(parent, name)
    child(ref, "nsi-base:Code", code)
    child(ref, "nsi-base:GUID", guid(ref_guid))
    if title:
        child(ref, "nsi-base:Name", title[:1200])


def tostring(el: etree._Element) -> bytes:
    return etree.tostring(el, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def texts(parent: etree._Element, path: str) -> Iterable[str]:
    return (t for t in parent.xpath(path, namespaces=NS) if isinstance(t, str))
