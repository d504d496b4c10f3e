"""The dead-letter table: every rejected input with its raw payload and the reason.

A payload larger than ``MAX_KEPT_PAYLOAD`` is kept as its first ``MAX_KEPT_PAYLOAD`` bytes, with its
full size and SHA-256 in ``context`` (``payload_bytes``, ``payload_sha256``, ``payload_truncated``): a
storm of huge messages costs the table a bounded amount per message, and the prefix and the hash are
enough to tell what was sent and to match it against the sender's copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

MAX_KEPT_PAYLOAD = 64 * 1024


def payload_summary(payload: bytes, keep: int = MAX_KEPT_PAYLOAD) -> tuple[bytes, dict[str, Any]]:
    """(the bytes to keep, context fields describing the whole) — the payload itself if it is small."""
    if len(payload) <= keep:
        return payload, {}
    return payload[:keep], {
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_truncated": True,
    }


@dataclass(frozen=True)
class DeadLetter:
    source: str  # which boundary rejected it: 'write_readings', 'mqtt', 'api', ...
    reason: str  # machine-readable code
    detail: str  # what is wrong and what to do
    payload: bytes  # the raw input as received
    meter_id: str | None = None
    register: str | None = None
    ts: datetime | None = None
    context: dict[str, Any] | None = None


def write_dead_letters(conn: psycopg.Connection, letters: Sequence[DeadLetter]) -> None:
    """Store rejected inputs (in the caller's transaction)."""
    if not letters:
        return
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO dead_letters (source, reason, detail, payload, meter_id, register, ts, context)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [_row(d) for d in letters],
        )


def _row(d: DeadLetter) -> tuple[Any, ...]:
    payload, about = payload_summary(d.payload)
    context = {**(d.context or {}), **about} if about or d.context is not None else None
    return (
        d.source,
        d.reason,
        d.detail,
        payload,
        d.meter_id,
        d.register,
        d.ts,
        Jsonb(context) if context is not None else None,
    )


def recent_dead_letters(conn: psycopg.Connection, limit: int = 50) -> list[dict[str, Any]]:
    """The newest dead letters, for inspection (CLI, dashboards)."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(
            "SELECT id, received_at, source, reason, detail, meter_id, register, ts, payload, context "
            "FROM dead_letters ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        return list(cur.fetchall())
