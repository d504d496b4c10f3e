"""A tariff plan change request: the resident asks from the cabinet, staff approve by finishing the request,
and the account's plan applies from the next period (billing.plan_requests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from meterhub.billing.imports import import_file
from meterhub.billing.residents.loaders import service_tariffs
from meterhub.billing.rules.zones import ZoneScheme
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
    # reopened and approved after all: the plan is written then
    acc = world.auth("acc")
    assert (
        client.patch(f"/api/v1/requests/{rid}", json={"status": "in_progress"}, headers=acc).status_code
        == 200
    )
    done = client.patch(f"/api/v1/requests/{rid}", json={"status": "done"}, headers=acc)
    assert done.json()["history"][-1]["comment"].startswith("Тарифный план «одноставочный» действует с ")
    with connect(db_url) as conn:
        assert conn.execute("SELECT scheme FROM tariff_plans WHERE account_no = 'LS-2'").fetchone() == (
            "single_rate",
        )
        conn.execute("DELETE FROM tariff_plans WHERE account_no = 'LS-2'")
        conn.commit()


def test_advice_prices_the_plan_with_its_weekday_schedule(
    client: TestClient, world: World, db_url: str
) -> None:
    """E-1 (LS-1) on a meter plan: two-zone with weekends and the New Year holidays all night."""
    from meterhub.api.routes.telemetry import get_now

    with connect(db_url) as conn:
        conn.execute(
            "INSERT INTO holiday_calendars (calendar, day) "
            "SELECT 'RU', DATE '2026-01-01' + d FROM generate_series(0, 7) d"
        )
        conn.execute(
            "INSERT INTO zone_schedules (schedule, scheme, workday, saturday, calendar) "
            "VALUES ('weekend-night', 'two_zone', 'day=7-23;night=23-7', 'night=0-24', 'RU')"
        )
        conn.execute(
            "INSERT INTO tariff_plans (building_id, meter_id, valid_from, scheme, zone_schedule) "
            "VALUES ('B1', 'E-1', '2025-01-01', 'two_zone', 'weekend-night')"
        )
        conn.execute(  # so that February–June 2025 are priced too
            "INSERT INTO tariffs (service, valid_from, valid_to, scheme, basis, price_single, price_day, "
            "price_night) "
            "VALUES ('electricity', '2024-01-01', '2025-07-01', 'two_zone', 'per_unit', 5.00, 6.00, 3.00)"
        )
        conn.commit()
    client.app.dependency_overrides[get_now] = lambda: datetime(2026, 2, 10, 9, tzinfo=UTC)  # type: ignore[attr-defined]
    try:
        r = client.get("/api/v1/accounts/LS-1/tariff-advice", headers=world.auth("alice"))
    finally:
        client.app.dependency_overrides.pop(get_now, None)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    body = r.json()
    options = {o["scheme"]: o for o in body["options"]}
    assert body["current_scheme"] == "two_zone"
    # January 2026 only (0.5 kWh every hour): 16 working days × 16 h × 0.5 = 128 kWh × 6.00 = 768.00 and
    # 244 kWh × 3.00 = 732.00 → 1500.00 ₽ (on the plain 07–23 schedule it would be 248 × 6 + 124 × 3 =
    # 1860.00); single-rate 372 × 5.00 = 1860.00 (and three-zone, priced by the new order, is dearer)
    assert options["two_zone"]["total"]["rubles"] == "1500.00"
    assert options["single_rate"]["total"]["rubles"] == "1860.00"
    assert body["cheapest"] == "two_zone"
