"""Persons in the register: create, find, read with history, edit the basic data, change name, replace a
document, link a legal representative. Each call writes its audit row (:mod:`meterhub.registry.audit`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import psycopg

from meterhub.registry.audit import Actor, audit
from meterhub.registry.person_data import PersonDataInvalid, person_data_problems
from meterhub.registry.persons import DOCUMENT_TYPES_RU, IdentityDocument, PersonCard, PersonName

__all__ = [
    "DOCUMENT_TYPES_RU",
    "EDITABLE_FIELDS",
    "IdentityDocument",
    "PersonCard",
    "PersonName",
    "PersonNotFound",
    "add_representative",
    "change_name",
    "create_person",
    "find_persons",
    "load_person",
    "replace_document",
    "update_person",
]

EDITABLE_FIELDS = ("birth_date", "birth_place", "sex", "citizenship", "snils", "phone", "email")
"""The basic data the passport office edits in place (names and documents have their own history)."""


class PersonNotFound(LookupError):
    pass


def create_person(
    conn: psycopg.Connection, actor: Actor, name: PersonName, *, birth_date: date | None = None,
    birth_place: str = "", sex: str | None = None, citizenship: str = "Российская Федерация",
    snils: str | None = None, phone: str = "", email: str = "", document: IdentityDocument | None = None,
    legacy_key: str | None = None,
) -> int:  # fmt: skip
    problems = person_data_problems(
        {"birth_date": birth_date, "snils": snils, "email": email}, today=date.today()
    )
    if problems:
        raise PersonDataInvalid(problems)
    with conn.transaction():
        person_id = conn.execute(
            "INSERT INTO registry_persons (birth_date, birth_place, sex, citizenship, snils, phone, email, "
            "legacy_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING person_id",
            (birth_date, birth_place, sex, citizenship, snils or None, phone, email, legacy_key),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO registry_person_names "
            "(person_id, valid_from, last_name, first_name, patronymic, reason) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (person_id, name.valid_from or birth_date or date(1900, 1, 1), name.last_name.strip(),
             name.first_name.strip(), name.patronymic.strip(), name.reason),
        )  # fmt: skip
        if document is not None:
            _insert_document(conn, person_id, document)
        audit(conn, actor, "create", "person", person_id, name.full)
    return person_id


def _insert_document(conn: psycopg.Connection, person_id: int, d: IdentityDocument) -> None:
    conn.execute(
        "INSERT INTO registry_documents (person_id, doc_type, series, number, issued_by, issued_on, "
        "subdivision_code) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (person_id, d.doc_type, d.series.strip(), d.number.strip(), d.issued_by, d.issued_on,
         d.subdivision_code.strip()),
    )  # fmt: skip


def load_person(
    conn: psycopg.Connection, person_id: int, actor: Actor | None = None, *, with_documents: bool = True
) -> PersonCard:
    """The person's card; ``actor`` given: the read is written to the audit log."""
    row = conn.execute(
        "SELECT person_id, birth_date, birth_place, sex, citizenship, snils, phone, email, incapacitated, "
        "death_date FROM registry_persons WHERE person_id = %s",
        (person_id,),
    ).fetchone()
    if row is None:
        raise PersonNotFound(f"person {person_id} is not in the register")
    names = [
        PersonName(r[0], r[1], r[2], r[3], r[4])
        for r in conn.execute(
            "SELECT last_name, first_name, patronymic, valid_from, reason FROM registry_person_names "
            "WHERE person_id = %s ORDER BY valid_from",
            (person_id,),
        )
    ]
    card = PersonCard(row[0], names, *row[1:])
    if with_documents:
        card.documents = [
            IdentityDocument(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8])
            for r in conn.execute(
                "SELECT doc_type, number, series, issued_by, issued_on, subdivision_code, document_id, "
                "replaced_on, replaced_reason FROM registry_documents WHERE person_id = %s "
                "ORDER BY replaced_on IS NOT NULL, issued_on DESC NULLS LAST, document_id DESC",
                (person_id,),
            )
        ]
    for attr, mine, other in (("representatives", "represented_id", "representative_id"),
                              ("represented", "representative_id", "represented_id")):  # fmt: skip
        getattr(card, attr).extend(
            conn.execute(
                f"SELECT r.{other}, n.last_name || ' ' || n.first_name || ' ' || n.patronymic, r.kind "
                f"FROM registry_representatives r JOIN LATERAL (SELECT * FROM registry_person_names x "
                f"WHERE x.person_id = r.{other} ORDER BY valid_from DESC LIMIT 1) n ON true "
                f"WHERE r.{mine} = %s AND (r.valid_to IS NULL OR r.valid_to > current_date)",
                (person_id,),
            ).fetchall()
        )
    if actor is not None:
        audit(conn, actor, "read", "person+documents" if with_documents else "person", person_id)
    return card


