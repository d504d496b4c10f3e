"""The exchange against a real city: every export of the test city validates against the shipped XSD, the
identifiers ГИС ЖКХ returns come back into the next export and onto the ЕПД, and the status table says
what happened.

The city (tests/exchange/gis_city.py) is the closed January 2026 of the receipt tests. Its figures are the
receipt tests' hand-checked ones (tests/billing/receipts/receipt_data.py, test_batch.py): LS-1 owes
100.00 (June 2025, never paid) + 2 000.00 (December 2025) − 500.00 paid in December = 1 600.00 at the start
of January, paid 1 000.00 in January, penalty 10.30, and 4 655.30 to pay; LS-2 4 788.00; LS-3 3 180.00.
The meter readings are those close_data.py writes: E-2 T1 1 150.5 and T2 580 kWh, W-1 16.5 m³, W-2 2 m³,
E-HOUSE 1 000 kWh at 2026-01-25 12:00 local time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from lxml import etree

from meterhub.billing.receipts import load_receipt, render_receipt_pdf, set_state_ids_source
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.exchange.gis.exports import export
from meterhub.exchange.gis.identifiers import (
    IdentifierImportError,
    import_identifiers_file,
    receipt_state_ids,
)
from meterhub.exchange.gis.validation import validate
from meterhub.exchange.gis.xml import NS
from meterhub.timeseries.database import connect
from tests.billing.receipts.receipt_data import ISSUED, page_texts
from tests.exchange.gis_city import FIAS_B1, ORG_PPA, counter_guids, load_gis_city
from tests.exchange.gis_responses import bills_result, house_management_result

JANUARY = BillingPeriod(2026, 1)
NOW = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
X = {
    **NS,
    "i": NS["individual-registry-base"],
    "a": NS["account-base"],
    "m": NS["metering-device-base"],
    "n": NS["nsi-base"],
    "s": NS["soapenv"],
}
SERVICE = {"bills": "bills", "hm": "house-management", "dm": "device-metering", "pay": "payment"}

# What "ГИС ЖКХ" assigns in the responses below (chosen here, never read from meterhub).
PREMISES = {p: str(uuid.uuid5(uuid.NAMESPACE_URL, f"premise {p}")) for p in ("1", "2", "3")}
ACCOUNTS = {a: str(uuid.uuid5(uuid.NAMESPACE_URL, f"account {a}")) for a in ("LS-1", "LS-2", "LS-3")}
ELS = {"LS-1": "12АБ345671", "LS-2": "12АБ345672", "LS-3": "12АБ345673"}
IZHKU = {a: f"{e}-01" for a, e in ELS.items()}
DEVICES = {
    m: str(uuid.uuid5(uuid.NAMESPACE_URL, f"device {m}")) for m in ("E-HOUSE", "E-1", "E-2", "W-1", "W-2")
}
DOCUMENT_IDS = {"LS-1": "90АБ345671-01-6011", "LS-2": "90АБ345672-01-6011", "LS-3": "90АБ345673-01-6011"}


def _body(path: Path) -> etree._Element:
    envelope = etree.parse(str(path)).getroot()
    body = envelope.find(f"{{{NS['soapenv']}}}Body")[0]
    prefix = next(p for p, uri in NS.items() if uri == etree.QName(body).namespace)
    validate(body, SERVICE[prefix])  # the oracle: the operator's schema
    header = envelope.find(f"{{{NS['soapenv']}}}Header/{{{NS['base']}}}RequestHeader")
    validate(header, "base")
    return body


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _assign(el: etree._Element) -> dict[str, str] | None:
    name = _local(el)
    if name in ("ResidentialPremisesToCreate", "ResidentialPremisesToUpdate"):
        return {"GUID": PREMISES[el.findtext(f"{{{NS['hm']}}}PremisesNum")]}
    if name == "ApartmentHouseToUpdate":
        return {"GUID": str(uuid.uuid5(uuid.NAMESPACE_URL, "house")), "UniqueNumber": "55001234"}
    if name == "Account":
        number = el.findtext(f"{{{NS['account-base']}}}AccountNumber")
        return {"GUID": ACCOUNTS[number], "ELS": ELS[number], "IZHKU": IZHKU[number]}
    if name == "MeteringDevice":  # which meter: house or premise (by its GUID), electricity or water
        premise = el.findtext(f".//{{{NS['hm']}}}PremiseGUID")
        energy = el.find(f".//{{{NS['hm']}}}MunicipalResourceEnergy") is not None
        if premise is None:
            meter = "E-HOUSE"
        else:
            number = next(p for p, g in PREMISES.items() if g == premise)
            meter = f"{'E' if energy else 'W'}-{number}"
        return {"GUID": DEVICES[meter], "DeviceGUID": DEVICES[meter]}
    return None


@pytest.fixture(scope="module")
def city(db_url: str, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("gis")
    new_guid = counter_guids()
    files: dict[str, list[Path]] = {}
    skipped: dict[str, list[str]] = {}
    with connect(db_url) as conn:
        load_gis_city(conn)
        for kind, respond in (
            ("houses", house_management_result),
            ("accounts", house_management_result),
            ("devices", house_management_result),
            ("readings", None),
            ("payment-documents", bills_result),
            ("payments", None),
        ):
            result = export(
                conn, kind, out / kind, org_ppa_guid=ORG_PPA, now=NOW, period=JANUARY, new_guid=new_guid
            )
            conn.commit()
            files[kind], skipped[kind] = result.files, result.skipped
            for path in result.files if respond else []:
                if kind == "payment-documents":

                    def assign(el):
                        if _local(el) != "PaymentDocument":
                            return None
                        account = next(
                            a
                            for a, g in ACCOUNTS.items()
                            if g == el.findtext(f"{{{NS['account-base']}}}AccountGuid")
                        )
                        return {"GUID": str(uuid.uuid4()), "UniqueNumber": DOCUMENT_IDS[account]}

                    data = bills_result(path, assign)
                else:
                    data = house_management_result(path, _assign)
                response = out / f"{path.stem}-response.xml"
                response.write_bytes(data)
                import_identifiers_file(conn, response)
                conn.commit()
        again = export(
            conn,
            "payment-documents",
            out / "again",
            org_ppa_guid=ORG_PPA,
            now=NOW,
            period=JANUARY,
            new_guid=new_guid,
        )
        conn.commit()
    return db_url, files, skipped, again


def test_every_message_of_the_city_validates(city) -> None:
    _, files, skipped, _ = city
    for kind in ("houses", "accounts", "devices", "readings", "payment-documents", "payments"):
        assert len(files[kind]) == 1, (kind, skipped[kind])
        _body(files[kind][0])
    assert skipped["readings"] == ["meter E-1: no reading in 2026-01"]  # hourly series only, no register


def test_house_and_premises(city) -> None:
    body = _body(city[1]["houses"][0])
    assert body.xpath("string(//hm:FIASHouseGuid)", namespaces=X) == FIAS_B1
    assert body.xpath("//hm:ResidentialPremisesToCreate/hm:PremisesNum/text()", namespaces=X) == [
        "1",
        "2",
        "3",
    ]
    assert body.xpath("//hm:ResidentialPremisesToCreate/hm:TotalArea/text()", namespaces=X) == [
        "50",
        "60",
        "40",
    ]


def test_accounts_use_the_premises_guids_gis_returned(city) -> None:
    body = _body(city[1]["accounts"][0])
    assert body.xpath("//hm:Account/a:AccountNumber/text()", namespaces=X) == ["LS-1", "LS-2", "LS-3"]
    assert body.xpath("//hm:Accommodation/hm:PremisesGUID/text()", namespaces=X) == [
        PREMISES["1"],
        PREMISES["2"],
        PREMISES["3"],
    ]
    assert body.xpath("//i:Surname/text()", namespaces=X) == ["Иванов", "Петров", "Сидорова"]
    assert body.xpath("//hm:LivingPersonsNumber/text()", namespaces=X) == ["1", "3", "2"]


def test_devices_with_their_first_values(city) -> None:
    body = _body(city[1]["devices"][0])
    numbers = body.xpath("//hm:MeteringDeviceNumber/text()", namespaces=X)
    assert sorted(numbers) == ["1", "1", "1", "2", "2"]  # serials of E-HOUSE, E-1, W-1, E-2, W-2
    e2 = body.xpath(
        "//hm:MeteringDevice[.//hm:PremiseGUID = $p and .//m:MeteringValueT2]", p=PREMISES["2"], namespaces=X
    )[0]
    assert e2.xpath(".//m:MeteringValueT1/text() | .//m:MeteringValueT2/text()", namespaces=X) == [
        "1000",
        "500",
    ]
    assert e2.xpath(".//hm:AccountGUID/text()", namespaces=X) == [ACCOUNTS["LS-2"]]
    assert body.xpath("count(//hm:CollectiveDevice)", namespaces=X) == 1


def test_readings_of_the_period(city) -> None:
    body = _body(city[1]["readings"][0])
    values = {
        v.findtext(f"{{{NS['dm']}}}MeteringDeviceRootGUID"): v.xpath(
            ".//m:MeteringValueT1/text() | .//m:MeteringValueT2/text() | .//m:MeteringValue/text()",
            namespaces=X,
        )
        for v in body.iterfind(f"{{{NS['dm']}}}MeteringDevicesValues")
    }
    assert values == {
        DEVICES["E-HOUSE"]: ["1000"],
        DEVICES["E-2"]: ["1150.5", "580"],
        DEVICES["W-1"]: ["16.5"],
        DEVICES["W-2"]: ["2"],
    }
    assert set(body.xpath("//dm:DateValue/text()", namespaces=X)) == {"2026-01-25"}


def _document(body: etree._Element, account: str) -> etree._Element:
    return body.xpath("//bills:PaymentDocument[a:AccountGuid = $g]", g=ACCOUNTS[account], namespaces=X)[0]


def test_payment_documents_carry_the_epd_figures(city) -> None:
    body = _body(city[1]["payment-documents"][0])
    assert body.xpath("string(//payments-base:BankBIK)", namespaces=X) == "044525225"
    assert (
        body.xpath("string(//payments-base:operatingAccountNumber)", namespaces=X) == "40702810900000000001"
    )
    ls1 = _document(body, "LS-1")
    total = ls1.findtext(f"{{{NS['bills']}}}TotalPayableByPDWithDebtAndAdvance")
    assert (
        D(total)
        == D("1600.00")
        + D(ls1.findtext(f"{{{NS['bills']}}}TotalPayableByChargeInfo"))
        + D("10.30")
        - D("1000.00")
        == D("4655.30")
    )
    assert ls1.findtext(f"{{{NS['bills']}}}DebtPreviousPeriods") == "1600.00"
    assert ls1.findtext(f"{{{NS['bills']}}}PaidCash") == "1000.00"
    assert ls1.findtext(f"{{{NS['bills']}}}TotalByPenaltiesAndCourtCosts") == "10.30"
    assert ls1.xpath("string(bills:PenaltiesAndCourtCosts/bills:TotalPayable)", namespaces=X) == "10.30"
    assert ls1.findtext(f"{{{NS['bills-base']}}}PaymentDocumentNumber") == "LS-1-202601"
    for account, to_pay in (("LS-2", "4788.00"), ("LS-3", "3180.00")):
        doc = _document(body, account)
        assert doc.findtext(f"{{{NS['bills']}}}TotalPayableByPDWithDebtAndAdvance") == to_pay
    # every service line: amount = individual + common part, and the lines add up to the period total
    for doc in body.iterfind(f"{{{NS['bills']}}}PaymentDocument"):
        lines = doc.xpath("bills:ChargeInfo/*/bills:AccountingPeriodTotal/text()", namespaces=X)
        assert sum(map(D, lines)) == D(doc.findtext(f"{{{NS['bills']}}}TotalPayableByChargeInfo"))
        for service in doc.xpath("bills:ChargeInfo/bills:MunicipalService", namespaces=X):
            parts = service.xpath(
                "bills:MunicipalServiceIndividualConsumptionPayable/text() | "
                "bills:MunicipalServiceCommunalConsumptionPayable/text()",
                namespaces=X,
            )
            assert sum(map(D, parts)) == D(service.findtext(f"{{{NS['bills']}}}AccountingPeriodTotal"))


def test_payment_document_lines_match_the_printed_epd(city) -> None:
    with connect(city[0]) as conn:
        receipt = load_receipt(conn, "LS-2", JANUARY, issued_on=ISSUED)
    doc = _document(_body(city[1]["payment-documents"][0]), "LS-2")
    message = [
        (D(i.findtext(f"{{{NS['bills']}}}Rate")), D(i.findtext(f"{{{NS['bills']}}}AccountingPeriodTotal")))
        for i in doc.xpath("bills:ChargeInfo/*", namespaces=X)
    ]
    assert message == [(row.tariff, row.charged) for row in receipt.rows]


def test_identifiers_come_back_into_the_next_export(city) -> None:
    again = city[3]
    body = _body(again.files[0])
    for account, document_id in DOCUMENT_IDS.items():
        assert _document(body, account).findtext(f"{{{NS['bills-base']}}}PaymentDocumentID") == document_id
    payments = _body(city[1]["payments"][0])
    # P-3 of LS-2 names January: its ЕПД's identifier; P-2 of LS-1 names December 2025 (no ГИС document):
    # LS-1's ИЖКУ. P-1 (December) is not a January payment.
    assert payments.xpath(
        "//pay:SupplierNotificationOfOrderExecution[pay:Amount = '1500.00']"
        "/bills-base:PaymentDocumentID/text()",
        namespaces=X,
    ) == [DOCUMENT_IDS["LS-2"]]
    assert payments.xpath(
        "//pay:SupplierNotificationOfOrderExecution[pay:Amount = '1000.00']/a:ServiceID/text()", namespaces=X
    ) == [IZHKU["LS-1"]]


def test_identifiers_are_printed_on_the_receipt(city) -> None:
    with connect(city[0]) as conn:
        assert receipt_state_ids(conn, ["LS-1"], JANUARY)["LS-1"].els == ELS["LS-1"]
        set_state_ids_source(receipt_state_ids)
        try:
            text = page_texts(render_receipt_pdf(conn, "LS-1", JANUARY, issued_on=ISSUED))[0]
        finally:
            set_state_ids_source(None)
        plain = page_texts(render_receipt_pdf(conn, "LS-1", JANUARY, issued_on=ISSUED))[0]
    assert f"ЕЛС: {ELS['LS-1']}" in text
    assert f"Идентификатор ЖКУ: {IZHKU['LS-1']}" in text
    assert f"Идентификатор ПД: {DOCUMENT_IDS['LS-1']}" in text
    assert "ЕЛС:" not in plain and "Идентификатор ПД: LS-1-202601" in plain


def test_status_table(city) -> None:
    with connect(city[0]) as conn:
        rows = dict(
            conn.execute(
                "SELECT kind, status FROM gis_exports WHERE kind <> 'payment-documents' "
                "OR file_name NOT LIKE '%again%'"
            ).fetchall()
        )
        ids = dict(conn.execute("SELECT kind, count(*) FROM gis_identifiers GROUP BY kind").fetchall())
    assert rows == {
        "houses": "answered",
        "accounts": "answered",
        "devices": "answered",
        "readings": "built",
        "payment-documents": "answered",
        "payments": "built",
    }
    assert ids["premises_guid"] == 3 and ids["account_els"] == 3 and ids["account_izhku"] == 3
    assert ids["device_version_guid"] == 5 and ids["payment_document_id"] == 3


def test_a_response_that_is_not_the_schemas_is_refused(city, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    data = house_management_result(city[1]["accounts"][0], _assign).replace(b"UpdateDate", b"UpdatedOn")
    bad.write_bytes(data)
    with connect(city[0]) as conn, pytest.raises(IdentifierImportError, match="UpdatedOn"):
        import_identifiers_file(conn, bad)


def _registry_owner(
    conn,
    premise: str,
    share: tuple[int, int],
    acquired: str,
    name: tuple[str, str, str] | None = None,
    *,
    named_from: str = "1900-01-01",
    sex: str | None = None,
    born: str | None = None,
    snils: str | None = None,
    organization: str = "",
) -> None:
    """An owner of a premise of B1 in the register: a person named ``name`` (surname, first name,
    patronymic) from ``named_from``, or an organisation."""
    person = None
    if name is not None:
        person = conn.execute(
            "INSERT INTO registry_persons (birth_date, sex, snils) VALUES (%s, %s, %s) RETURNING person_id",
            (born, sex, snils),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO registry_person_names (person_id, valid_from, last_name, first_name, patronymic) "
            "VALUES (%s, %s, %s, %s, %s)",
            (person, named_from, *name),
        )
    conn.execute(
        "INSERT INTO registry_owners (building_id, premise_no, person_id, organization, share_numerator, "
        "share_denominator, acquired_on) VALUES ('B1', %s, %s, %s, %s, %s, %s)",
        (premise, person, organization, *share, acquired),
    )


def _accounts_export_rolled_back(conn, tmp_path: Path) -> etree._Element:
    """The accounts export of what ``conn``'s transaction holds; the transaction is then rolled back."""
    result = export(conn, "accounts", tmp_path, org_ppa_guid=ORG_PPA, now=NOW, period=JANUARY,
                    new_guid=counter_guids("00000000-0000-4000-9000-"))  # fmt: skip
    conn.rollback()
    return _body(result.files[0])


