"""Engineers' read-only view of assigned buildings: gateways and meters with their latest readings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World

pytestmark = pytest.mark.db


def test_buildings_list_follows_the_role(client: TestClient, world: World) -> None:
    ids = {
        who: [b["building_id"] for b in client.get("/api/v1/buildings", headers=world.auth(who)).json()]
        for who in ("alice", "carol", "eng", "acc", "root")
    }
    assert ids == {"alice": ["B1"], "carol": ["B2"], "eng": ["B1"], "acc": ["B1", "B2"], "root": ["B1", "B2"]}
    b1 = client.get("/api/v1/buildings", headers=world.auth("eng")).json()[0]
    assert (b1["accounts"], b1["gateways"]) == (3, 1)


def test_gateways_of_an_assigned_building(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/buildings/B1/gateways", headers=world.auth("eng"))
    assert r.status_code == 200
    (gw,) = r.json()
    assert (gw["gateway_id"], gw["state"], gw["outbox_backlog"]) == ("gw-b1", "offline", 0)
    assert client.get("/api/v1/buildings/B2/gateways", headers=world.auth("eng")).status_code == 403
    assert (
        client.get("/api/v1/buildings/B2/gateways", headers=world.auth("root")).json()[0]["gateway_id"]
        == "gw-b2"
    )


def test_meters_with_latest_readings_and_verification(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/buildings/B1/meters", headers=world.auth("eng"))
    assert r.status_code == 200, r.text
    meters = {m["meter_id"]: m for m in r.json()}
    assert next(iter(meters)) == "E-HOUSE"  # house meters first
    house = meters["E-HOUSE"]
    assert house["is_house_meter"] is True and house["premise_no"] is None
    (reg,) = house["registers"]
    # the small building's house meter ends January at 1000.0 kWh (tests/billing/close_data.py)
    assert (reg["name"], reg["latest_value"], reg["latest_source"]) == (
        "energy_import_kwh",
        "1000.0",
        "gateway",
    )
    assert meters["E-1"]["premise_no"] == "1"
    assert meters["W-2"]["verification_due"] == "2026-01-15" and meters["W-2"]["verification_overdue"] is True
    assert {r["name"] for r in meters["E-2"]["registers"]} == {"energy_import_t1_kwh", "energy_import_t2_kwh"}
    water = client.get(
        "/api/v1/buildings/B1/meters", params={"kind": "cold_water"}, headers=world.auth("eng")
    )
    assert {m["meter_id"] for m in water.json()} == {"W-1", "W-2"}
    assert (
        client.get(
            "/api/v1/buildings/B1/meters", params={"kind": "gas"}, headers=world.auth("eng")
        ).status_code
        == 422
    )


def test_residents_and_accountants_do_not_see_telemetry(client: TestClient, world: World) -> None:
    for who in ("alice", "acc"):
        assert client.get("/api/v1/buildings/B1/meters", headers=world.auth(who)).status_code == 403
        assert client.get("/api/v1/buildings/B1/gateways", headers=world.auth(who)).status_code == 403
