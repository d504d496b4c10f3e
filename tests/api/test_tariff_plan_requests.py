"""A tariff plan change request: the resident asks from the cabinet, staff approve by finishing the request,
and the account's plan applies from the next period (billing.plan_requests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from meterhub.billing.imports import import_file
from meterhub.billing.resident_loaders import service_tariffs
from meterhub.billing.zones import ZoneScheme
from meterhub.timeseries.database import connect
from tests.api.world import World

pytestmark = pytest.mark.db


def _next_month_first_day() -> date:
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Moscow")).date()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def test_plan_request_is_approved_from_the_next_period(
    client: TestClient, world: World, db_url: str, tmp_path
) -> None:
    alice = world.auth("alice")
    # three-zone prices are not in the regional order yet: the request is refused with the offered plans
    r = client.post(
        "/api/v1/accounts/LS-1/tariff-plan-requests", json={"scheme": "three_zone"}, headers=alice
    )
    assert r.status_code == 422, r.text
    assert "трёхзонный" in r.json()["detail"] and "двухзонный" in r.json()["detail"]
    with connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM tariff_plan_requests").fetchone() == (0,)
        (tmp_path / "tariffs.csv").write_text(
            "service,valid_from,scheme,price_single,price_peak,price_semi_peak,price_night\n"
            "electricity,2025-07-01,three_zone,5.00,7.00,5.50,2.50\n",
            encoding="utf-8",
        )
        import_file(conn, "tariffs", tmp_path / "tariffs.csv")
    # another resident cannot ask for LS-1
    assert (
        client.post(
            "/api/v1/accounts/LS-1/tariff-plan-requests",
            json={"scheme": "three_zone"},
            headers=world.auth("bob"),
        ).status_code
        == 404
    )
    r = client.post(
        "/api/v1/accounts/LS-1/tariff-plan-requests", json={"scheme": "three_zone"}, headers=alice
    )
    assert r.status_code == 201, r.text
    body = r.json()
    effective = _next_month_first_day()
    assert body["effective_from"] == effective.isoformat() and body["scheme_name"].startswith("трёхзонный")
    rid = body["request_id"]
    # the request is an ordinary billing request the resident follows
    seen = client.get(f"/api/v1/requests/{rid}", headers=alice).json()
    assert seen["category"] == "billing" and "трёхзонный" in seen["text"] and seen["status"] == "new"
    with connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM tariff_plans").fetchone() == (0,)  # nothing before approval
    done = client.patch(
        f"/api/v1/requests/{rid}", json={"status": "done", "comment": "Одобрено"}, headers=world.auth("acc")
    )
    assert done.status_code == 200, done.text
    last = done.json()["history"][-1]
    assert (
        last["comment"]
        == f"Одобрено\nТарифный план «трёхзонный (пик/полупик/ночь)» действует с {effective:%d.%m.%Y}."
    )
    with connect(db_url) as conn:
        plans = conn.execute(
            "SELECT building_id, account_no, meter_id, service, valid_from, scheme, source FROM tariff_plans"
        ).fetchall()
        assert plans == [("B1", "LS-1", "", "electricity", effective, "three_zone", f"request {rid}")]
        # the period after: three zones; the month before: still the building's two-zone plan
        after = service_tariffs(
            conn, "B1", "electricity", effective, date(effective.year, effective.month, 28), "LS-1"
        )
        assert {t.scheme for t in after} == {ZoneScheme.THREE_ZONE}
        before = service_tariffs(conn, "B1", "electricity", date(2026, 1, 1), date(2026, 1, 28), "LS-1")
        assert {t.scheme for t in before} == {ZoneScheme.TWO_ZONE}


def test_rejected_plan_request_writes_no_plan(client: TestClient, world: World, db_url: str) -> None:
    r = client.post(
        "/api/v1/accounts/LS-2/tariff-plan-requests",
        json={"scheme": "single_rate"},
        headers=world.auth("bob"),
    )
    assert r.status_code == 201, r.text
    rid = r.json()["request_id"]
    rejected = client.patch(
        f"/api/v1/requests/{rid}",
        json={"status": "rejected", "comment": "Счётчик не поддерживает"},
        headers=world.auth("acc"),
    )
    assert rejected.status_code == 200
    with connect(db_url) as conn:
        assert conn.execute(
            "SELECT status FROM tariff_plan_requests WHERE request_id = %s", (rid,)
        ).fetchone() == ("rejected",)
        assert conn.execute("SELECT count(*) FROM tariff_plans WHERE account_no = 'LS-2'").fetchone() == (0,)
