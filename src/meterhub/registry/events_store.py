"""Writing registration events and reading a premise's history.

A new event is checked by replaying the premise's events with it (:func:`replay_events`), so the stored
history always replays; an event that would not is refused with the replay's message. Events are never
updated or deleted (the table refuses it); an error is withdrawn with an annulment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from meterhub.registry.audit import Actor, audit
from meterhub.registry.counts_store import building_events
from meterhub.registry.events import (
    ARRIVAL_KINDS,
    KIND_RU,
    EventKind,
    HouseholdMember,
    RegistrationEvent,
    ReplayError,
    replay_events,
)

__all__ = [
    "Basis",
    "HouseholdMember",
    "NewArrival",
    "premise_household",
    "record_annulment",
    "record_arrival",
    "record_deregistration",
    "record_extension",
]


@dataclass(frozen=True)
class Basis:
    """The document an event rests on (заявление, свидетельство о смерти, решение суда …)."""

    type: str = ""
    number: str = ""
    date: date | None = None


@dataclass(frozen=True)
class NewArrival:
    person_id: int
    building_id: str
    premise_no: str
    kind: EventKind
    day: date
    end_date: date | None = None
    account_no: str | None = None
    relation_to_head: str = ""
    moved_from: str = ""
    basis: Basis = Basis()
    legacy_key: str | None = None


def _check(conn: psycopg.Connection, building_id: str, premise_no: str, new: RegistrationEvent) -> None:
    # a refusal names the event being added (id 0) «Новая запись» (events.record_ru)
    replay_events([*building_events(conn, building_id, premise_no), new])


def _premise_accounts(conn: psycopg.Connection, building_id: str, premise_no: str, day: date) -> list[str]:
    rows = conn.execute(
        "SELECT account_no FROM accounts WHERE building_id = %s AND premise_no = %s AND opened_on <= %s "
        "AND (closed_on IS NULL OR closed_on > %s) ORDER BY account_no",
        (building_id, premise_no, day, day),
    ).fetchall()
    return [r[0] for r in rows]


def _insert(conn: psycopg.Connection, actor: Actor, **values) -> int:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    return conn.execute(
        f"INSERT INTO registry_events ({columns}, recorded_by) VALUES ({marks}, %s) RETURNING event_id",
        (*values.values(), actor.name),
    ).fetchone()[0]  # type: ignore[index]


def record_arrival(conn: psycopg.Connection, actor: Actor, a: NewArrival) -> int:
    """Register a person in a premise (residence, stay or notice); returns the event id."""
    if a.kind not in ARRIVAL_KINDS:
        kinds = ", ".join(f"{k.value} ({KIND_RU[k]})" for k in sorted(ARRIVAL_KINDS))
        raise ValueError(f"вид регистрации «{a.kind}» — не прибытие; укажите один из: {kinds}")
    premise = conn.execute(
        "SELECT 1 FROM premises WHERE building_id = %s AND premise_no = %s", (a.building_id, a.premise_no)
    ).fetchone()
    if premise is None:
        raise ReplayError(
            f"квартиры (помещения) {a.premise_no} в доме {a.building_id} нет в перечне помещений; проверьте "
            "номер дома и квартиры"
        )
    accounts = _premise_accounts(conn, a.building_id, a.premise_no, a.day)
    if a.account_no is not None and a.account_no not in accounts:
        raise ReplayError(
            f"лицевой счёт {a.account_no} не открыт в квартире {a.premise_no} на {a.day:%d.%m.%Y}; выберите "
            "открытый счёт этой квартиры или оставьте счёт пустым"
        )
    event = RegistrationEvent(0, a.kind, a.person_id, a.day, a.building_id, a.premise_no, a.end_date, None,
                              a.account_no)  # fmt: skip
    with conn.transaction():
        _check(conn, a.building_id, a.premise_no, event)
        open_spans = [
            s for s in replay_events(building_events(conn, a.building_id, a.premise_no))
            if s.person_id == a.person_id and s.kind.value == a.kind.value and s.covers(a.day)
        ]  # fmt: skip
        if open_spans:
            raise ReplayError(
                f"гражданин № {a.person_id} уже зарегистрирован в квартире {a.premise_no} "
                f"({KIND_RU[a.kind]}, запись № {open_spans[0].arrival_id}); сначала снимите его с учёта"
            )
        event_id = _insert(
            conn, actor, kind=a.kind.value, person_id=a.person_id, building_id=a.building_id,
            premise_no=a.premise_no, account_no=a.account_no, event_date=a.day, end_date=a.end_date,
            relation_to_head=a.relation_to_head, moved_from=a.moved_from, basis_type=a.basis.type,
            basis_number=a.basis.number, basis_date=a.basis.date, legacy_key=a.legacy_key,
        )  # fmt: skip
        audit(
            conn,
            actor,
            "change",
            "registration",
            a.person_id,
            f"{a.kind} {a.building_id}/{a.premise_no} {a.day}",
        )
    return event_id


def _arrival(conn: psycopg.Connection, arrival_id: int) -> tuple[int, str, str]:
    row = conn.execute(
        "SELECT person_id, building_id, premise_no FROM registry_events WHERE event_id = %s "
        "AND kind IN ('residence', 'stay', 'notice')",
        (arrival_id,),
    ).fetchone()
    if row is None:
        raise ReplayError(
            f"запись № {arrival_id} — не регистрация (прибытие); выберите запись о регистрации гражданина"
        )
    return row


def record_deregistration(
    conn: psycopg.Connection, actor: Actor, arrival_id: int, day: date, reason: str, *, moved_to: str = "",
    basis: Basis = Basis(), legacy_key: str | None = None,
) -> int:  # fmt: skip
    """Снятие с учёта: ends the registration ``arrival_id`` from ``day`` (the first day not counted)."""
    person, building, premise = _arrival(conn, arrival_id)
    event = RegistrationEvent(0, EventKind.DEREGISTRATION, person, day, building, premise, None, arrival_id,
                              reason=reason)  # fmt: skip
    with conn.transaction():
        _check(conn, building, premise, event)
        event_id = _insert(
            conn, actor, kind="deregistration", person_id=person, building_id=building, premise_no=premise,
            event_date=day, refers_to=arrival_id, reason=reason, moved_to=moved_to, basis_type=basis.type,
            basis_number=basis.number, basis_date=basis.date, legacy_key=legacy_key,
        )  # fmt: skip
        if reason == "death":
            conn.execute(
                "UPDATE registry_persons SET death_date = coalesce(death_date, %s) WHERE person_id = %s",
                (basis.date or day, person),
            )
        audit(conn, actor, "change", "deregistration", person, f"{building}/{premise} {day} {reason}")
    return event_id


def record_extension(
    conn: psycopg.Connection, actor: Actor, arrival_id: int, day: date, new_end: date
) -> int:
    """A stay (or notice) continues to ``new_end`` (exclusive)."""
    person, building, premise = _arrival(conn, arrival_id)
    event = RegistrationEvent(
        0, EventKind.STAY_EXTENSION, person, day, building, premise, new_end, arrival_id
    )
    with conn.transaction():
        _check(conn, building, premise, event)
        event_id = _insert(
            conn, actor, kind="stay_extension", person_id=person, building_id=building, premise_no=premise,
            event_date=day, end_date=new_end, refers_to=arrival_id,
        )  # fmt: skip
        audit(conn, actor, "change", "stay_extension", person, f"{building}/{premise} to {new_end}")
    return event_id


def record_annulment(conn: psycopg.Connection, actor: Actor, event_id: int, day: date, reason: str) -> int:
    """Withdraw an erroneous event (it stays in the history, the replay skips it)."""
    row = conn.execute(
        "SELECT person_id, building_id, premise_no FROM registry_events WHERE event_id = %s", (event_id,)
    ).fetchone()
    if row is None:
        raise ReplayError(f"записи № {event_id} нет в реестре; проверьте номер записи")
    person, building, premise = row
    with conn.transaction():
        if building is not None:
            event = RegistrationEvent(0, EventKind.ANNULMENT, person, day, building, premise, None, event_id)
            _check(conn, building, premise, event)
        new_id = _insert(
            conn, actor, kind="annulment", person_id=person, building_id=building, premise_no=premise,
            event_date=day, refers_to=event_id, reason=reason,
        )  # fmt: skip
        audit(conn, actor, "change", "annulment", person, f"event {event_id}: {reason}")
    return new_id


def premise_household(conn: psycopg.Connection, building_id: str, premise_no: str) -> list[HouseholdMember]:
    """Everyone ever registered in the premise (the archive included), in arrival order, with the current
    name. Reads no documents; the caller audits the read."""
    spans = replay_events(building_events(conn, building_id, premise_no))
    if not spans:
        return []
    details = {
        r[0]: r[1:]
        for r in conn.execute(
            """
            SELECT a.event_id, n.last_name || ' ' || n.first_name || ' ' || n.patronymic, p.birth_date,
                   a.relation_to_head, a.moved_from,
                   (SELECT d.moved_to FROM registry_events d WHERE d.refers_to = a.event_id
                    AND d.kind = 'deregistration' ORDER BY d.event_id DESC LIMIT 1)
            FROM registry_events a JOIN registry_persons p USING (person_id)
            JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = a.person_id
                          ORDER BY valid_from DESC LIMIT 1) n ON true
            WHERE a.event_id = ANY(%s)
            """,
            ([s.arrival_id for s in spans],),
        )
    }
    return [
        HouseholdMember(
            s,
            details[s.arrival_id][0].strip(),
            details[s.arrival_id][1],
            details[s.arrival_id][2],
            details[s.arrival_id][3],
            details[s.arrival_id][4] or "",
        )
        for s in spans
    ]
