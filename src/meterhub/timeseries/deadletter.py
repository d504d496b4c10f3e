"""The dead-letter table: every rejected input with its raw payload and the reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


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
            [
                (
                    d.source,
                    d.reason,
                    d.detail,
                    d.payload,
                    d.meter_id,
                    d.register,
                    d.ts,
                    Jsonb(d.context) if d.context is not None else None,
                )
                for d in letters
            ],
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
