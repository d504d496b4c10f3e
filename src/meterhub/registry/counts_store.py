"""The register's resident counts for the close: load a building's events and accounts, replay, count.

:func:`register_resident_days` is what billing calls (``billing.repository.residents_in_period``): for a
building whose УК keeps the register in meterhub (``registry_buildings``) it returns the counts of the
days from ``kept_from`` on; the days before come from the counts import (``resident_counts``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg

from meterhub.registry.events import EventKind, RegistrationEvent, ResidenceSpan, replay_events
from meterhub.registry.resident_days import AccountWindow, DayCount, ResidentDays, counts_by_day

log = logging.getLogger(__name__)

__all__ = [
    "RegisterCounts",
    "building_accounts",
    "building_events",
    "building_spans",
    "kept_from",
    "register_counts_on",
    "register_resident_days",
]

log = logging.getLogger(__name__)

_EVENT_COLUMNS = (
    "event_id, kind, person_id, event_date, building_id, premise_no, end_date, refers_to, account_no, reason"
)


@dataclass(frozen=True)
class RegisterCounts:
    """Counts of the days ``[counts.first, counts.end)``: the part of a period the register covers."""

    kept_from: date
    counts: ResidentDays


def kept_from(conn: psycopg.Connection, building_id: str) -> date | None:
    row = conn.execute(
        "SELECT kept_from FROM registry_buildings WHERE building_id = %s", (building_id,)
    ).fetchone()
    return row[0] if row else None


def _event(row: tuple) -> RegistrationEvent:
    event_id, kind, person, day, building, premise, end, refers, account, reason = row
    return RegistrationEvent(
        event_id, EventKind(kind), person, day, building, premise, end, refers, account, reason
    )


def building_events(
    conn: psycopg.Connection, building_id: str, premise_no: str | None = None
) -> list[RegistrationEvent]:
    """The events of a building's premises (of one premise when given), including those acting on them."""
    rows = conn.execute(
        f"""
        SELECT {_EVENT_COLUMNS} FROM registry_events
        WHERE building_id = %(b)s AND (%(p)s::text IS NULL OR premise_no = %(p)s)
          AND kind NOT IN ('name_change', 'document_change')
        ORDER BY event_date, event_id
        """,
        {"b": building_id, "p": premise_no},
    ).fetchall()
    return [_event(r) for r in rows]


def building_spans(
    conn: psycopg.Connection, building_id: str, premise_no: str | None = None
) -> list[ResidenceSpan]:
    return replay_events(building_events(conn, building_id, premise_no))


def building_accounts(conn: psycopg.Connection, building_id: str) -> list[AccountWindow]:
    rows = conn.execute(
        "SELECT account_no, premise_no, opened_on, closed_on, share FROM accounts WHERE building_id = %s",
        (building_id,),
    ).fetchall()
    return [AccountWindow(*r) for r in rows]


def register_resident_days(
    conn: psycopg.Connection, building_id: str, first: date, end: date
) -> RegisterCounts | None:
    """The register's counts of ``[max(first, kept_from), end)``, or None when the building does not keep
    the register in meterhub over any day of ``[first, end)``."""
    since = kept_from(conn, building_id)
    if since is None or since >= end:
        return None
    start = max(first, since)
    counts = counts_by_day(
        building_spans(conn, building_id), building_accounts(conn, building_id), start, end
    )
    if counts.unbilled:
        premises = ", ".join(sorted({premise for premise, _, _ in counts.unbilled}))
        log.warning(
            "building %s: persons registered in premises %s on %d premise-day(s) of %s..%s while no account "
            "of the premise is open; they are not billed: open the account or correct the registration",
            building_id,
            premises,
            len(counts.unbilled),
            start,
            end,
        )
    return RegisterCounts(since, counts)


def register_counts_on(conn: psycopg.Connection, building_id: str, day: date) -> dict[str, DayCount] | None:
    """Registered and temporary residents per account on ``day`` from the register, or None when the
    building does not keep it on that day (receipts, the account view)."""
    register = register_resident_days(conn, building_id, day, day + timedelta(days=1))
    if register is None:
        return None
    return {account: counts[0] for account, counts in register.counts.by_account.items()}
