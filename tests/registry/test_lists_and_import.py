"""Lists by parameters and the population register as XLSX; the legacy card index import (CSV and XLSX),
run twice to prove it idempotent, with rows that must be refused with their line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest
from openpyxl import Workbook, load_workbook

from meterhub.registry.audit import audit_entries
from meterhub.registry.legacy_import import import_card_index
from meterhub.registry.lists import ListFilter, list_rows, list_xlsx, population_register_xlsx, select
from tests.registry.world import CLERK, add_building

pytestmark = pytest.mark.db
ON = date(2026, 5, 1)

CSV = """\
legacy_id;last_name;first_name;patronymic;birth_date;sex;doc_type;doc_series;doc_number;building_id;premise_no;kind;registered_on;registered_until;deregistered_on;deregistration_reason;relation;moved_to
K1;Орлова;Вера;Павловна;12.04.1950;ж;паспорт;28 01;100001;B1;1;постоянная;01.02.1999;;;;собственник;
K2;Орлов;Никита;Игоревич;2012-09-30;м;свидетельство о рождении;II-ОН;200002;B1;1;постоянная;2012-10-15;;;;\
внук;
K3;Лисин;Антон;;1988-01-01;м;паспорт;28 02;300003;B1;2;временная;2026-02-01;2026-05-20;;;;
K4;Лисина;Ольга;;1990-01-01;ж;паспорт;28 03;400004;B1;2;постоянная;2001-01-01;;2026-03-15;выбытие;;г. Тула
K5;Мишин;Пётр;;31.02.1970;м;паспорт;28 04;500005;B1;3;постоянная;2000-01-01;;;;;
K6;Дронов;Ян;;1970-01-01;м;паспорт;28 05;600006;B1;99;постоянная;2000-01-01;;;;;
K7;Тёмин;Лев;;1970-01-01;м;паспорт;28 06;700007;B1;3;постоянная;2020-01-01;;2019-01-01;выбытие;;
K8;Ушаков;Илья;;1970-01-01;м;паспорт;28 07;800008;B1;3;навсегда;2020-01-01;;;;;
"""


@pytest.fixture(scope="module")
def imported(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list]:
    folder = tmp_path_factory.mktemp("cards")
    path = folder / "kartoteka.csv"
    path.write_text(CSV, encoding="utf-8")
    with psycopg.connect(db_url) as conn:
        add_building(conn)
        first = import_card_index(conn, CLERK, path)
        second = import_card_index(conn, CLERK, path)
        conn.commit()
    return db_url, [first, second, path]


def test_the_import_creates_persons_and_registrations_and_names_bad_rows(imported) -> None:
    _, (first, _second, _path) = imported
    assert (first.persons_created, first.registrations_created, first.deregistrations_created) == (4, 4, 1)
    errors = "\n".join(first.errors)
    assert len(first.errors) == 4, errors
    assert (
        "kartoteka.csv, строка 6: «Дата рождения» (birth_date): «31.02.1970» — не дата; запишите ДД.ММ.ГГГГ "
        "или ГГГГ-ММ-ДД"
    ) in errors
    assert (
        "строка 7: квартиры (помещения) 99 в доме B1 нет в перечне помещений; проверьте номер дома и квартиры"
    ) in errors
    assert "строка 8: Новая запись" in errors and "не позже даты регистрации" in errors, errors
    assert "строка 9: «Вид регистрации» (kind): «навсегда» нет в списке; допустимо: " in errors


def test_a_wrong_snils_is_a_row_error(imported, conn, tmp_path: Path) -> None:
    path = tmp_path / "snils.csv"
    path.write_text(
        "legacy_id;last_name;first_name;birth_date;snils;building_id;premise_no;kind;registered_on\n"
        # 1·9 + 1·8 + 2·7 + 2·6 + 3·5 + 3·4 + 4·3 + 4·2 + 5·1 = 95, not 59
        "S1;Снилсова;Софья;1970-01-01;112-233-445 59;B1;1;постоянная;2000-01-01\n",
        encoding="utf-8",
    )
    report = import_card_index(conn, CLERK, path)
    assert report.errors == [
        "snils.csv, строка 2: контрольное число СНИЛС не сходится (должно быть 95); проверьте цифры"
    ]
    assert report.persons_created == 0
    conn.rollback()


def test_a_second_run_adds_nothing(imported, conn) -> None:
    _, (_first, second, _path) = imported
    assert (second.persons_created, second.registrations_created, second.deregistrations_created) == (0, 0, 0)
    assert second.unchanged == 4 and len(second.errors) == 4
    assert conn.execute("SELECT count(*) FROM registry_persons").fetchone()[0] == 4
    assert conn.execute("SELECT count(*) FROM registry_events").fetchone()[0] == 5


def test_an_xlsx_card_index_with_russian_headers(imported, conn, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Код", "Фамилия", "Имя", "Отчество", "Дата рождения", "Дом", "Квартира", "Вид регистрации",
               "Дата регистрации", "Срок до"])  # fmt: skip
    ws.append(
        ["K9", "Зайцева", "Ева", "", date(2001, 5, 5), "B1", "3", "по заявлению", date(2026, 4, 1), None]
    )
    wb.save(tmp_path / "k.xlsx")
    conn.execute("SELECT 1")  # open the transaction the import's savepoints nest in (rolled back below)
    report = import_card_index(conn, CLERK, tmp_path / "k.xlsx")
    assert report.errors == [] and report.registrations_created == 1
    kind = conn.execute(
        "SELECT e.kind FROM registry_events e JOIN registry_persons p USING (person_id) "
        "WHERE p.legacy_key = 'K9'"
    ).fetchone()[0]
    assert kind == "notice"
    conn.rollback()


def _names(rows) -> list[str]:
    return [r.full_name for r in rows]


def test_lists_by_parameters(imported, conn) -> None:
    rows = list_rows(conn, "B1", ON)
    assert _names(select(rows, ListFilter(ON))) == ["Орлов Никита Игоревич", "Орлова Вера Павловна",
                                                     "Лисин Антон"]  # fmt: skip
    assert _names(select(rows, ListFilter(ON, age_min=70))) == ["Орлова Вера Павловна"]  # 76 on 1 May 2026
    assert _names(select(rows, ListFilter(ON, age_max=17))) == ["Орлов Никита Игоревич"]  # 13
    # the stay ends on 20 May: within 30 days of 1 May, not within 14
    assert _names(select(rows, ListFilter(ON, ending_within_days=30))) == ["Лисин Антон"]
    assert select(rows, ListFilter(ON, ending_within_days=14)) == []
    # registered in a date range: the archive counts (Лисина left in March)
    got = select(rows, ListFilter(ON, registered_from=date(2000, 1, 1), registered_to=date(2012, 12, 31)))
    assert _names(got) == ["Орлов Никита Игоревич", "Лисина Ольга"]
    minors = select(rows, ListFilter(ON, minors_without_representative=True))
    assert _names(minors) == ["Орлов Никита Игоревич"]


def test_list_and_population_register_xlsx_are_audited_exports(imported, conn) -> None:
    data, rows = list_xlsx(conn, CLERK, "B1", ListFilter(ON, age_max=17))
    ws = load_workbook(__import__("io").BytesIO(data)).active
    assert ws["B1"].value == "ФИО" and ws["B2"].value == "Орлов Никита Игоревич"
    assert ws["C2"].value.date() == date(2012, 9, 30) and ws["D2"].value == 13
    person = rows[0].person_id
    assert any(e.action == "export" and e.subject == "list" for e in audit_entries(conn, person_id=person))
    book = load_workbook(__import__("io").BytesIO(population_register_xlsx(conn, CLERK, "B1", ON)))
    assert book.sheetnames == ["Граждане", "Регистрация", "Документы", "Собственники"]
    surnames = {row[1] for row in book["Граждане"].iter_rows(min_row=2, values_only=True)}
    assert surnames == {"Орлова", "Орлов", "Лисин", "Лисина"}
    numbers = {row[3] for row in book["Документы"].iter_rows(min_row=2, values_only=True)}
    assert numbers == {"100001", "200002", "300003", "400004"}
    conn.rollback()
