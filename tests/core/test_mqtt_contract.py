"""The MQTT v1 contract: topics, envelope and per-reading validation, round trip, fuzz."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.core.mqtt_contract import (
    ContractError,
    commits_topic,
    encode_batch,
    encode_commit_ack,
    parse_batch,
    parse_commit_ack,
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


def test_parse_message_keeps_good_readings_and_reports_bad_ones():
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


@pytest.mark.parametrize("value", ["12.5", True, None, [1.0], {"v": 1}])
def test_a_value_that_is_not_a_json_number_is_refused_never_coerced(value):
    reading = {"meter_id": "M-1", "register": "water_m3", "ts": "2026-01-31T21:00:00Z", "value": value}
    good, bad = parse_readings(parse_batch(batch([reading])))
    assert good == [] and len(bad) == 1 and "value" in bad[0].detail


def test_a_wrong_type_of_schema_version_is_told_apart_from_an_unknown_version():
    for version, reason, words in (
        ("1", "schema_violation", 'must be the JSON integer 1, not the string "1"'),
        (1.0, "schema_violation", "not the number 1.0"),
        (2, "unsupported_schema_version", "schema_version 2 is not supported; this ingest speaks 1"),
    ):
        one = {"meter_id": "M", "register": "r", "ts": "2026-01-31T21:00:00Z", "value": 1}
        data = json.loads(batch([one]))
        data["schema_version"] = version
        with pytest.raises(ContractError) as e:
            parse_batch(json.dumps(data).encode())
        assert e.value.reason == reason and words in e.value.detail, e.value.detail


def test_commit_acknowledgement_round_trip_and_topic():
    assert commits_topic("B-001", "gw-1") == "meterhub/v1/B-001/gw-1/commits"
    ack = parse_commit_ack(encode_commit_ack("gw-1", "B-001", TS, ["a", "b"], ["b"]))
    assert (ack.gateway_id, ack.building_id) == ("gw-1", "B-001")
    assert (ack.batch_ids, ack.dead_lettered) == (["a", "b"], ["b"])
    assert parse_commit_ack(encode_commit_ack("gw-1", "B-001", TS, ["a"])).dead_lettered == []
    for bad in (b"{}", b'{"schema_version": 2}', encode_commit_ack("gw-1", "B-001", TS, [])):
        with pytest.raises(ContractError):
            parse_commit_ack(bad)
