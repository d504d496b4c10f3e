"""``meterhub gis`` end to end in a subprocess: НСИ mapping, export, identifiers from a portal spreadsheet,
court decisions, debt requests answered for a debtor with and without a court decision, status, sending.

Debt facts of the city (tests/exchange/gis_city.py): LS-1 (кв. 1) never paid June 2025 (100.00 ₽) and owes
its 10.30 ₽ penalty; LS-2 (кв. 2) owes January 2026 but has no court decision.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from meterhub.exchange.gis.validation import validate
from meterhub.exchange.gis.xml import NS
from meterhub.timeseries.database import connect
from tests.billing.receipts.receipt_data import page_texts
from tests.cli.meterhub_cli import run_cli
from tests.exchange.gis_city import EXECUTOR, ORG_PPA, load_gis_city
from tests.exchange.test_messages import G, dsr_result


@pytest.fixture(scope="module")
def world(db_url: str) -> str:
    with connect(db_url) as conn:
        load_gis_city(conn)
    return db_url


@pytest.fixture(autouse=True)
def gis_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("METERHUB_GIS_ORG_PPA_GUID", str(ORG_PPA))
    monkeypatch.setenv("METERHUB_GIS_EXECUTOR_GUID", str(EXECUTOR))
    monkeypatch.setenv("METERHUB_TEST_GIS_SENT", str(tmp_path))
    monkeypatch.delenv("METERHUB_GIS_TRANSPORT", raising=False)


def test_nsi_mapping_is_editable(world: str, tmp_path: Path) -> None:
    mapping = tmp_path / "nsi.csv"
    mapping.write_text(
        "kind;local_value;registry;code;guid;name\n"
        "service;heat;51;7;0b9f7f57-3c51-4a4e-9a53-6d2f0f3d1a11;Отопление (своё)\n",
        encoding="utf-8",
    )
    out = run_cli(world, tmp_path, "gis", "nsi", str(mapping))
    assert out.returncode == 0, out.stderr
    assert "nsi.csv: 1 rows" in out.stdout
    assert "0b9f7f57-3c51-4a4e-9a53-6d2f0f3d1a11 Отопление (своё)" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,local_value,registry,code,guid\nservice,heat,51,7,not-a-guid\n", encoding="utf-8")
    out = run_cli(world, tmp_path, "gis", "nsi", str(bad))
    assert out.returncode == 1 and "line 2: guid 'not-a-guid' is not a GUID" in out.stderr


def nsi_item_result(registry: int, elements: list[tuple[str, str, bool]]) -> bytes:
    """An exportNsiItem getState result (nsi-common) as the operator sends it, written from the schema."""
    c, b, n = "http://dom.gosuslugi.ru/schema/integration/nsi-common/", NS["base"], NS["nsi-base"]
    root = etree.Element(f"{{{c}}}getStateResult", nsmap={"nsi-common": c, "base": b, "nsi-base": n})
    root.set(f"{{{b}}}version", "10.0.1.2")
    etree.SubElement(root, f"{{{b}}}RequestState").text = "3"
    etree.SubElement(root, f"{{{b}}}MessageGUID").text = G[17]
    item = etree.SubElement(root, f"{{{c}}}NsiItem")
    etree.SubElement(item, f"{{{n}}}NsiItemRegistryNumber").text = str(registry)
    etree.SubElement(item, f"{{{n}}}Created").text = "2026-01-10T00:00:00+03:00"
    for code, guid, actual in elements:
        element = etree.SubElement(item, f"{{{n}}}NsiElement")
        etree.SubElement(element, f"{{{n}}}Code").text = code
        etree.SubElement(element, f"{{{n}}}GUID").text = guid
        etree.SubElement(element, f"{{{n}}}Modified").text = "2026-01-10T00:00:00+03:00"
        etree.SubElement(element, f"{{{n}}}IsActual").text = "true" if actual else "false"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_nsi_guids_from_the_operators_reference_book(world: str, tmp_path: Path) -> None:
    item = tmp_path / "nsi2.xml"
    item.write_bytes(nsi_item_result(2, [("1", G[5], True), ("3", G[6], True), ("2", G[7], False)]))
    out = run_cli(world, tmp_path, "gis", "nsi", str(item))
    assert out.returncode == 0, out.stderr
    assert "nsi2.xml: 2 GUIDs filled" in out.stdout  # cold water (1) and electricity (3); 2 is not actual
    with connect(world) as conn:
        guids = dict(conn.execute("SELECT local_value, guid::text FROM gis_nsi_refs WHERE kind = 'resource'"))
    assert guids["cold_water"] == G[5] and guids["electricity"] == G[6] and guids["hot_water"] != G[7]


def test_export_import_ids_status_and_send(world: str, tmp_path: Path) -> None:
    out = run_cli(world, tmp_path, "gis", "export", "accounts", "--out", str(tmp_path / "x"))
    assert out.returncode == 0, out.stderr
    assert (
        "no PremisesGUID yet" in out.stderr and "accounts: 0 objects in 0 message(s), 3 skipped" in out.stdout
    )
    sheet = tmp_path / "portal.csv"
    sheet.write_text(
        "building;premise;account;premises_guid;ЕЛС;ИЖКУ\n"
        f"B1;1;LS-1;{G[1]};12АБ345671;12АБ345671-01\n"
        f"B1;2;LS-2;{G[2]};12АБ345672;12АБ345672-01\n"
        f"B1;3;LS-3;{G[3]};12АБ34567;12АБ345673-01\n"
        f"B1;9;LS-9;{G[4]};12АБ345679;12АБ345679-01\n",
        encoding="utf-8",
    )
    out = run_cli(world, tmp_path, "gis", "import-ids", str(sheet))
    assert out.returncode == 0, out.stderr
    assert "stored account_els 2, account_izhku 3, premises_guid 3" in out.stdout
    assert "account_els '12АБ34567' must be 10 characters" in out.stderr
    assert "no meterhub object 'LS-9'" in out.stderr
    out = run_cli(world, tmp_path, "gis", "export", "accounts", "--out", str(tmp_path / "x"))
    assert out.returncode == 0, out.stderr
    assert "accounts: 3 objects in 1 message(s), 0 skipped" in out.stdout
    written = Path(out.stdout.split("wrote ")[1].split()[0])
    body = etree.parse(str(written)).getroot().find(f"{{{NS['soapenv']}}}Body")[0]
    validate(body, "house-management")
    receipts = run_cli(world, tmp_path, "receipts", "--period", "2026-01", "--account", "LS-1", "--out",
                       str(tmp_path / "epd"), "--no-link-codes")  # fmt: skip
    assert receipts.returncode == 0, receipts.stderr
    pdf = next((tmp_path / "epd").rglob("*.pdf")).read_bytes()
    text = page_texts(pdf)[0]  # `meterhub receipts` prints what ГИС ЖКХ assigned
    assert "ЕЛС: 12АБ345671" in text and "Идентификатор ЖКУ: 12АБ345671-01" in text
    status = run_cli(world, tmp_path, "gis", "status")
    assert status.returncode == 0 and "accounts" in status.stdout and "built" in status.stdout
    assert "account_els 2" in status.stdout

    refused = run_cli(world, tmp_path, "gis", "send", str(written))
    assert refused.returncode == 1 and "METERHUB_GIS_TRANSPORT" in refused.stderr
    os.environ["METERHUB_GIS_TRANSPORT"] = "tests.exchange.fake_transport:create"
    try:
        os.environ["METERHUB_TEST_GIS_REFUSE"] = "1"
        failed = run_cli(world, tmp_path, "gis", "send", str(written))
        assert failed.returncode == 1 and "TLS handshake refused" in failed.stderr
        del os.environ["METERHUB_TEST_GIS_REFUSE"]
        sent = run_cli(world, tmp_path, "gis", "send", str(written))
    finally:
        os.environ.pop("METERHUB_GIS_TRANSPORT", None)
        os.environ.pop("METERHUB_TEST_GIS_REFUSE", None)
    assert sent.returncode == 0, sent.stderr
    assert "acknowledged as abcdefab-cdef-4abc-8def-abcdefabcdef" in sent.stdout
    assert (tmp_path / "importAccountData.action").read_text() == (
        "urn:importAccountData /ext-bus-home-management-service/services/HomeManagementAsync"
    )
    with connect(world) as conn:
        row = conn.execute(
            "SELECT status, ack_guid::text, errors FROM gis_exports WHERE file_name = %s", (str(written),)
        ).fetchone()
    assert row[0] == "sent" and row[1] == "abcdefab-cdef-4abc-8def-abcdefabcdef"
    assert row[2] == ["ConnectionError: TLS handshake refused"]


def test_debt_requests_with_and_without_a_court_decision(world: str, tmp_path: Path) -> None:
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "account,case_number,court,decided_on,in_force_on,debt_from,debt_to,amount,last_name,first_name,"
        "middle_name,snils,repaid_on\n"
        "LS-1,2-15/2025,мировой суд № 5,01.09.2025,2025-10-01,2025-06,2025-06,110.30,Иванов,Иван,Иванович,"
        "123-456-789 01,\n",
        encoding="utf-8",
    )
    out = run_cli(world, tmp_path, "gis", "court-decisions", str(decisions))
    assert out.returncode == 0 and "1 court decisions" in out.stdout, out.stderr
    fias = "5f6a3c6e-0b1a-4b8e-9c11-0d5e1f2a3b4c"
    request = tmp_path / "dsr.xml"
    request.write_bytes(
        dsr_result(
            [
                (G[10], fias, "кв. 1", date(2025, 1, 1), date(2025, 12, 31)),
                (G[11], fias, "кв. 2", date(2025, 1, 1), date(2026, 1, 31)),
                (G[12], fias, "кв. 99", date(2025, 1, 1), date(2025, 12, 31)),
            ]
        )
    )
    out = run_cli(
        world, tmp_path, "gis", "debt-requests", "answer", str(request), "--out", str(tmp_path / "r")
    )
    assert out.returncode == 0, out.stderr
    assert "кв. 1: ДОЛГ ПОДТВЕРЖДЁН СУДОМ (ЛС LS-1)" in out.stdout
    assert "кв. 2: нет долга, подтверждённого судом (ЛС LS-2)" in out.stdout
    assert "NOT ANSWERED, answer by hand: no account of premise 99" in out.stderr
    response = next((tmp_path / "r").glob("debt-responses-*.xml"))
    body = etree.parse(str(response)).getroot().find(f"{{{NS['soapenv']}}}Body")[0]
    validate(body, "debt-requests")
    ns = {"d": NS["drs"]}
    actions = {a.findtext(f"{{{NS['drs']}}}subrequestGUID"): a for a in body.iterfind("d:action", ns)}
    assert set(actions) == {G[10], G[11]}
    debtor = actions[G[10]]
    assert debtor.xpath("string(d:responseData/d:hasDebt)", namespaces=ns) == "true"
    assert debtor.xpath("d:responseData/d:debtInfo/d:person/d:lastName/text()", namespaces=ns) == ["Иванов"]
    assert debtor.xpath("string(d:responseData/d:debtInfo/d:person/d:snils)", namespaces=ns) == "12345678901"
    # unpaid in the ledger for June 2025: 100.00 principal + 10.30 penalty
    assert "не погашено 110.30 руб." in debtor.xpath("string(d:responseData/d:description)", namespaces=ns)
    assert debtor.xpath("string(d:responseData/d:executorGUID)", namespaces=ns) == str(EXECUTOR)
    other = actions[G[11]]
    assert other.xpath("string(d:responseData/d:hasDebt)", namespaces=ns) == "false"
    assert other.xpath("d:responseData/d:debtInfo", namespaces=ns) == []
    with connect(world) as conn:
        rows = conn.execute(
            "SELECT address_details, has_debt, answered_at IS NOT NULL FROM gis_debt_subrequests "
            "ORDER BY address_details"
        ).fetchall()
    assert rows == [("кв. 1", True, True), ("кв. 2", False, True), ("кв. 99", None, False)]