def test_accounts_name_the_owner_the_passport_office_records(city, tmp_path: Path) -> None:
    with connect(city[0]) as conn:
        conn.execute("INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2020-01-01')")
        _registry_owner(conn, "3", (1, 2), "2015-03-01", ("Сидорова", "Светлана", "Сергеевна"), sex="female",
                        born="1980-05-06", snils="123-456-789 01")  # fmt: skip
        _registry_owner(conn, "3", (1, 2), "2016-04-01", ("Сидоров", "Семён", ""), sex="male",
                        born="1979-01-02")  # fmt: skip
        body = _accounts_export_rolled_back(conn, tmp_path)
    ls3 = body.xpath("//hm:Account[a:AccountNumber = 'LS-3']/hm:PayerInfo/hm:Ind", namespaces=X)[0]
    assert [c.text for c in ls3] == ["Сидорова", "Светлана", "Сергеевна", "F", "1980-05-06", "12345678901"]
    ls1 = body.xpath("//hm:Account[a:AccountNumber = 'LS-1']/hm:PayerInfo/hm:Ind/*/text()", namespaces=X)
    assert ls1 == ["Иванов", "И.", "И."]  # the registry does not record premise 1's owner: the account's name


def test_the_payer_is_a_person_the_register_names_on_the_day(city, tmp_path: Path) -> None:
    """The export reads the owners through the register's own query (registry.payers.owners_on_day): an
    organisation owner is no person to name in PayerInfo, nor is a person whose only recorded name starts
    after the day; premise 1's only account LS-1 then goes to the one named person left, though her share
    (1/4) is the smallest."""
    with connect(city[0]) as conn:
        conn.execute("INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2020-01-01')")
        _registry_owner(conn, "1", (1, 2), "2010-01-01", organization="ООО «Ромашка»")
        _registry_owner(conn, "1", (1, 2), "2012-01-01", ("Будущев", "Борис", ""), named_from="2030-01-01")
        _registry_owner(conn, "1", (1, 4), "2012-01-01", ("Орлова", "Вера", ""), sex="female",
                        born="1980-01-01")  # fmt: skip
        body = _accounts_export_rolled_back(conn, tmp_path)
    ls1 = body.xpath("//hm:Account[a:AccountNumber = 'LS-1']/hm:PayerInfo/hm:Ind", namespaces=X)[0]
    assert [c.text for c in ls1] == ["Орлова", "Вера", "F", "1980-01-01"]


