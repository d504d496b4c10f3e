"""Telemetry endpoints through the HTTP app on the world of tests/api/world.py (building B1, Europe/Moscow,
January 2026: E-1 of LS-1 reads 0.5 kWh every hour; two-zone tariff day 6.00 / night 3.00 ₽/kWh with a
single-rate price 5.00 from 2025-07-01), plus, for this module only: an older tariff, a three-zone tariff
option, and a few hours of other qualities. Expected values are computed by hand in each test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub.api.routes.telemetry import get_now
from tests.api.world import World

pytestmark = pytest.mark.db

MSK = "Europe/Moscow"


@pytest.fixture(scope="module", autouse=True)
def telemetry_data(world: World) -> None:
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tariffs (service, applies_to, valid_from, valid_to, scheme, basis, price_single, "
            "price_day, price_night) VALUES "
            "('electricity', '*', '2024-01-01', '2025-07-01', 'two_zone', 'per_unit', 4.00, 5.00, 2.50)"
        )
        conn.execute(
            "INSERT INTO tariff_options (service, applies_to, scheme, valid_from, price_peak, "
            "price_semi_peak, price_night) "
            "VALUES ('electricity', '*', 'three_zone', '2024-01-01', 6.00, 5.00, 2.00)"
        )
        sid = conn.execute(
            "SELECT series_id FROM meter_registers WHERE meter_id = 'E-1' AND register = 'energy_import_kwh'"
        ).fetchone()[0]
        conn.execute("SELECT meterhub_ensure_partitions('hourly_consumption', '2023-12-01', '2026-12-01')")
        # 2026-02-02 local: 00–01 interpolated 1 kWh, 01–02 estimated 2 kWh, 02–03 suspect 9 kWh
        conn.execute(
            "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) VALUES "
            "(%(s)s, '2026-02-01 21:00Z', 1000000, 1), (%(s)s, '2026-02-01 22:00Z', 2000000, 2), "
            "(%(s)s, '2026-02-01 23:00Z', 9000000, 3)",
            {"s": sid},
        )


@pytest.fixture()
def at(client: TestClient) -> Iterator:
    """Freeze the API's clock: ``at(datetime)``."""

    def freeze(moment: datetime) -> None:
        client.app.dependency_overrides[get_now] = lambda: moment  # type: ignore[attr-defined]

    yield freeze
    client.app.dependency_overrides.pop(get_now, None)  # type: ignore[attr-defined]


def consumption(
    client: TestClient, world: World, who: str = "alice", meter: str = "E-1", account: str = "LS-1", **params
):
    return client.get(
        f"/api/v1/accounts/{account}/meters/{meter}/consumption", params=params, headers=world.auth(who)
    )


# --- meters ------------------------------------------------------------------------------------------


def test_meters_of_an_account_with_registers_latest_readings_and_verification(client, world, at):
    at(datetime(2026, 2, 10, 9, tzinfo=UTC))
    r = client.get("/api/v1/accounts/LS-1/meters", headers=world.auth("alice"))
    assert r.status_code == 200, r.text
    meters = {m["meter_id"]: m for m in r.json()}
    assert set(meters) == {"E-1", "W-1"}
    w1 = meters["W-1"]
    assert w1["service"] == "cold_water" and not w1["multi_zone"]
    assert w1["registers"][0]["label"] == "T" and w1["registers"][0]["register"] == "water_m3"
    assert w1["registers"][0]["latest_value"] == "16.5"  # the reading of 2026-01-25 12:00 Moscow
    assert w1["registers"][0]["latest_at"] == "2026-01-25T09:00:00Z"
    assert w1["verification_due"] == "2030-01-01" and w1["verification_status"] == "ok"
    assert meters["E-1"]["tariff_scheme"] == "two_zone"
    assert w1["accepts_readings"] and w1["submission_window_last_day"] == 25


def test_multi_zone_meter_lists_zone_registers_and_expired_meter_refuses_readings(client, world, at):
    at(datetime(2026, 2, 10, 9, tzinfo=UTC))
    meters = {
        m["meter_id"]: m for m in client.get("/api/v1/accounts/LS-2/meters", headers=world.auth("bob")).json()
    }
    e2 = meters["E-2"]
    assert e2["multi_zone"]
    assert [(r["label"], r["zone"], r["latest_value"]) for r in e2["registers"]] == [
        ("T1", "day", "1150.5"),
        ("T2", "night", "580"),
    ]
    assert meters["W-2"]["verification_status"] == "expired"  # due 2026-01-15
    assert not meters["W-2"]["accepts_readings"]


def test_meters_access(client, world):
    assert client.get("/api/v1/accounts/LS-2/meters", headers=world.auth("alice")).status_code == 404
    assert client.get("/api/v1/accounts/LS-1/meters", headers=world.auth("eng")).status_code == 403
    assert client.get("/api/v1/accounts/LS-1/meters").status_code == 401
    assert client.get("/api/v1/accounts/LS-1/meters", headers=world.auth("acc")).status_code == 200


# --- consumption ---------------------------------------------------------------------------------------


def test_daily_volume_with_zone_breakdown(client, world):
    r = consumption(client, world, start="2026-01-01", end="2026-02-01", resolution="day")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["time_zone"] == MSK and body["unit"] == "volume" and body["unit_label"] == "kWh"
    assert body["unit_name"] == "кВт·ч"
    assert {body["zone_names"][z] for z in ("day", "night")} == {"день", "ночь"}
    assert body["zones"] == ["single", "day", "night"] or body["zones"] == ["day", "night"]
    points = body["points"]
    assert len(points) == 31
    # 0.5 kWh × 24 h = 12; day zone 07–23 = 16 h × 0.5 = 8; night 8 h × 0.5 = 4
    assert points[0] == {
        "start": "2026-01-01T00:00:00+03:00",
        "value": "12",
        "quality": "measured",
        "zones": {"day": "8", "night": "4"},
        "missing_hours": 0,
    }
    assert body["total"] == "372"  # 31 × 12


