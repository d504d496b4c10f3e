"""Import of a legacy card index (картотека) from CSV or XLSX: one row per registration of a person.

Idempotent: a person is found by ``legacy_id`` (``registry_persons.legacy_key``), a registration by
``legacy_id``, premise, kind and date (``registry_events.legacy_key``); running the same file twice adds
nothing. A row with an error is skipped and reported with its line and field; the other rows are imported.

Columns (header names; Russian aliases in :data:`ALIASES`): ``legacy_id, last_name, first_name,
patronymic, birth_date, birth_place, sex, citizenship, snils, doc_type, doc_series, doc_number,
doc_issued_by, doc_issued_on, doc_subdivision_code, building_id, premise_no, kind, registered_on,
registered_until, deregistered_on, deregistration_reason, relation, moved_from, moved_to, account_no``.
Dates as ``ДД.ММ.ГГГГ`` or ``YYYY-MM-DD``; kind as ``residence|stay|notice`` or
``постоянная|временная|по заявлению``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import psycopg

from meterhub.registry.audit import Actor, audit
from meterhub.registry.events import EventKind, ReplayError
from meterhub.registry.events_store import Basis, NewArrival, record_arrival, record_deregistration
from meterhub.registry.person_data import PersonDataInvalid
from meterhub.registry.persons import IdentityDocument, PersonName
from meterhub.registry.persons_store import create_person

__all__ = ["ALIASES", "ImportReport", "import_card_index", "read_rows"]

ALIASES = {
    "код": "legacy_id", "фамилия": "last_name", "имя": "first_name", "отчество": "patronymic",
    "дата рождения": "birth_date", "место рождения": "birth_place", "пол": "sex",
    "гражданство": "citizenship",
    "снилс": "snils", "вид документа": "doc_type", "серия": "doc_series", "номер": "doc_number",
    "кем выдан": "doc_issued_by", "дата выдачи": "doc_issued_on", "код подразделения": "doc_subdivision_code",
    "дом": "building_id", "квартира": "premise_no", "вид регистрации": "kind",
    "дата регистрации": "registered_on", "срок до": "registered_until", "дата снятия": "deregistered_on",
    "причина снятия": "deregistration_reason", "родство": "relation", "откуда прибыл": "moved_from",
    "куда выбыл": "moved_to", "лицевой счёт": "account_no",
}  # fmt: skip
_COLUMN_RU = {key: alias for alias, key in reversed(ALIASES.items())}


def _column(name: str) -> str:
    """«Дата рождения» (birth_date): the column as a clerk's file may name it, and its key."""
    alias = _COLUMN_RU.get(name)
    return f"«{alias[0].upper()}{alias[1:]}» ({name})" if alias else name


REQUIRED = ("legacy_id", "last_name", "first_name", "building_id", "premise_no", "kind", "registered_on")
KINDS = {
    "residence": EventKind.RESIDENCE, "постоянная": EventKind.RESIDENCE,
    "по месту жительства": EventKind.RESIDENCE,
    "stay": EventKind.STAY, "временная": EventKind.STAY, "по месту пребывания": EventKind.STAY,
    "notice": EventKind.NOTICE, "по заявлению": EventKind.NOTICE, "временно проживающий": EventKind.NOTICE,
}  # fmt: skip
SEXES = {"м": "male", "муж": "male", "male": "male", "ж": "female", "жен": "female", "female": "female"}
REASONS = {"выбытие": "departure", "смерть": "death", "решение суда": "court", "суд": "court"}
DOC_TYPES = {
    "паспорт": "passport_rf",
    "паспорт рф": "passport_rf",
    "свидетельство о рождении": "birth_certificate",
}


class RowError(ValueError):
    pass


@dataclass
class ImportReport:
    persons_created: int = 0
    registrations_created: int = 0
    deregistrations_created: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"persons created: {self.persons_created}, registrations: {self.registrations_created}, "
            f"deregistrations: {self.deregistrations_created}, rows already imported: {self.unchanged}, "
            f"rows with errors: {len(self.errors)}"
        )


def _key(header: object) -> str:
    text = str(header or "").strip().lower().replace("ё", "е")
    aliases = {k.replace("ё", "е"): v for k, v in ALIASES.items()}
    return aliases.get(text, text)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by canonical column name) from a CSV (UTF-8, `,` or `;`) or XLSX file."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True, data_only=True).active
        rows = ws.iter_rows(values_only=True)
        headers = [_key(h) for h in next(rows, ())]
        for line, values in enumerate(rows, 2):
            if any(v not in (None, "") for v in values):
                yield line, {h: _cell(v) for h, v in zip(headers, values, strict=False)}
        return
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;")
    reader = csv.reader(io.StringIO(text), dialect)
    headers = [_key(h) for h in next(reader, [])]
    for line, values in enumerate(reader, 2):
        if any(v.strip() for v in values):
            yield line, {h: v.strip() for h, v in zip(headers, values, strict=False)}


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def _date(row: dict[str, str], name: str) -> date | None:
    text = row.get(name, "")
    if not text:
        return None
    m = _DMY.match(text)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return date.fromisoformat(text[:10])
    except ValueError:
        raise RowError(f"{_column(name)}: «{text}» — не дата; запишите ДД.ММ.ГГГГ или ГГГГ-ММ-ДД") from None


