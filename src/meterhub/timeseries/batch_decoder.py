"""The ingest's fast path: a readings message decoded into columns, checked once per distinct value.

A gateway's message repeats itself: 500 readings name a few dozen meters with the same register,
unit, quality and source, and a handful of timestamps (one per read cycle). The v1 models
(``ReadingV1``) check every field of every reading — three regular expressions and a datetime parse
per reading — and build a Python object for it; at hundreds of thousands of readings a second that
work is most of the ingest's time.

Here msgspec decodes the JSON against the v1 shape in C (types, required and unknown fields, the
quality and source names), then everything that needs Python — the id patterns, RFC 3339 timestamps,
unit lengths — is checked once per *distinct* value, and the readings come out as numpy columns:

* ``keys``: the distinct (meter_id, register, unit, quality, source) of the message,
* ``key_index``: per reading, its key's position in ``keys``,
* ``ts_us``: per reading, microseconds since 2000-01-01 UTC (PostgreSQL's epoch),
* ``values``: per reading, the value as float64.

The writer then resolves the few keys to series and builds the binary COPY payload with numpy; no
per-reading Python object is made after decoding. ``decode_batch`` returns None for anything that is
not plainly valid — the caller then validates with the models, reading by reading, and gives each
problem its reason. What this path accepts, the models accept with the same values (a hypothesis test
in tests/timeseries checks it).

Pure logic: no database, no MQTT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from meterhub.core.mqtt_contract import (
    ID_PATTERN,
    MAX_PAYLOAD_BYTES,
    MAX_READINGS_PER_BATCH,
    REGISTER_PATTERN,
    RFC3339,
    QualityName,
    ReadingsBatch,
    SourceName,
)
from meterhub.core.readings import QUALITY_CODE, SOURCE_CODE, Reading, ReadingQuality, ReadingSource

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

# fullmatch: a pattern's "$" would also accept a trailing newline, which the models' regex refuses
_ID_FULL = re.compile(ID_PATTERN.removeprefix("^").removesuffix("$"))
_REGISTER_FULL = re.compile(REGISTER_PATTERN.removeprefix("^").removesuffix("$"))
_RFC3339_FULL = re.compile(RFC3339.removeprefix("^").removesuffix("$"))
_MAX_UNIT = 16
_AWARE = TypeAdapter(AwareDatetime)


class _Reading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    meter_id: str
    register: str
    ts: str
    value: float
    unit: str = ""
    quality: QualityName = "good"
    source: SourceName = "gateway"


class _Batch(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    schema_version: Literal[1]
    batch_id: str
    gateway_id: str
    building_id: str
    sent_at: str
    readings: list[_Reading]


_DECODER = msgspec.json.Decoder(_Batch)

Key = tuple[str, str, str, str, str]  # meter_id, register, unit, quality name, source name


@dataclass(frozen=True, slots=True, eq=False)
class ColumnarBatch:
    """A contract-valid readings message as columns (see the module docstring)."""

    envelope: ReadingsBatch
    keys: list[Key]
    key_index: npt.NDArray[np.int32]
    ts_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    first: datetime  # earliest and latest reading time, UTC
    last: datetime
    _items: list[_Reading]

    def __len__(self) -> int:
        return len(self._items)

    def readings(self) -> list[Reading]:
        """The readings as ``Reading`` objects, timestamps with the offsets they were sent with (for
        the slow path, which says what is wrong with which reading)."""
        parse = datetime.fromisoformat
        q, s = QUALITY_CODE, SOURCE_CODE
        return [
            Reading(
                r.meter_id,
                r.register,
                parse(r.ts),
                r.value,
                r.unit,
                ReadingQuality(q[r.quality]),
                ReadingSource(s[r.source]),
            )
            for r in self._items
        ]


def decode_batch(payload: bytes) -> ColumnarBatch | None:
    """The message as columns, or None if anything about it needs a closer look (see the module)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        b = _DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    items = b.readings
    n = len(items)
    if not (
        0 < n <= MAX_READINGS_PER_BATCH
        and 0 < len(b.batch_id) <= 64
        and _ID_FULL.fullmatch(b.gateway_id)
        and _ID_FULL.fullmatch(b.building_id)
    ):
        return None
    try:
        sent_at = _AWARE.validate_python(b.sent_at)
    except ValidationError:
        return None

    # one tuple per reading; everything else is checked per distinct key or timestamp
    keys_per_reading = [(r.meter_id, r.register, r.unit, r.quality, r.source) for r in items]
    position: dict[Key, int] = {}
    for k in keys_per_reading:
        if k not in position:
            if not (_ID_FULL.fullmatch(k[0]) and _REGISTER_FULL.fullmatch(k[1]) and len(k[2]) <= _MAX_UNIT):
                return None
            position[k] = len(position)
    key_index = np.fromiter(map(position.__getitem__, keys_per_reading), np.int32, n)

    stamps = [r.ts for r in items]
    micros: dict[str, int] = {}
    for s in set(stamps):
        if not _RFC3339_FULL.fullmatch(s):
            return None
        try:
            t = datetime.fromisoformat(s)
        except ValueError:  # e.g. 2026-02-30 or a leap second
            return None
        micros[s] = (t - PG_EPOCH) // _US
    ts_us = np.fromiter(map(micros.__getitem__, stamps), np.int64, n)
    values = np.fromiter((r.value for r in items), np.float64, n)
    if not np.isfinite(values).all():  # msgspec refuses NaN/inf in JSON, but be sure
        return None
    lo, hi = min(micros.values()), max(micros.values())
    envelope = ReadingsBatch.model_construct(
        schema_version=1,
        batch_id=b.batch_id,
        gateway_id=b.gateway_id,
        building_id=b.building_id,
        sent_at=sent_at,
        readings=[],
    )
    return ColumnarBatch(
        envelope,
        list(position),
        key_index,
        ts_us,
        values,
        PG_EPOCH + lo * _US,
        PG_EPOCH + hi * _US,
        items,
    )
