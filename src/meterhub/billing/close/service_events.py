"""The interruption / poor-quality records the close recalculates (``service_events``, ПП 354 раздел IX),
written one at a time by other stages (the service desk's confirmed acts). The CSV import of many is
:mod:`meterhub.billing.imports.service_events`; the recalculation is
:mod:`meterhub.billing.close.service_recalculations`.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

__all__ = ["SERVICE_EVENT_KINDS", "ServiceEventError", "record_service_event", "remove_service_event"]

SERVICE_EVENT_KINDS = ("interruption", "poor_quality")


class ServiceEventError(ValueError):
    pass


def record_service_event(
    conn: psycopg.Connection,
    *,
    building_id: str,
    premise_no: str | None,
    service: str,
    kind: str,
    started_at: datetime,
    ended_at: datetime,
    description: str = "",
) -> int:
    """Store one event ``[started_at, ended_at)`` for a premise (or the whole building when
    ``premise_no`` is None) and return its id; the same start again updates its end and description.
    The next close of the period it overlaps recalculates it."""
    if kind not in SERVICE_EVENT_KINDS:
        raise ServiceEventError(f"kind must be one of {SERVICE_EVENT_KINDS}, not {kind!r}")
    if started_at.tzinfo is None or ended_at.tzinfo is None:
        raise ServiceEventError("started_at and ended_at must be tz-aware")
    if ended_at <= started_at:
        raise ServiceEventError("ended_at must be after started_at")
    try:
        with conn.transaction():
            (event_id,) = conn.execute(
                "INSERT INTO service_events (building_id, premise_no, service, kind, started_at, ended_at,"
                " description) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (building_id, premise_no, service, kind, started_at)"
                " DO UPDATE SET ended_at = EXCLUDED.ended_at, description = EXCLUDED.description"
                " RETURNING event_id",
                (building_id, premise_no, service, kind, started_at, ended_at, description),
            ).fetchone()
    except psycopg.errors.ForeignKeyViolation as exc:
        raise ServiceEventError(f"unknown building, premise or service ({exc.diag.message_detail})") from None
    return event_id


def remove_service_event(conn: psycopg.Connection, event_id: int) -> bool:
    """Delete one event (an act cancelled); whether it existed. The next close of an open period no
    longer reduces the charge; a closed period keeps what it computed."""
    return conn.execute("DELETE FROM service_events WHERE event_id = %s", (event_id,)).rowcount > 0
