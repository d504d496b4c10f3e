"""Reading submission through the HTTP app (world of tests/api/world.py: W-1 of LS-1 read 10.0 m³ on
2025-12-25 and 16.5 m³ on 2026-01-25 12:00 Moscow; E-2 of LS-2 has T1/T2 registers; W-2 of LS-2 is out of
verification since 2026-01-15). The tests run in order and build on each other's stored readings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub.api.routes.telemetry import get_now
from tests.api.world import World

pytestmark = pytest.mark.db

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture()
def at(client: TestClient) -> Iterator:
    def freeze(moment: datetime) -> None:
        client.app.dependency_overrides[get_now] = lambda: moment  # type: ignore[attr-defined]

    yield freeze
    client.app.dependency_overrides.pop(get_now, None)  # type: ignore[attr-defined]


def post(
    client: TestClient,
    world: World,
    body: dict,
    who: str = "alice",
    account: str = "LS-1",
    meter: str = "W-1",
):
    return client.post(
        f"/api/v1/accounts/{account}/meters/{meter}/readings", json=body, headers=world.auth(who)
    )


def error_codes(response) -> list[str]:
    return [e["code"] for e in response.json()["detail"]["errors"]]


def test_reading_is_accepted_and_stored_as_manual(client, world, at):
    now = datetime(2026, 2, 10, 12, tzinfo=MSK)
    at(now)
    r = post(client, world, {"values": {"T": "18.2"}})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["accepted"] is True
    assert body["consumption"] == {"T": "1.7"}  # 18.2 − 16.5
    assert body["counts_for"] == "2026-02" and body["next_bill_period"] == "2026-02"
    assert body["next_bill_method"] == "meter"
    assert body["warnings"] == []
    with psycopg.connect(world.url) as conn:
        value, source = conn.execute(
            "SELECT value, source FROM readings_named WHERE meter_id = 'W-1' AND ts = %s", (now,)
        ).fetchone()
        assert (value, source) == (18.2, "manual")
        audit = conn.execute(
            "SELECT account_no, counts_for, submitted_values, next_bill_method, user_id "
            "FROM reading_submissions WHERE id = %s",
            (body["submission_id"],),
        ).fetchone()
        assert audit == ("LS-1", "2026-02", {"T": "18.2"}, "meter", world.users["alice"])
        # marked for the rollup exactly like gateway readings
        logged = conn.execute(
            """
            SELECT count(*) FROM series_dirty_log l
            JOIN meter_registers mr ON mr.series_id = ANY(l.series_ids)
            WHERE mr.meter_id = 'W-1' AND l.from_ts = %s
            """,
            (now,),
        ).fetchone()[0]
        assert logged == 1


def test_rollup_turns_the_manual_reading_into_hours_the_chart_shows(client, world, at):
    from meterhub.timeseries.rollup import process_dirty

    with psycopg.connect(world.url) as conn:
        conn.execute("SELECT meterhub_ensure_partitions('hourly_consumption', '2025-12-01', '2026-03-01')")
        conn.commit()
        process_dirty(conn)
    r = client.get(
        "/api/v1/accounts/LS-1/meters/W-1/consumption",
        params={"start": "2026-01-26", "end": "2026-02-10", "resolution": "month"},
        headers=world.auth("alice"),
    )
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    # 16.5 on 25 Jan 12:00 → 18.2 on 10 Feb 12:00: a 16-day gap, spread as estimated hours
    assert [p["quality"] for p in points] == ["estimated", "estimated"]


def test_lower_than_previous_is_422_with_russian_and_english(client, world, at):
    at(datetime(2026, 2, 11, 12, tzinfo=MSK))
    r = post(client, world, {"values": {"T": "15"}})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert error_codes(r) == ["lower_than_previous"]
    assert "меньше предыдущего 18,2\u00a0куб. м" in detail["message_ru"]  # decimal comma and the unit
    assert "lower than the previous reading 18.2" in detail["message"]
    assert detail["errors"][0]["register"] == "T"


def test_unusually_high_needs_confirmation(client, world, at):
    # typical 6.5 m³ / 31 d × 3 < floor 1.5 m³/day; 2 days since 18.2 → 3.0 m³ allowed without confirmation
    at(datetime(2026, 2, 12, 12, tzinfo=MSK))
    refused = post(client, world, {"values": {"T": "21.3"}})
    assert refused.status_code == 422 and error_codes(refused) == ["unusually_high"]
    accepted = post(client, world, {"values": {"T": "21.3"}, "confirm": True})
    assert accepted.status_code == 201, accepted.text
    assert [w["code"] for w in accepted.json()["warnings"]] == ["unusually_high"]
    assert accepted.json()["consumption"] == {"T": "3.1"}


def test_lower_reading_after_a_recorded_replacement_is_accepted(client, world, at):
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO register_events (series_id, ts, kind, value_before, value_after, note) "
            "SELECT series_id, %s, 'installation', NULL, 0, 'new meter' FROM meter_registers "
            "WHERE meter_id = 'W-1' AND register = 'water_m3'",
            (datetime(2026, 2, 13, 10, tzinfo=MSK),),
        )
    at(datetime(2026, 2, 14, 12, tzinfo=MSK))
    r = post(client, world, {"values": {"T": "0.4"}})
    assert r.status_code == 201, r.text
    assert r.json()["consumption"] == {}


def test_multi_zone_reading_after_the_25th_counts_next_month_and_bill_falls_back(client, world, at):
    at(datetime(2026, 2, 26, 12, tzinfo=MSK))
    missing = post(client, world, {"values": {"T1": "1200"}}, who="bob", account="LS-2", meter="E-2")
    assert missing.status_code == 422 and error_codes(missing) == ["missing_register"]
    r = post(client, world, {"values": {"T1": "1200", "T2": "600.5"}}, who="bob", account="LS-2", meter="E-2")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["consumption"] == {"T1": "49.5", "T2": "20.5"}  # 1200 − 1150.5; 600.5 − 580
    assert body["counts_for"] == "2026-03"
    assert [w["code"] for w in body["warnings"]] == ["after_window"]
    # February got no reading in its window (26 Jan – 25 Feb) and there are no closed metered months
    # to average (January is a draft): the February bill uses the normative
    assert body["next_bill_period"] == "2026-02" and body["next_bill_method"] == "normative"


def test_expired_verification_is_refused(client, world, at):
    at(datetime(2026, 2, 10, 12, tzinfo=MSK))
    r = post(client, world, {"values": {"T": "3"}}, who="bob", account="LS-2", meter="W-2")
    assert r.status_code == 422 and error_codes(r) == ["verification_expired"]
    assert "Срок поверки" in r.json()["detail"]["message_ru"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"values": {}}, "at least 1"),
        ({"values": {"T": 5}}, "valid string"),
        ({"values": {"T": "5"}, "extra": 1}, "Extra inputs"),
        ({}, "Field required"),
        ({"values": {"T": "5"}, "taken_at": "not a time"}, "datetime"),
    ],
)
def test_body_validation_is_422(client, world, body, fragment):
    r = post(client, world, body)
    assert r.status_code == 422
    assert fragment in str(r.json()["detail"])


def test_time_and_value_checks(client, world, at):
    at(datetime(2026, 2, 15, 12, tzinfo=MSK))
    future = post(client, world, {"values": {"T": "1"}, "taken_at": "2026-02-16T12:00:00+03:00"})
    assert error_codes(future) == ["future"]
    naive_local = post(client, world, {"values": {"T": "abc"}, "taken_at": "2026-02-15T11:00:00"})
    assert error_codes(naive_local) == ["not_a_number"]
    unknown = post(client, world, {"values": {"T9": "1"}})
    assert set(error_codes(unknown)) == {"unknown_register", "missing_register"}


def test_access_to_readings(client, world):
    assert post(client, world, {"values": {"T": "1"}}, account="LS-2", meter="E-2").status_code == 404
    assert post(client, world, {"values": {"T": "1"}}, meter="E-2").status_code == 404  # not alice's meter
    assert post(client, world, {"values": {"T": "1"}}, who="eng").status_code == 403
    assert (
        client.post("/api/v1/accounts/LS-1/meters/W-1/readings", json={"values": {"T": "1"}}).status_code
        == 401
    )
