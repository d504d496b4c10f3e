"""What ГИС ЖКХ would answer: getState results for the messages meterhub exported.

ГИС ЖКХ itself cannot run here, so these responses are written by hand from the operator's schemas (the
import validates them against the shipped XSD, so a response the operator could not send is refused). The
identifiers they carry are chosen by the test (``assign``), never read back from meterhub.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lxml import etree

from meterhub.exchange.gis.xml import NS

HM, BASE, BILLS = NS["hm"], NS["base"], NS["bills"]


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        el.text = text
    return el


def exported_items(path: Path) -> list[tuple[str, etree._Element]]:
    """(TransportGUID, the element it identifies) of every object in an exported envelope."""
    root = etree.parse(str(path)).getroot()
    found = []
    for t in root.iter(f"{{{BASE}}}TransportGUID"):
        found.append((t.text, t.getparent()))
    return found


def message_guid(path: Path) -> str:
    root = etree.parse(str(path)).getroot()
    return root.find(f".//{{{BASE}}}MessageGUID").text


Assign = Callable[[etree._Element], dict[str, str] | None]


def house_management_result(path: Path, assign: Assign) -> bytes:
    """A getStateResult of house-management: one CommonResult per exported object; ``assign(element)`` gives
    ``{"GUID": …, "UniqueNumber": …, "ELS": …, "IZHKU": …, "DeviceGUID": …, "Error": …}`` (None: left out)."""
    root = etree.Element(f"{{{HM}}}getStateResult", nsmap={"hm": HM, "base": BASE})
    root.set(f"{{{BASE}}}version", "13.1.9.2")
    _sub(root, BASE, "RequestState", "3")
    _sub(root, BASE, "MessageGUID", message_guid(path))
    result = _sub(root, HM, "ImportResult")
    result.set(f"{{{BASE}}}version", "13.1.9.2")
    for transport, el in exported_items(path):
        given = assign(el)
        if given is None:
            continue
        common = _sub(result, HM, "CommonResult")
        if "GUID" in given:
            _sub(common, BASE, "GUID", given["GUID"])
        _sub(common, BASE, "TransportGUID", transport)
        if "Error" in given:
            error = _sub(common, BASE, "Error")
            _sub(error, BASE, "ErrorCode", "INT002012")
            _sub(error, BASE, "Description", given["Error"])
            continue
        if "UniqueNumber" in given:
            _sub(common, BASE, "UniqueNumber", given["UniqueNumber"])
        _sub(common, BASE, "UpdateDate", "2026-02-04T10:00:00+03:00")
        if "ELS" in given:
            account = _sub(common, HM, "ImportAccount")
            _sub(account, NS["account-base"], "UnifiedAccountNumber", given["ELS"])
            _sub(account, NS["account-base"], "ServiceID", given["IZHKU"])
        if "DeviceGUID" in given:
            device = _sub(common, HM, "importMeteringDevice")
            _sub(device, HM, "MeteringDeviceGUID", given["DeviceGUID"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def bills_result(path: Path, assign: Assign) -> bytes:
    """A getStateResult of bills: ImportResult (GUID + UniqueNumber = PaymentDocumentID) per document."""
    root = etree.Element(f"{{{BILLS}}}getStateResult", nsmap={"bills": BILLS, "base": BASE})
    root.set(f"{{{BASE}}}version", "11.2.0.16")
    _sub(root, BASE, "RequestState", "3")
    _sub(root, BASE, "MessageGUID", message_guid(path))
    for transport, el in exported_items(path):
        given = assign(el)
        if given is None:
            continue
        result = _sub(root, BILLS, "ImportResult")
        _sub(result, BASE, "GUID", given["GUID"])
        _sub(result, BASE, "TransportGUID", transport)
        _sub(result, BASE, "UniqueNumber", given["UniqueNumber"])
        _sub(result, BASE, "UpdateDate", "2026-02-05T10:00:00+03:00")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
