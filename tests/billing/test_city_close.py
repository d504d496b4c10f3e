"""The generated city (tests/billing/city_data.py) closes January 2026 with every line explained and equal to
an independent computation written here from the generator's inputs: zones from each hour's local time
(zoneinfo, hand-written zone rules — not meterhub.billing.rules.zones), the §1.7 decision for each flat's
configuration, ОДН/КРСОИ by area share, absence and interruption reductions. A sample of lines is also
computed by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.city_data import BUILDINGS, HOUSE_KWH, NEW_YEAR, Flat, flats, load_city

pytestmark = pytest.mark.db

D = Decimal
JAN = BillingPeriod(2026, 1)
PRICES = {
    "single": {"single": D("5.00")},
    "two_zone": {"day": D("6.00"), "night": D("3.00")},
    "three_zone": {"peak": D("7.00"), "semi_peak": D("5.50"), "night": D("2.50")},
}
S_OB, S_OI = D(675), D(60)


def _money(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def _zone(flat: Flat, local: datetime) -> str:
    hour = local.hour
    if flat.k == 1:  # meter plan: three zones, ФСТ 1473-э intervals
        if 7 <= hour < 10 or 17 <= hour < 21:
            return "peak"
        return "semi_peak" if 10 <= hour < 17 or 21 <= hour < 23 else "night"
    if flat.k == 2:  # account plan: weekends and the New Year holidays are night all day
        if local.date() in NEW_YEAR or local.weekday() >= 5:
            return "night"
        return "day" if 7 <= hour < 23 else "night"
    return "single"


def _electricity_zones(flat: Flat) -> dict[str, Decimal]:
    tz = ZoneInfo(BUILDINGS[flat.building])
    hour = datetime(2026, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(2026, 2, 1, tzinfo=tz).astimezone(UTC)
    zones: dict[str, Decimal] = {}
    while hour < end:
        local = hour.astimezone(tz)
        micro = flat.base_micro * (1 + local.hour % 4)
        zones[_zone(flat, local)] = zones.get(_zone(flat, local), D(0)) + D(micro) / 1_000_000
        hour += timedelta(hours=1)
    return zones


def _cold(flat: Flat) -> tuple[Decimal, Decimal, str]:
    """(volume, coefficient, method) of cold water."""
    if flat.k == 3:  # failed, no metered history: normative with ×1.5 (no act)
        return D(5 * flat.residents), D("1.5"), "normative_x1_5"
    if flat.k == 4:  # being replaced by the consumer: normative without ×1.5
        return D(5 * flat.residents), D(1), "normative"
    if flat.has_cold_meter:
        return D(flat.cold_m3), D(1), "meter"
    if flat.k == 9:  # no meter, no act
        return D(5 * flat.residents), D("1.5"), "normative_x1_5"
    return D(5 * flat.residents), D(1), "normative"  # acts for cold water (flats 8, 10)


def _expected_lines(flat: Flat) -> dict[tuple[str, str, str], Decimal]:
    lines: dict[tuple[str, str, str], Decimal] = {}
    if flat.has_electricity_meter:
        plan = {1: "three_zone", 2: "two_zone"}.get(flat.k, "single")
        for zone, volume in _electricity_zones(flat).items():
            lines[("electricity", "individual", zone)] = _money(volume * PRICES[plan][zone])
    else:
        lines[("electricity", "individual", "single")] = _money(D(100 * flat.residents) * D("5.00"))
    volume, coefficient, _ = _cold(flat)
    lines[("cold_water", "individual", "single")] = _money(volume * D(50) * coefficient)
    lines[("wastewater", "individual", "single")] = _money(volume * D(40))
    lines[("maintenance", "individual", "single")] = _money(D(flat.area) * D(30))
    share = D(flat.area) / S_OB
    lines[("electricity", "common_property", "single")] = _money(D(1) * S_OI * share * D(5))  # capped: 60 kWh
    lines[("cold_water", "common_property", "single")] = _money(D("0.1") * S_OI * share * D(50))
    return lines


def _expected_recalculations(flat: Flat) -> dict[tuple[str, str], Decimal]:
    result: dict[tuple[str, str], Decimal] = {}
    volume, coefficient, _ = _cold(flat)
    cold = _money(volume * D(50) * coefficient)
    # the 30-hour interruption: 30 − 8 permitted in the month = 22 h × 0.15 % of the cold-water charge
    result[("cold_water", "interruption")] = -_money(cold * D("0.0015") * 22)
    away = {8: 2, 10: 1}.get(flat.k)
    if away:  # 12 full days (6..17 January) of 31; only services with an act, billed by normative
        fraction = D(away * 12) / D(flat.residents * 31)
        result[("cold_water", "absence")] = -_money(cold * fraction)
        result[("wastewater", "absence")] = -_money(volume * fraction * D(40))
        if flat.k == 10:
            result[("electricity", "absence")] = -_money(D(100 * flat.residents) * D(5) * fraction)
    return result


@pytest.fixture(scope="module")
def city(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    with connect(db_url) as conn:
        load_city(conn, tmp_path_factory.mktemp("city"))
        return {b: close_building(conn, b, JAN, CloseOptions(final=True)).report for b in BUILDINGS}


def test_sample_lines_by_hand(city: dict, db_url: str) -> None:
    with connect(db_url) as conn:
        rows = conn.execute(
            "SELECT account_no, service, zone, amount FROM charge_lines WHERE building_id = 'C1' "
            "AND kind = 'individual' AND account_no IN ('C1-1', 'C1-2', 'C1-3', 'C1-9')"
        ).fetchall()
    got = {(a, s, z): amt for a, s, z, amt in rows}
    # C1-1, meter plan three-zone, 0.025 × (1 + h mod 4) kWh in local hour h: per day peak hours 7, 8, 9,
    # 17, 18, 19, 20 weigh 4+1+2+2+3+4+1 = 17, semi-peak 10..16, 21, 22 weigh 23, night 23, 0..6 weigh 20.
    # peak 17 × 31 × 0.025 = 13.175 kWh × 7.00 = 92.225 → 92.23 (half-up); semi-peak 23 × 31 × 0.025 =
    # 17.825 × 5.50 = 98.0375 → 98.04; night 20 × 31 × 0.025 = 15.5 × 2.50 = 38.75
    assert [got[("C1-1", "electricity", z)] for z in ("peak", "semi_peak", "night")] == [
        D("92.23"),
        D("98.04"),
        D("38.75"),
    ]
    # C1-2, account plan two-zone "weekend-night", 0.05 × weight: 16 working days (31 − 8 holidays −
    # 7 weekend days) × day weight 40 × 0.05 = 32 kWh × 6.00 = 192.00; night 60 × 31 × 0.05 − 32 = 61 × 3.00
    assert (got[("C1-2", "electricity", "day")], got[("C1-2", "electricity", "night")]) == (
        D("192.00"),
        D("183.00"),
    )
    # C1-3, cold-water meter failed on the 10th, 1 resident: 1 × 5 m³ × 50.00 × 1.5 = 375.00
    assert got[("C1-3", "cold_water", "single")] == D("375.00")
    # C1-9, no meters and no act: cold 375.00 (×1.5); electricity 1 × 100 kWh × 5.00 (implicit single-rate)
    assert (got[("C1-9", "cold_water", "single")], got[("C1-9", "electricity", "single")]) == (
        D("375.00"),
        D("500.00"),
    )


def test_every_line_equals_the_independent_computation(city: dict, db_url: str) -> None:
    with connect(db_url) as conn:
        rows = conn.execute(
            "SELECT account_no, service, kind, zone, amount FROM charge_lines WHERE period = '2026-01'"
        ).fetchall()
        recalc = conn.execute(
            "SELECT account_no, service, reason_kind, amount_kopecks FROM service_recalculation_lines "
            "WHERE period = '2026-01'"
        ).fetchall()
    got: dict[str, dict] = {}
    for account, service, kind, zone, amount in rows:
        got.setdefault(account, {})[(service, kind, zone)] = amount
    expected = {f.account: _expected_lines(f) for f in flats()}
    assert got == expected
    got_recalc: dict[str, dict] = {}
    for account, service, reason, kopecks in recalc:
        got_recalc.setdefault(account, {})[(service, reason)] = D(kopecks) / 100
    assert got_recalc == {f.account: _expected_recalculations(f) for f in flats()}


def test_every_line_is_explained(city: dict, db_url: str) -> None:
    with connect(db_url) as conn:
        lines = conn.execute(
            "SELECT account_no, service, kind, method, formula, note FROM charge_lines "
            "WHERE period = '2026-01'"
        ).fetchall()
        reasons = conn.execute(
            "SELECT reason, formula FROM service_recalculation_lines WHERE period = '2026-01'"
        ).fetchall()
    for account, service, kind, method, formula, _ in lines:
        assert formula.strip(), (account, service, kind)
        flat = Flat(account.split("-")[0], int(account.split("-")[1]))
        if service == "cold_water" and kind == "individual":
            assert method == _cold(flat)[2], account
    assert all(r.strip() and f.strip() for r, f in reasons)
    for building, report in city.items():
        warnings = "\n".join(report["warnings"])
        # the meter states are named in the close report
        assert f"account {building}-3, cold_water: meter W-{building}-3 failed since 2026-01-10" in warnings
        assert (
            f"account {building}-4, cold_water: meter W-{building}-4 being_replaced since 2026-01-05"
            in warnings
        )
        assert report["meters"]["state failed"] == 1 and report["meters"]["state being_replaced"] == 1
        electricity = next(s for s in report["services"] if s["service"] == "electricity")
        # Σ V_u: flats 1..7 by meter k × 0.025 × 60 × 31 = 46.5k kWh → 46.5 × 28 = 1302; flats 8, 9, 10 by
        # normative 300 + 100 + 200 → 1902 kWh; ΔV = 4000 − 1902 = 2098 over the cap 1.0 × 60 = 60 kWh
        assert electricity["individual_volume"] == D(1902)
        assert electricity["house_volume"] == D(HOUSE_KWH)
        assert electricity["common_property_volume"] == D(60)
        assert electricity["accounts_by_method"] == {"meter": 7, "normative": 3}
        # flat 5's two meters each cover part of January ("incomplete" alone) and were billed together by
        # meter (replacement inside the period): 6 complete hourly meters + 2 parts
        assert (report["meters"]["hourly"], report["meters"]["incomplete"]) == (6, 2)
    assert date(2026, 1, 1) in NEW_YEAR


def test_opening_balances_reconcile_and_carry_into_january(city: dict, db_url: str) -> None:
    from meterhub.billing.imports.migration_report import reconcile
    from meterhub.billing.money.ledger import account_balances

    with connect(db_url) as conn:
        lines = reconcile(conn)
        balances = account_balances(conn, "2026-01", building_id="C2")
        charged = dict(
            conn.execute(
                "SELECT account_no, sum(amount) FROM charge_lines WHERE building_id = 'C2' "
                "AND service = 'electricity' GROUP BY account_no"
            ).fetchall()
        )
    # Σ imported debts = Σ legacy totals: 100 × (1 + … + 10) = 5500.00 ₽ per building
    assert [(ln.building, ln.measure, ln.legacy, ln.ok) for ln in lines] == [
        (b, "debt", D("5500.00"), True) for b in BUILDINGS
    ]
    for f in (f for f in flats() if f.building == "C2"):
        electricity = next(b for b in balances[f.account] if b.service == "electricity")
        recalc = _expected_recalculations(f).get(("electricity", "absence"), D(0))
        # December's legacy debt opens January; January's lines (individual + common property) and the
        # absence reduction are added; nothing paid, no penalty yet (day 31 after 10 January is in February)
        assert electricity.opening == 10_000 * f.k
        assert electricity.charged == int(charged[f.account] * 100)
        assert electricity.recalculated == int(recalc * 100)
        assert electricity.penalties == 0
        assert electricity.closing == 10_000 * f.k + int((charged[f.account] + recalc) * 100)
