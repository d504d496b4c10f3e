"""Outgoing letters: numbers restart each year without gaps, the PDF (read back with PDFium, an independent
reader) carries the number, date, addressee and text in Cyrillic, and the resident sees only the letters
about their own account."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from meterhub.api.roles import Role
from meterhub.api.sessions import issue_bearer
from meterhub.api.users_store import create_user, link_account
from meterhub.core.settings import Settings
from meterhub.servicedesk.letters import Letter, letter_pdf, register_letter
from meterhub.servicedesk.requests_store import NewRequest, register_request
from tests.billing.money_data import add_building

pytestmark = pytest.mark.db
NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


def page_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in document)
    finally:
        document.close()


@pytest.fixture(scope="module")
def world(db_url: str, tmp_path_factory: pytest.TempPathFactory):
    from meterhub.api.app import create_app

    tokens, ids = {}, {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_building(conn, "LB", {"LB-1": "1", "LB-2": "2"})
        for account in ("LB-1", "LB-2"):
            ids[account] = register_request(
                conn,
                NewRequest(
                    "letter",
                    "billing_claim",
                    "Прошу разъяснить начисление",
                    account_no=account,
                    applicant="Соколова Анна Петровна",
                ),
                NOW,
            )
        for name, role in (("oper", Role.OPERATOR), ("anna", Role.RESIDENT), ("subco", Role.CONTRACTOR)):
            uid = create_user(conn, name, "correct-horse-battery", role).id
            tokens[name] = {
                "Authorization": f"Bearer {issue_bearer(conn, uid, timedelta(days=1), 't').token}"
            }
            if name == "anna":
                link_account(conn, uid, "LB-1", "admin")
    settings = Settings(
        database_url=db_url,
        data_dir=Path(tmp_path_factory.mktemp("d")),
        secret_key="test-secret-key-for-meterhub-api-tests-0123456789",
        db_pool_max_size=4,
        company_name="ООО «УК Заречье»",
    )
    with TestClient(create_app(settings)) as c:
        c.tokens, c.ids = tokens, ids
        yield c


def test_numbers_restart_each_year(world, db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rid = world.ids["LB-2"]
        made = [
            register_letter(
                conn, request_id=rid, subject="Ответ", body="Текст", signed_by="", on=day, now=NOW
            )
            for day in (date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 12))
        ]
        conn.rollback()
    assert [m.letter_no for m in made] == ["ИСХ-2025-00001", "ИСХ-2025-00002", "ИСХ-2026-00001"]


def test_letter_registered_printed_and_seen_in_the_cabinet(world) -> None:
    t, rid = world.tokens, world.ids["LB-1"]
    body = {
        "subject": "О перерасчёте за ноябрь",
        "body": "Перерасчёт выполнен: −15,75 ₽ в декабре.",
        "signed_by": "Главный инженер И. И. Петров",
    }
    made = world.post(f"/api/v1/servicedesk/requests/{rid}/letters", json=body, headers=t["oper"])
    assert made.status_code == 201, made.text
    letter = made.json()
    assert letter["letter_no"].startswith(f"ИСХ-{datetime.now(UTC).year}-")
    assert (letter["addressee"], letter["address"], letter["account_no"]) == (
        "Соколова Анна Петровна",
        "г. Тест, ул. LB, кв. 1",
        "LB-1",
    )
    assert (
        world.post(f"/api/v1/servicedesk/requests/{rid}/letters", json=body, headers=t["subco"]).status_code
        == 403
    )

    mine = world.get("/api/v1/servicedesk/accounts/LB-1/letters", headers=t["anna"]).json()
    assert [m["letter_no"] for m in mine] == [letter["letter_no"]]
    assert world.get("/api/v1/servicedesk/accounts/LB-2/letters", headers=t["anna"]).status_code == 404
    pdf = world.get(
        "/api/v1/servicedesk/accounts/LB-1/letter.pdf",
        params={"letter_id": letter["letter_id"]},
        headers=t["anna"],
    )
    assert pdf.headers["content-type"] == "application/pdf"
    text = page_text(pdf.content)
    day = letter["registered_on"].split("-")
    for expected in (
        f"Исх. № {letter['letter_no']} от {day[2]}.{day[1]}.{day[0]}",
        "ООО «УК Заречье»",
        "Соколова Анна Петровна",
        "О перерасчёте за ноябрь",
        "−15,75 ₽",
        "Главный инженер И. И. Петров",
        f"На обращение № {rid}",
    ):
        assert expected in text, expected
    # Rendering directly gives the same letter (the route adds nothing of its own to it).
    fields = {k: date.fromisoformat(v) if k == "registered_on" else v for k, v in letter.items()}
    assert "Лицевой счёт LB-1" in page_text(letter_pdf(Letter(**fields)))