SIDOROVA = ["Сидорова", "Светлана", "Сергеевна", "F", "1980-05-06", "12345678901"]
SIDOROV = ["Сидоров", "Семён", "M", "1979-01-02"]


@pytest.mark.parametrize(
    ("ls3_name", "ls4_name", "ls3_payer", "ls4_payer"),
    [
        # each account names its owner: LS-3 the later one (Сидоров), LS-4 the first (Сидорова)
        ("Сидоров Семён", "Сидорова С. С.", SIDOROV, SIDOROVA),
        # LS-3 names Сидоров; LS-4 carries Сидорова's former surname: she is the one owner of ½ left
        ("СИДОРОВ С.", "Кузнецова С. С.", SIDOROV, SIDOROVA),
        # neither name is an owner's: the register cannot tell who pays which, each stored name is sent
        ("Кузнецов Кирилл", "Морозова М. М.", ["Кузнецов", "Кирилл"], ["Морозова", "М.", "М."]),
    ],
)
def test_a_split_premise_sends_each_account_its_own_owner(
    city, tmp_path: Path, ls3_name: str, ls4_name: str, ls3_payer: list[str], ls4_payer: list[str]
) -> None:
    """Premise 3 (40 m²) split into LS-3 and LS-4, ½ each, owned by Сидорова (½, 2015) and Сидоров (½,
    2016): both hold exactly each account's share, yet each account is sent with its own payer (before, both
    went to the first owner, Сидорова)."""
    with connect(city[0]) as conn:
        conn.execute("INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2020-01-01')")
        _registry_owner(conn, "3", (1, 2), "2015-03-01", ("Сидорова", "Светлана", "Сергеевна"), sex="female",
                        born="1980-05-06", snils="123-456-789 01")  # fmt: skip
        _registry_owner(conn, "3", (1, 2), "2016-04-01", ("Сидоров", "Семён", ""), sex="male",
                        born="1979-01-02")  # fmt: skip
        conn.execute(
            "UPDATE accounts SET share = 0.5, owner_name = %s WHERE account_no = 'LS-3'", (ls3_name,)
        )
        conn.execute(
            "INSERT INTO accounts (account_no, building_id, premise_no, share, owner_name, opened_on) "
            "VALUES ('LS-4', 'B1', '3', 0.5, %s, '2020-01-01')",
            (ls4_name,),
        )
        body = _accounts_export_rolled_back(conn, tmp_path)

    def sent(account: str, path: str) -> list[str]:
        return body.xpath(f"//hm:Account[a:AccountNumber = '{account}']/{path}", namespaces=X)

    assert [c.text for c in sent("LS-3", "hm:PayerInfo/hm:Ind")[0]] == ls3_payer
    assert [c.text for c in sent("LS-4", "hm:PayerInfo/hm:Ind")[0]] == ls4_payer
    for account in ("LS-3", "LS-4"):  # 50 % and 40 m² × ½ (decimal_text drops trailing zeros)
        assert sent(account, "hm:Accommodation/hm:SharePercent/text()") == ["50"]
        assert sent(account, "hm:TotalSquare/text()") == ["20"]
