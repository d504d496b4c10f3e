"""Temporary absence (временное отсутствие) of registered residents, from the register itself: a person
registered at the place of residence (по месту жительства) in a premise who is registered at the place of
stay (по месту пребывания) in another premise of the register is absent from the first over the stay.

ПП 354 п. 93 names «документ органа, осуществляющего временную регистрацию гражданина по месту его
временного пребывания» among the documents that confirm a temporary absence; the recalculation itself is
made on the consumer's application (п. 91). A building therefore takes absences from its register only
when its row in ``registry_buildings`` says so (``absences_from_register``, default off: the УК treats the
stay registration its passport office recorded as the application and its confirmation). Where the
account has an application of its own (``absence_periods``) overlapping the stay, the application stands
and the register's absence is not added (a person is never taken out twice).

Dates: the stay ``[start, end)`` gives the absence ``departed_on = start`` and ``returned_on = end``; the
billing's rule (п. 90) then counts the full days between them, so the first day of the stay (the journey)
and the day back are not counted [I: the register does not say when the person travelled]. Only days on
which the home building keeps the register (``kept_from``) and the home registration runs are used.
Deregistrations (выбытие) are not absences: a person who left is no longer counted at all
(:mod:`meterhub.registry.resident_days`).

The billing's eligibility rules (normative services, no meter with an act of impossibility, more than 5
full days) stay with the billing (:mod:`meterhub.billing.service_recalculations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import psycopg

from meterhub.registry.counts_store import _event, building_accounts, building_spans, kept_from
from meterhub.registry.events import RegistrationEvent, ResidenceKind, ResidenceSpan, replay_events
from meterhub.registry.resident_days import AccountWindow, _account_for

__all__ = ["RegisterAbsence", "absences_elsewhere", "register_absences", "takes_absences"]


@dataclass(frozen=True, slots=True)
class RegisterAbsence:
    account_no: str
    person_id: int
    departed_on: date
    returned_on: date
    stay_building: str
    stay_premise: str

    @property
    def document(self) -> str:
        return (
            f"регистрация по месту пребывания: дом {self.stay_building}, кв. {self.stay_premise}, "
            f"с {self.departed_on:%d.%m.%Y} по {self.returned_on:%d.%m.%Y} (регистрационный учёт)"
        )


def absences_elsewhere(
    home: Iterable[ResidenceSpan],
    stays: Iterable[ResidenceSpan],
    accounts: Sequence[AccountWindow],
    first: date,
    end: date,
) -> list[RegisterAbsence]:
    """Pure: for every residence registration of ``home`` and every stay registration of the same person
    in another premise (``stays``), the absence over their common days touching ``[first, end)``, booked to
    the home premise's account open on the day the stay begins (the same account rule as the counts)."""
    stays_of: dict[int, list[ResidenceSpan]] = {}
    for s in stays:
        if s.kind is ResidenceKind.STAY and s.end is not None:
            stays_of.setdefault(s.person_id, []).append(s)
    result: list[RegisterAbsence] = []
    for h in home:
        if h.kind is not ResidenceKind.RESIDENCE:
            continue
        for s in stays_of.get(h.person_id, ()):
            if (s.building_id, s.premise_no) == (h.building_id, h.premise_no):
                continue
            lo = max(s.start, h.start)
            hi = s.end if h.end is None else min(s.end, h.end)  # type: ignore[type-var]
            if hi is None or hi <= lo or hi <= first or lo >= end:
                continue
            open_accounts = [a for a in accounts if a.premise_no == h.premise_no and a.open_on(lo)]
            account = _account_for(h, lo, open_accounts)
            if account is None:
                continue
            result.append(RegisterAbsence(account, h.person_id, lo, hi, s.building_id, s.premise_no))
    return sorted(result, key=lambda a: (a.account_no, a.departed_on, a.person_id))


def takes_absences(conn: psycopg.Connection, building_id: str) -> bool:
    row = conn.execute(
        "SELECT absences_from_register FROM registry_buildings WHERE building_id = %s", (building_id,)
    ).fetchone()
    return bool(row and row[0])


def register_absences(
    conn: psycopg.Connection, building_id: str, first: date, end: date
) -> list[RegisterAbsence]:
    """The absences of ``building_id``'s residents over ``[first, end)`` from their stays elsewhere in the
    register — [] unless the building keeps the register and takes absences from it. Stays in another
    premise of the same building count too; the days before ``kept_from`` never do."""
    since = kept_from(conn, building_id)
    if since is None or since >= end or not takes_absences(conn, building_id):
        return []
    start = max(first, since)
    home = building_spans(conn, building_id)
    persons = sorted({s.person_id for s in home if s.kind is ResidenceKind.RESIDENCE})
    if not persons:
        return []
    rows = conn.execute(
        "SELECT event_id, kind, person_id, event_date, building_id, premise_no, end_date, refers_to,"
        " account_no, reason FROM registry_events WHERE person_id = ANY(%s)"
        " AND kind NOT IN ('name_change', 'document_change') ORDER BY event_date, event_id",
        (persons,),
    ).fetchall()
    by_premise: dict[tuple[str, str], list[RegistrationEvent]] = {}
    for row in rows:
        event = _event(row)
        by_premise.setdefault((event.building_id, event.premise_no), []).append(event)
    everywhere = [span for events in by_premise.values() for span in replay_events(events)]
    found = absences_elsewhere(home, everywhere, building_accounts(conn, building_id), start, end)
    # before the register is kept nothing is taken from it: an absence begun earlier counts from ``start``
    # (``start`` − 1 is its departure day, so ``start`` is its first full day)
    day_before = start - timedelta(days=1)
    return [a if a.departed_on >= day_before else replace(a, departed_on=day_before) for a in found]
