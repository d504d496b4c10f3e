"""Building charts and tariff advice through the HTTP app (world of tests/api/world.py: building B1,
S_об = 150 m², S_ои = 30 m², January 2026 computed by the close; E-1 of LS-1 reads 0.5 kWh every hour of
January 2026). Expected values are computed by hand in each test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub.api.routes.telemetry import get_now
from tests.api.world import World

pytestmark = pytest.mark.db


@pytest.fixture(scope="module", autouse=True)
def tariff_menu(world: World) -> None:
    """An older two-zone tariff (so the 12 months are priced) and a three-zone option for the advice."""
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


@pytest.fixture()
def at(client: TestClient) -> Iterator:
    def freeze(moment: datetime) -> None:
        client.app.dependency_overrides[get_now] = lambda: moment  # type: ignore[attr-defined]

    yield freeze
    client.app.dependency_overrides.pop(get_now, None)  # type: ignore[attr-defined]


def test_building_charts_for_the_current_year(client, world, at):
    at(datetime(2026, 11, 24, 9, tzinfo=UTC))
    r = client.get("/api/v1/buildings/B1/charts", headers=world.auth("alice"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["year"] == 2026 and body["time_zone"] == "Europe/Moscow" and body["total_area_m2"] == "150"
    services = {s["service"]: s for s in body["services"]}
    assert set(services) == {"electricity", "cold_water"}
    jan = services["electricity"]["months"][0]
    # house meter E-HOUSE: 0 → 1000 kWh between the readings windows of December and January
    assert jan["volume"] == "1000" and jan["source"] == "close"
    assert jan["per_m2"] == "6.6667"  # 1000 / 150
    assert jan["persons"] == 6  # LS-1 1 + LS-2 (2 registered + 1 temporary) + LS-3 2
    assert jan["per_person"] == "166.6667"  # 1000 / 6
    # individual Σ = 372 (E-1) + 230.5 (E-2: 150.5 + 80) + 200 (LS-3: 2 × 100 normative) = 802.5;
    # difference 197.5 over the cap 1.0 kWh/m² × 30 m² = 30 → 30 kWh distributed (actual_capped)
    assert jan["common_per_m2"] == "0.200000"  # 30 / 150
    assert jan["common_share_percent"] == "3.00"  # 30 / 1000 × 100
    assert jan["common_method"] == "actual_capped"
    assert jan["previous_volume"] is None and jan["change_percent"] is None
    february = services["electricity"]["months"][1]
    assert february["volume"] is None and february["source"] is None  # no reading in February's window
    assert services["electricity"]["total"] == "1000" and services["electricity"]["previous_total"] is None
    water_jan = services["cold_water"]["months"][0]
    # cold water by normative: 0.1 m³/m² × 30 m² = 3 m³ → 3 / 150 = 0.02 per m²; no house meter
    assert water_jan["volume"] is None and water_jan["common_per_m2"] == "0.020000"
    assert len(services["cold_water"]["months"]) == 12


def test_charts_compare_with_last_year(client, world, at):
    at(datetime(2027, 3, 1, 9, tzinfo=UTC))
    body = client.get(
        "/api/v1/buildings/B1/charts",
        params={"year": 2027, "service": "electricity"},
        headers=world.auth("acc"),
    ).json()
    (electricity,) = body["services"]
    jan = electricity["months"][0]
    assert jan["volume"] is None and jan["previous_volume"] == "1000" and jan["previous_per_m2"] == "6.6667"
    assert jan["previous_common_per_m2"] == "0.200000"


def test_charts_access_and_validation(client, world):
    assert client.get("/api/v1/buildings/B2/charts", headers=world.auth("alice")).status_code == 404
    assert client.get("/api/v1/buildings/B2/charts", headers=world.auth("eng")).status_code == 403
    assert client.get("/api/v1/buildings/B1/charts", headers=world.auth("eng")).status_code == 200
    bad = client.get("/api/v1/buildings/B1/charts", params={"year": 1900}, headers=world.auth("alice"))
    assert bad.status_code == 422
    wrong = client.get("/api/v1/buildings/B1/charts", params={"service": "gas"}, headers=world.auth("alice"))
    assert wrong.status_code == 422


def test_tariff_advice_for_the_last_twelve_months(client, world, at):
    at(datetime(2026, 2, 15, 9, tzinfo=UTC))
    r = client.get("/api/v1/accounts/LS-1/tariff-advice", headers=world.auth("alice"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period_from"] == "2025-02" and body["period_to"] == "2026-01"
    assert body["meter_ids"] == ["E-1"]
    assert body["volume_kwh"] == "372"  # 0.5 × 744 h of January 2026
    assert body["hours_present"] == 744 and body["hours_expected"] == 8760 and body["complete"] is False
    costs = {o["scheme"]: o for o in body["options"]}
    # single: 372 × 5.00 = 1860.00 (months before July 2025 priced at 4.00, but empty)
    assert costs["single_rate"]["total"] == {"rubles": "1860.00", "kopecks": 186000}
    # two-zone: day 16 h × 31 × 0.5 = 248 × 6.00 = 1488.00; night 124 × 3.00 = 372.00
    assert costs["two_zone"]["total"]["rubles"] == "1860.00"
    # three-zone: peak 7 h × 31 × 0.5 = 108.5 × 6 = 651.00; semi 139.5 × 5 = 697.50; night 124 × 2 = 248.00
    three = costs["three_zone"]
    assert three["total"]["rubles"] == "1596.50"
    assert {z["zone"]: z["amount"]["rubles"] for z in three["zones"]} == {
        "peak": "651.00",
        "semi_peak": "697.50",
        "night": "248.00",
    }
    assert [m["period"] for m in three["months"]][-1] == "2026-01" and len(three["months"]) == 12
    assert body["current_scheme"] == "two_zone" and body["cheapest"] == "three_zone"
    assert body["saving"] == {"rubles": "263.50", "kopecks": 26350}  # 1860.00 − 1596.50
    assert body["message_ru"] == (
        "Выгоднее всего трёхзонный тариф: экономия 263,50 ₽ за 12 мес. "
        "по сравнению с вашим текущим тарифом (двухзонный)."
    )
    assert {z["zone"]: z["zone_name"] for z in three["zones"]} == {
        "peak": "пик",
        "semi_peak": "полупик",
        "night": "ночь",
    }
    assert body["unavailable"] == []


def test_tariff_advice_without_electricity_meter_and_access(client, world, at):
    at(datetime(2026, 2, 15, 9, tzinfo=UTC))
    assert client.get("/api/v1/accounts/LS-3/tariff-advice", headers=world.auth("acc")).status_code == 404
    assert client.get("/api/v1/accounts/LS-2/tariff-advice", headers=world.auth("alice")).status_code == 404
    assert client.get("/api/v1/accounts/LS-1/tariff-advice", headers=world.auth("eng")).status_code == 403
    before_tariffs = datetime(2024, 6, 1, 9, tzinfo=UTC)  # months of 2023 have no tariff at all
    at(before_tariffs)
    body = client.get("/api/v1/accounts/LS-1/tariff-advice", headers=world.auth("root")).json()
    assert body["options"] == [] and body["cheapest"] is None and body["saving"] is None
    assert {u["scheme"] for u in body["unavailable"]} == {"single_rate", "two_zone", "three_zone"}
    assert "2023-06-01" in body["unavailable"][0]["reason"]
    # the resident's reason is Russian: the month without a tariff in words
    assert body["unavailable"][0]["reason_ru"] == (
        "Одноставочного тарифа не было в части июня 2023 г., посчитать стоимость за весь период нельзя"
    )


def _tie_advice(current):
    """January, 1 kWh every hour: single 744 × 5.00 = 3720.00; two-zone 496 × 6.00 + 248 × 3.00 =
    2976.00 + 744.00 = 3720.00 — a tie; three-zone (peak 217 × 9 + semi 279 × 7 + night 248 × 3 =
    1953 + 1953 + 744 = 4650.00) dearer."""
    from zoneinfo import ZoneInfo

    from meterhub.billing.residents.tariff_advice import advise_tariff
    from meterhub.billing.rules.periods import BillingPeriod
    from meterhub.billing.rules.tariffs import Service, Tariff
    from meterhub.billing.rules.zones import (
        THREE_ZONE_SCHEDULE,
        TWO_ZONE_SCHEDULE,
        HourlySeries,
        Zone,
        ZoneScheme,
    )

    tz, jan, e, since = (
        ZoneInfo("Europe/Moscow"),
        BillingPeriod(2026, 1),
        Service.ELECTRICITY,
        date(2025, 1, 1),
    )
    hours = jan.utc_hour_starts(tz)
    series = HourlySeries.from_micro(
        [int(h.timestamp()) * 1_000_000 for h in hours], [1_000_000] * len(hours)
    )
    options = {
        ZoneScheme.SINGLE_RATE: [Tariff(e, since, {Zone.SINGLE: Decimal(5)})],
        ZoneScheme.TWO_ZONE: [
            Tariff(e, since, {Zone.DAY: Decimal(6), Zone.NIGHT: Decimal(3)}, schedule=TWO_ZONE_SCHEDULE)
        ],
        ZoneScheme.THREE_ZONE: [
            Tariff(
                e,
                since,
                {Zone.PEAK: Decimal(9), Zone.SEMI_PEAK: Decimal(7), Zone.NIGHT: Decimal(3)},
                schedule=THREE_ZONE_SCHEDULE,
            )
        ],
    }
    return advise_tariff(series, tz, [jan], options, current=current)


def test_advice_message_on_a_tie_names_the_residents_own_tariff():
    from meterhub.api.routes.telemetry import _advice_message
    from meterhub.billing.rules.zones import ZoneScheme

    on_two_zone = _tie_advice(ZoneScheme.TWO_ZONE)
    assert on_two_zone.costs[ZoneScheme.THREE_ZONE].total == Decimal("4650.00")
    # the resident is on two-zone, which ties with single-rate: stay, and say the tie
    assert _advice_message(on_two_zone) == (
        "Ваш текущий тариф (двухзонный) — среди самых выгодных: одноставочный обошёлся бы столько же "
        "(3 720,00 ₽ за 1 мес.). Менять тариф не нужно."
    )
    on_three_zone = _advice_message(_tie_advice(ZoneScheme.THREE_ZONE))
    # 4650.00 − 3720.00 = 930.00; the cheapest of the tie is not called «текущий»
    assert on_three_zone == (
        "Выгоднее всего одноставочный тариф: экономия 930,00 ₽ за 1 мес. "
        "по сравнению с вашим текущим тарифом (трёхзонный)."
    )
    assert _advice_message(_tie_advice(None)) == "Самый выгодный — одноставочный тариф."
