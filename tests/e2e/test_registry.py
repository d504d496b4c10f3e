"""The passport office in a real browser: the registration wizard (arrival of a new person, their
documents, the check page), then a deregistration from the premise page; the database is the oracle.
A resident then sees their household (without the departed person) and orders a справка."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from tests.e2e.conftest import DESKTOP, log_in, screenshot, wait_ready

pytestmark = [pytest.mark.db, pytest.mark.slow]
ARRIVED = date.today() - timedelta(days=10)
LEFT = date.today() - timedelta(days=1)


def _events(db_url: str, surname: str) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            """
            SELECT e.kind, e.building_id, e.premise_no, e.event_date, e.reason, e.moved_from, e.moved_to,
                   e.recorded_by, d.number
            FROM registry_events e JOIN registry_person_names n USING (person_id)
            LEFT JOIN registry_documents d USING (person_id)
            WHERE n.last_name = %s ORDER BY e.event_id
            """,
            (surname,),
        ).fetchall()


def _registered(db_url: str, last: str, first: str, premise: str, day: date) -> None:
    """A person registered in B1 straight in the tables (the set-up, not what is tested)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        person = conn.execute("INSERT INTO registry_persons DEFAULT VALUES RETURNING person_id").fetchone()[0]
        conn.execute(
            "INSERT INTO registry_person_names VALUES (%s, '1980-01-01', %s, %s, '', '')",
            (person, last, first),
        )
        conn.execute(
            "INSERT INTO registry_events (kind, person_id, building_id, premise_no, event_date, recorded_by) "
            "VALUES ('residence', %s, 'B1', %s, %s, 'test')",
            (person, premise, day),
        )


def test_registration_wizard_and_deregistration(open_page, db_url: str) -> None:
    page = open_page(DESKTOP)
    log_in(page, "clerk", next_path="/cabinet/registry/arrival")
    assert page.url.endswith("/cabinet/registry/arrival")
    # step 1: where, when, where from
    page.fill("#w-building", "B1")
    page.fill("#w-premise", "2")
    page.select_option("#w-kind", "residence")
    page.fill("#w-date", ARRIVED.isoformat())
    page.fill("#w-from", "г. Торжок, ул. Мира, д. 1")
    page.fill("#w-relation", "брат")
    page.click("#w-next")
    # step 2: nobody found, a new person
    page.fill("#w-find", "Новиков")
    page.click("#w-find-button")
    page.wait_for_selector("#w-found li.muted")
    page.fill("#w-last", "Новиков")
    page.fill("#w-first", "Степан")
    page.fill("#w-patronymic", "Ильич")
    page.fill("#w-birth", "1979-11-02")
    page.select_option("#w-sex", "male")
    page.click("#w-next")
    # step 3: the passport and the basis
    page.fill("#w-doc-series", "28 09")
    page.fill("#w-doc-number", "515253")
    page.fill("#w-doc-issued-by", "ТП УФМС")
    page.fill("#w-doc-code", "690-010")
    page.fill("#w-basis", "заявление собственника")
    page.click("#w-next")
    summary = page.inner_text("#w-summary")
    assert "Новиков Степан Ильич" in summary and "28 09 № 515253" in summary
    screenshot(page, "registry-wizard-check")
    page.click("#w-submit")
    page.wait_for_selector("#w-done:not([hidden])")
    assert "кв. 2" in page.inner_text("#w-done-text")
    assert _events(db_url, "Новиков") == [
        ("residence", "B1", "2", ARRIVED, "", "г. Торжок, ул. Мира, д. 1", "", "clerk", "515253")
    ]
    # the premise page lists him; deregister him
    page.goto("/cabinet/registry/?building_id=B1&premise_no=2")
    wait_ready(page)
    row = page.locator("#current-residents tr", has_text="Новиков Степан Ильич")
    row.get_by_role("button", name="Снять с учёта").click()
    page.fill("#dereg-date", LEFT.isoformat())
    page.select_option("#dereg-reason", "departure")
    page.fill("#dereg-moved-to", "г. Санкт-Петербург")
    page.fill("#dereg-basis", "заявление")
    page.click("#deregister-submit")
    page.wait_for_selector("#former-residents tr:has-text('Новиков Степан Ильич')")
    assert page.locator("#current-residents tr", has_text="Новиков").count() == 0
    assert "г. Санкт-Петербург" in page.inner_text("#former-residents")
    screenshot(page, "registry-premise-after-deregistration")
    events = _events(db_url, "Новиков")
    assert events[1][:7] == ("deregistration", "B1", "2", LEFT, "departure", "", "г. Санкт-Петербург")


