"""Acts of undersupply (акты о непредоставлении / о ненадлежащем качестве, ПП 354 пп. 104–110).

An act is drawn up from a request (or by the dispatcher directly) with the start — the time of the
consumer's report or of the check (п. 108–109) — and, once restored, the end (п. 111–113). Confirming it
writes one billing interruption record through
:func:`meterhub.billing.close.service_events.record_service_event`;
cancelling a confirmed act removes that record. The money is the close's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from meterhub.billing.close.service_events import record_service_event, remove_service_event
from meterhub.servicedesk.requests_store import RequestError, log_event

__all__ = ["ActDraft", "cancel_act", "confirm_act", "draw_up_act"]

KIND_NAMES = {
    "interruption": "о непредоставлении коммунальной услуги",
    "poor_quality": "о предоставлении коммунальной услуги ненадлежащего качества",
}


@dataclass(frozen=True)
class ActDraft:
    building_id: str
    premise_no: str | None
    service: str
    kind: str  # interruption / poor_quality
    started_at: datetime
    ended_at: datetime | None = None
    findings: str = ""
    request_id: int | None = None


def draw_up_act(conn: psycopg.Connection, draft: ActDraft, *, actor: int | None = None) -> tuple[int, str]:
    """Register a draft act; returns (act id, act number «А-YYYY-NNNNN»)."""
    if draft.kind not in KIND_NAMES:
        raise RequestError(f"act kind must be one of {sorted(KIND_NAMES)}")
    if draft.started_at.tzinfo is None or (draft.ended_at is not None and draft.ended_at.tzinfo is None):
        raise RequestError("act times must be tz-aware")
    if draft.ended_at is not None and draft.ended_at <= draft.started_at:
        raise RequestError("the act's end must be after its start")
    (seq,) = conn.execute("SELECT nextval('sd_act_numbers')").fetchone()
    act_no = f"А-{draft.started_at.year}-{seq:05d}"
    (act_id,) = conn.execute(
        "INSERT INTO sd_acts (act_no, request_id, building_id, premise_no, service, kind, started_at,"
        " ended_at, findings, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING act_id",
        (
            act_no,
            draft.request_id,
            draft.building_id,
            draft.premise_no,
            draft.service,
            draft.kind,
            draft.started_at,
            draft.ended_at,
            draft.findings,
            actor,
        ),
    ).fetchone()
    if draft.request_id is not None:
        log_event(conn, draft.request_id, "act", f"акт {act_no} {KIND_NAMES[draft.kind]}", actor=actor)
    return act_id, act_no


def confirm_act(
    conn: psycopg.Connection,
    act_id: int,
    now: datetime,
    *,
    ended_at: datetime | None = None,
    actor: int | None = None,
) -> int:
    """Confirm a draft act (with its end, if not yet set) and record the interruption billing
    recalculates; returns the billing event id."""
    row = conn.execute(
        "SELECT act_no, building_id, premise_no, service, kind, started_at, ended_at, status, findings"
        " FROM sd_acts WHERE act_id = %s FOR UPDATE",
        (act_id,),
    ).fetchone()
    if row is None:
        raise RequestError(f"act {act_id} not found")
    act_no, building, premise, service, kind, started, ended, status, findings = row
    if status != "draft":
        raise RequestError(f"act {act_no} is {status}; only a draft is confirmed")
    ended = ended_at or ended
    if ended is None:
        raise RequestError(f"act {act_no} has no end time: the service is not restored yet")
    if ended <= started:
        raise RequestError("the act's end must be after its start")
    event_id = record_service_event(
        conn,
        building_id=building,
        premise_no=premise,
        service=service,
        kind=kind,
        started_at=started,
        ended_at=ended,
        description=f"акт {act_no}: {findings}".rstrip(": "),
    )
    conn.execute(
        "UPDATE sd_acts SET status = 'confirmed', ended_at = %s, event_id = %s, confirmed_by = %s,"
        " confirmed_at = %s WHERE act_id = %s",
        (ended, event_id, actor, now, act_id),
    )
    return event_id


def cancel_act(conn: psycopg.Connection, act_id: int, *, actor: int | None = None) -> None:
    """Cancel an act; a confirmed one's billing record goes with it (the open period's next close no
    longer reduces the charge)."""
    row = conn.execute(
        "SELECT status, event_id FROM sd_acts WHERE act_id = %s FOR UPDATE", (act_id,)
    ).fetchone()
    if row is None:
        raise RequestError(f"act {act_id} not found")
    conn.execute("UPDATE sd_acts SET status = 'cancelled', event_id = NULL WHERE act_id = %s", (act_id,))
    if row[1] is not None:
        remove_service_event(conn, row[1])
