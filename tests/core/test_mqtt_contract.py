"""The MQTT v1 contract: topics, envelope and per-reading validation, round trip, fuzz."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.core.mqtt_contract import (
    ContractError,
    encode_batch,
    parse_batch,
    parse_readings,
    parse_status,
    parse_topic,
    reading_to_json,
    readings_topic,
    status_topic,
)
from meterhub.core.readings import Reading, ReadingQuality

TS = datetime(2026, 1, 31, 21, 0, tzinfo=UTC)


def batch(readings, **kw) -> bytes:
    return encode_batch(kw.get("batch_id", "b-1"), "gw-1", "B-001", TS, readings)


def test_topics_round_trip_and_reject_foreign_topics():
    assert readings_topic("B-001", "gw-1") == "meterhub/v1/B-001/gw-1/readings"
    assert status_topic("B-001", "gw-1") == "meterhub/v1/B-001/gw-1/status"
    p = parse_topic("meterhub/v1/B-001/gw-1/readings")
    assert (p.building, p.gateway, p.kind) == ("B-001", "gw-1", "readings")
    for bad in (
        "meterhub/v2/B/G/readings",
        "meterhub/v1/B/G",
        "meterhub/v1/B/G/other",
        "meterhub/v1/+/G/readings",
    ):
        assert parse_topic(bad) is None
    with pytest.raises(ValueError, match="building id"):
        readings_topic("B 1", "gw")


def test_round_trip_of_readings_keeps_every_field():
    rs = [
        Reading("EKF-1", "energy_import_kwh", TS, 1234.56, "kWh"),
        Reading(
            "PUL-2",
            "water_m3",
            TS.astimezone(timezone(timedelta(hours=6))),
            12.345,
            quality=ReadingQuality.UNCERTAIN,
        ),
    ]
    b = parse_batch(batch([reading_to_json(r) for r in rs]))
    good, bad = parse_readings(b)
    assert bad == [] and good == rs
    assert b.batch_id == "b-1" and b.building_id == "B-001" and b.gateway_id == "gw-1"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (json.dumps({"schema_version": 2, "readings": []}).encode(), "unsupported_schema_version"),
        (json.dumps({"schema_version": 1, "batch_id": "x"}).encode(), "schema_violation"),
        (b"[1, 2, 3]", "schema_violation"),
        (b" " * (3 * 1024 * 1024), "oversized_payload"),
    ],
)
def test_envelope_errors_have_reason_codes(payload, reason):
    with pytest.raises(ContractError) as e:
        parse_batch(payload)
    assert e.value.reason == reason


def test_one_bad_reading_does_not_cost_the_others():
    good = reading_to_json(Reading("EKF-1", "energy_import_kwh", TS, 1.0))
    raw = [good, {**good, "ts": "2026-01-31T21:00:00"}, {**good, "value": "abc"}, {**good, "extra": 1}, good]
    good_r, bad = parse_readings(parse_batch(batch(raw)))
    assert len(good_r) == 2
    assert [p.index for p in bad] == [1, 2, 3]
    assert "timezone" in bad[0].detail.lower() and bad[0].raw == raw[1]


def test_status_schema():
    st_ = parse_status(
        json.dumps(
            {
                "schema_version": 1,
                "gateway_id": "gw-1",
                "building_id": "B-001",
                "state": "online",
                "ts": TS.isoformat(),
                "devices": [
                    {
                        "device": "rs485-1/17",
                        "online": False,
                        "consecutive_failures": 3,
                        "last_error": "timeout",
                    }
                ],
            }
        ).encode()
    )
    assert st_.devices[0].consecutive_failures == 3
    with pytest.raises(ContractError):
        parse_status(b'{"schema_version": 1, "state": "maybe"}')


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_random_bytes_never_crash_the_parser(payload):
    try:
        b = parse_batch(payload)
    except ContractError as e:
        assert e.reason in {
            "malformed_json",
            "schema_violation",
            "unsupported_schema_version",
            "oversized_payload",
        }
    else:
        parse_readings(b)


def test_fast_and_slow_paths_agree():
    from meterhub.core.mqtt_contract import parse_message

    good = reading_to_json(Reading("EKF-1", "energy_import_kwh", TS, 1.0))
    ok = batch([good, {**good, "value": 2.0}])
    env, readings, problems = parse_message(ok)
    assert env.batch_id == "b-1" and [r.value for r in readings] == [1.0, 2.0] and problems == []
    mixed = batch([good, {**good, "value": "x"}])
    env, readings, problems = parse_message(mixed)
    assert [r.value for r in readings] == [1.0] and [p.index for p in problems] == [1]
    with pytest.raises(ContractError):
        parse_message(b"{")


# --- the fast path (TypedDict + RFC 3339 text) must never accept what ReadingV1 refuses -------------

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


@settings(max_examples=400, deadline=None)
@given(ts=_TS_TEXT, value=st.one_of(st.floats(), st.integers(), st.just("1.5")))
def test_fast_path_accepts_only_what_the_model_accepts_with_the_same_values(ts, value):
    from pydantic import ValidationError

    from meterhub.core.mqtt_contract import ReadingV1, parse_message_fast, reading_from_json

    raw = {"meter_id": "EKF-1", "register": "energy_import_kwh", "ts": ts, "value": value}
    try:
        payload = json.dumps(
            {
                "schema_version": 1,
                "batch_id": "b",
                "gateway_id": "gw",
                "building_id": "B",
                "sent_at": TS.isoformat(),
                "readings": [raw],
            },
            allow_nan=False,
        ).encode()
    except ValueError:
        return  # NaN/inf cannot be sent as JSON at all
    fast = parse_message_fast(payload)
    try:
        model = ReadingV1.model_validate_json(json.dumps(raw)).to_reading()
    except ValidationError:
        model = None
    if fast is None:
        return  # the slow path decides, reading by reading
    try:
        reading = reading_from_json(fast[1][0])
    except ValueError:
        return  # not a real instant: the slow path decides
    assert model is not None, f"fast path accepted {raw!r} which ReadingV1 refuses"
    assert reading.ts == model.ts and reading.ts.utcoffset() == model.ts.utcoffset()
    assert reading.value == model.value and type(reading.value) is float


def test_fast_path_gives_stdlib_timezones():
    from meterhub.core.mqtt_contract import parse_message_fast, reading_from_json

    payload = batch(
        [
            {"meter_id": "EKF-1", "register": "energy_import_kwh", "ts": "2026-01-31T21:00:00Z", "value": 1},
            {
                "meter_id": "EKF-1",
                "register": "energy_import_kwh",
                "ts": "2026-02-01T00:00:00+03:00",
                "value": 2,
            },
        ]
    )
    _env, items = parse_message_fast(payload)
    a, b = (reading_from_json(r) for r in items)
    assert a.ts.tzinfo is UTC and a.ts == b.ts  # the same instant in two spellings
    assert type(b.ts.tzinfo) is timezone and b.value == 2.0


def test_iso_spellings_outside_rfc3339_still_parse_through_the_model():
    from meterhub.core.mqtt_contract import parse_message, parse_message_fast

    r = {"meter_id": "EKF-1", "register": "energy_import_kwh", "ts": "2026-01-31T21:00+00:00", "value": 1.0}
    payload = batch([r])
    assert parse_message_fast(payload) is None  # no seconds: not the gateway's spelling
    _env, readings, problems = parse_message(payload)
    assert problems == [] and readings[0].ts == TS
    bad_day = batch([{**r, "ts": "2026-02-30T00:00:00Z"}, {**r, "value": 2.0}])
    _env, readings, problems = parse_message(bad_day)
    assert [p.index for p in problems] == [0] and [x.value for x in readings] == [2.0]