def test_a_deregistration_before_the_arrival_is_refused_in_the_dialog(open_page, db_url: str) -> None:
    _registered(db_url, "Ранний", "Роман", "3", ARRIVED)
    page = open_page(DESKTOP)
    log_in(page, "clerk", next_path="/cabinet/registry/?building_id=B1%26premise_no=3")
    page.goto("/cabinet/registry/?building_id=B1&premise_no=3")
    wait_ready(page)
    page.locator("#current-residents tr", has_text="Ранний").get_by_role(
        "button", name="Снять с учёта"
    ).click()
    page.fill("#dereg-date", (ARRIVED - timedelta(days=5)).isoformat())
    page.click("#deregister-submit")
    page.wait_for_selector("#deregister-error:not([hidden])")
    early = ARRIVED - timedelta(days=5)
    assert page.inner_text("#deregister-error") == (
        f"Новая запись (снятие с учёта) от {early:%d.%m.%Y} не позже даты регистрации {ARRIVED:%d.%m.%Y}; "
        "укажите дату после неё"
    )
    assert [e[0] for e in _events(db_url, "Ранний")] == ["residence"]


def test_the_pages_show_the_registrys_refusals_in_russian(open_page, db_url: str) -> None:
    """What the API's models refuse (a wrong date, a name left out, a СНИЛС in the wrong shape) reaches the
    clerk in Russian, naming the field: the staff pages' own error text (cabinet.js describeDetail) of the
    server's real answer."""
    page = open_page(DESKTOP)
    log_in(page, "clerk", next_path="/cabinet/registry/arrival")
    wait_ready(page)
    shown = page.evaluate(
        """async () => {
          const { api } = await import("/cabinet/static/cabinet.js");
          try {
            await api("/registry/arrivals", { method: "POST", json: {
              building_id: "B1", premise_no: "1", date: "31.02.2026",
              person: { last_name: "", first_name: "Иван", snils: "11223344595" } } });
            return "accepted";
          } catch (err) {
            return err.message;
          }
        }"""
    )
    assert shown == (
        "Дата: дата указана неверно; укажите её в виде ДД.ММ.ГГГГ; Фамилия: заполните поле; "
        "СНИЛС: запишите в виде 000-000-000 00"
    )


def test_a_resident_sees_the_household_and_orders_a_certificate(open_page, db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        premise = conn.execute("SELECT premise_no FROM accounts WHERE account_no = 'LS-1'").fetchone()[0]
    _registered(db_url, "Домов", "Дмитрий", premise, date(2020, 1, 1))
    page = open_page(DESKTOP)
    log_in(page, "alice", next_path="/cabinet/household")
    page.wait_for_selector("#household tr")
    assert "Домов Дмитрий" in page.inner_text("#household")
    page.select_option("#order-kind", "family")
    page.fill("#order-comment", "в поликлинику")
    page.click("#order-form button[type=submit]")
    page.wait_for_selector("#orders li")
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT account_no, kind, comment, ordered_by FROM registry_certificate_orders"
        ).fetchone()
    assert row == ("LS-1", "family", "в поликлинику", "alice")


