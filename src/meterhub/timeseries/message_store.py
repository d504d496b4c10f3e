"""Storing MQTT messages: readings batches and gateway status, with authorisation and dead letters.

No MQTT here: ``store_messages`` takes (topic, payload) pairs already received and writes them all in
one transaction, so the caller can acknowledge every one of them once it returns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from meterhub.core.mqtt_contract import (
    ContractError,
    ReadingsBatch,
    parse_batch,
    parse_readings,
    parse_status,
    parse_topic,
)
from meterhub.core.readings import Reading
from meterhub.timeseries.batch_decoder import decode_batch
from meterhub.timeseries.deadletter import DeadLetter, write_dead_letters
from meterhub.timeseries.ingest import PreparedColumns, ReadingWriter, WriteResult

_NOT_PARSED: Any = object()


@dataclass(frozen=True)
class InboundMessage:
    topic: str
    payload: bytes
    received_at: datetime | None = None
    # ``decode_batch(payload)`` when the receiver already ran it (the MQTT ingest does, on its network
    # thread, while the storing thread waits for the database); None = the fast path failed
    fast: Any = field(default=_NOT_PARSED, compare=False, repr=False)


@dataclass
class _PendingBatch:
    msg: InboundMessage
    batch: ReadingsBatch
    readings: list[Reading] | PreparedColumns
    context: dict[str, Any]
    dead: list[DeadLetter]
    result: WriteResult = field(default_factory=WriteResult)


@dataclass
class StoreResult:
    messages: int = 0
    readings: WriteResult = field(default_factory=WriteResult)
    dead_messages: int = 0
    statuses: int = 0


class MessageStore:
    """Writes received MQTT messages over one connection (owned by the ingest worker)."""

    def __init__(self, conn: psycopg.Connection, writer: ReadingWriter, *, worker: str) -> None:
        self.conn = conn
        self.writer = writer
        self.worker = worker
        self._building_of: dict[str, str | None] = {}

    def _buildings(self, meter_ids: set[str]) -> dict[str, str | None]:
        missing = [m for m in meter_ids if m not in self._building_of]
        if missing:
            if len(self._building_of) > 2_000_000:
                self._building_of.clear()
            for meter_id, building in self.conn.execute(
                "SELECT meter_id, building_id FROM meters WHERE meter_id = ANY(%s)", (missing,)
            ).fetchall():
                self._building_of[meter_id] = building
        return self._building_of

    def store(self, messages: Sequence[InboundMessage]) -> StoreResult:
        """Store a group of messages in one transaction; raises only on database errors.

        The readings of all messages go to the database in one COPY (``write_many``); counts and
        dead letters stay per message.
        """
        result = StoreResult(messages=len(messages))
        # series not cached yet (a gateway's first messages): one lookup for the whole group
        self.writer.look_up(
            (k[0], k[1])
            for m in messages
            if m.fast is not _NOT_PARSED and m.fast is not None
            for k in m.fast.keys
        )
        with self.conn.transaction():
            pending: list[_PendingBatch] = []
            for msg in messages:
                parts = parse_topic(msg.topic)
                if parts is None:
                    self._dead(
                        msg, "unknown_topic", f"topic {msg.topic!r} is not part of the meterhub v1 contract"
                    )
                    result.dead_messages += 1
                elif parts.kind == "status":
                    if self._store_status(msg, parts.building, parts.gateway):
                        result.statuses += 1
                    else:
                        result.dead_messages += 1
                else:
                    p = self._prepare_readings(msg, parts.building, parts.gateway)
                    if p is None:
                        result.dead_messages += 1
                    else:
                        pending.append(p)
            if pending:
                for p, wr in zip(
                    pending, self.writer.write_many([(p.readings, p.context) for p in pending]), strict=True
                ):
                    if p.dead:
                        write_dead_letters(self.conn, p.dead)
                        wr.rejected += len(p.dead)
                        for d in p.dead:
                            wr.reasons[d.reason] = wr.reasons.get(d.reason, 0) + 1
                    result.readings.add(wr)
                    p.result = wr
                self._log(pending)
        return result

    def _dead(self, msg: InboundMessage, reason: str, detail: str, **context: Any) -> None:
        write_dead_letters(
            self.conn,
            [DeadLetter("mqtt", reason, detail, msg.payload, context={"topic": msg.topic, **context})],
        )

    def _prepare_readings(self, msg: InboundMessage, building: str, gateway: str) -> _PendingBatch | None:
        """Parse and authorise one readings message; None if the whole message went to dead letters.

        A well-formed message of known meters of this building (the normal case) goes the fast way:
        decoded into columns (``batch_decoder``), checked per distinct meter and timestamp, written as
        binary COPY rows built with numpy. Anything unusual goes reading by reading, with reasons.
        """
        fast = decode_batch(msg.payload) if msg.fast is _NOT_PARSED else msg.fast
        problems: list[Any] = []
        if fast is not None:
            batch = fast.envelope
            if self._mismatch(msg, batch, building, gateway):
                return None
            context = self._context(msg, batch, gateway)
            prepared = self.writer.prepare_columns(fast, building)
            if prepared is not None:
                return _PendingBatch(msg, batch, prepared, context, [])
            readings = fast.readings()  # the writer sorts out which and why
        else:
            try:
                batch = parse_batch(msg.payload)
            except ContractError as e:
                self._dead(msg, e.reason, e.detail)
                return None
            if self._mismatch(msg, batch, building, gateway):
                return None
            context = self._context(msg, batch, gateway)
            readings, problems = parse_readings(batch)
        dead = [
            DeadLetter(
                "mqtt", "invalid_reading", p.detail, json.dumps(p.raw, default=str).encode(), context=context
            )
            for p in problems
        ]
        allowed = self._authorise(readings, building, context, dead)
        return _PendingBatch(msg, batch, allowed, context, dead)

    @staticmethod
    def _context(msg: InboundMessage, batch: ReadingsBatch, gateway: str) -> dict[str, Any]:
        return {"topic": msg.topic, "batch_id": batch.batch_id, "gateway_id": gateway}

    def _mismatch(self, msg: InboundMessage, batch: ReadingsBatch, building: str, gateway: str) -> bool:
        """A payload that names another building or gateway than its topic goes to dead letters."""
        if batch.building_id == building and batch.gateway_id == gateway:
            return False
        self._dead(
            msg,
            "topic_mismatch",
            f"payload says building {batch.building_id!r}/gateway {batch.gateway_id!r} but was published "
            f"to {msg.topic!r}",
            batch_id=batch.batch_id,
        )
        return True

    def _authorise(
        self, readings: list[Reading], building: str, context: dict[str, Any], dead: list[DeadLetter]
    ) -> list[Reading]:
        """A gateway may only report meters registered to its building."""
        buildings = self._buildings({r.meter_id for r in readings})
        allowed = []
        for r in readings:
            owner = buildings.get(r.meter_id)
            if r.meter_id in buildings and owner != building:
                dead.append(
                    DeadLetter(
                        "mqtt",
                        "meter_not_in_building",
                        f"meter {r.meter_id!r} is registered to building {owner!r}, not to {building!r}; "
                        "a gateway may only report its own building's meters",
                        json.dumps(
                            {
                                "meter_id": r.meter_id,
                                "register": r.register,
                                "ts": r.ts.isoformat(),
                                "value": r.value,
                            }
                        ).encode(),
                        meter_id=r.meter_id,
                        register=r.register,
                        ts=r.ts,
                        context=context,
                    )
                )
            else:
                allowed.append(r)  # unknown meters are rejected by the writer with their own reason
        return allowed

    def _log(self, pending: list[_PendingBatch]) -> None:
        """One ``ingest_log`` row per message; mark the gateways as seen."""
        with self.conn.cursor() as cur:
            cur.executemany(
                """
                INSERT INTO ingest_log (topic, gateway_id, building_id, batch_id, sent_at, readings,
                                        inserted, duplicates, rejected, ingest_worker)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                [
                    (
                        p.msg.topic,
                        p.batch.gateway_id,
                        p.batch.building_id,
                        p.batch.batch_id,
                        p.batch.sent_at,
                        p.result.inserted + p.result.duplicates + p.result.rejected,
                        p.result.inserted,
                        p.result.duplicates,
                        p.result.rejected,
                        self.worker,
                    )
                    for p in pending
                ],
            )
        gateways = sorted({p.batch.gateway_id for p in pending})
        self.conn.execute(
            "UPDATE gateways SET last_seen = greatest(last_seen, now()) WHERE gateway_id = ANY(%s)",
            (gateways,),
        )

    def _store_status(self, msg: InboundMessage, building: str, gateway: str) -> bool:
        if not msg.payload:
            return True  # an empty retained message clears the topic; nothing to store
        try:
            st = parse_status(msg.payload)
        except ContractError as e:
            self._dead(msg, e.reason, e.detail)
            return False
        if st.building_id != building or st.gateway_id != gateway:
            self._dead(
                msg, "topic_mismatch", f"status for {st.building_id}/{st.gateway_id} published to {msg.topic}"
            )
            return False
        devices = Jsonb([d.model_dump(mode="json") for d in st.devices])
        self.conn.execute(
            """
            INSERT INTO gateways (gateway_id, building_id, state, software_version, status_ts, last_seen,
                                  outbox_backlog, outbox_oldest, outbox_dropped, devices)
            VALUES (%s, %s, %s, %s, %s, now(), %s, %s, %s, %s)
            ON CONFLICT (gateway_id) DO UPDATE SET
                building_id = EXCLUDED.building_id, state = EXCLUDED.state,
                software_version = EXCLUDED.software_version, status_ts = EXCLUDED.status_ts,
                last_seen = now(), outbox_backlog = EXCLUDED.outbox_backlog,
                outbox_oldest = EXCLUDED.outbox_oldest, outbox_dropped = EXCLUDED.outbox_dropped,
                devices = EXCLUDED.devices
            WHERE gateways.status_ts <= EXCLUDED.status_ts
            """,
            (
                gateway,
                building,
                st.state,
                st.software_version,
                st.ts,
                st.outbox_backlog,
                st.outbox_oldest,
                st.outbox_dropped,
                devices,
            ),
        )
        self.conn.execute(
            """
            INSERT INTO gateway_status_history
                (gateway_id, building_id, status_ts, state, devices, outbox_backlog, outbox_dropped)
            VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
            """,
            (gateway, building, st.ts, st.state, devices, st.outbox_backlog, st.outbox_dropped),
        )
        return True
