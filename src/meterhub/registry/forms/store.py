"""Preparing a printed form from the database: gather the person, premise, owners and history, fill the
form (:mod:`meterhub.registry.forms.fill`) and write the print to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from meterhub.registry.audit import Actor, audit_many
from meterhub.registry.events import ReplayError, ResidenceKind
from meterhub.registry.events_store import premise_household
from meterhub.registry.forms import fill
from meterhub.registry.forms.document import FORM_KINDS, FormDocument
from meterhub.registry.persons_store import load_person

__all__ = ["FormRequest", "load_premise", "prepare_form"]


def load_premise(conn: psycopg.Connection, building_id: str, premise_no: str, on: date) -> fill.Premise:
    row = conn.execute(
        "SELECT b.address, p.area, coalesce(r.registration_authority, '') FROM premises p "
        "JOIN buildings b USING (building_id) LEFT JOIN registry_buildings r USING (building_id) "
        "WHERE p.building_id = %s AND p.premise_no = %s",
        (building_id, premise_no),
    ).fetchone()
    if row is None:
        raise LookupError(
            f"квартиры (помещения) {premise_no} в доме {building_id} нет в перечне помещений; "
            "проверьте номер дома и квартиры"
        )
    owners = conn.execute(
        """
        SELECT coalesce(n.last_name || ' ' || n.first_name || ' ' || n.patronymic, o.organization),
               o.share_numerator, o.share_denominator, o.title_type, o.title_number, o.title_date
        FROM registry_owners o
        LEFT JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = o.person_id
                           ORDER BY valid_from DESC LIMIT 1) n ON true
        WHERE o.building_id = %s AND o.premise_no = %s AND o.acquired_on <= %s
          AND (o.lost_on IS NULL OR o.lost_on > %s)
        ORDER BY o.acquired_on, o.ownership_id
        """,
        (building_id, premise_no, on, on),
    ).fetchall()
    texts = []
    for name, num, den, title, number, title_date in owners:
        text = f"{name.strip()}, доля {num}/{den}"
        if title:
            text += (
                f", {title}"
                + (f" № {number}" if number else "")
                + (f" от {fill.ru_date(title_date)}" if title_date else "")
            )
        texts.append(text)
    area = f"{row[1].normalize():f}".replace(".", ",")
    return fill.Premise(row[0], premise_no, area, tuple(texts), row[2])


@dataclass(frozen=True)
class FormRequest:
    """What to print: ``kind`` (a key of FORM_KINDS) with the arrival (forms 6, 9, справка о регистрации),
    the premise (form 10, справка о составе семьи) or the person, building and period (справка о периоде)."""

    kind: str
    arrival_id: int | None = None
    building_id: str | None = None
    premise_no: str | None = None
    person_id: int | None = None
    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.kind not in FORM_KINDS:
            known = "; ".join(f"{k} ({title})" for k, title in FORM_KINDS.items())
            raise ValueError(f"неизвестная форма «{self.kind}»; выберите одну из: {known}")


def _arrival_row(conn: psycopg.Connection, arrival_id: int) -> tuple:
    row = conn.execute(
        "SELECT person_id, building_id, premise_no, basis_type, basis_number, basis_date "
        "FROM registry_events WHERE event_id = %s AND kind IN ('residence', 'stay', 'notice')",
        (arrival_id,),
    ).fetchone()
    if row is None:
        raise ReplayError(
            f"запись № {arrival_id} — не регистрация (прибытие); выберите запись о регистрации гражданина"
        )
    return row


def _arrivals(members, basis: dict[int, str]) -> dict[int, fill.Arrival]:
    return {
        m.span.arrival_id: fill.Arrival(
            m.span.kind,
            m.span.start,
            m.span.end,
            m.moved_from,
            m.moved_to,
            m.relation_to_head,
            basis.get(m.span.arrival_id, ""),
            m.span.end_reason,
        )
        for m in members
    }


def prepare_form(conn: psycopg.Connection, actor: Actor, request: FormRequest, today: date) -> FormDocument:
    """The filled form; its persons get a ``print`` row in the audit log."""
    r = request
    if r.kind in ("form6", "form9", "registration"):
        if r.arrival_id is None:
            raise ValueError(f"{FORM_KINDS[r.kind]}: выберите регистрацию гражданина (arrival_id)")
        person_id, building, premise_no, b_type, b_number, b_date = _arrival_row(conn, r.arrival_id)
        members = premise_household(conn, building, premise_no)
        basis = " ".join(x for x in (b_type, f"№ {b_number}" if b_number else "", fill.ru_date(b_date)) if x)
        arrival = _arrivals(members, {r.arrival_id: basis})[r.arrival_id]
        person = load_person(conn, person_id)
        premise = load_premise(conn, building, premise_no, today)
        if r.kind == "form6":
            rep = conn.execute(
                "SELECT representative_id FROM registry_representatives WHERE represented_id = %s "
                "AND (valid_to IS NULL OR valid_to > %s) ORDER BY kind LIMIT 1",
                (person_id, today),
            ).fetchone()
            doc = fill.form6(person, premise, arrival, today, load_person(conn, rep[0]) if rep else None)
        elif r.kind == "form9":
            children = [
                load_person(conn, pid)
                for (pid,) in conn.execute(
                    "SELECT r.represented_id FROM registry_representatives r JOIN registry_persons p "
                    "ON p.person_id = r.represented_id WHERE r.representative_id = %s AND p.birth_date > %s",
                    (person_id, date(today.year - 14, today.month, min(today.day, 28))),
                )
                if any(m.span.person_id == pid and m.span.covers(today) for m in members)
            ]
            doc = fill.form9(person, premise, arrival, children)
        else:
            doc = fill.registration_certificate(person, premise, arrival, today)
    elif r.kind in ("form10", "family"):
        if r.building_id is None or r.premise_no is None:
            raise ValueError(f"{FORM_KINDS[r.kind]}: укажите дом и квартиру")
        members = premise_household(conn, r.building_id, r.premise_no)
        premise = load_premise(conn, r.building_id, r.premise_no, today)
        persons = [m.span.person_id for m in members]
        if r.kind == "form10":
            doc = fill.form10(premise, members, persons)
        else:
            doc = fill.family_certificate(premise, members, today, [m.span.person_id for m in members
                                                                     if m.span.covers(today)])  # fmt: skip
    else:  # period
        if r.person_id is None or r.first is None or r.last is None or r.building_id is None:
            raise ValueError(
                "Справка о периоде проживания: укажите гражданина, дом и период (первый и последний день)"
            )
        rows = conn.execute(
            "SELECT DISTINCT premise_no FROM registry_events WHERE person_id = %s AND building_id = %s "
            "AND kind IN ('residence', 'stay', 'notice') ORDER BY 1",
            (r.person_id, r.building_id),
        ).fetchall()
        if not rows:
            raise LookupError(
                f"гражданин № {r.person_id} никогда не был зарегистрирован в доме {r.building_id}; проверьте "
                "дом или гражданина"
            )
        premise_no = r.premise_no or rows[0][0]
        members = [
            m for m in premise_household(conn, r.building_id, premise_no) if m.span.person_id == r.person_id
        ]
        arrivals = [a for a in _arrivals(members, {}).values() if a.kind is not ResidenceKind.NOTICE]
        doc = fill.period_certificate(
            load_person(conn, r.person_id), load_premise(conn, r.building_id, premise_no, today), arrivals,
            r.first, r.last, today,
        )  # fmt: skip
    audit_many(conn, actor, "print", r.kind, doc.person_ids, FORM_KINDS[r.kind])
    return doc
