"""Lists by parameters (списки по параметрам) and the electronic population register, as XLSX.

:func:`select` picks registrations from the rows of :func:`list_rows` (pure filtering): a building, an age
range on a date, registered within a date range, temporary registrations ending soon, minors without a
legal representative. :func:`list_xlsx` writes them; :func:`population_register_xlsx` writes the whole
register of a building (persons, registrations with the archive, documents, owners).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from meterhub.registry.audit import Actor, audit, audit_many
from meterhub.registry.counts_store import building_spans
from meterhub.registry.events import ResidenceKind

__all__ = ["ListFilter", "ListRow", "list_rows", "list_xlsx", "population_register_xlsx", "select"]

KIND_RU = {
    "residence": "по месту жительства",
    "stay": "по месту пребывания",
    "notice": "временно проживающий",
}


@dataclass(frozen=True)
class ListRow:
    person_id: int
    full_name: str
    birth_date: date | None
    premise_no: str
    kind: ResidenceKind
    start: date
    end: date | None
    relation_to_head: str
    has_representative: bool
    incapacitated: bool

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


@dataclass(frozen=True)
class ListFilter:
    """``on``: the day the list is for (registered that day, ages on it) unless ``registered_from``/``to``
    ask for arrivals within a range (archive included). ``ending_within_days``: stays and notices whose end
    falls within that many days after ``on``. ``minors_without_representative``: under 18 (or declared
    incapacitated) with no legal representative in the register."""

    on: date
    age_min: int | None = None
    age_max: int | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    kinds: frozenset[ResidenceKind] = frozenset(ResidenceKind)
    ending_within_days: int | None = None
    minors_without_representative: bool = False

    def describe(self) -> str:
        parts = [f"на {self.on:%d.%m.%Y}"]
        if self.age_min is not None or self.age_max is not None:
            parts.append(f"возраст {self.age_min or 0}–{self.age_max if self.age_max is not None else '…'}")
        if self.registered_from or self.registered_to:
            parts.append(f"зарегистрированы {self.registered_from or '…'} – {self.registered_to or '…'}")
        if self.ending_within_days is not None:
            parts.append(f"срок пребывания истекает в {self.ending_within_days} дн.")
        if self.minors_without_representative:
            parts.append("несовершеннолетние без законного представителя")
        return ", ".join(parts)


def select(rows: Iterable[ListRow], f: ListFilter) -> list[ListRow]:
    """The rows matching every given parameter, ordered by premise and name (pure)."""
    out = []
    for r in rows:
        if r.kind not in f.kinds:
            continue
        if f.registered_from or f.registered_to:
            if f.registered_from and r.start < f.registered_from:
                continue
            if f.registered_to and r.start > f.registered_to:
                continue
        elif not (r.start <= f.on and (r.end is None or f.on < r.end)):
            continue
        age = r.age_on(f.on)
        if f.age_min is not None and (age is None or age < f.age_min):
            continue
        if f.age_max is not None and (age is None or age > f.age_max):
            continue
        if f.ending_within_days is not None:
            if r.kind is ResidenceKind.RESIDENCE or r.end is None:
                continue
            if not f.on < r.end <= f.on + timedelta(days=f.ending_within_days):
                continue
        if f.minors_without_representative:
            ward = (age is not None and age < 18) or r.incapacitated
            if not ward or r.has_representative:
                continue
        out.append(r)
    return sorted(out, key=lambda r: (_premise_key(r.premise_no), r.full_name, r.start))


def _premise_key(no: str) -> tuple[int, str]:
    digits = "".join(ch for ch in no if ch.isdigit())
    return (int(digits) if digits else 0, no)


def list_rows(conn: psycopg.Connection, building_id: str, on: date) -> list[ListRow]:
    """Every registration of the building (archive included) with what the filters need."""
    spans = building_spans(conn, building_id)
    if not spans:
        return []
    people = {
        r[0]: r[1:]
        for r in conn.execute(
            """
            SELECT p.person_id, n.last_name || ' ' || n.first_name || ' ' || n.patronymic, p.birth_date,
                   p.incapacitated,
                   EXISTS (SELECT 1 FROM registry_representatives r WHERE r.represented_id = p.person_id
                           AND (r.valid_to IS NULL OR r.valid_to > %s))
            FROM registry_persons p
            JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = p.person_id
                          ORDER BY valid_from DESC LIMIT 1) n ON true
            WHERE p.person_id = ANY(%s)
            """,
            (on, list({s.person_id for s in spans})),
        )
    }
    relations = dict(
        conn.execute(
            "SELECT event_id, relation_to_head FROM registry_events WHERE event_id = ANY(%s)",
            ([s.arrival_id for s in spans],),
        ).fetchall()
    )
    return [
        ListRow(
            s.person_id,
            people[s.person_id][0].strip(),
            people[s.person_id][1],
            s.premise_no,
            s.kind,
            s.start,
            s.end,
            relations.get(s.arrival_id, ""),
            people[s.person_id][3],
            people[s.person_id][2],
        )
        for s in spans
    ]


def _sheet(wb: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence[object]], first=False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for i, header in enumerate(headers, 1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(header) + 4))
        for cell in ws[get_column_letter(i)][1:]:
            if isinstance(cell.value, date):
                cell.number_format = "DD.MM.YYYY"
    ws.freeze_panes = "A2"
    return ws


LIST_HEADERS = (
    "Квартира", "ФИО", "Дата рождения", "Возраст", "Вид регистрации", "Зарегистрирован с", "Снят / до",
    "Отношение к собственнику", "Законный представитель",
)  # fmt: skip


def list_xlsx(
    conn: psycopg.Connection, actor: Actor, building_id: str, f: ListFilter
) -> tuple[bytes, list[ListRow]]:
    """The list as an XLSX workbook (and its rows); the export is audited per person."""
    rows = select(list_rows(conn, building_id, f.on), f)
    wb = Workbook()
    ws = _sheet(
        wb, "Список", LIST_HEADERS,
        ((r.premise_no, r.full_name, r.birth_date, r.age_on(f.on), KIND_RU[r.kind], r.start,
          r.end, r.relation_to_head, "есть" if r.has_representative else "") for r in rows),
        first=True,
    )  # fmt: skip
    ws.append([])
    ws.append([f"Дом {building_id}; {f.describe()}; строк: {len(rows)}"])
    audit_many(conn, actor, "export", "list", [r.person_id for r in rows], f"{building_id}: {f.describe()}")
    return _save(wb), rows


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def population_register_xlsx(conn: psycopg.Connection, actor: Actor, building_id: str, on: date) -> bytes:
    """The electronic population register (электронный реестр населения) of a building: every person
    ever registered, their registrations (archive included), current documents and the owners."""
    rows = list_rows(conn, building_id, on)
    ids = sorted({r.person_id for r in rows})
    wb = Workbook()
    persons = conn.execute(
        """
        SELECT p.person_id, n.last_name, n.first_name, n.patronymic, p.birth_date, p.birth_place,
               CASE p.sex WHEN 'male' THEN 'м' WHEN 'female' THEN 'ж' ELSE '' END, p.citizenship,
               coalesce(p.snils, ''), p.death_date
        FROM registry_persons p
        JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = p.person_id
                      ORDER BY valid_from DESC LIMIT 1) n ON true
        WHERE p.person_id = ANY(%s) ORDER BY n.last_name, n.first_name, p.person_id
        """,
        (ids,),
    ).fetchall()
    _sheet(wb, "Граждане", ("ID", "Фамилия", "Имя", "Отчество", "Дата рождения", "Место рождения", "Пол",
                            "Гражданство", "СНИЛС", "Дата смерти"), persons, first=True)  # fmt: skip
    _sheet(wb, "Регистрация", ("ID", "ФИО", "Квартира", "Вид", "С", "По (не включая)", "Отношение"),
           ((r.person_id, r.full_name, r.premise_no, KIND_RU[r.kind], r.start, r.end, r.relation_to_head)
            for r in sorted(rows, key=lambda r: (_premise_key(r.premise_no), r.start))))  # fmt: skip
    documents = conn.execute(
        "SELECT person_id, doc_type, series, number, issued_by, issued_on, subdivision_code "
        "FROM registry_documents WHERE person_id = ANY(%s) AND replaced_on IS NULL ORDER BY person_id",
        (ids,),
    ).fetchall()
    _sheet(wb, "Документы", ("ID", "Вид", "Серия", "Номер", "Кем выдан", "Дата выдачи", "Код подразделения"),
           documents)  # fmt: skip
    owners = conn.execute(
        "SELECT premise_no, person_id, organization, share_numerator || '/' || share_denominator, "
        "acquired_on, lost_on, title_type, title_number, title_date, registry_entry FROM registry_owners "
        "WHERE building_id = %s ORDER BY premise_no, acquired_on",
        (building_id,),
    ).fetchall()
    _sheet(wb, "Собственники", ("Квартира", "ID", "Организация", "Доля", "С", "По", "Документ", "Номер",
                                "Дата документа", "Запись ЕГРН"), owners)  # fmt: skip
    audit_many(conn, actor, "export", "population_register", ids, building_id)
    if not ids:
        audit(conn, actor, "export", "population_register", None, building_id)
    return _save(wb)
