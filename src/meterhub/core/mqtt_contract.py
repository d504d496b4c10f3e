"""The MQTT v1 contract between gateways (or meters that speak MQTT) and the central ingest.

Topics::

    meterhub/v1/{building}/{gateway}/readings   JSON ReadingsBatch, QoS 1, not retained
    meterhub/v1/{building}/{gateway}/status     JSON GatewayStatus, QoS 1, retained, also the LWT
    meterhub/v1/{building}/{gateway}/commits    JSON CommitAck, QoS 1, not retained (ingest → gateway)

A gateway deletes a batch from its outbox only when a ``CommitAck`` names its ``batch_id``: the ingest
publishes one after the database transaction holding the batch committed (see ``docs/mqtt.md``,
"Delivery"). A broker's PUBACK only frees the gateway's MQTT window.

The payload schema is versioned by ``schema_version`` (this module is version 1) and documented with
examples in ``docs/mqtt.md``. Validation happens in two layers so one bad reading never costs the
other 499: the envelope (``ReadingsBatch``) is validated as a whole; each reading is validated on its
own (``parse_readings``), and a reading that fails is reported with its raw JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from meterhub.core.readings import Reading, ReadingQuality, ReadingSource

SCHEMA_VERSION = 1
TOPIC_ROOT = "meterhub/v1"
INGEST_GROUP = "ingest"
READINGS_FILTER = f"{TOPIC_ROOT}/+/+/readings"
SHARED_READINGS_FILTER = f"$share/{INGEST_GROUP}/{READINGS_FILTER}"
STATUS_FILTER = f"{TOPIC_ROOT}/+/+/status"
COMMITS_FILTER = f"{TOPIC_ROOT}/+/+/commits"
MAX_PAYLOAD_BYTES = 2 * 1024 * 1024
MAX_READINGS_PER_BATCH = 10_000

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)
REGISTER_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# RFC 3339 with seconds and an offset: the timestamps gateways send. The ingest's fast path
# (timeseries.batch_decoder) takes these; other ISO 8601 spellings go through AwareDatetime.
RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"


def _check_id(kind: str, value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError(f"{kind} {value!r} must be 1–64 characters of A–Z, a–z, 0–9, '_', '.', '-'")
    return value


def readings_topic(building: str, gateway: str) -> str:
    return f"{TOPIC_ROOT}/{_check_id('building id', building)}/{_check_id('gateway id', gateway)}/readings"


def status_topic(building: str, gateway: str) -> str:
    return f"{TOPIC_ROOT}/{_check_id('building id', building)}/{_check_id('gateway id', gateway)}/status"


def commits_topic(building: str, gateway: str) -> str:
    """Where the ingest acknowledges a gateway's committed batches (the gateway subscribes to it)."""
    return f"{TOPIC_ROOT}/{_check_id('building id', building)}/{_check_id('gateway id', gateway)}/commits"


@dataclass(frozen=True)
class TopicParts:
    building: str
    gateway: str
    kind: Literal["readings", "status"]


def parse_topic(topic: str) -> TopicParts | None:
    """``meterhub/v1/B/G/readings`` → TopicParts; None for a topic outside the contract."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_ROOT or parts[4] not in ("readings", "status"):
        return None
    if not (_ID_RE.match(parts[2]) and _ID_RE.match(parts[3])):
        return None
    return TopicParts(parts[2], parts[3], parts[4])  # type: ignore[arg-type]


QualityName = Literal["good", "uncertain", "bad"]
SourceName = Literal["gateway", "manual", "import", "estimate"]


class ReadingV1(BaseModel):
    """One reading: a register value of a meter at a time."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    meter_id: str = Field(
        pattern=ID_PATTERN, description="stable meter id: manufacturer + serial, e.g. EKF-10700010"
    )
    # named register_name because pydantic's BaseModel has a `register` attribute; JSON key is "register"
    register_name: str = Field(alias="register", pattern=REGISTER_PATTERN, description="e.g. water_m3")
    ts: AwareDatetime = Field(description="time of the reading, ISO 8601 with an offset")
    # strict: a JSON number only — "12.5" (a string) or true is refused, never coerced
    value: float = Field(
        strict=True, description="cumulative register value (or momentary value) as the meter reports it"
    )
    unit: str = Field(default="", max_length=16, description="unit of the register, e.g. kWh, m3, Gcal")
    quality: QualityName = "good"
    source: SourceName = "gateway"

    def to_reading(self) -> Reading:
        return Reading(
            self.meter_id,
            self.register_name,
            self.ts,
            self.value,
            self.unit,
            _QUALITY_BY_NAME[self.quality],
            _SOURCE_BY_NAME[self.source],
        )


