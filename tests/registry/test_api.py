"""The passport office API and a resident's household view: the role boundary (documents for the
passport office only, a resident sees only their own household), the wizard's submit, deregistration,
forms, lists, справка orders, and that reads are in the audit log."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from meterhub.api.roles import Role
from meterhub.api.sessions import issue_bearer
from meterhub.api.users_store import create_user, link_account
from meterhub.core.settings import Settings
from tests.registry.world import add_building

pytestmark = pytest.mark.db
PASSWORD = "correct-horse-battery"
TODAY = date.today()


@pytest.fixture(scope="module")
def client(db_url: str, tmp_path_factory: pytest.TempPathFactory):
    from meterhub.api.app import create_app

    tokens = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_building(conn)
        conn.execute("INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2020-01-01')")
        for name, role, account in (
            ("clerk", Role.PASSPORT_OFFICE, None),
            ("alice", Role.RESIDENT, "B1-LS-1"),
            ("bob", Role.RESIDENT, "B1-LS-3"),
            ("acc", Role.ACCOUNTANT, None),
            ("root", Role.ADMIN, None),
        ):
            uid = create_user(conn, name, PASSWORD, role).id
            if account:
                link_account(conn, uid, account, "admin")
            tokens[name] = {
                "Authorization": f"Bearer {issue_bearer(conn, uid, timedelta(days=1), 't').token}"
            }
    settings = Settings(
        database_url=db_url,
        data_dir=Path(tmp_path_factory.mktemp("d")),
        secret_key="test-secret-key-for-meterhub-api-tests-0123456789",
        db_pool_max_size=4,
    )
    with TestClient(create_app(settings)) as c:
        c.tokens = tokens
        yield c


def _arrival(client, **overrides) -> dict:
    body = {
        "building_id": "B1",
        "premise_no": "1",
        "kind": "residence",
        "date": str(TODAY - timedelta(days=30)),
        "moved_from": "г. Тверь, ул. Лесная, д. 3",
        "relation_to_head": "сын",
        "person": {
            "last_name": "Громов",
            "first_name": "Павел",
            "patronymic": "Ильич",
            "birth_date": "1990-05-05",
            "sex": "male",
            "document": {
                "series": "28 11",
                "number": "777888",
                "issued_by": "ОВД",
                "subdivision_code": "690-002",
            },
        },
        "basis": {"type": "заявление собственника", "number": "5"},
    }
    body.update(overrides)
    r = client.post("/api/v1/registry/arrivals", json=body, headers=client.tokens["clerk"])
    assert r.status_code == 201, r.text
    return r.json()


def test_registration_deregistration_and_the_residents_view(client) -> None:
    made = _arrival(client)
    other = _arrival(client, premise_no="3", person={"last_name": "Чужой", "first_name": "Карл"})
    # alice (premise 1) sees Громов, without documents; bob (premise 3) sees only Чужой
    alice = client.get("/api/v1/accounts/B1-LS-1/household", headers=client.tokens["alice"])
    assert alice.status_code == 200
    assert [m["full_name"] for m in alice.json()["members"]] == ["Громов Павел Ильич"]
    assert "777888" not in alice.text and "Чужой" not in alice.text
    assert client.get("/api/v1/accounts/B1-LS-3/household", headers=client.tokens["alice"]).status_code == 404
    # staff other than the passport office see neither the household nor the register
    for who in ("acc", "root"):
        assert client.get("/api/v1/accounts/B1-LS-1/household", headers=client.tokens[who]).status_code == 403
        card = client.get(f"/api/v1/registry/persons/{made['person_id']}", headers=client.tokens[who])
        assert card.status_code == 403
    assert (
        client.get(
            f"/api/v1/registry/persons/{other['person_id']}", headers=client.tokens["alice"]
        ).status_code
        == 403
    )
    # the passport office sees the documents, and the read is audited
    card = client.get(f"/api/v1/registry/persons/{made['person_id']}", headers=client.tokens["clerk"]).json()
    assert card["documents"][0]["number"] == "777888" and card["registrations"][0]["kind"] == "residence"
    log = client.get(
        f"/api/v1/registry/audit?person_id={made['person_id']}", headers=client.tokens["clerk"]
    ).json()
    reads = [(e["actor"], e["action"], e["subject"]) for e in log]
    assert ("clerk", "read", "person+documents") in reads and ("alice", "read", "household") in reads
    # deregistration; a second one is refused with the reason
    r = client.post(
        f"/api/v1/registry/events/{made['event_id']}/deregistration",
        json={"date": str(TODAY - timedelta(days=2)), "reason": "departure", "moved_to": "г. Москва"},
        headers=client.tokens["clerk"],
    )
    assert r.status_code == 201, r.text
    again = client.post(
        f"/api/v1/registry/events/{made['event_id']}/deregistration",
        json={"date": str(TODAY), "reason": "departure"},
        headers=client.tokens["clerk"],
    )
    assert again.status_code == 409
    ended = r.json()["event_id"]
    assert again.json()["detail"] == (
        f"Новая запись: регистрация (запись № {made['event_id']}) уже прекращена записью № {ended}; повторно "
        "снять с учёта нельзя"
    )
    alice = client.get("/api/v1/accounts/B1-LS-1/household", headers=client.tokens["alice"]).json()
    assert alice["members"] == []
    premise = client.get(
        "/api/v1/registry/premise?building_id=B1&premise_no=1", headers=client.tokens["clerk"]
    )
    former = premise.json()["residents"][0]
    assert not former["current"] and former["moved_to"] == "г. Москва"


def test_a_duplicate_document_and_a_stay_without_end_are_refused(client) -> None:
    _arrival(
        client,
        premise_no="2",
        person={"last_name": "Первый", "first_name": "А", "document": {"number": "DUP-1"}},
    )
    refused = {"building_id": "B1", "premise_no": "2", "date": str(TODAY), "kind": "residence"}
    r = client.post(
        "/api/v1/registry/arrivals",
        headers=client.tokens["clerk"],
        json={
            **refused,
            "person": {"last_name": "Второй", "first_name": "Б", "document": {"number": "DUP-1"}},
        },
    )
    assert r.status_code == 409 and r.json()["detail"] == (
        "документ с таким видом, серией и номером уже есть в реестре у другого гражданина; проверьте номер "
        "или найдите этого гражданина поиском"
    )
    r = client.post(
        "/api/v1/registry/arrivals",
        headers=client.tokens["clerk"],
        json={**refused, "kind": "stay", "person": {"last_name": "Третий", "first_name": "В"}},
    )
    assert r.status_code == 422
    assert [(e["loc"], e["msg_ru"]) for e in r.json()["detail"]] == [
        (["body"], "Для регистрации по месту пребывания укажите дату окончания (срок пребывания)")
    ]
    # nothing of the refused requests stayed (the person is created in the same transaction)
    found = client.get("/api/v1/registry/persons?q=Третий", headers=client.tokens["clerk"]).json()
    assert found == []


def test_forms_lists_and_orders(client) -> None:
    made = _arrival(
        client,
        premise_no="3",
        person={"last_name": "Формин", "first_name": "Фёдор", "birth_date": "2015-01-01"},
    )
    fields = client.post(
        "/api/v1/registry/forms/fields",
        json={"kind": "form9", "arrival_id": made["event_id"]},
        headers=client.tokens["clerk"],
    ).json()
    assert {f["key"]: f["value"] for f in fields["fields"]}["full_name"] == "Формин Фёдор"
    pdf = client.post(
        "/api/v1/registry/forms/pdf",
        headers=client.tokens["clerk"],
        json={"kind": "form9", "arrival_id": made["event_id"], "fields": {"moved_from": "г. Ржев"}},
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    import pypdfium2 as pdfium

    text = pdfium.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert "Формин Фёдор" in text and "г. Ржев" in text
    listing = client.get(
        "/api/v1/registry/lists?building_id=B1&age_max=17&minors_without_representative=true",
        headers=client.tokens["clerk"],
    ).json()
    assert [r["full_name"] for r in listing["rows"]] == ["Формин Фёдор"]
    xlsx = client.get("/api/v1/registry/lists.xlsx?building_id=B1", headers=client.tokens["clerk"])
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    order = client.post(
        "/api/v1/accounts/B1-LS-3/certificate-orders",
        json={"kind": "family", "comment": "в школу"},
        headers=client.tokens["bob"],
    )
    assert order.status_code == 201
    staff = client.get("/api/v1/registry/orders", headers=client.tokens["clerk"]).json()
    assert staff[0]["account_no"] == "B1-LS-3" and staff[0]["comment"] == "в школу"
    done = client.post(
        f"/api/v1/registry/orders/{staff[0]['order_id']}",
        json={"status": "issued"},
        headers=client.tokens["clerk"],
    )
    assert done.status_code == 200
    mine = client.get("/api/v1/accounts/B1-LS-3/certificate-orders", headers=client.tokens["bob"]).json()
    assert mine[0]["status"] == "issued"
    assert (
        client.get("/api/v1/accounts/B1-LS-3/certificate-orders", headers=client.tokens["alice"]).status_code
        == 404
    )


def test_staff_pages_are_served_and_redirect_without_a_session(client) -> None:
    r = client.get("/cabinet/registry/arrival", follow_redirects=False)
    assert r.status_code == 303 and "/cabinet/login" in r.headers["location"]
    client.cookies.set("mh_session", "x")
    page = client.get("/cabinet/registry/arrival")
    assert page.status_code == 200 and "Шаг 1" in page.text and "registry_arrival.js" in page.text
    assert "Жильцы" in client.get("/cabinet/household").text
    client.cookies.clear()


def test_owners_with_shares_and_a_scan_representatives_names_and_documents(client) -> None:
    clerk = client.tokens["clerk"]
    parent = _arrival(client, premise_no="2", person={"last_name": "Отцов", "first_name": "Олег"})[
        "person_id"
    ]
    child = _arrival(
        client,
        premise_no="2",
        person={"last_name": "Отцов", "first_name": "Тимур", "birth_date": "2018-02-02"},
    )["person_id"]
    pdf = b"%PDF-1.4 title deed"
    form = {
        "building_id": "B1",
        "premise_no": "2",
        "acquired_on": "2015-03-01",
        "person_id": str(parent),
        "share": "1/2",
        "title_type": "договор купли-продажи",
        "title_number": "77/15",
    }
    r = client.post(
        "/api/v1/registry/owners",
        data=form,
        headers=clerk,
        files={"scan_file": ("договор.pdf", pdf, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    ownership = r.json()["ownership_id"]
    too_much = client.post(
        "/api/v1/registry/owners", headers=clerk, data={**form, "person_id": str(child), "share": "2/3"}
    )
    assert too_much.status_code == 422 and too_much.json()["detail"] == (
        "квартира 2: собственникам на 01.03.2015 уже принадлежит 1/2; с долей 2/3 получится больше целого — "
        "сначала прекратите право прежнего собственника (дата прекращения права)"
    )
    half = client.post("/api/v1/registry/owners", headers=clerk, data={**form, "person_id": str(child)})
    assert half.status_code == 201
    owners = client.get("/api/v1/registry/owners?building_id=B1&premise_no=2", headers=clerk).json()
    assert [(o["name"], o["share_numerator"], o["share_denominator"], o["has_scan"]) for o in owners] == [
        ("Отцов Олег", 1, 2, True),
        ("Отцов Тимур", 1, 2, False),
    ]
    got = client.get(f"/api/v1/registry/owners/{ownership}/scan", headers=clerk)
    assert got.content == pdf and got.headers["content-type"] == "application/pdf"
    disposition = got.headers["content-disposition"]
    assert "filename*=UTF-8''%D0%B4%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80.pdf" in disposition
    assert (
        client.get(f"/api/v1/registry/owners/{ownership}/scan", headers=client.tokens["root"]).status_code
        == 403
    )
    # the representative, a new name and a replaced document show on the cards
    r = client.post(
        f"/api/v1/registry/persons/{child}/representatives",
        headers=clerk,
        json={"representative_id": parent, "kind": "parent"},
    )
    assert r.status_code == 201
    r = client.post(
        f"/api/v1/registry/persons/{parent}/names",
        headers=clerk,
        json={"last_name": "Отцов-Новый", "first_name": "Олег", "valid_from": "2026-01-10"},
    )
    assert r.status_code == 201
    r = client.post(
        f"/api/v1/registry/persons/{parent}/documents",
        headers=clerk,
        json={"number": "NEW-1", "series": "28 20", "replaced_on": "2026-01-12", "reason": "смена ФИО"},
    )
    assert r.status_code == 201
    card = client.get(f"/api/v1/registry/persons/{parent}", headers=clerk).json()
    assert card["full_name"] == "Отцов-Новый Олег" and card["names"][0]["full_name"] == "Отцов Олег"
    assert card["represented"][0]["full_name"] == "Отцов Тимур"
    assert [d["number"] for d in card["documents"]] == ["NEW-1"]
    log = client.get(f"/api/v1/registry/audit?person_id={parent}", headers=clerk).json()
    assert {"title_scan", "name", "documents", "ownership"} <= {e["subject"] for e in log}


def test_basic_data_is_edited_with_an_audit_row(client) -> None:
    clerk = client.tokens["clerk"]
    new = {"last_name": "Правкин", "first_name": "Юрий", "birth_place": "г. Тула"}
    person = _arrival(client, premise_no="3", person=new)["person_id"]
    url = f"/api/v1/registry/persons/{person}"
    body = {"birth_place": "г. Тверь", "snils": "112-233-445 95", "phone": "+7 912 000-00-00",
            "email": "pravkin@example.ru"}  # fmt: skip
    r = client.patch(url, headers=clerk, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["changed"]["birth_place"] == {"old": "г. Тула", "new": "г. Тверь"}
    card = client.get(url, headers=clerk).json()
    assert {k: card[k] for k in body} == body
    assert card["sex"] is None and card["citizenship"] == "Российская Федерация"  # fields not sent stay
    # only what is sent changes; null clears the СНИЛС; sending the same value again changes nothing
    assert client.patch(url, headers=clerk, json={"snils": None}).json()["changed"] == {
        "snils": {"old": "112-233-445 95", "new": None}
    }
    assert client.patch(url, headers=clerk, json={"phone": "+7 912 000-00-00"}).json()["changed"] == {}
    assert client.get(url, headers=clerk).json()["snils"] is None
    log = client.get(f"/api/v1/registry/audit?person_id={person}", headers=clerk).json()
    edits = [e["detail"] for e in log if e["subject"] == "person_data"]
    assert edits == [
        "snils: 112-233-445 95 → —",
        "birth_place: г. Тула → г. Тверь; snils: — → 112-233-445 95; phone: — → +7 912 000-00-00; "
        "email: — → pravkin@example.ru",
    ]
    rows = [e for e in log if e["subject"] == "person_data"]
    assert all(e["actor"] == "clerk" and e["action"] == "change" for e in rows)
    # bad input is refused and changes nothing; other roles and unknown persons are refused
    for bad in ({"snils": "11223344595"}, {"email": "not an e-mail"}, {"sex": "x"}):
        assert client.patch(url, headers=clerk, json=bad).status_code == 422
    assert client.get(url, headers=clerk).json()["birth_place"] == "г. Тверь"
    assert client.patch(url, headers=client.tokens["root"], json={"phone": "1"}).status_code == 403
    assert client.patch(url, headers=client.tokens["alice"], json={"phone": "1"}).status_code == 403
    missing = client.patch("/api/v1/registry/persons/999999", headers=clerk, json={"phone": "1"})
    assert missing.status_code == 404


def test_joint_owners_carry_one_joint_group(client) -> None:
    clerk = client.tokens["clerk"]
    husband = _arrival(client, premise_no="3", person={"last_name": "Совместнов", "first_name": "Сергей"})
    wife = _arrival(client, premise_no="3", person={"last_name": "Совместнова", "first_name": "Светлана"})
    # spouses own half of flat 3 jointly (общая совместная собственность): ¼ + ¼ with joint group 1
    for arrival in (husband, wife):
        form = {"building_id": "B1", "premise_no": "3", "acquired_on": "2020-02-02", "share": "1/4",
                "person_id": str(arrival["person_id"]), "joint_group": "1"}  # fmt: skip
        r = client.post("/api/v1/registry/owners", headers=clerk, data=form)
        assert r.status_code == 201, r.text
    bad = client.post(
        "/api/v1/registry/owners", headers=clerk,
        data={"building_id": "B1", "premise_no": "3", "acquired_on": "2020-02-02", "share": "1/4",
              "organization": "ООО «Рога»", "joint_group": "0"},
    )  # fmt: skip
    assert bad.status_code == 422
    owners = client.get("/api/v1/registry/owners?building_id=B1&premise_no=3", headers=clerk).json()
    joint = [(o["name"], o["share_numerator"], o["share_denominator"], o["joint_group"]) for o in owners]
    assert ("Совместнов Сергей", 1, 4, 1) in joint and ("Совместнова Светлана", 1, 4, 1) in joint


def test_basic_data_refusals_name_the_field_in_russian(client) -> None:
    clerk = client.tokens["clerk"]
    person = _arrival(client, premise_no="3", person={"last_name": "Снилсов", "first_name": "Семён"})[
        "person_id"
    ]
    url = f"/api/v1/registry/persons/{person}"
    # 1·9 + 1·8 + 2·7 + 2·6 + 3·5 + 3·4 + 4·3 + 4·2 + 5·1 = 95, so the control number 59 is wrong
    r = client.patch(url, headers=clerk, json={"snils": "112-233-445 59", "phone": "+7 900 1"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "loc": ["body", "snils"],
            "msg": "the control number does not match (expected 95)",
            "msg_ru": "контрольное число СНИЛС не сходится (должно быть 95); проверьте цифры",
            "type": "person_data",
        }
    ]
    future = str(date.today() + timedelta(days=2))  # read now: the module may have been imported yesterday
    r = client.patch(url, headers=clerk, json={"birth_date": future})
    assert [(e["loc"], e["msg_ru"]) for e in r.json()["detail"]] == [
        (["body", "birth_date"], "дата рождения не может быть в будущем")
    ]
    card = client.get(url, headers=clerk).json()
    assert (card["snils"], card["phone"], card["birth_date"]) == (None, "", None)  # nothing was written
    log = client.get(f"/api/v1/registry/audit?person_id={person}", headers=clerk).json()
    assert [e for e in log if e["subject"] == "person_data"] == []


def test_the_account_view_counts_residents_from_the_register(client) -> None:
    before = client.get("/api/v1/accounts/B1-LS-1", headers=client.tokens["alice"]).json()
    _arrival(client, premise_no="1", person={"last_name": "Счётов", "first_name": "Сава"})
    _arrival(
        client,
        premise_no="1",
        kind="stay",
        end_date=str(TODAY + timedelta(days=90)),
        person={"last_name": "Гостев", "first_name": "Гоша"},
    )
    after = client.get("/api/v1/accounts/B1-LS-1", headers=client.tokens["alice"]).json()
    assert (after["registered"], after["temporary"]) == (before["registered"] + 1, before["temporary"] + 1)


def test_what_the_models_and_the_database_refuse_is_said_in_russian(client) -> None:
    clerk = client.tokens["clerk"]
    r = client.post(
        "/api/v1/registry/arrivals",
        headers=clerk,
        json={"building_id": "B1", "premise_no": "1", "date": "2026-13-01", "kind": "навсегда",
              "person": {"last_name": "Иванов", "first_name": "Иван", "phone": "9" * 51}},
    )  # fmt: skip
    assert r.status_code == 422
    assert [(e["loc"], e["msg_ru"]) for e in r.json()["detail"]] == [
        (["body", "kind"], "Вид: выберите значение из списка"),
        (["body", "date"], "Дата: дата указана неверно; укажите её в виде ДД.ММ.ГГГГ"),
        (["body", "person", "phone"], "Телефон: не длиннее 50 знаков; сократите"),
    ]
    assert all(e["msg"] for e in r.json()["detail"])  # pydantic's own text stays for API clients
    r = client.get("/api/v1/registry/persons?q=И", headers=clerk)
    assert [e["msg_ru"] for e in r.json()["detail"]] == ["Поиск: не короче 2 знаков"]
    r = client.post(
        "/api/v1/registry/arrivals",
        headers=clerk,
        json={"building_id": "B1", "premise_no": "1", "date": "2026-01-10", "person_id": 1,
              "person": {"last_name": "Двойнов", "first_name": "Денис"}},
    )  # fmt: skip
    assert r.json()["detail"] == (
        "выберите найденного гражданина (person_id) или внесите нового (person) — одно из двух"
    )
    owner = {
        "building_id": "B1",
        "premise_no": "1",
        "acquired_on": "2020-01-01",
        "organization": "ООО «Ноль»",
    }
    r = client.post("/api/v1/registry/owners", headers=clerk, data={**owner, "share": "1/0"})
    assert (r.status_code, r.json()["detail"]) == (
        422,
        "Доля: знаменатель не может быть 0; запишите дробью, например 1/2",
    )
    r = client.post("/api/v1/registry/owners", headers=clerk, data={**owner, "share": "половина"})
    assert [e["msg_ru"] for e in r.json()["detail"]] == [
        "Доля: запишите дробью, например 1/2 (или 1 — вся квартира)"
    ]
    r = client.post(
        "/api/v1/registry/owners", headers=clerk, data={**owner, "share": "1/2"},
        files={"scan_file": ("scan.docx", b"PK\x03\x04", "application/msword")},
    )  # fmt: skip
    assert r.json()["detail"] == (
        "скан должен быть файлом PDF, JPEG, PNG или TIFF, а не «application/msword»; сохраните документ в "
        "одном из этих форматов"
    )
    r = client.post(f"/api/v1/registry/owners/{2**40}/end", headers=clerk, json={"lost_on": "2026-01-01"})
    assert r.json()["detail"] == f"права собственности № {2**40} нет в реестре или оно уже прекращено"
    # the database's check (lost_on after acquired_on), said in Russian
    # (on an ownership of this test's own: the test does not rely on what the others registered)
    mine = {**owner, "share": "1/1000", "organization": "ООО «Своё»"}
    own = client.post("/api/v1/registry/owners", headers=clerk, data=mine)
    assert own.status_code == 201, own.text
    ended = f"/api/v1/registry/owners/{own.json()['ownership_id']}/end"
    r = client.post(ended, headers=clerk, json={"lost_on": "1900-01-01"})
    assert (r.status_code, r.json()["detail"]) == (
        422,
        "дата прекращения права должна быть позже даты его приобретения",
    )
    # a route outside the register answers as before: no msg_ru
    r = client.get("/api/v1/accounts?limit=0", headers=client.tokens["root"])
    assert r.status_code == 422 and "msg_ru" not in r.json()["detail"][0]


def test_each_check_said_in_russian_is_a_check_of_the_migrated_schema(db_url: str) -> None:
    """api.registry_errors names the registry's checks by PostgreSQL's generated names; the catalog of the
    migrated database is the oracle (a renamed or reordered check would fall back to the generic text)."""
    from meterhub.api.registry_errors import _CHECK_RU

    with psycopg.connect(db_url) as conn:
        found = {
            name
            for (name,) in conn.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'c' "
                "AND conrelid::regclass::text LIKE 'registry_%'"
            )
        }
    assert set(_CHECK_RU) - found == set()
    assert "registry_owners_check2" in found  # lost_on > acquired_on, the third unnamed check of the table


def test_an_organisation_owner_carries_inn_ogrn_and_legal_address(client) -> None:
    clerk = client.tokens["clerk"]
    form = {"building_id": "B1", "premise_no": "3", "acquired_on": "2021-01-01", "share": "1/4",
            "organization": "Администрация г. Тест"}  # fmt: skip
    # ИНН 5012345672: 5·2 + 0·4 + 1·10 + 2·3 + 3·5 + 4·9 + 5·4 + 6·6 + 7·8 = 189 ≡ 2 (mod 11); …671 is a typo
    bad = client.post(
        "/api/v1/registry/owners", headers=clerk, data={**form, "organization_inn": "5012345671"}
    )
    assert bad.status_code == 422 and "контрольная цифра не сходится" in bad.text
    r = client.post("/api/v1/registry/owners", headers=clerk, data={**form, "organization_inn": "5012345672"})
    assert r.status_code == 201, r.text
    ownership = r.json()["ownership_id"]
    # ОГРН 1025001234565: 102500123456 = 11 × 9318193041 + 5
    body = {"inn": "5012345672", "ogrn": "1025001234565", "address": "г. Тест, пл. Ленина, 1"}
    put = client.put(f"/api/v1/registry/owners/{ownership}/organization", headers=clerk, json=body)
    assert put.status_code == 200, put.text
    wrong = client.put(
        f"/api/v1/registry/owners/{ownership}/organization",
        headers=clerk,
        json={**body, "ogrn": "1025001234560"},
    )
    assert wrong.status_code == 422 and "ОГРН 1025001234560: контрольная цифра" in wrong.text
    missing = client.put("/api/v1/registry/owners/999999/organization", headers=clerk, json=body)
    assert missing.status_code == 404
    owners = client.get("/api/v1/registry/owners?building_id=B1&premise_no=3", headers=clerk).json()
    (org,) = [o for o in owners if o["ownership_id"] == ownership]
    assert (org["organization_inn"], org["organization_ogrn"], org["organization_address"]) == (
        "5012345672",
        "1025001234565",
        "г. Тест, пл. Ленина, 1",
    )
    assert (
        client.put(
            f"/api/v1/registry/owners/{ownership}/organization", headers=client.tokens["acc"], json=body
        ).status_code
        == 403
    )
