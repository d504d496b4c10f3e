"""Storing MQTT messages: readings batches and gateway status, with authorisation and dead letters.

No MQTT here: ``MessageStore.store`` takes messages already received and writes them all in one
transaction, so the caller can acknowledge every one of them once it commits, and tells the caller
which gateways' batches that commit settles (``StoreResult.commits``: the commit acknowledgements).

Authorisation, on every message: the gateway of the topic must be in the gateway registry, not
retired, and bound to the building the topic names (else the whole message goes to dead letters and
is *not* acknowledged to the gateway, which keeps it until the registry or its configuration is
fixed); the payload must name the same building and gateway as the topic; each meter must be
registered to that building.

Lock order, so two writers never deadlock on the gateway rows: status rows are upserted in gateway id
order after the readings, and ``last_seen`` is bumped with ``SKIP LOCKED`` (a row another writer holds
is being stamped by it anyway).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from meterhub.core.mqtt_contract import (
    MAX_PAYLOAD_BYTES,
    ContractError,
    ReadingsBatch,
    TopicParts,
    parse_batch,
    parse_readings,
    parse_status,
    parse_topic,
)
from meterhub.core.readings import Reading
from meterhub.timeseries.batch_decoder import decode_batch
from meterhub.timeseries.deadletter import DeadLetter, write_dead_letters
from meterhub.timeseries.gateway_registry import GatewayBinding, bindings
from meterhub.timeseries.gateway_status import stamp_last_seen, store_gateway_status
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
    # set when the receiver kept only a prefix of an oversized payload: its size and hash
    # (``deadletter.payload_summary``); such a message goes to dead letters as it is
    oversized: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def parts(self) -> TopicParts | None:
        return parse_topic(self.topic)


@dataclass
class _PendingBatch:
    msg: InboundMessage
    batch: ReadingsBatch
    readings: list[Reading] | PreparedColumns
    context: dict[str, Any]
    dead: list[DeadLetter]
    building: str  # of the topic (the payload names the same one)
    result: WriteResult = field(default_factory=WriteResult)


GatewayKey = tuple[str, str]  # (building, gateway) of a topic


@dataclass
class StoreResult:
    messages: int = 0
    readings: WriteResult = field(default_factory=WriteResult)
    dead_messages: int = 0
    statuses: int = 0
    refused: int = 0  # messages refused by the registry (dead letters, not acknowledged to the gateway)
    # batches this transaction settles, per gateway: stored, or kept whole in dead letters for good
    commits: dict[GatewayKey, list[str]] = field(default_factory=dict)
    dead_lettered: dict[GatewayKey, list[str]] = field(default_factory=dict)

    def settle(self, key: GatewayKey, batch_id: str, *, dead: bool = False) -> None:
        self.commits.setdefault(key, []).append(batch_id)
        if dead:
            self.dead_lettered.setdefault(key, []).append(batch_id)


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
        decoded = [m.fast for m in messages if m.fast is not _NOT_PARSED and m.fast is not None]
        if decoded:
            # partitions first, in a transaction of their own: made inside the data transaction they
            # would hold the table's exclusive lock until the commit, and two writers could deadlock
            self.writer.prepare_partitions(min(f.first for f in decoded), max(f.last for f in decoded))
            # series not cached yet (a gateway's first messages): one lookup for the whole group
            self.writer.look_up((k[0], k[1]) for f in decoded for k in f.keys)
        topics = [(m, m.parts) for m in messages]
        registry = bindings(self.conn, {p.gateway for _, p in topics if p is not None})
        with self.conn.transaction():
            pending: list[_PendingBatch] = []
            statuses: list[tuple[str, int, InboundMessage, TopicParts]] = []
            for i, (msg, parts) in enumerate(topics):
                if parts is None:
                    self._dead(
                        msg, "unknown_topic", f"topic {msg.topic!r} is not part of the meterhub v1 contract"
                    )
                    result.dead_messages += 1
                elif self._refused(msg, parts, registry):
                    result.dead_messages += 1
                    result.refused += 1
                elif msg.oversized is not None:
                    self._dead(
                        msg,
                        "oversized_payload",
                        f"payload of {msg.oversized['payload_bytes']:,} bytes exceeds {MAX_PAYLOAD_BYTES:,}; "
                        "only its beginning and its SHA-256 are kept",
                    )
                    result.dead_messages += 1
                elif parts.kind == "status":
                    statuses.append((parts.gateway, i, msg, parts))
                else:
                    p = self._prepare_readings(msg, parts, result)
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
                    result.settle((p.building, p.batch.gateway_id), p.batch.batch_id)
            for _gateway, _i, msg, parts in sorted(statuses, key=lambda s: (s[0], s[1])):
                if self._store_status(msg, parts.building, parts.gateway):
                    result.statuses += 1
                else:
                    result.dead_messages += 1
            if pending:
                self._log(pending)
        return result

    def _refused(self, msg: InboundMessage, parts: TopicParts, registry: dict[str, GatewayBinding]) -> bool:
        """The registry check: an unknown or retired gateway, or one bound to another building."""
        gateway, building = parts.gateway, parts.building
        if parts.kind == "status" and not msg.payload:
            return False  # an empty retained message clears the topic: nothing is stored anyway
        found = registry.get(gateway)
        if found is None:
            reason, detail = (
                "unknown_gateway",
                (
                    f"gateway {gateway!r} is not in the gateway registry; if it is yours, register it: "
                    f"meterhub gateways add {gateway} --building {building}"
                ),
            )
        elif found.retired:
            reason, detail = (
                "retired_gateway",
                (f"gateway {gateway!r} was retired; register it again to accept its messages"),
            )
        elif found.building_id != building:
            reason, detail = (
                "gateway_not_in_building",
                (
                    f"gateway {gateway!r} is registered to building {found.building_id!r}, not to "
                    f"{building!r} named in the topic; a gateway may only report its own building "
                    f"(fix its [gateway] building, or move it: meterhub gateways add {gateway} "
                    f"--building {building} --move)"
                ),
            )
        else:
            return False
        context: dict[str, Any] = {"gateway_id": gateway, "building_id": building}
        batch_id = _batch_id_of(msg)
        if batch_id is not None:
            context["batch_id"] = batch_id
        self._dead(msg, reason, detail, **context)
        return True

    def _dead(self, msg: InboundMessage, reason: str, detail: str, **context: Any) -> None:
        write_dead_letters(
            self.conn,
            [
                DeadLetter(
                    "mqtt",
                    reason,
                    detail,
                    msg.payload,
                    context={"topic": msg.topic, **context, **(msg.oversized or {})},
                )
            ],
        )

    def _prepare_readings(
        self, msg: InboundMessage, parts: TopicParts, result: StoreResult
    ) -> _PendingBatch | None:
        """Parse and authorise one readings message; None if the whole message went to dead letters
        (then settled for good in ``result`` when it has a batch id: re-sending it cannot help).

        A well-formed message of known meters of this building (the normal case) goes the fast way:
        decoded into columns (``batch_decoder``), checked per distinct meter and timestamp, written as
        binary COPY rows built with numpy. Anything unusual goes reading by reading, with reasons.
        """
        building, gateway = parts.building, parts.gateway
        fast = decode_batch(msg.payload) if msg.fast is _NOT_PARSED else msg.fast
        problems: list[Any] = []
        if fast is not None:
            batch = fast.envelope
            if self._mismatch(msg, batch, building, gateway):
                result.settle((building, gateway), batch.batch_id, dead=True)
                return None
            context = self._context(msg, batch, gateway)
            prepared = self.writer.prepare_columns(fast, building)
            if prepared is not None:
                return _PendingBatch(msg, batch, prepared, context, [], building)
            readings = fast.readings()  # the writer sorts out which and why
        else:
            try:
                batch = parse_batch(msg.payload)
            except ContractError as e:
                batch_id = _batch_id_of(msg)
                self._dead(msg, e.reason, e.detail, **({"batch_id": batch_id} if batch_id else {}))
                if batch_id is not None:
                    result.settle((building, gateway), batch_id, dead=True)
                return None
            if self._mismatch(msg, batch, building, gateway):
                result.settle((building, gateway), batch.batch_id, dead=True)
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
        return _PendingBatch(msg, batch, allowed, context, dead, building)

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
        stamp_last_seen(self.conn, {p.batch.gateway_id for p in pending})

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
        store_gateway_status(self.conn, st, building, gateway)
        return True


def _batch_id_of(msg: InboundMessage) -> str | None:
    """The ``batch_id`` of a message that is not a valid batch, if it names one (best effort)."""
    fast = msg.fast
    if fast is not _NOT_PARSED and fast is not None:
        return fast.envelope.batch_id
    if msg.oversized is not None or not msg.topic.endswith("/readings"):
        return None
    try:
        data = json.loads(msg.payload)
    except ValueError:
        return None
    batch_id = data.get("batch_id") if isinstance(data, dict) else None
    return batch_id if isinstance(batch_id, str) and 0 < len(batch_id) <= 64 else None