_QUALITY_BY_NAME = {q.name.lower(): q for q in ReadingQuality}
_SOURCE_BY_NAME = {s.name.lower(): s for s in ReadingSource}


class ReadingsBatch(BaseModel):
    """The envelope of a readings message. ``readings`` items are validated one by one."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1]
    batch_id: str = Field(
        min_length=1, max_length=64, description="unique per batch (UUID); re-sends keep it"
    )
    gateway_id: str = Field(pattern=ID_PATTERN)
    building_id: str = Field(pattern=ID_PATTERN)
    sent_at: AwareDatetime
    readings: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_READINGS_PER_BATCH)


class DeviceHealth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device: str = Field(
        max_length=128, description="bus/address, e.g. rs485-1/17 or mbus-tcp/secondary:12345678"
    )
    meter_ids: list[str] = Field(default_factory=list)
    online: bool
    last_success: AwareDatetime | None = None
    consecutive_failures: int = Field(default=0, ge=0)
    last_error: str | None = Field(default=None, max_length=500)


class ClockSteppedBack(BaseModel):
    """The gateway's clock found behind the last second it stamped (stepped back: an NTP correction, an
    RTC reset after a power cut), counted since its outbox was created (docs/gateway.md)."""

    model_config = ConfigDict(extra="forbid")

    episodes: int = Field(ge=0, description="times the clock was found behind")
    held_reads: int = Field(ge=0, description="device reads that waited for the clock to pass the last stamp")
    restamped: int = Field(
        ge=0,
        description="readings of a read under way stamped one second after their series' last "
        "(marked uncertain)",
    )
    behind_s: float | None = Field(
        default=None, ge=0, description="how far the clock is behind now, seconds (null: it is not)"
    )


class GatewayStatus(BaseModel):
    """Retained status of a gateway; the broker publishes the LWT variant (state offline) if it dies."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1]
    gateway_id: str = Field(pattern=ID_PATTERN)
    building_id: str = Field(pattern=ID_PATTERN)
    state: Literal["online", "offline"]
    ts: AwareDatetime
    software_version: str = ""
    devices: list[DeviceHealth] = Field(default_factory=list)
    outbox_backlog: int = Field(default=0, ge=0)
    outbox_oldest: AwareDatetime | None = None
    outbox_dropped: int = Field(
        default=0,
        ge=0,
        description="readings the outbox refused because it was full, counted since it was created "
        "(data lost at the edge); added within v1, accepted by ingest processes from this version on",
    )
    clock_stepped_back: ClockSteppedBack | None = Field(
        default=None,
        description="left out until the gateway's clock was first found behind its last stamp; added "
        "within v1, accepted by ingest processes from this version on",
    )


MAX_BATCH_IDS_PER_ACK = 1_000


class CommitAck(BaseModel):
    """The ingest's word to a gateway: these batches are committed in the database.

    ``batch_ids`` are every batch of the gateway committed by one ingest transaction — stored, or kept
    whole in ``dead_letters`` because the ingest refused them (those are also in ``dead_lettered``, so
    the gateway can say so). A gateway may delete exactly these batches from its outbox.
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1]
    gateway_id: str = Field(pattern=ID_PATTERN)
    building_id: str = Field(pattern=ID_PATTERN)
    committed_at: AwareDatetime
    batch_ids: list[str] = Field(min_length=1, max_length=MAX_BATCH_IDS_PER_ACK)
    dead_lettered: list[str] = Field(default_factory=list, max_length=MAX_BATCH_IDS_PER_ACK)


class ContractError(ValueError):
    """A payload that does not follow the contract. ``reason`` is a dead-letter reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ReadingProblem:
    index: int
    raw: Any
    detail: str


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:5]
    )


def _load_json(payload: bytes) -> Any:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(
            "oversized_payload", f"payload of {len(payload):,} bytes exceeds {MAX_PAYLOAD_BYTES:,}"
        )
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError("malformed_json", f"payload is not UTF-8 JSON: {exc}") from None


