"""Each printed form rendered from the register and read back with PDFium (pypdfium2, an independent
reader): the filled fields are the register's data as entered in this test."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from meterhub.registry.audit import audit_entries
from meterhub.registry.events import EventKind
from meterhub.registry.events_store import Basis, NewArrival, record_arrival, record_deregistration
from meterhub.registry.forms import render_form_pdf
from meterhub.registry.forms.store import FormRequest, prepare_form
from meterhub.registry.persons import IdentityDocument, PersonName
from meterhub.registry.persons_store import add_representative, change_name, create_person
from tests.registry.world import CLERK, add_building

pytestmark = pytest.mark.db
TODAY = date(2026, 4, 2)


def page_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in document)
    finally:
        document.close()


@pytest.fixture(scope="module")
def world(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_building(conn)
        conn.execute(
            "INSERT INTO registry_buildings (building_id, kept_from, registration_authority) "
            "VALUES ('B1', '2026-01-01', 'ОВМ ОМВД России по Центральному району г. Твери')"
        )
        mother = create_person(
            conn, CLERK, PersonName("Соколова", "Мария", "Ивановна", date(1985, 6, 1)),
            birth_date=date(1985, 6, 1), birth_place="г. Калинин", sex="female", phone="+7 900 111-22-33",
            document=IdentityDocument("passport_rf", "123456", "28 10", "УФМС России по Тверской обл.",
                                      date(2010, 7, 1), "690-001"),
        )  # fmt: skip
        change_name(conn, CLERK, mother, PersonName("Белова", "Мария", "Ивановна", date(2012, 8, 18), "брак"),
                    basis="свидетельство о браке")  # fmt: skip
        son = create_person(
            conn, CLERK, PersonName("Белов", "Кирилл", "Андреевич"), birth_date=date(2019, 3, 3), sex="male",
            document=IdentityDocument("birth_certificate", "654321", "I-ОН", "ЗАГС г. Твери",
                                      date(2019, 3, 10)),
        )  # fmt: skip
        lodger = create_person(
            conn, CLERK, PersonName("Жуков", "Глеб", "Олегович"), birth_date=date(1990, 2, 2)
        )
        add_representative(conn, CLERK, mother, son, "parent", "свидетельство о рождении")
        conn.execute(
            "INSERT INTO registry_owners (building_id, premise_no, person_id, share_numerator, "
            "share_denominator, "
            "acquired_on, title_type, title_number, title_date) VALUES ('B1', '1', %s, 1, 2, '2015-03-01', "
            "'договор купли-продажи', '77/15', '2015-02-20')",
            (mother,),
        )
        ids = {"mother": mother, "son": son, "lodger": lodger}
        ids["a_mother"] = record_arrival(conn, CLERK, NewArrival(
            mother, "B1", "1", EventKind.RESIDENCE, date(2026, 1, 15), relation_to_head="собственник",
            moved_from="г. Тверь, ул. Лесная, д. 3, кв. 7",
            basis=Basis("выписка из ЕГРН", "69-01/7", date(2015, 3, 1)),
        ))  # fmt: skip
        ids["a_son"] = record_arrival(conn, CLERK, NewArrival(
            son, "B1", "1", EventKind.RESIDENCE, date(2026, 1, 15), relation_to_head="сын",
            moved_from="г. Тверь, ул. Лесная, д. 3, кв. 7",
        ))  # fmt: skip
        ids["a_lodger"] = record_arrival(conn, CLERK, NewArrival(
            lodger, "B1", "1", EventKind.STAY, date(2026, 2, 1), date(2026, 8, 1),
            relation_to_head="знакомый",
        ))  # fmt: skip
        record_deregistration(
            conn, CLERK, ids["a_lodger"], date(2026, 3, 10), "departure", moved_to="г. Псков"
        )
        return ids


def _render(conn, request: FormRequest) -> str:
    return page_text(render_form_pdf(prepare_form(conn, CLERK, request, TODAY)))


def test_form6_application_for_registration(conn, world) -> None:
    text = _render(conn, FormRequest("form6", arrival_id=world["a_son"]))
    assert "ЗАЯВЛЕНИЕ" in text.upper() and "Форма № 6" in text
    # the heading of приложение № 5 to the regulation of Приказ МВД России № 984 (docs/passport-office.md)
    flat = " ".join(text.split())
    assert "Приложение № 5 к Административному регламенту Министерства внутренних дел" in flat
    assert "(Приказ МВД России от 31.12.2017 № 984)" in flat
    assert "Белов Кирилл Андреевич" in text and "03.03.2019" in text and "мужской" in text
    assert "г. Тверь, ул. Лесная, д. 3, кв. 7" in text
    # the legal representative (the mother, current name) with her passport
    assert "Белова Мария Ивановна" in text and "28 10 № 123456" in text and "690-001" in text
    assert "г. Тверь, ул. Советская, д. 5, кв. 1" in text
    assert "ОВМ ОМВД России по Центральному району г. Твери" in text
    assert "доля 1/2, договор купли-продажи № 77/15 от 20.02.2015" in text


def test_form9_registration_card_with_former_name_and_child(conn, world) -> None:
    text = _render(conn, FormRequest("form9", arrival_id=world["a_mother"]))
    assert "Форма № 9" in text and "Белова Мария Ивановна" in text and "г. Калинин" in text
    assert "Приложение №" not in text  # the appendix number of форма № 9 is unconfirmed: none printed
    assert "Соколова Мария Ивановна (до 18.08.2012)" in text
    assert "15.01.2026" in text and "по месту жительства" in text
    assert "Белов Кирилл Андреевич" in text and "свидетельство о рождении, I-ОН № 654321" in text


def test_form10_premise_card_lists_the_archive(conn, world) -> None:
    text = _render(conn, FormRequest("form10", building_id="B1", premise_no="1"))
    assert "Форма № 10" in text and "54,2" in text
    assert "Приложение №" not in text  # the appendix number of форма № 10 is unconfirmed: none printed
    expected_texts = (
        "Белова Мария Ивановна", "собственник", "1985", "Белов Кирилл Андреевич", "сын", "2019",
        "Жуков Глеб Олегович", "по месту пребывания", "01.02.2026", "10.03.2026", "г. Псков",
    )  # fmt: skip
    for expected in expected_texts:
        assert expected in text, expected


def test_family_certificate_lists_only_those_registered_today(conn, world) -> None:
    text = _render(conn, FormRequest("family", building_id="B1", premise_no="1"))
    assert "Справка о составе семьи" in text and "02.04.2026" in text
    assert "Белова Мария Ивановна" in text and "Белов Кирилл Андреевич" in text
    assert "Жуков" not in text  # left on 10 March
    assert "Всего зарегистрировано, человек 2" in text


def test_registration_and_period_certificates(conn, world) -> None:
    text = _render(conn, FormRequest("registration", arrival_id=world["a_mother"]))
    assert "Справка о регистрации" in text and "Белова Мария Ивановна" in text and "бессрочно" in text
    text = _render(conn, FormRequest("period", person_id=world["lodger"], building_id="B1",
                                     first=date(2026, 1, 1), last=date(2026, 3, 31)))  # fmt: skip
    # registered from 1 February, last day counted 9 March (deregistered from 10 March)
    assert "Справка о периоде проживания" in text and "с 01.01.2026 по 31.03.2026" in text
    assert "01.02.2026" in text and "09.03.2026" in text and "выбытие" in text


def test_the_clerk_edits_fields_before_printing_and_the_print_is_audited(conn, world) -> None:
    doc = prepare_form(conn, CLERK, FormRequest("registration", arrival_id=world["a_son"]), TODAY)
    edited = doc.edited({"purpose": "в МБОУ СОШ № 12 г. Твери"})
    assert "в МБОУ СОШ № 12 г. Твери" in page_text(render_form_pdf(edited))
    with pytest.raises(
        ValueError, match="Справка о регистрации по месту жительства: нет полей salary; поля формы"
    ):
        doc.edited({"salary": "1"})
    prints = [e for e in audit_entries(conn, person_id=world["son"]) if e.action == "print"]
    assert prints and prints[0].actor == "clerk" and prints[0].subject == "registration"
