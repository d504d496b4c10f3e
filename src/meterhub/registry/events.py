"""Registration events (события регистрационного учёта) and their replay into residence spans.

A premise's history is an append-only list of events; nothing is overwritten. An arrival opens a
residence span, a deregistration (снятие с регистрационного учёта) or the planned end of a stay closes
it, an extension moves a stay's end, an annulment (аннулирование ошибочной записи) removes an event from
the replay. Replaying the events gives, for every person, the days they were registered or residing in a
premise: the input of :mod:`meterhub.registry.resident_days`.

Dates follow the billing convention: a span is ``[start, end)`` — ``start`` is the first day the person
counts, ``end`` the first day they no longer count (a departure dated 10 March removes the person from
10 March on). Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

__all__ = [
    "ARRIVAL_KINDS",
    "KIND_RU",
    "DeregistrationReason",
    "EventKind",
    "HouseholdMember",
    "RegistrationEvent",
    "ReplayError",
    "ResidenceKind",
    "ResidenceSpan",
    "replay_events",
]


class EventKind(StrEnum):
    """What an event records.

    * ``residence`` — registration at the place of residence (регистрация по месту жительства, постоянная);
    * ``stay`` — registration at the place of stay (по месту пребывания, временная), with an end date;
    * ``notice`` — a temporary resident without registration, by the owner's notice or an act
      (временно проживающий, ПП 354 п. 56(1));
    * ``deregistration`` — снятие с учёта (departure, death, court decision), acts on an arrival;
    * ``stay_extension`` — a stay or notice gets a new end date;
    * ``annulment`` — an erroneous event is withdrawn (the record stays, the replay skips it);
    * ``name_change`` / ``document_change`` — смена ФИО / замена документа: kept in the history, no
      effect on the counts.
    """

    RESIDENCE = "residence"
    STAY = "stay"
    NOTICE = "notice"
    DEREGISTRATION = "deregistration"
    STAY_EXTENSION = "stay_extension"
    ANNULMENT = "annulment"
    NAME_CHANGE = "name_change"
    DOCUMENT_CHANGE = "document_change"


class ResidenceKind(StrEnum):
    RESIDENCE = "residence"  # зарегистрирован по месту жительства
    STAY = "stay"  # зарегистрирован по месту пребывания
    NOTICE = "notice"  # временно проживающий по заявлению


ARRIVAL_KINDS: frozenset[EventKind] = frozenset({EventKind.RESIDENCE, EventKind.STAY, EventKind.NOTICE})


class DeregistrationReason(StrEnum):
    DEPARTURE = "departure"  # выбытие
    DEATH = "death"  # смерть
    COURT = "court"  # решение суда (признание утратившим право пользования, выселение)
    STAY_ENDED = "stay_ended"  # досрочное окончание пребывания


class ReplayError(ValueError):
    """An event that contradicts the history (e.g. a departure before the arrival it ends); the message is
    in Russian for the passport office, naming the record (``запись № N``; the one being added is
    ``новая запись``) and what to do."""


KIND_RU = {
    EventKind.RESIDENCE: "регистрация по месту жительства",
    EventKind.STAY: "регистрация по месту пребывания",
    EventKind.NOTICE: "временно проживающий",
    EventKind.DEREGISTRATION: "снятие с учёта",
    EventKind.STAY_EXTENSION: "продление срока пребывания",
    EventKind.ANNULMENT: "аннулирование записи",
    EventKind.NAME_CHANGE: "смена ФИО",
    EventKind.DOCUMENT_CHANGE: "замена документа",
}
"""Each kind of event as the passport office names it (in refusals)."""


def record_ru(event_id: int) -> str:
    """«Запись № 12» (a refusal starts with it); the event being added (id 0, not stored yet) is «Новая
    запись»."""
    return "Новая запись" if event_id == 0 else f"Запись № {event_id}"


def _ru(day: date) -> str:
    return day.strftime("%d.%m.%Y")


@dataclass(frozen=True, slots=True)
class RegistrationEvent:
    """One event as stored (``registry_events``). ``refers_to``: the event a deregistration, extension
    or annulment acts on; ``end_date``: a stay's or notice's planned end (exclusive), an extension's new
    end; ``account_no``: the account (лицевой счёт) an arrival is bound to in a premise with several."""

    event_id: int
    kind: EventKind
    person_id: int
    event_date: date
    building_id: str | None = None
    premise_no: str | None = None
    end_date: date | None = None
    refers_to: int | None = None
    account_no: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ResidenceSpan:
    """A person registered or residing in a premise over ``[start, end)`` (``end`` None = open)."""

    arrival_id: int
    person_id: int
    building_id: str
    premise_no: str
    kind: ResidenceKind
    start: date
    end: date | None
    account_no: str | None = None
    ended_by: int | None = None  # the deregistration event, if any
    end_reason: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def days_in(self, first: date, end: date) -> int:
        """Days of ``[first, end)`` inside the span [days]."""
        lo = max(first, self.start)
        hi = end if self.end is None else min(end, self.end)
        return max(0, (hi - lo).days)


@dataclass(frozen=True)
class HouseholdMember:
    """A person of a premise's history with their span and the event's details (форма № 10's row)."""

    span: ResidenceSpan
    full_name: str
    birth_date: date | None
    relation_to_head: str
    moved_from: str
    moved_to: str


def _annulled(events: Sequence[RegistrationEvent]) -> set[int]:
    ids = {e.event_id for e in events}
    out: set[int] = set()
    for e in events:
        if e.kind is EventKind.ANNULMENT:
            if e.refers_to not in ids:
                raise ReplayError(
                    f"{record_ru(e.event_id)} (аннулирование) ссылается на запись № {e.refers_to}, "
                    "которой нет в реестре; укажите номер аннулируемой записи"
                )
            out.add(e.refers_to)
    return out


def replay_events(events: Iterable[RegistrationEvent]) -> list[ResidenceSpan]:
    """The residence spans the events give, in arrival order.

    Raises :class:`ReplayError` naming the event when a deregistration or extension refers to an event
    that is not an arrival, ends a span that has already ended, or dates the end on or before its start.
    """
    ordered = sorted(events, key=lambda e: (e.event_date, e.event_id))
    skipped = _annulled(ordered)
    spans: dict[int, ResidenceSpan] = {}
    arrivals = {e.event_id: e for e in ordered if e.kind in ARRIVAL_KINDS}
    for e in ordered:
        if e.event_id in skipped or e.kind is EventKind.ANNULMENT:
            continue
        if e.kind in ARRIVAL_KINDS:
            if e.building_id is None or e.premise_no is None:
                raise ReplayError(f"{record_ru(e.event_id)}: укажите дом и квартиру (помещение) регистрации")
            if e.kind is EventKind.STAY and e.end_date is None:
                raise ReplayError(
                    f"{record_ru(e.event_id)}: для регистрации по месту пребывания укажите дату окончания "
                    "(срок пребывания)"
                )
            if e.end_date is not None and e.end_date <= e.event_date:
                raise ReplayError(
                    f"{record_ru(e.event_id)}: дата окончания {_ru(e.end_date)} должна быть позже даты "
                    f"регистрации {_ru(e.event_date)}; исправьте дату окончания"
                )
            spans[e.event_id] = ResidenceSpan(
                e.event_id, e.person_id, e.building_id, e.premise_no, ResidenceKind(e.kind.value),
                e.event_date, e.end_date, e.account_no,
            )  # fmt: skip
        elif e.kind in (EventKind.DEREGISTRATION, EventKind.STAY_EXTENSION):
            span = spans.get(e.refers_to) if e.refers_to is not None else None
            later = arrivals.get(e.refers_to) if e.refers_to is not None else None
            if span is None and later is not None and e.refers_to not in skipped:
                raise ReplayError(
                    f"{record_ru(e.event_id)} ({KIND_RU[e.kind]}) от {_ru(e.event_date)} не позже даты "
                    f"регистрации {_ru(later.event_date)}; укажите дату после неё"
                )
            if span is None or e.refers_to in skipped:
                raise ReplayError(
                    f"{record_ru(e.event_id)} ({KIND_RU[e.kind]}) ссылается на запись № {e.refers_to}, "
                    "которая не является действующей регистрацией; выберите запись о регистрации"
                )
            if span.ended_by is not None:
                raise ReplayError(
                    f"{record_ru(e.event_id)}: регистрация (запись № {span.arrival_id}) уже прекращена "
                    f"записью № {span.ended_by}; повторно снять с учёта нельзя"
                )
            if e.kind is EventKind.DEREGISTRATION:
                if e.event_date <= span.start:
                    raise ReplayError(
                        f"{record_ru(e.event_id)}: дата снятия с учёта {_ru(e.event_date)} не позже даты "
                        f"регистрации {_ru(span.start)}; укажите дату после неё"
                    )
                # a stay ends at its planned end by itself; an earlier departure ends it sooner
                end = e.event_date if span.end is None else min(span.end, e.event_date)
                spans[span.arrival_id] = replace(span, end=end, ended_by=e.event_id, end_reason=e.reason)
            else:
                if e.end_date is None or e.end_date <= span.start:
                    raise ReplayError(
                        f"{record_ru(e.event_id)}: для продления укажите новую дату окончания позже даты "
                        f"регистрации {_ru(span.start)}"
                    )
                spans[span.arrival_id] = replace(span, end=e.end_date)
    return sorted(spans.values(), key=lambda s: (s.start, s.arrival_id))