def test_an_owner_with_a_scan_and_a_change_of_name_from_the_pages(open_page, db_url: str, tmp_path) -> None:
    _registered(db_url, "Владимиров", "Вадим", "3", ARRIVED)
    with psycopg.connect(db_url) as conn:
        (person,) = conn.execute(
            "SELECT person_id FROM registry_person_names WHERE last_name = 'Владимиров'"
        ).fetchone()
    deed = tmp_path / "выписка.pdf"
    deed.write_bytes(b"%PDF-1.4 deed")
    page = open_page(DESKTOP)
    log_in(page, "clerk", next_path="/cabinet/registry/")
    page.goto("/cabinet/registry/?building_id=B1&premise_no=3")
    wait_ready(page)
    page.click("text=Добавить собственника")
    page.fill("#o-person", str(person))
    page.fill("#o-share", "1/3")
    page.fill("#o-acquired", "2019-05-05")
    page.fill("#o-title", "свидетельство о праве на наследство")
    page.set_input_files("#o-scan", str(deed))
    page.click("#owner-form button[type=submit]")
    page.wait_for_selector("#owners tr:has-text('Владимиров Вадим')")
    assert "1/3" in page.inner_text("#owners") and "выписка.pdf" in page.inner_text("#owners")
    page.goto(f"/cabinet/registry/person?id={person}")
    wait_ready(page)
    page.click("text=Смена фамилии, имени, отчества")
    page.fill("#n-last", "Владимиров-Старший")
    page.fill("#n-first", "Вадим")
    page.fill("#n-from", "2026-02-01")
    with page.expect_navigation():
        page.click("#name-form button[type=submit]")
    wait_ready(page)
    assert page.inner_text("#page-title") == "Владимиров-Старший Вадим"
    with psycopg.connect(db_url) as conn:
        owner = conn.execute(
            "SELECT share_numerator, share_denominator, scan, scan_name FROM registry_owners "
            "WHERE person_id = %s",
            (person,),
        ).fetchone()
        names = conn.execute(
            "SELECT last_name FROM registry_person_names WHERE person_id = %s ORDER BY valid_from", (person,)
        ).fetchall()
    assert (owner[0], owner[1], bytes(owner[2]), owner[3]) == (1, 3, b"%PDF-1.4 deed", "выписка.pdf")
    assert [n for (n,) in names] == ["Владимиров", "Владимиров-Старший"]


def _person_row(db_url: str, person: int) -> tuple:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT birth_date, birth_place, sex, citizenship, snils, phone, email FROM registry_persons "
            "WHERE person_id = %s",
            (person,),
        ).fetchone()


def _data_audit(db_url: str, person: int) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT actor, action, detail FROM registry_audit_log "
            "WHERE person_id = %s AND subject = 'person_data' ORDER BY audit_id",
            (person,),
        ).fetchall()


