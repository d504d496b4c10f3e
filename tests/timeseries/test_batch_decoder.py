"""The ingest's columnar fast path (``batch_decoder``): same values as the v1 models, never more lenient."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from meterhub.core.mqtt_contract import ReadingsBatch, ReadingV1, parse_message
from meterhub.core.readings import ReadingQuality, ReadingSource
from meterhub.timeseries.batch_decoder import PG_EPOCH, decode_batch

TS = datetime(2026, 1, 31, 21, 0, tzinfo=UTC)
GOOD = {"meter_id": "EKF-1", "register": "energy_import_kwh", "ts": "2026-01-31T21:00:00Z", "value": 1.5}


def payload(readings, **envelope) -> bytes:
    body = {
        "schema_version": 1,
        "batch_id": "b-1",
        "gateway_id": "gw-1",
        "building_id": "B-001",
        "sent_at": TS.isoformat(),
        "readings": readings,
        **envelope,
    }
    return json.dumps(body, allow_nan=False).encode()


def test_columns_name_each_distinct_key_once_and_index_every_reading():
    readings = [
        {**GOOD, "meter_id": "EKF-1", "ts": "2026-01-31T21:00:00Z", "value": 1},
        {**GOOD, "meter_id": "EKF-2", "ts": "2026-01-31T21:00:00Z", "value": 2.5, "unit": "kWh"},
        {**GOOD, "meter_id": "EKF-1", "ts": "2026-02-01T00:15:00+03:00", "value": 3, "quality": "bad"},
        {**GOOD, "meter_id": "EKF-2", "ts": "2026-01-31T21:15:00Z", "value": 4, "unit": "kWh"},
    ]
    cb = decode_batch(payload(readings))
    assert cb is not None and len(cb) == 4
    assert cb.envelope.batch_id == "b-1" and cb.envelope.sent_at == TS
    assert cb.keys == [
        ("EKF-1", "energy_import_kwh", "", "good", "gateway"),
        ("EKF-2", "energy_import_kwh", "kWh", "good", "gateway"),
        ("EKF-1", "energy_import_kwh", "", "bad", "gateway"),
    ]
    assert cb.key_index.tolist() == [0, 1, 2, 1]
    # 2026-02-01T00:15+03:00 is 2026-01-31T21:15Z: the same instant as the fourth reading
    quarter = TS + timedelta(minutes=15)
    us = [(t - PG_EPOCH) // timedelta(microseconds=1) for t in (TS, TS, quarter, quarter)]
    assert cb.ts_us.tolist() == us
    assert cb.values.dtype == np.float64 and cb.values.tolist() == [1.0, 2.5, 3.0, 4.0]
    assert (cb.first, cb.last) == (TS, quarter)


def test_readings_keep_the_offsets_they_were_sent_with():
    cb = decode_batch(payload([{**GOOD, "ts": "2026-02-01T00:00:00+03:00", "source": "manual"}]))
    assert cb is not None
    [r] = cb.readings()
    assert r.ts == TS and r.ts.utcoffset() == timedelta(hours=3) and type(r.ts.tzinfo) is timezone
    assert r.quality is ReadingQuality.GOOD and r.source is ReadingSource.MANUAL and r.value == 1.5


def test_anything_unusual_is_left_to_the_models():
    assert decode_batch(b"{") is None
    assert decode_batch(payload([])) is None  # an empty batch
    assert decode_batch(payload([GOOD], schema_version=2)) is None
    assert decode_batch(payload([GOOD], batch_id="")) is None
    assert decode_batch(payload([GOOD], batch_id="x" * 65)) is None
    assert decode_batch(payload([GOOD], gateway_id="gw 1")) is None
    assert decode_batch(payload([GOOD], sent_at="2026-01-31T21:00:00")) is None  # naive
    assert decode_batch(payload([GOOD], extra=1)) is None
    for bad in (
        {**GOOD, "meter_id": "EKF-1\n"},  # "$" would match before a final newline; fullmatch does not
        {**GOOD, "register": "Energy"},
        {**GOOD, "ts": "2026-01-31T21:00:00"},
        {**GOOD, "ts": "2026-02-30T00:00:00Z"},
        {**GOOD, "ts": "2026-01-31T21:00Z"},  # valid ISO 8601, but not the gateways' spelling
        {**GOOD, "value": "1.5"},
        {**GOOD, "value": True},
        {**GOOD, "unit": "x" * 17},
        {**GOOD, "quality": "excellent"},
        {**GOOD, "colour": "red"},
    ):
        assert decode_batch(payload([GOOD, bad])) is None, bad
    assert decode_batch(payload([GOOD]).replace(b"1.5", b"1e400")) is None
    assert decode_batch(b"x" * (2 * 1024 * 1024 + 1)) is None


_TS_TEXT = st.one_of(
    # well-formed RFC 3339 instants with assorted offsets and fractions
    st.builds(
        lambda dt, off, frac: (dt.replace(tzinfo=timezone(timedelta(minutes=off)))).isoformat(timespec=frac),
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
        st.integers(-23 * 60 - 59, 23 * 60 + 59),
        st.sampled_from(["seconds", "milliseconds", "microseconds"]),
    ),
    st.sampled_from(
        [
            "2026-01-31T21:00:00Z",
            "2026-02-30T00:00:00Z",  # no such day
            "2026-12-31T23:59:60Z",  # leap second
            "2026-01-31T24:00:00Z",
            "2026-01-31T21:00:00+24:00",
            "2026-01-31T21:00:00+99:99",
            "2026-01-31T21:00:00",  # naive
            "2026-01-31 21:00:00Z",
            "2026-01-31T21:00Z",
            "2026-01-31T21:00:00.1234567Z",
            "2026-01-31T21:00:00z",
            "٢٠٢٦-01-31T21:00:00Z",  # non-ASCII digits
            "1769893200",
        ]
    ),
    st.text(max_size=30),
)
_IDS = st.one_of(
    st.sampled_from(["EKF-1", "a", "A.b_c-9", "-x", "x" * 64, "x" * 65, "", "é"]), st.text(max_size=8)
)
_REGISTERS = st.one_of(
    st.sampled_from(["energy_import_kwh", "water_m3", "Water", "9a", ""]), st.text(max_size=8)
)


@settings(max_examples=400, deadline=None)
@given(
    ts=_TS_TEXT,
    value=st.one_of(st.floats(), st.integers(), st.just("1.5"), st.booleans(), st.none()),
    meter_id=_IDS,
    register=_REGISTERS,
    optional=st.dictionaries(
        st.sampled_from(["unit", "quality", "source", "note"]),
        st.one_of(
            st.sampled_from(["kWh", "good", "bad", "manual", "gateway", "x" * 17]), st.text(max_size=4)
        ),
        max_size=3,
    ),
)
def test_fast_path_accepts_only_what_the_models_accept_with_the_same_values(
    ts, value, meter_id, register, optional
):
    raw = {"meter_id": meter_id, "register": register, "ts": ts, "value": value, **optional}
    try:
        body = payload([raw])
    except ValueError:
        return  # NaN/inf cannot be sent as JSON at all
    fast = decode_batch(body)
    try:
        model = ReadingV1.model_validate_json(json.dumps(raw)).to_reading()
    except ValidationError:
        model = None
    if fast is None:
        return  # the slow path decides, reading by reading
    assert model is not None, f"fast path accepted {raw!r} which ReadingV1 refuses"
    [reading] = fast.readings()
    assert reading == model  # every field, the timestamp's offset included
    assert reading.ts.utcoffset() == model.ts.utcoffset()
    assert type(reading.value) is float and fast.values.tolist() == [model.value]
    assert fast.ts_us.tolist() == [(model.ts - PG_EPOCH) // timedelta(microseconds=1)]
    assert fast.keys == [
        (meter_id, register, model.unit, optional.get("quality", "good"), optional.get("source", "gateway"))
    ]


@settings(max_examples=100, deadline=None)
@given(junk=st.binary(max_size=200))
def test_random_bytes_never_raise(junk):
    assert decode_batch(junk) is None or isinstance(decode_batch(junk).envelope, ReadingsBatch)


def test_the_slow_path_still_parses_other_iso_spellings():
    body = payload([{**GOOD, "ts": "2026-01-31T21:00+00:00"}])
    assert decode_batch(body) is None
    _env, readings, problems = parse_message(body)
    assert problems == [] and readings[0].ts == TS
