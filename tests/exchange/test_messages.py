"""Pure parts of the ГИС ЖКХ exchange: every message builder's output validates against the shipped XSD
(lxml's libxml2 validator, the operator's schemas as published), a broken message is refused naming the
element, the RequestHeader/envelope, the debt-request rules (court decision or not) and the parsers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from meterhub.exchange.gis.envelope import OPERATIONS, build_envelope, request_header
from meterhub.exchange.gis.messages import debt_requests as dr
from meterhub.exchange.gis.messages.accounts import build_accounts, split_person_name
from meterhub.exchange.gis.messages.devices import build_metering_devices
from meterhub.exchange.gis.messages.house import build_house_uo
from meterhub.exchange.gis.messages.payments import build_payment_notifications
from meterhub.exchange.gis.messages.readings import build_meter_values
from meterhub.exchange.gis.model import (
    AccountData,
    DeviceData,
    HouseData,
    MissingIdentifier,
    NsiRef,
    PaymentData,
    PremiseData,
    ReadingData,
)
from meterhub.exchange.gis.transport import TransportNotConfigured, load_transport
from meterhub.exchange.gis.validation import GisSchemaError, schema_dir, service_schema, validate
from meterhub.exchange.gis.xml import NS
from tests.exchange.gis_city import counter_guids

G = [str(uuid.UUID(int=i + 1, version=4)) for i in range(20)]
RESOURCES = {"cold_water": NsiRef(2, "1", G[19], "Холодная вода")}


def _ok(built, service: str) -> etree._Element:
    validate(built.body, service)  # raises GisSchemaError naming the element
    return built.body


def test_the_shipped_schemas_compile_and_are_the_14_4_0_1_release() -> None:
    assert schema_dir().name == "14.4.0.1"
    assert (schema_dir() / "lib" / "hcs-base.xsd").exists()
    for service in ("house-management", "device-metering", "bills", "payment", "debt-requests", "nsi-common"):
        assert isinstance(service_schema(service), etree.XMLSchema)


def test_house_update_creates_unknown_premises_and_updates_known_ones() -> None:
    house = HouseData(
        "B1",
        "г. Омск, ул. Ленина, д. 1",
        D("150"),
        G[0],
        (
            PremiseData("1", True, D("50"), 1, None),
            PremiseData("2", True, D("60"), None, G[1]),
            PremiseData("3", False, D("40"), None, None),
        ),
    )
    body = _ok(build_house_uo(house, counter_guids()), "house-management")
    hm = {"hm": NS["hm"]}
    assert (
        body.xpath(
            "string(//hm:ApartmentHouseToUpdate/hm:BasicCharacteristicts/hm:FIASHouseGuid)", namespaces=hm
        )
        == G[0]
    )
    assert body.xpath("//hm:ResidentialPremisesToCreate/hm:PremisesNum/text()", namespaces=hm) == ["1"]
    assert body.xpath("//hm:ResidentialPremisesToUpdate/hm:PremisesGUID/text()", namespaces=hm) == [G[1]]
    assert body.xpath("//hm:NonResidentialPremiseToCreate/hm:TotalArea/text()", namespaces=hm) == ["40"]


def test_a_house_without_its_fias_guid_is_refused_with_the_fix() -> None:
    with pytest.raises(MissingIdentifier, match=r"ФИАС/ГАР house GUID.*import-ids"):
        build_house_uo(HouseData("B1", "addr", D("1"), None, ()), counter_guids())


def _account(no: str, owner: str, **kw) -> AccountData:
    values = dict(
        building_id="B1",
        premise_no="1",
        share=D("0.5"),
        owner_name=owner,
        persons=2,
        total_area=D("25"),
        residential_area=D("25"),
        opened_on=date(2020, 1, 1),
        closed_on=None,
        premises_guid=G[2],
        fias_guid=G[0],
        account_guid=None,
    )
    values.update(kw)
    return AccountData(no, **values)


def test_accounts_carry_payer_share_and_skip_what_gis_cannot_take_yet() -> None:
    built = build_accounts(
        [
            _account("LS-1", "Иванов Иван Иванович"),
            _account("LS-2", "Петров П. П.", account_guid=G[3]),
            _account(
                "LS-3",
                "Сидорова",
            ),
            _account("LS-4", "Кузнецов Кузьма", premises_guid=None),
        ],
        counter_guids(),
    )
    body = _ok(built, "house-management")
    ir = {"i": NS["individual-registry-base"], "hm": NS["hm"], "a": NS["account-base"]}
    assert body.xpath("//hm:Account/a:AccountNumber/text()", namespaces=ir) == ["LS-1", "LS-2"]
    assert body.xpath("//i:Surname/text()", namespaces=ir) == ["Иванов", "Петров"]
    assert body.xpath("//i:Patronymic/text()", namespaces=ir) == ["Иванович", "П."]
    assert body.xpath("//hm:SharePercent/text()", namespaces=ir) == ["50", "50"]
    assert body.xpath("//hm:Account/hm:AccountGUID/text()", namespaces=ir) == [G[3]]
    assert [s.split(":")[0] for s in built.skipped] == ["account LS-3", "account LS-4"]


def test_split_person_name() -> None:
    assert split_person_name("Иванов И. И.") == ("Иванов", "И.", "И.")
    assert split_person_name("Иванов Иван") == ("Иванов", "Иван", None)
    with pytest.raises(ValueError):
        split_person_name("Иванов")


def _device(meter: str, service: str, premise: str | None, values: tuple[D, ...], **kw) -> DeviceData:
    base = dict(
        serial=meter + "-SN",
        model="M",
        building_id="B1",
        premise_no=premise,
        residential=True,
        service=service,
        registers=("r",) * len(values),
        installed_on=date(2020, 1, 1),
        verification_due=None,
        remote=True,
        first_values=values,
        premises_guid=G[2],
        fias_guid=G[0],
        account_guids=(G[3],),
        version_guid=None,
    )
    base.update(kw)
    return DeviceData(meter, **base)


def test_metering_devices_electricity_by_zone_and_water_with_its_resource() -> None:
    built = build_metering_devices(
        [
            _device("E-2", "electricity", "2", (D("1000"), D("500"))),
            _device("W-H", "cold_water", None, (D("1.25"),)),
            _device("W-X", "cold_water", "1", (D("1"),), version_guid=G[5]),
            _device("H-1", "heat", "1", (D("1"),)),
        ],
        RESOURCES,
        counter_guids(),
    )
    body = _ok(built, "house-management")
    md = {"m": NS["metering-device-base"], "hm": NS["hm"], "n": NS["nsi-base"]}
    assert body.xpath("//m:MeteringValueT1/text() | //m:MeteringValueT2/text()", namespaces=md) == [
        "1000",
        "500",
    ]
    assert body.xpath("//hm:CollectiveDevice/hm:FIASHouseGuid/text()", namespaces=md) == [G[0]]
    assert body.xpath("//m:MunicipalResource/n:Code/text()", namespaces=md) == ["1"]
    assert len(built.items) == 2 and len(built.skipped) == 2  # already in ГИС ЖКХ; heat not mapped


def test_meter_values_need_the_device_guid_from_gis() -> None:
    built = build_meter_values(
        [
            ReadingData("E-2", "electricity", False, (D("1150.5"), D("580")), date(2026, 1, 25), G[6], None),
            ReadingData("W-1", "cold_water", False, (D("16.5"),), date(2026, 1, 25), None, G[7]),
            ReadingData("W-2", "cold_water", False, (D("2"),), date(2026, 1, 25), None, None),
        ],
        RESOURCES,
        counter_guids(),
    )
    body = _ok(built, "device-metering")
    dm = {"d": NS["dm"], "m": NS["metering-device-base"]}
    assert body.xpath("//d:ElectricDeviceValue//m:MeteringValueT1/text()", namespaces=dm) == ["1150.5"]
    assert body.xpath("//d:OneRateDeviceValue//m:MeteringValue/text()", namespaces=dm) == ["16.5"]
    assert body.xpath("//d:DateValue/text()", namespaces=dm) == ["2026-01-25", "2026-01-25"]
    assert built.skipped == ["meter W-2: not in ГИС ЖКХ yet (export devices and import the response)"]


def test_payment_notifications_name_the_document_or_the_izhku() -> None:
    built = build_payment_notifications(
        [
            PaymentData(
                "bank", "1", "LS-1", D("1000.00"), date(2026, 1, 15), "2025-12", "12345678901234567X", None
            ),
            PaymentData("bank", "2", "LS-2", D("1500"), date(2026, 1, 20), None, None, "12АБ345678-01"),
            PaymentData("bank", "3", "LS-3", D("1"), date(2026, 1, 21), None, None, None),
        ],
        counter_guids(),
    )
    body = _ok(built, "payment")
    ns = {"p": NS["pay"], "b": NS["bills-base"], "a": NS["account-base"]}
    assert body.xpath("//p:Amount/text()", namespaces=ns) == ["1000.00", "1500.00"]
    assert body.xpath("//b:PaymentDocumentID/text()", namespaces=ns) == ["12345678901234567X"]
    assert body.xpath("//a:ServiceID/text()", namespaces=ns) == ["12АБ345678-01"]
    assert len(built.skipped) == 1


def test_a_broken_message_is_refused_naming_the_element() -> None:
    built = build_payment_notifications(
        [PaymentData("b", "1", "LS-1", D("10"), date(2026, 1, 1), None, None, "12АБ345678-01")],
        counter_guids(),
    )
    amount = built.body.find(f".//{{{NS['pay']}}}Amount")
    amount.getparent().remove(amount)
    with pytest.raises(GisSchemaError) as info:
        validate(built.body, "payment")
    assert "/pay:SupplierNotificationOfOrderExecution" in str(info.value)
    assert "TransportGUID" in str(info.value) and "Amount" in str(info.value)
    assert info.value.problems[0][0].endswith("base:TransportGUID")


def test_request_header_and_envelope() -> None:
    now = datetime(2026, 2, 3, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    header = request_header(G[8], G[9], now)
    body = build_payment_notifications(
        [PaymentData("b", "1", "LS-1", D("10"), date(2026, 1, 1), None, None, "12АБ345678-01")],
        counter_guids(),
    ).body
    envelope = build_envelope(header, body, OPERATIONS["importSupplierNotificationsOfOrderExecution"])
    soap = {"s": NS["soapenv"], "b": NS["base"]}
    assert envelope.xpath("string(/s:Envelope/s:Header/b:RequestHeader/b:Date)", namespaces=soap) == (
        "2026-02-03T12:00:00+03:00"
    )
    assert envelope.xpath("string(//b:RequestHeader/b:orgPPAGUID)", namespaces=soap) == G[8]
    assert envelope.xpath("string(//b:RequestHeader/b:MessageGUID)", namespaces=soap) == G[9]
    assert envelope.xpath("/s:Envelope/s:Body/*/@Id", namespaces=soap) == ["signed-data-container"]
    assert OPERATIONS["importSupplierNotificationsOfOrderExecution"].soap_action == (
        "urn:importSupplierNotificationsOfOrderExecution"
    )
    with pytest.raises(ValueError, match="timezone"):
        request_header(G[8], G[9], datetime(2026, 2, 3))


def test_without_a_transport_nothing_claims_to_send() -> None:
    with pytest.raises(TransportNotConfigured, match="METERHUB_GIS_TRANSPORT"):
        load_transport(None)
    with pytest.raises(TransportNotConfigured, match=r"package\.module:factory"):
        load_transport("no_colon_here")


# --- debt requests ------------------------------------------------------------------------------------

SUB = dr.Subrequest(
    G[10],
    "DR-1",
    None,
    G[0],
    "г. Омск, ул. Ленина, д. 1",
    "кв. 1",
    date(2025, 1, 1),
    date(2025, 12, 31),
    None,
    None,
    "УСЗН",
)


def _decision(**kw) -> dr.CourtDecision:
    values = dict(
        account_no="LS-1",
        case_number="2-15/2025",
        court="мировой суд № 5",
        decided_on=date(2025, 8, 1),
        in_force_on=date(2025, 9, 1),
        debt_from="2025-06",
        debt_to="2025-06",
        amount_kopecks=10000,
        last_name="Иванов",
        first_name="Иван",
        middle_name="Иванович",
        snils=None,
        repaid_on=None,
    )
    values.update(kw)
    return dr.CourtDecision(**values)


def test_debt_confirmed_by_a_court_decision_and_still_unpaid_is_a_debt() -> None:
    answer = dr.decide(SUB, [_decision()], {"LS-1": {"2025-06": 10000, "2025-12": 50000}}, date(2026, 2, 3))
    assert answer.has_debt and answer.unpaid_kopecks == 10000  # only the period the decision covers
    assert "дело № 2-15/2025" in answer.description and "100.00 руб." in answer.description


@pytest.mark.parametrize(
    ("decision", "unpaid", "why"),
    [
        (None, {"LS-1": {"2025-06": 10000}}, "ledger debt without a court decision"),
        (_decision(repaid_on=date(2026, 1, 10)), {"LS-1": {"2025-06": 10000}}, "repaid"),
        (_decision(in_force_on=date(2026, 3, 1)), {"LS-1": {"2025-06": 10000}}, "not yet in force"),
        (
            _decision(debt_from="2024-01", debt_to="2024-06"),
            {"LS-1": {"2024-03": 10000}},
            "outside the period",
        ),
        (_decision(), {"LS-1": {"2025-06": 0}}, "paid in the ledger"),
    ],
)
def test_no_debt_for_these_requests(decision, unpaid, why) -> None:
    answer = dr.decide(SUB, [decision] if decision else [], unpaid, date(2026, 2, 3))
    assert not answer.has_debt, why
    assert answer.decisions == ()


def test_debt_responses_validate_and_name_the_debtor_once() -> None:
    d = _decision(snils="12345678901")
    answers = [
        dr.DebtAnswer(G[10], True, (d, _decision(case_number="2-16/2025")), 100, "долг"),
        dr.DebtAnswer(G[11], False, (), 0, "нет"),
    ]
    body = _ok(dr.build_debt_responses(answers, G[12], counter_guids()), "debt-requests")
    ns = {"d": NS["drs"]}
    assert body.xpath("//d:hasDebt/text()", namespaces=ns) == ["true", "false"]
    assert body.xpath("//d:debtInfo/d:person/d:lastName/text()", namespaces=ns) == ["Иванов"]
    assert body.xpath("//d:debtInfo/d:person/d:snils/text()", namespaces=ns) == ["12345678901"]


@given(
    st.integers(min_value=1, max_value=9999),
    st.sampled_from(["кв.", "кв", "Квартира", "пом.", "", "кв. №"]),
    st.sampled_from(["", "А", "б"]),
)
def test_premise_number_from_address_details(number: int, prefix: str, letter: str) -> None:
    assert dr.premise_number(f"{prefix} {number}{letter}") == f"{number}{letter}"


def test_premise_number_absent() -> None:
    assert dr.premise_number(None) is None
    assert dr.premise_number("дом целиком") is None


def dsr_result(subrequests: list[tuple[str, str, str, date, date]]) -> bytes:
    """An exportDebtSubrequests getState result as ГИС ЖКХ sends it (written from the schema)."""
    D_, B = NS["drs"], NS["base"]
    root = etree.Element(f"{{{D_}}}getStateResult", nsmap={"drs": D_, "base": B, "nsi-base": NS["nsi-base"]})
    root.set(f"{{{B}}}version", "14.0.0.0")
    etree.SubElement(root, f"{{{B}}}RequestState").text = "3"
    etree.SubElement(root, f"{{{B}}}MessageGUID").text = G[13]
    result = etree.SubElement(root, f"{{{D_}}}exportDSRsResult")

    def sub(parent, name, text=None):
        el = etree.SubElement(parent, f"{{{D_}}}{name}")
        if text is not None:
            el.text = text
        return el

    for guid, fias, details, start, end in subrequests:
        data = sub(result, "subrequestData")
        sub(data, "subrequestGUID", guid)
        info = sub(data, "requestInfo")
        sub(info, "requestGUID", G[14])
        sub(info, "requestNumber", "DR-" + guid[-4:])
        org = sub(info, "organization")
        sub(org, "orgRootGUID", G[15])
        sub(org, "name", "УСЗН Центрального округа")
        house = sub(info, "housingFundObject")
        sub(house, "houseGUID", fias)
        sub(house, "addressDetails", details)
        sub(house, "fiasHouseGUID", fias)
        sub(house, "address", "г. Омск, ул. Ленина, д. 1")
        period = sub(info, "period")
        etree.SubElement(period, f"{{{B}}}startDate").text = start.isoformat()
        etree.SubElement(period, f"{{{B}}}endDate").text = end.isoformat()
        sub(info, "status", "Sent")
        sub(info, "sentDate", "2026-02-01")
        sub(info, "responseDate", "2026-02-06")
        executor = sub(info, "executorInfo")
        sub(executor, "GUID", G[16])
        sub(executor, "fio", "Смирнова А. А.")
        sub(data, "responseStatus", "NotSent")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_subrequests_are_parsed_from_a_valid_result() -> None:
    parsed = dr.parse_subrequests(dsr_result([(G[10], G[0], "кв. 1", date(2025, 1, 1), date(2025, 12, 31))]))
    assert parsed == [
        dr.Subrequest(
            G[10],
            "DR-" + G[10][-4:],
            G[0],
            G[0],
            "г. Омск, ул. Ленина, д. 1",
            "кв. 1",
            date(2025, 1, 1),
            date(2025, 12, 31),
            date(2026, 2, 1),
            date(2026, 2, 6),
            "УСЗН Центрального округа",
        )
    ]


def test_a_damaged_subrequest_file_is_refused_naming_the_element() -> None:
    data = dsr_result([(G[10], G[0], "кв. 1", date(2025, 1, 1), date(2025, 12, 31))])
    with pytest.raises(dr.DebtRequestFormatError, match="subrequestGUID"):
        dr.parse_subrequests(data.replace(G[10].encode(), b"not-a-guid"))
    with pytest.raises(dr.DebtRequestFormatError, match="getStateResult"):
        dr.parse_subrequests(b"<x/>")


def test_header_date_is_utc_aware() -> None:
    assert request_header(G[8], G[9], datetime(2026, 2, 3, tzinfo=UTC)) is not None