def test_the_basic_data_edit_form(open_page, db_url: str) -> None:
    """The person page's edit form: the page refuses a malformed СНИЛС itself (no request), the register
    refuses a wrong control number and a birth date in the future (per field, in Russian), a good edit is
    saved with the CSRF header and audited, and the same PATCH without the header is refused."""
    _registered(db_url, "Правкина", "Полина", "3", ARRIVED)
    with psycopg.connect(db_url) as conn:
        (person,) = conn.execute(
            "SELECT person_id FROM registry_person_names WHERE last_name = 'Правкина'"
        ).fetchone()
    before = _person_row(db_url, person)
    page = open_page(DESKTOP)
    log_in(page, "clerk", next_path=f"/cabinet/registry/person?id={person}")
    page.goto(f"/cabinet/registry/person?id={person}")
    wait_ready(page)
    page.click("text=Основные данные")
    assert page.input_value("#p-citizenship") == "Российская Федерация"
    patches: list = []
    page.on("request", lambda r: patches.append(r) if r.method == "PATCH" else None)
    # 1) malformed СНИЛС and e-mail: refused by the page, nothing sent
    page.fill("#p-snils", "11223344595")
    page.fill("#p-email", "polina@")
    page.click("#data-form button[type=submit]")
    assert page.inner_text("#p-snils-error") == "СНИЛС записывается в виде 000-000-000 00"
    assert page.inner_text("#p-email-error") == "Адрес электронной почты указан неверно"
    assert page.get_attribute("#p-snils", "aria-invalid") == "true"
    assert patches == []
    # 2) the shape is right but the control number is not: 1·9+1·8+2·7+2·6+3·5+3·4+4·3+4·2+5·1 = 95
    page.fill("#p-snils", "112-233-445 59")
    page.fill("#p-email", "polina@example.ru")
    page.fill("#p-birth-date", (date.today() + timedelta(days=3)).isoformat())
    page.click("#data-form button[type=submit]")
    page.wait_for_selector("#p-snils-error:not([hidden])")
    assert page.inner_text("#p-snils-error") == (
        "Контрольное число СНИЛС не сходится (должно быть 95); проверьте цифры"
    )
    assert page.inner_text("#p-birth-date-error") == "Дата рождения не может быть в будущем"
    assert page.is_hidden("#p-email-error")
    assert page.inner_text("#data-result") == "Исправьте отмеченные поля."
    screenshot(page, "registry-person-edit-errors")
    assert _person_row(db_url, person) == before and _data_audit(db_url, person) == []
    # 3) corrected: saved, shown on the card, audited field by field; the request carried the CSRF token
    page.fill("#p-snils", "112-233-445 95")
    page.fill("#p-birth-date", "1984-03-09")
    page.fill("#p-birth-place", "г. Ржев")
    page.select_option("#p-sex", "female")
    page.fill("#p-phone", "+7 915 111-22-33")
    page.click("#data-form button[type=submit]")
    page.wait_for_selector("#data-result:has-text('Сохранено')")
    assert page.inner_text("#data-result") == (
        "Сохранено: Дата рождения, Место рождения, Пол, СНИЛС, Телефон, Электронная почта."
    )
    data = page.inner_text("#person-data")
    assert "09.03.1984" in data and "г. Ржев" in data and "112-233-445 95" in data and "женский" in data
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    sent = patches[-1]
    assert sent.headers.get("x-csrf-token") == cookies["mh_csrf"] and sent.url.endswith(f"/persons/{person}")
    assert _person_row(db_url, person) == (
        date(1984, 3, 9), "г. Ржев", "female", "Российская Федерация", "112-233-445 95",
        "+7 915 111-22-33", "polina@example.ru",
    )  # fmt: skip
    assert _data_audit(db_url, person) == [
        (
            "clerk",
            "change",
            "birth_date: — → 1984-03-09; birth_place: — → г. Ржев; sex: — → female; "
            "snils: — → 112-233-445 95; phone: — → +7 915 111-22-33; email: — → polina@example.ru",
        )
    ]
    page.wait_for_selector("#person-audit li:has-text('person_data')")
    screenshot(page, "registry-person-edit-saved")
    # 4) nothing changed → nothing sent; clearing the СНИЛС sends null
    count = len(patches)
    page.click("#data-form button[type=submit]")
    assert page.inner_text("#data-result") == "Изменений нет." and len(patches) == count
    page.fill("#p-snils", "")
    page.click("#data-form button[type=submit]")
    page.wait_for_selector("#data-result:has-text('Сохранено: СНИЛС')")
    assert _person_row(db_url, person)[4] is None
    # 5) the session cookie alone is not enough: the same PATCH without X-CSRF-Token is refused
    r = page.request.patch(f"/api/v1/registry/persons/{person}", data={"phone": "+7 000"})
    assert r.status == 403 and "CSRF" in r.json()["detail"]
    assert _person_row(db_url, person)[5] == "+7 915 111-22-33"