def test_hourly_day_has_24_points_in_local_time(client, world):
    body = consumption(client, world, start="2026-01-15", end="2026-01-16", resolution="hour").json()
    assert len(body["points"]) == 24
    assert body["points"][7]["start"] == "2026-01-15T07:00:00+03:00"
    assert body["points"][6]["zones"] == {"day": "0", "night": "0.5"}
    assert body["points"][7]["zones"] == {"day": "0.5", "night": "0"}
    assert body["total"] == "12"


def test_month_in_rubles_equals_the_receipt_lines(client, world):
    body = consumption(
        client, world, start="2026-01-01", end="2026-02-01", resolution="month", unit="rub"
    ).json()
    (point,) = body["points"]
    # day 0.5 × 16 × 31 = 248 kWh × 6.00 = 1488.00; night 124 kWh × 3.00 = 372.00 (January charge lines)
    assert point["zones"] == {"day": "1488.00", "night": "372.00"}
    assert point["value"] == body["total"] == "1860.00"
    assert body["unit_label"] == "₽"


def test_quality_flags_and_missing_hours(client, world):
    body = consumption(client, world, start="2026-02-02", end="2026-02-03", resolution="hour").json()
    points = body["points"]
    assert [p["quality"] for p in points[:4]] == ["interpolated", "estimated", "missing", "missing"]
    assert [p["value"] for p in points[:3]] == ["1", "2", "0"]  # the suspect 9 kWh is never shown as volume
    day = consumption(client, world, start="2026-02-02", end="2026-02-03", resolution="day").json()["points"][
        0
    ]
    assert day["quality"] == "estimated" and day["missing_hours"] == 22 and day["value"] == "3"
    empty = consumption(client, world, start="2026-03-01", end="2026-03-02", resolution="day").json()[
        "points"
    ][0]
    assert empty["quality"] == "missing" and empty["value"] == "0" and empty["missing_hours"] == 24


def test_compare_with_last_year(client, world):
    body = consumption(
        client, world, start="2026-01-01", end="2026-01-03", resolution="day", compare="last_year"
    ).json()
    previous = body["previous"]
    assert previous["start"] == "2025-01-01" and previous["end"] == "2025-01-03"
    assert [p["start"] for p in previous["points"]] == [
        "2025-01-01T00:00:00+03:00",
        "2025-01-02T00:00:00+03:00",
    ]
    assert all(p["quality"] == "missing" for p in previous["points"])
    assert previous["total"] == "0" and body["total"] == "24"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"start": "2026-01-02", "end": "2026-01-01"}, "must be after start"),
        ({"start": "2025-01-01", "end": "2026-01-03", "resolution": "hour"}, "at most 366 days"),
        ({"start": "2026-01-01", "end": "2026-01-02", "resolution": "week"}, "resolution"),
        ({"start": "2026-01-01", "end": "2026-01-02", "unit": "usd"}, "unit"),
        ({"start": "yesterday", "end": "2026-01-02"}, "start"),
        ({"end": "2026-01-02"}, "start"),
    ],
)
def test_consumption_validation_errors_are_422_with_a_clear_message(client, world, params, fragment):
    r = consumption(client, world, **params)
    assert r.status_code == 422
    assert fragment in str(r.json()["detail"])


def test_rubles_without_a_tariff_is_422(client, world):
    with psycopg.connect(world.url, autocommit=True) as conn:
        sid = conn.execute(
            "SELECT series_id FROM meter_registers WHERE meter_id = 'E-1' AND register = 'energy_import_kwh'"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) VALUES (%s, %s, 1, 0)",
            (sid, datetime(2023, 12, 31, 12, tzinfo=UTC)),
        )
    r = consumption(client, world, start="2023-12-31", end="2024-01-01", unit="rub")
    assert r.status_code == 422
    assert "no tariff in force on 2023-12-31" in r.json()["detail"]
    assert "нет тарифа для расчёта в рублях на 31.12.2023" in r.json()["detail"]
    assert consumption(client, world, start="2023-12-31", end="2024-01-01").status_code == 200
    # a year later in ₽ with compare=last_year: this period priced, last year absent with the reason
    r = consumption(
        client, world, start="2024-12-31", end="2025-01-01", unit="rub", resolution="day", compare="last_year"
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "previous" not in body
    assert body["previous_unavailable_ru"] == (
        "Сравнение с прошлым годом недоступно: нет тарифа для расчёта в рублях на 31.12.2023."
    )
    assert [p["start"] for p in body["points"]] == ["2024-12-31T00:00:00+03:00"]


def test_consumption_access(client, world):
    assert consumption(client, world, meter="E-2", start="2026-01-01", end="2026-01-02").status_code == 404
    assert (
        consumption(
            client, world, account="LS-2", meter="E-2", start="2026-01-01", end="2026-01-02"
        ).status_code
        == 404
    )
    assert consumption(client, world, who="eng", start="2026-01-01", end="2026-01-02").status_code == 403
    bob = consumption(
        client, world, who="bob", account="LS-2", meter="E-2", start="2026-01-01", end="2026-01-02"
    )
    assert bob.status_code == 200  # E-2 has register readings only: no hours, every point missing
    assert bob.json()["points"][0]["quality"] == "missing"