def find_persons(conn: psycopg.Connection, actor: Actor, text: str, limit: int = 50) -> list[tuple]:
    """(person_id, full name, birth date) whose current or former surname starts with the first word of
    ``text`` (and first name with the second, when given); the search itself is audited."""
    words = text.split()
    if not words:
        return []
    rows = conn.execute(
        """
        SELECT DISTINCT p.person_id, cur.last_name || ' ' || cur.first_name || ' ' || cur.patronymic,
               p.birth_date
        FROM registry_person_names n JOIN registry_persons p USING (person_id)
        JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = p.person_id
                      ORDER BY valid_from DESC LIMIT 1) cur ON true
        WHERE lower(n.last_name) LIKE %(last)s
          AND (%(first)s::text IS NULL OR lower(n.first_name) LIKE %(first)s)
        ORDER BY 2, 3 LIMIT %(limit)s
        """,
        {"last": words[0].lower() + "%", "first": words[1].lower() + "%" if len(words) > 1 else None,
         "limit": limit},
    ).fetchall()  # fmt: skip
    audit(conn, actor, "read", "search", None, text)
    return [(r[0], r[1].strip(), r[2]) for r in rows]


def change_name(
    conn: psycopg.Connection, actor: Actor, person_id: int, name: PersonName, *, basis: str = ""
) -> None:
    """A new name from ``name.valid_from``; the old one stays in the history and a ``name_change`` event
    records the act (e.g. a marriage certificate)."""
    if name.valid_from is None:
        raise ValueError("для смены ФИО укажите дату, с которой действует новое имя")
    with conn.transaction():
        conn.execute(
            "INSERT INTO registry_person_names VALUES (%s, %s, %s, %s, %s, %s)",
            (person_id, name.valid_from, name.last_name, name.first_name, name.patronymic, name.reason),
        )
        conn.execute(
            "INSERT INTO registry_events (kind, person_id, event_date, reason, basis_type, recorded_by) "
            "VALUES ('name_change', %s, %s, %s, %s, %s)",
            (person_id, name.valid_from, name.full, basis, actor.name),
        )
        audit(conn, actor, "change", "name", person_id, name.full)


def replace_document(
    conn: psycopg.Connection, actor: Actor, person_id: int, new: IdentityDocument, *, on: date, reason: str
) -> None:
    """The current document of the same type is marked replaced on ``on``; the new one becomes current."""
    with conn.transaction():
        conn.execute(
            "UPDATE registry_documents SET replaced_on = %s, replaced_reason = %s "
            "WHERE person_id = %s AND replaced_on IS NULL AND doc_type = %s",
            (on, reason, person_id, new.doc_type),
        )
        _insert_document(conn, person_id, new)
        conn.execute(
            "INSERT INTO registry_events (kind, person_id, event_date, reason, recorded_by) "
            "VALUES ('document_change', %s, %s, %s, %s)",
            (person_id, on, reason, actor.name),
        )
        audit(conn, actor, "change", "documents", person_id, f"{new.doc_type} {new.series} {new.number}")


def add_representative(
    conn: psycopg.Connection, actor: Actor, representative_id: int, represented_id: int, kind: str,
    basis: str = "", valid_from: date | None = None,
) -> None:  # fmt: skip
    with conn.transaction():
        conn.execute(
            "INSERT INTO registry_representatives "
            "(representative_id, represented_id, kind, basis, valid_from) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (representative_id, represented_id, kind, basis, valid_from),
        )
        audit(conn, actor, "change", "representative", represented_id, f"{kind}: {representative_id}")


def update_person(
    conn: psycopg.Connection, actor: Actor, person_id: int, changes: Mapping[str, object]
) -> dict[str, tuple[object, object]]:
    """Set the given basic data (:data:`EDITABLE_FIELDS`) of a person; ``{field: (old, new)}`` of what
    changed. The audit row names each changed field with its former and new value, so the log keeps the
    history of these fields; a call that changes nothing writes no row."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValueError(
            f"эти поля здесь не меняются: {', '.join(unknown)}; ФИО и документы меняются отдельно "
            "(«Смена ФИО», «Новый документ»)"
        )
    columns = [f for f in EDITABLE_FIELDS if f in changes]
    with conn.transaction():
        row = conn.execute(
            f"SELECT {', '.join(EDITABLE_FIELDS)}, death_date FROM registry_persons "
            "WHERE person_id = %s FOR UPDATE",
            (person_id,),
        ).fetchone()
        if row is None:
            raise PersonNotFound(f"person {person_id} is not in the register")
        old = dict(zip(EDITABLE_FIELDS, row[:-1], strict=True))
        problems = person_data_problems(changes, today=date.today(), death_date=row[-1])
        if problems:
            raise PersonDataInvalid(problems)
        changed = {f: (old[f], changes[f]) for f in columns if old[f] != changes[f]}
        if not changed:
            return {}
        conn.execute(
            f"UPDATE registry_persons SET {', '.join(f'{f} = %s' for f in changed)} WHERE person_id = %s",
            (*(new for _, new in changed.values()), person_id),
        )
        detail = "; ".join(f"{f}: {_shown(a)} → {_shown(b)}" for f, (a, b) in changed.items())
        audit(conn, actor, "change", "person_data", person_id, detail)
    return changed


def _shown(value: object) -> str:
    return "—" if value in (None, "") else str(value)
