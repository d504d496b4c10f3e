"""The court-order application and the pre-trial claim rendered as PDF and read back with PDFium
(pypdfium2, a reader independent of reportlab): each co-owner with his share and amounts, the minor's
representative, the penalties table attached, the fee; the register of sent claims."""

from __future__ import annotations

import re
from datetime import date

import pytest

from meterhub.claims.cases_store import prepare_case
from meterhub.claims.documents import application_document, pretrial_document
from meterhub.claims.pdf import render_application_pdf, render_pretrial_pdf
from meterhub.claims.pretrial import mark_letter_sent, pretrial_letters, register_pretrial_letter
from tests.claims.claims_data import city_with_co_owners

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