def parse_message(payload: bytes) -> tuple[ReadingsBatch, list[Reading], list[ReadingProblem]]:
    """Parse a readings message: the envelope, the good readings, and the readings that failed.

    The reference path, reading by reading with the models. The central ingest decodes well-formed
    messages faster (``meterhub.timeseries.batch_decoder``) and comes here only for the others.
    """
    batch = parse_batch(payload)
    good, bad = parse_readings(batch)
    return batch, good, bad


def parse_batch(payload: bytes) -> ReadingsBatch:
    """Validate the envelope of a readings message (raises ContractError with a reason code)."""
    return _parse(payload, ReadingsBatch, "readings batch")


_Model = TypeVar("_Model", bound=BaseModel)


def _parse(payload: bytes, model: type[_Model], what: str) -> _Model:
    """A v1 document of ``model`` from JSON bytes, or ContractError with the reason and the fields."""
    data = _load_json(payload)
    _check_schema_version(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ContractError("schema_violation", f"{what} does not follow schema v1: {_errors(exc)}") from None


_JSON_TYPE_NAMES = {
    str: "string",
    float: "number",
    bool: "boolean",
    type(None): "null",
    list: "array",
    dict: "object",
}


def _check_schema_version(data: Any) -> None:
    """A wrong type and an unknown version are told apart: ``"1"`` is a typo, ``2`` is the future."""
    if not isinstance(data, dict) or "schema_version" not in data:
        return  # the model says what is missing
    version = data["schema_version"]
    if type(version) is not int:
        raise ContractError(
            "schema_violation",
            f"schema_version must be the JSON integer {SCHEMA_VERSION}, not the "
            f"{_JSON_TYPE_NAMES.get(type(version), 'value')} {json.dumps(version)}",
        )
    if version != SCHEMA_VERSION:
        raise ContractError(
            "unsupported_schema_version",
            f"schema_version {version} is not supported; this ingest speaks {SCHEMA_VERSION}",
        )


def parse_readings(batch: ReadingsBatch) -> tuple[list[Reading], list[ReadingProblem]]:
    """Validate each reading of a batch on its own; good ones become ``Reading``."""
    good: list[Reading] = []
    bad: list[ReadingProblem] = []
    validate = ReadingV1.model_validate
    for i, raw in enumerate(batch.readings):
        try:
            good.append(validate(raw).to_reading())
        except ValidationError as exc:
            bad.append(ReadingProblem(i, raw, f"reading #{i}: {_errors(exc)}"))
    return good, bad


def parse_status(payload: bytes) -> GatewayStatus:
    return _parse(payload, GatewayStatus, "gateway status")


_QUALITY_NAMES = {int(q): q.name.lower() for q in ReadingQuality}
_SOURCE_NAMES = {int(s): s.name.lower() for s in ReadingSource}


def reading_to_json(r: Reading) -> dict[str, Any]:
    """A ``Reading`` as a v1 JSON object (the gateway's side)."""
    out: dict[str, Any] = {
        "meter_id": r.meter_id,
        "register": r.register,
        "ts": r.ts.isoformat(),
        "value": r.value,
    }
    if r.unit:
        out["unit"] = r.unit
    if r.quality:
        out["quality"] = _QUALITY_NAMES[int(r.quality)]
    if r.source:
        out["source"] = _SOURCE_NAMES[int(r.source)]
    return out


def encode_batch(
    batch_id: str, gateway_id: str, building_id: str, sent_at: datetime, readings: list[dict[str, Any]]
) -> bytes:
    """Serialise a readings batch; ``readings`` are already JSON objects (see ``reading_to_json``)."""
    return json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "batch_id": batch_id,
            "gateway_id": gateway_id,
            "building_id": building_id,
            "sent_at": sent_at.isoformat(),
            "readings": readings,
        },
        separators=(",", ":"),
        allow_nan=False,
    ).encode()


def encode_commit_ack(
    gateway_id: str,
    building_id: str,
    committed_at: datetime,
    batch_ids: list[str],
    dead_lettered: list[str] | None = None,
) -> bytes:
    """Serialise a ``CommitAck`` (the ingest's side)."""
    body: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "gateway_id": gateway_id,
        "building_id": building_id,
        "committed_at": committed_at.isoformat(),
        "batch_ids": batch_ids,
    }
    if dead_lettered:
        body["dead_lettered"] = dead_lettered
    return json.dumps(body, separators=(",", ":")).encode()


def parse_commit_ack(payload: bytes) -> CommitAck:
    """Validate a commit acknowledgement (the gateway's side; raises ContractError)."""
    return _parse(payload, CommitAck, "commit acknowledgement")