def _lookup(row: dict[str, str], name: str, table: dict[str, str], default: str | None = None):
    text = row.get(name, "").strip().lower()
    if not text:
        return default
    if text not in table:
        raise RowError(
            f"{_column(name)}: «{row[name]}» нет в списке; допустимо: {', '.join(sorted(set(table)))}"
        )
    return table[text]


def _person(conn: psycopg.Connection, actor: Actor, row: dict[str, str], report: ImportReport) -> int:
    key = row["legacy_id"]
    found = conn.execute("SELECT person_id FROM registry_persons WHERE legacy_key = %s", (key,)).fetchone()
    if found:
        return found[0]
    document = None
    if row.get("doc_number"):
        document = IdentityDocument(
            _lookup(row, "doc_type", {**DOC_TYPES, **{v: v for v in DOC_TYPES.values()}}, "passport_rf"),
            row["doc_number"], row.get("doc_series", ""), row.get("doc_issued_by", ""),
            _date(row, "doc_issued_on"),
            row.get("doc_subdivision_code", ""),
        )  # fmt: skip
    birth = _date(row, "birth_date")
    person_id = create_person(
        conn, actor, PersonName(row["last_name"], row["first_name"], row.get("patronymic", "")),
        birth_date=birth, birth_place=row.get("birth_place", ""), sex=_lookup(row, "sex", SEXES),
        citizenship=row.get("citizenship") or "Российская Федерация", snils=row.get("snils") or None,
        document=document, legacy_key=key,
    )  # fmt: skip
    report.persons_created += 1
    return person_id


def _import_row(conn: psycopg.Connection, actor: Actor, row: dict[str, str], report: ImportReport) -> None:
    missing = [c for c in REQUIRED if not row.get(c)]
    if missing:
        raise RowError(f"не заполнено: {', '.join(_column(c) for c in missing)}")
    kind = KINDS.get(row["kind"].strip().lower())
    if kind is None:
        raise RowError(
            f"{_column('kind')}: «{row['kind']}» нет в списке; допустимо: {', '.join(sorted(KINDS))}"
        )
    start = _date(row, "registered_on")
    until, left = _date(row, "registered_until"), _date(row, "deregistered_on")
    reason = _lookup(
        row, "deregistration_reason", {**REASONS, **{v: v for v in REASONS.values()}}, "departure"
    )
    person_id = _person(conn, actor, row, report)
    key = f"{row['legacy_id']}:{row['building_id']}:{row['premise_no']}:{kind.value}:{start}"
    arrival = conn.execute("SELECT event_id FROM registry_events WHERE legacy_key = %s", (key,)).fetchone()
    changed = False
    if arrival is None:
        arrival_id = record_arrival(conn, actor, NewArrival(
            person_id, row["building_id"], row["premise_no"], kind, start, until,
            row.get("account_no") or None,
            row.get("relation", ""), row.get("moved_from", ""), Basis("картотека"), key,
        ))  # fmt: skip
        report.registrations_created += 1
        changed = True
    else:
        arrival_id = arrival[0]
    if left is not None:
        out_key = key + ":out"
        if conn.execute("SELECT 1 FROM registry_events WHERE legacy_key = %s", (out_key,)).fetchone() is None:
            record_deregistration(conn, actor, arrival_id, left, reason, moved_to=row.get("moved_to", ""),
                                  basis=Basis("картотека"), legacy_key=out_key)  # fmt: skip
            report.deregistrations_created += 1
            changed = True
    if not changed:
        report.unchanged += 1


def import_card_index(conn: psycopg.Connection, actor: Actor, path: Path) -> ImportReport:
    """Import the file row by row (each row in its own savepoint); see the module docstring."""
    report = ImportReport()
    for line, row in read_rows(path):
        done = ImportReport()
        try:
            with conn.transaction():
                _import_row(conn, actor, row, done)
            report.persons_created += done.persons_created
            report.registrations_created += done.registrations_created
            report.deregistrations_created += done.deregistrations_created
            report.unchanged += done.unchanged
        except (RowError, ReplayError, PersonDataInvalid) as e:
            report.errors.append(f"{path.name}, строка {line}: {e}")
        except psycopg.errors.DataError as e:
            report.errors.append(
                f"{path.name}, строка {line}: значение не принято базой ({e.diag.message_primary}); "
                "проверьте длину и формат полей строки"
            )
        except psycopg.errors.IntegrityError as e:
            report.errors.append(
                f"{path.name}, строка {line}: запись не принята ({e.diag.constraint_name or 'ограничение'})"
                " — проверьте дом, квартиру, лицевой счёт и номер документа (документ может принадлежать "
                "только одному гражданину)"
            )
    audit(conn, actor, "import", "card_index", None, f"{path.name}: {report.summary()}")
    return report
