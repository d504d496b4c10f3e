"""Accounts endpoints on the small building closed for January 2026 (expected values from
tests/billing/test_close.py, computed by hand there)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World

pytestmark = pytest.mark.db


def test_resident_lists_only_linked_accounts(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts", headers=world.auth("alice"))
    assert r.status_code == 200
    assert [a["account_no"] for a in r.json()] == ["LS-1"]


def test_accountant_lists_all_and_filters_by_building(client: TestClient, world: World) -> None:
    acc = world.auth("acc")
    assert [a["account_no"] for a in client.get("/api/v1/accounts", headers=acc).json()] == [
        "LS-1",
        "LS-2",
        "LS-3",
        "LS-9",
    ]
    b2 = client.get("/api/v1/accounts", params={"building_id": "B2"}, headers=acc).json()
    assert [a["account_no"] for a in b2] == ["LS-9"]
    page = client.get("/api/v1/accounts", params={"limit": 2, "offset": 1}, headers=acc).json()
    assert [a["account_no"] for a in page] == ["LS-2", "LS-3"]


def test_account_details_balance_and_due_date(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-1", headers=world.auth("alice"))
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["address"] == "г. Омск, ул. Ленина, д. 1"
    assert d["area_m2"] == "50" and d["registered"] == 1
    assert [s["service"] for s in d["services"]] == ["cold_water", "electricity", "maintenance", "wastewater"]
    electricity = next(s for s in d["services"] if s["service"] == "electricity")
    assert electricity["meter_ids"] == ["E-1"]
    assert (electricity["unit"], electricity["unit_name"]) == ("kWh", "кВт·ч")
    # January charges of LS-1: 1488 + 372 + 325 + 260 + 1500 + 50 + 50 = 4045.00
    assert d["last_period"]["period"] == "2026-01"
    assert d["last_period"]["charged"] == {"rubles": "4045.00", "kopecks": 404500}
    assert d["last_period"]["status"] == "draft"
    assert d["last_period"]["due_date"] == "2026-02-10"
    # January balance: nothing paid in January (the payment is booked in February) → closing 4045.00
    assert d["balance"]["period"] == "2026-01"
    assert d["balance"]["total"]["rubles"] == "4045.00"


def test_balance_of_february_includes_the_payment(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-1/balance", params={"period": "2026-02"}, headers=world.auth("alice"))
    assert r.status_code == 200, r.text
    body = r.json()
    maintenance = next(s for s in body["services"] if s["service"] == "maintenance")
    # opening 1500.00 (January's charge), paid 1000.00 → closing 500.00
    assert maintenance["opening"]["kopecks"] == 150000
    assert maintenance["paid"]["kopecks"] == 100000
    assert maintenance["closing"]["rubles"] == "500.00"
    # total: 4045.00 − 1000.00 = 3045.00
    assert body["total"] == {"rubles": "3045.00", "kopecks": 304500}


def test_charges_are_itemised_with_explanations(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-1/charges", params={"period": "2026-01"}, headers=world.auth("alice"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"]["rubles"] == "4045.00"
    assert sum(line["amount"]["kopecks"] for line in body["lines"]) == 404500
    day = next(ln for ln in body["lines"] if ln["service"] == "electricity" and ln["zone"] == "day")
    # 0.5 kWh × 496 day hours = 248 kWh × 6.00 = 1488.00
    assert (day["volume"], day["tariff"], day["amount"]["rubles"], day["method"]) == (
        "248",
        "6",
        "1488.00",
        "meter",
    )
    # the resident reads Russian only: zone, unit and method named in Russian, decimal commas
    assert day["explanation"].startswith("электроснабжение (день): 248 кВт·ч × 6 ₽ = 1488,00 ₽ (по счётчику;")
    assert (day["zone_name"], day["unit_name"], day["method_name"]) == ("день", "кВт·ч", "по счётчику")
    assert day["service_name"] == "электроснабжение"
    for line in body["lines"]:
        for word in ("single", "meter", "kWh", "m3", "normative", "average", "day", "night"):
            assert word not in line["explanation"], (word, line["explanation"])
    # default period = the latest with charges
    assert (
        client.get("/api/v1/accounts/LS-1/charges", headers=world.auth("alice")).json()["period"] == "2026-01"
    )


def test_charges_coefficient_appears_in_the_explanation(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-2/charges", headers=world.auth("bob")).json()
    water = next(ln for ln in r["lines"] if ln["service"] == "cold_water" and ln["kind"] == "individual")
    # 3 persons × 5 m³ = 15 m³ × 50 × 1.5 = 1125.00 (without ×1.5: 750.00)
    assert water["coefficient"] == "1.5" and water["amount"]["rubles"] == "1125.00"
    assert water["amount_without_coefficient"]["rubles"] == "750.00"
    # 15 м³ × 50 ₽ × 1,5 = 1125,00 ₽, by the normative raised ×1.5 (no meter)
    assert water["explanation"].startswith("холодное водоснабжение: 15 м³ × 50 ₽ × 1,5 = 1125,00 ₽ (")
    assert water["method"] == "normative_x1_5" and water["method_name"] == "по нормативу ×1,5"


def test_charges_of_a_period_without_charges_is_404_with_the_known_periods(
    client: TestClient, world: World
) -> None:
    r = client.get("/api/v1/accounts/LS-1/charges", params={"period": "2025-12"}, headers=world.auth("alice"))
    assert r.status_code == 404
    assert "2026-01" in r.json()["detail"]


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "январь", "2026-01-01"])
def test_bad_period_is_422(client: TestClient, world: World, period: str) -> None:
    r = client.get("/api/v1/accounts/LS-1/charges", params={"period": period}, headers=world.auth("alice"))
    assert r.status_code == 422
    err = r.json()["detail"][0]
    assert err["loc"] == ["query", "period"] and "pattern" in err["msg"]


def test_payment_history_with_allocations(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-1/payments", headers=world.auth("alice"))
    assert r.status_code == 200
    (payment,) = r.json()
    assert payment["payment_id"] == "PAY-ALICE-1"
    assert payment["amount"] == {"rubles": "1000.00", "kopecks": 100000}
    assert (payment["source"], payment["source_name"]) == ("sber", "Сбербанк")
    assert payment["allocations"][0]["debt_period"] == "2026-01"
    assert payment["allocations"][0]["service"] == "maintenance"


def test_account_without_charges_has_no_balance(client: TestClient, world: World) -> None:
    d = client.get("/api/v1/accounts/LS-9", headers=world.auth("carol")).json()
    assert d["balance"] is None and d["last_period"] is None
    assert client.get("/api/v1/accounts/LS-9/charges", headers=world.auth("carol")).status_code == 404
    assert client.get("/api/v1/accounts/LS-9/balance", headers=world.auth("carol")).status_code == 404


def test_scope_of_account_endpoints(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/accounts/LS-2", headers=world.auth("alice")).status_code == 404
    assert client.get("/api/v1/accounts/LS-2", headers=world.auth("eng")).status_code == 403
    assert client.get("/api/v1/accounts", headers=world.auth("eng")).status_code == 403
    assert client.get("/api/v1/accounts/LS-2", headers=world.auth("acc")).status_code == 200
    assert client.get("/api/v1/accounts/NOPE", headers=world.auth("root")).status_code == 404


def test_paging_bounds_are_422_not_a_database_error(client: TestClient, world: World) -> None:
    # found by schemathesis: an offset beyond bigint reached PostgreSQL ("bigint out of range")
    r = client.get("/api/v1/accounts", params={"offset": 10**19}, headers=world.auth("acc"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "offset"]
    assert (
        client.get("/api/v1/requests", params={"offset": 10**19}, headers=world.auth("acc")).status_code
        == 422
    )


def test_russian_labels_keep_unknown_codes_as_they_are() -> None:
    from meterhub.api import labels_ru

    assert labels_ru.payment_source_ru("SBER") == "Сбербанк"
    assert labels_ru.payment_source_ru("bank-x") == "bank-x"
    assert [labels_ru.zone_ru(z) for z in ("day", "night", "peak", "semi_peak")] == [
        "день",
        "ночь",
        "пик",
        "полупик",
    ]
    assert [labels_ru.unit_ru(u) for u in ("kWh", "m3", "Gcal", "m2")] == ["кВт·ч", "м³", "Гкал", "м²"]
    assert [labels_ru.method_ru(m) for m in ("meter", "average", "normative", "normative_x1_5")] == [
        "по счётчику",
        "по среднему",
        "по нормативу",
        "по нормативу ×1,5",
    ]
    assert labels_ru.scheme_ru("three_zone") == "трёхзонный"
    assert labels_ru.recalculation_reason_ru("2026-01", "average", "meter") == (
        "Перерасчёт за январь 2026 (было: по среднему, стало: по счётчику)"
    )
    assert labels_ru.recalculation_reason_ru("2025-12", "meter", "meter") == "Перерасчёт за декабрь 2025"
