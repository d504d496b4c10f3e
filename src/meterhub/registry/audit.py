"""The audit log of personal data (журнал учёта действий с персональными данными, 152-ФЗ ст. 19).

Every read and change of a person's data — by the passport office, by a resident looking at their
household, by a print, a list export or an import — is one row: who, when, what (``subject``) and which
person. The log is written in the same transaction as the change it records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg

__all__ = ["Actor", "AuditEntry", "audit", "audit_entries", "audit_many"]

ACTIONS = frozenset({"read", "create", "change", "print", "export", "import"})


@dataclass(frozen=True)
class Actor:
    """Who acts: a user name and role (``cli`` and the OS user for commands)."""

    name: str
    role: str = ""


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    person_id: int | None
    subject: str
    detail: str


def audit(
    conn: psycopg.Connection, actor: Actor, action: str, subject: str, person_id: int | None = None,
    detail: str = "",
) -> None:  # fmt: skip
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not one of {sorted(ACTIONS)}")
    conn.execute(
        "INSERT INTO registry_audit_log (actor, actor_role, action, person_id, subject, detail) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (actor.name, actor.role, action, person_id, subject, detail),
    )


def audit_many(
    conn: psycopg.Connection,
    actor: Actor,
    action: str,
    subject: str,
    person_ids: Iterable[int],
    detail: str = "",
) -> None:
    """One row per person (a list, a household view, a form naming several persons)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO registry_audit_log (actor, actor_role, action, person_id, subject, detail) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(actor.name, actor.role, action, p, subject, detail) for p in dict.fromkeys(person_ids)],
        )


def audit_entries(
    conn: psycopg.Connection, *, person_id: int | None = None, limit: int = 200
) -> list[AuditEntry]:
    rows = conn.execute(
        "SELECT audit_id, at, actor, actor_role, action, person_id, subject, detail FROM registry_audit_log "
        "WHERE %(p)s::bigint IS NULL OR person_id = %(p)s ORDER BY audit_id DESC LIMIT %(n)s",
        {"p": person_id, "n": limit},
    ).fetchall()
    return [AuditEntry(*r) for r in rows]
