"""The court-order application and the pre-trial claim rendered as PDF and read back with PDFium
(pypdfium2, a reader independent of reportlab): each co-owner with his share and amounts, the minor's
representative, the penalties table attached, the fee; joint owners claimed solidarily for one amount; the
register of sent claims."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from meterhub.claims.cases_store import prepare_case
from meterhub.claims.documents import application_document, pretrial_document
from meterhub.claims.pdf import render_application_pdf, render_pretrial_pdf
from meterhub.claims.pretrial import mark_letter_sent, pretrial_letters, register_pretrial_letter
from tests.claims.claims_data import add_owner, add_person, city_with_co_owners, debts_of_2025

pytestmark = pytest.mark.db

AS_OF = date(2025, 4, 30)


def pages_text(pdf: bytes) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    finally:
        document.close()


@pytest.fixture(scope="module")
def city(db_url: str):
    from meterhub.timeseries.database import connect

    with connect(db_url) as c:
        city_with_co_owners(c)


def test_court_order_application(city, conn) -> None:
    # the register knows the mother's place of birth and СНИЛС, nothing of the kind about her son
    conn.execute(
        "UPDATE registry_persons SET birth_place = 'г. Тест', snils = '112-233-445 95'"
        " WHERE birth_date = '1985-03-01'"
    )
    case_id = prepare_case(conn, "X1", as_of=AS_OF, actor="lawyer1")
    pdf = render_application_pdf(application_document(conn, case_id))
    assert pdf.startswith(b"%PDF")
    pages = pages_text(pdf)
    text = " ".join(pages)
    assert "ЗАЯВЛЕНИЕ о вынесении судебного приказа" in text
    assert "Мировой судья судебного участка № 5 Тестового района" in text
    assert "ООО «УК Тестовая», ИНН 7701234567" in text
    assert "Должник 1: Петрова Анна Сергеевна, 01.03.1985 г. р., доля в праве 1/2" in text
    assert "Должник 2: Петров Иван Олегович, 01.05.2012 г. р., доля в праве 1/2" in text
    assert "законный представитель несовершеннолетнего: Петрова Анна Сергеевна (родитель)" in text
    # ГПК РФ ст. 124 ч. 2 п. 3: the place of birth and an identifier, or that the claimant does not know them
    assert "место рождения: г. Тест; СНИЛС 112-233-445 95" in text
    assert "взыскателю неизвестны: место рождения, идентификаторы (СНИЛС, ИНН, паспорт)" in text
    # Each half, as hand-computed in test_cases.py: 1 750.00 principal, 14.97 / 14.96 penalties, 1 000 fee.
    assert re.search(
        r"с Петрова Анна Сергеевна \(доля 1/2\).*?задолженность 1 750,00 руб\., пени 14,97 руб\., "
        r"расходы по уплате государственной пошлины 1 000,00 руб\.",
        text,
    )
    assert re.search(
        r"с Петров Иван Олегович \(доля 1/2\).*?задолженность 1 750,00 руб\., пени 14,96 руб\.", text
    )
    assert "Цена требования: 3 529,93 руб." in text and "Государственная пошлина: 2 000,00 руб." in text
    assert "за период с 01.01.2025 по 31.03.2025" in text
    # The penalties table is the attachment on its own page: January cold water 1 000.00 with 15.52 of
    # penalties (49 days at 1/300 of 9.5 % from day 31), due 10.02.2025, 79 days late on 30.04.2025.
    attachment = pages[-1]
    assert attachment.startswith("Приложение 1. Расчёт задолженности и пеней по лицевому счёту X1")
    assert "январь 2025 холодное водоснабжение 10.02.2025 79 1 000,00 15,52" in attachment
    assert "февраль 2025 холодное водоснабжение 10.03.2025 51 1 000,00 6,65" in attachment
    assert "Итого 3 500,00 29,93" in attachment
    # The runs of days (ЖК РФ ст. 155 ч. 14, 9.5 %): January due 10.02.2025, day 1 of delay 11.02, day 31
    # 13.03 — 13.03..30.04 is 19 + 30 = 49 days at 1/300: 1 000.00 × 9.5 % / 300 × 49 = 15.5166(6) and
    # 500.00 × … = 7.7583(3), together 23.275 → 23.28 rounded once; February due 10.03, day 31 10.04 —
    # 10.04..30.04 is 21 days: 1 000.00 × 9.5 % / 300 × 21 = 6.65.
    assert (
        "январь 2025 холодное водоснабжение 13.03.2025 30.04.2025 49 1 000,00 1/300 9,5 15,5167" in attachment
    )
    assert "январь 2025 горячее водоснабжение 13.03.2025 30.04.2025 49 500,00 1/300 9,5 7,7583" in attachment
    assert "Итого за январь 2025 срок оплаты 10.02.2025 23,28" in attachment
    assert (
        "февраль 2025 холодное водоснабжение 10.04.2025 30.04.2025 21 1 000,00 1/300 9,5 6,65" in attachment
    )
    assert "Итого за февраль 2025 срок оплаты 10.03.2025 6,65" in attachment
    assert "март 2025" not in attachment.split("Расчёт пеней по периодам просрочки")[1]  # no penalty yet
    conn.rollback()


def test_pretrial_claim_and_its_register(city, conn) -> None:
    pdf = render_pretrial_pdf(pretrial_document(conn, "X4", AS_OF, date(2025, 5, 31)))
    text = " ".join(pages_text(pdf))
    assert "ПРЕТЕНЗИЯ (уведомление о задолженности)" in text
    assert "задолженность за жилое помещение и коммунальные услуги 3 500,00 руб. и пени" in text
    assert "29,93 руб., всего 3 529,93 руб." in text and "до 31.05.2025" in text
    letter = register_pretrial_letter(conn, "X4", AS_OF, date(2025, 5, 31), "lawyer1")
    mark_letter_sent(conn, letter, date(2025, 5, 2), "80081234567890")
    [row] = pretrial_letters(conn, "CL")
    assert row[1:] == (
        "X4",
        AS_OF,
        350000,
        2993,
        date(2025, 5, 31),
        date(2025, 5, 2),
        "80081234567890",
        "lawyer1",
    )
    with pytest.raises(ValueError, match="after"):
        register_pretrial_letter(conn, "X4", AS_OF, AS_OF, "lawyer1")
    conn.rollback()


def test_joint_owners_are_claimed_solidarily_in_the_application(city, conn) -> None:
    # Building CD, account Z1 (premise 1), the debts of debts_of_2025: the spouses Кузнецов and Кузнецова
    # hold ½ of the flat jointly (¼ + ¼ in the register, joint group 7), Орлов ½ by share.
    debts_of_2025(conn, "CD", {"Z1": "1"})
    husband = add_person(conn, "Кузнецов", "Олег", "Петрович", date(1970, 2, 2))
    wife = add_person(conn, "Кузнецова", "Ольга", "Ивановна", date(1972, 3, 3))
    other = add_person(conn, "Орлов", "Игорь", "Львович", date(1980, 4, 4))
    add_owner(conn, "CD", "1", husband, (1, 4), date(2010, 1, 1))
    add_owner(conn, "CD", "1", wife, (1, 4), date(2010, 1, 1))
    add_owner(conn, "CD", "1", other, (1, 2), date(2012, 6, 1))
    conn.execute(
        "UPDATE registry_owners SET joint_group = 7 WHERE building_id = 'CD' AND share_denominator = 4"
    )
    case_id = prepare_case(conn, "Z1", as_of=AS_OF, actor="lawyer1")
    text = " ".join(pages_text(render_application_pdf(application_document(conn, case_id))))
    assert (
        "Должник 1: Кузнецов Олег Петрович, 02.02.1970 г. р., общая совместная собственность на 1/2 доли "
        "в праве (совместно с должником 2)" in text
    )
    assert (
        "Должник 2: Кузнецова Ольга Ивановна, 03.03.1972 г. р., общая совместная собственность на 1/2 доли "
        "в праве (совместно с должником 1)" in text
    )
    assert "Должник 3: Орлов Игорь Львович, 04.04.1980 г. р., доля в праве 1/2" in text
    assert "несут обязанность по внесению платы солидарно (ст. 322, 323 ГК РФ)" in text
    assert "соразмерно своей доле" in text  # Орлов by share
    # Lines (test_cases.py): principal Jan cold 1 000.00, Jan hot 500.00, Feb and Mar cold 1 000.00;
    # penalties Jan cold 15.52, Jan hot 7.76, Feb cold 6.65. By ¼ ¼ ½ each spouse owes 250.00, 125.00,
    # 250.00, 250.00 and 3.88, 1.94, 1.66 (6.65 × ¼ = 1.6625; the odd kopeck of 6.65 goes to Орлов's
    # 3.325 → 3.33). Together, solidarily: principal 2 × 875.00 = 1 750.00, penalties 2 × 7.48 = 14.96, the
    # fee 2 × 500.00 = 1 000.00 (2 000.00 by the claimed 882.48 : 882.48 : 1 764.97); one demand.
    solidary = re.search(
        r"солидарно с Кузнецов Олег Петрович, Кузнецова Ольга Ивановна \(общая совместная собственность на "
        r"1/2 доли в праве\) в пользу ООО «УК Тестовая»: задолженность 1 750,00 руб\., пени 14,96 руб\., "
        r"расходы по уплате государственной пошлины 1 000,00 руб\.(.*?)с Орлов Игорь Львович",
        text,
    )
    assert solidary, text
    table = solidary.group(1)
    for row in (
        "январь 2025 холодное водоснабжение основной долг 500,00",  # 250.00 + 250.00
        "январь 2025 горячее водоснабжение основной долг 250,00",  # 125.00 + 125.00
        "январь 2025 холодное водоснабжение пени 7,76",  # 3.88 + 3.88
        "январь 2025 горячее водоснабжение пени 3,88",  # 1.94 + 1.94
        "февраль 2025 холодное водоснабжение пени 3,32",  # 1.66 + 1.66
        "март 2025 холодное водоснабжение основной долг 500,00",
    ):
        assert row in table, row
    # the spouses are not asked for a part each
    assert "с Кузнецов Олег Петрович (доля" not in text and "с Кузнецова Ольга Ивановна (доля" not in text
    assert re.search(
        r"с Орлов Игорь Львович \(доля 1/2\) в пользу ООО «УК Тестовая»: задолженность 1 750,00 руб\., "
        r"пени 14,97 руб\., расходы по уплате государственной пошлины 1 000,00 руб\..*?"
        r"февраль 2025 холодное водоснабжение пени 3,33",
        text,
    )
    assert (
        "Итого: основной долг 3 500,00 руб., пени 29,93 руб., государственная пошлина 2 000,00 руб." in text
    )
    conn.rollback()


def test_an_organisation_owner_is_named_by_inn_ogrn_and_address(city, conn) -> None:
    from meterhub.registry.audit import Actor
    from meterhub.registry.owners_store import (
        NewOwnership,
        OwnershipError,
        add_ownership,
        owners_of,
        set_organization_details,
    )

    # Building CO, account O1 (premise 1) with the debts of debts_of_2025, owned whole by an organisation.
    debts_of_2025(conn, "CO", {"O1": "1"})
    clerk = Actor("clerk1", "passport_office")
    owner = NewOwnership("CO", "1", date(2016, 1, 1), organization="ООО «Ромашка»")
    # ИНН 5012345672 by hand: 5·2 + 0·4 + 1·10 + 2·3 + 3·5 + 4·9 + 5·4 + 6·6 + 7·8 = 189, 189 mod 11 = 2;
    # so …673 is a typo and 12 digits are a citizen's ИНН.
    with pytest.raises(OwnershipError, match="ИНН 5012345673: контрольная цифра не сходится"):
        add_ownership(conn, clerk, replace(owner, organization_inn="5012345673"))
    with pytest.raises(OwnershipError, match="должен состоять из 10 цифр"):
        add_ownership(conn, clerk, replace(owner, organization_inn="501234567890"))
    ownership = add_ownership(conn, clerk, owner)  # the name only, as before
    # Without ИНН (nor ОГРН, nor the address) the application is refused, saying what to enter.
    with pytest.raises(ValueError) as refused:
        prepare_case(conn, "O1", as_of=AS_OF, actor="lawyer1")
    assert (
        f"«ООО «Ромашка»» (право собственности № {ownership}) — нет: ИНН, ОГРН, адрес юридического лица"
        in str(refused.value)
    )
    assert "ст. 124 ГПК РФ" in str(refused.value)
    # ОГРН 1025001234565 by hand: 102500123456 = 11 × 9318193041 + 5, so the 13th digit is 5.
    with pytest.raises(OwnershipError, match="ОГРН 1025001234566: контрольная цифра"):
        set_organization_details(
            conn, clerk, ownership, inn="5012345672", ogrn="1025001234566", address="г. Тест, ул. Лесная, 5"
        )
    set_organization_details(conn, clerk, ownership, inn="5012345672", ogrn="", address="")
    with pytest.raises(ValueError, match="— нет: ОГРН, адрес юридического лица"):
        prepare_case(conn, "O1", as_of=AS_OF, actor="lawyer1")
    set_organization_details(
        conn, clerk, ownership, inn=" 5012345672", ogrn="1025001234565", address="г. Тест, ул. Лесная, 5"
    )
    (listed,) = owners_of(conn, "CO", "1")
    assert (listed["organization_inn"], listed["organization_ogrn"]) == ("5012345672", "1025001234565")
    case_id = prepare_case(conn, "O1", as_of=AS_OF, actor="lawyer1")
    text = " ".join(pages_text(render_application_pdf(application_document(conn, case_id))))
    # ГПК РФ ст. 124 ч. 2 п. 3: for an organisation the name, the address, ИНН and ОГРН
    assert (
        "Должник 1: ООО «Ромашка», ИНН 5012345672, ОГРН 1025001234565, доля в праве 1/1 "
        "адрес (место нахождения): г. Тест, ул. Лесная, 5" in text
    )
    assert "взыскателю неизвестны" not in text and "г. р." not in text.split("Цена требования")[0]
    # the whole debt: 3 500.00 principal and 29.93 of penalties (15.52 + 7.76 + 6.65, as for X1 above)
    assert re.search(r"с ООО «Ромашка» \(доля 1/1\).*?задолженность 3 500,00 руб\., пени 29,93 руб\.", text)
    # a citizen owner has no ИНН/ОГРН of an organisation
    with pytest.raises(OwnershipError, match="только для собственника-организации"):
        add_ownership(
            conn, clerk, NewOwnership("CO", "1", date(2016, 1, 1), person_id=1, organization_inn="5012345672")
        )
    conn.rollback()
