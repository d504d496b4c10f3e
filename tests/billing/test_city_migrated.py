"""The generated city of test_city_close.py (tariff plans per meter and account, failed and replaced meters,
acts per service, absences, an interruption) migrated from a legacy system at the start of January 2026:
opening balances and a failed meter's history imported (docs/migration.md), then closed.

Every charge line and recalculation equals test_city_close's independent computation, except the failed
meter's flat: with six months of legacy history its cold water is now the average (ПП 354 п. 59 «а»), not
the normative ×1.5 a meter without history gets. The opening balances and the legacy debts' January
penalties are checked against this generator's own figures.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.imports import import_directory
from meterhub.billing.imports.migration_report import reconcile
from meterhub.billing.money.ledger import account_balances
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.city_data import BUILDINGS, Flat, flats, load_city
from tests.billing.test_city_close import _expected_lines, _expected_recalculations

pytestmark = pytest.mark.db

D = Decimal
JAN = BillingPeriod(2026, 1)
HISTORY = {
    "2025-07": "4.2",
    "2025-08": "3.8",
    "2025-09": "4.5",
    "2025-10": "4.1",
    "2025-11": "3.9",
    "2025-12": "4.3",
}
LEGACY_DUE = date(2025, 11, 20)  # the legacy contract's day for October 2025 (the law's: 10.11.2025)


def _money(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def _principal(flat: Flat) -> tuple[Decimal, Decimal | None]:
    """(December 2025 debt, October 2025 debt of the even flats) [₽]."""
    return D(1000 + 37 * flat.k) + D(flat.k) / 100, (D(2500 + flat.k) if flat.k % 2 == 0 else None)


def _penalty_days(due: date, as_of: date) -> int:
    """Days at 1/300 up to ``as_of`` (all within days 31–90 here)."""
    return max(0, min((as_of - due).days, 90) - 30)


def _write(folder: Path, name: str, header: str, rows: list[str]) -> None:
    (folder / f"{name}.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def city(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    legacy = tmp_path_factory.mktemp("legacy")
    _write(legacy, "cutover", "building,first_period,system", [f"{b},2026-01,СТАРТ КС" for b in BUILDINGS])
    rows = []
    for f in flats():
        december, october = _principal(f)
        rows.append(f"{f.account},cold_water,2025-12,principal,{december},")
        if october is not None:
            rows.append(f"{f.account},electricity,2025-10,principal,{october},{LEGACY_DUE.isoformat()}")
    rows.append("C2-9,,2025-12,advance,150.00,")
    # these files replace the city's own migration files (city_data.write_migration_files) for its buildings
    _write(legacy, "opening_balances", "account,service,period,kind,amount,due_date", rows)
    totals = []
    for b in BUILDINGS:
        debt = sum((sum(x for x in _principal(f) if x is not None) for f in flats() if f.building == b), D(0))
        advance = D("150.00") if b == "C2" else D(0)
        totals.append(f"{b},*,{debt},{advance},{debt - advance}")
    _write(legacy, "legacy_totals", "building,service,debt,advance,balance", totals)
    _write(
        legacy,
        "meter_history",
        "meter_id,period,volume",
        [f"W-{b}-3,{p},{v}" for b in BUILDINGS for p, v in HISTORY.items()],
    )
    with connect(db_url) as conn:
        load_city(conn, tmp_path_factory.mktemp("city"))
        import_directory(conn, legacy)
        return {b: close_building(conn, b, JAN, CloseOptions(final=True)).report for b in BUILDINGS}


def _flat3(flat: Flat) -> tuple[dict, dict]:
    """Flat 3's expected lines and recalculations with the legacy history: cold water by average."""
    with localcontext() as ctx:
        ctx.prec = 100
        average = sum(D(v) for v in HISTORY.values()) / 6  # 24.8 / 6 = 4.1333… m³
    lines = _expected_lines(flat)
    cold = _money(average * 50)  # 206.666… → 206.67
    lines[("cold_water", "individual", "single")] = cold
    lines[("wastewater", "individual", "single")] = _money(average * 40)  # 165.333… → 165.33 (decision 12)
    recalculations = _expected_recalculations(flat)
    recalculations[("cold_water", "interruption")] = -_money(cold * D("0.0015") * 22)  # 22 h over the limit
    return lines, recalculations


def test_every_line_equals_the_independent_computation(city: dict, db_url: str) -> None:
    with connect(db_url) as conn:
        rows = conn.execute(
            "SELECT account_no, service, kind, zone, amount, method FROM charge_lines"
            " WHERE period = '2026-01'"
        ).fetchall()
        recalc = conn.execute(
            "SELECT account_no, service, reason_kind, amount_kopecks FROM service_recalculation_lines "
            "WHERE period = '2026-01'"
        ).fetchall()
    got: dict[str, dict] = {}
    for account, service, kind, zone, amount, _ in rows:
        got.setdefault(account, {})[(service, kind, zone)] = amount
    got_recalc: dict[str, dict] = {}
    for account, service, reason, kopecks in recalc:
        got_recalc.setdefault(account, {})[(service, reason)] = D(kopecks) / 100
    expected, expected_recalc = {}, {}
    for f in flats():
        if f.k == 3:
            expected[f.account], expected_recalc[f.account] = _flat3(f)
        else:
            expected[f.account], expected_recalc[f.account] = _expected_lines(f), _expected_recalculations(f)
    assert got == expected
    assert got_recalc == expected_recalc
    methods = {(a, s): m for a, s, k, _, _, m in rows if k == "individual"}
    assert all(methods[(f"{b}-3", "cold_water")] == "average" for b in BUILDINGS)
    assert all(formula for *_, formula in rows)


def test_opening_balances_and_january_penalties(city: dict, db_url: str) -> None:
    with connect(db_url) as conn:
        balances = account_balances(conn, JAN)
        penalties = {
            (a, p): (due, amount)
            for a, p, due, amount in conn.execute(
                "SELECT account_no, debt_period, due_date, amount_kopecks FROM penalty_lines"
                " WHERE closing_period = '2026-01'"
            )
        }
        lines = reconcile(conn)
    for f in flats():
        december, october = _principal(f)
        opening = sum(b.opening for b in balances[f.account])
        assert opening == int((december + (october or 0)) * 100) - (15_000 if f.account == "C2-9" else 0)
    # October 2025 (even flats) due 20.11.2025 in the legacy system: day 31 = 21.12; up to 31.12 11 days,
    # up to 31.01 42 days at 1/300, rate 9.5 %; January adds round(P×0.095×42/300) − round(P×0.095×11/300).
    # December 2025 is due 10.01.2026: day 21 on 31.01, nothing yet.
    expected = {}
    for f in flats():
        _, october = _principal(f)
        if october is not None:
            rate = october * D("0.095") / 300
            january = _money(rate * _penalty_days(LEGACY_DUE, date(2026, 1, 31))) - _money(
                rate * _penalty_days(LEGACY_DUE, date(2025, 12, 31))
            )
            expected[(f.account, "2025-10")] = (LEGACY_DUE, int(january * 100))
    assert penalties == expected
    # debt, advance and the first period's opening balance per building equal the totals written above
    assert len(lines) == 9 and all(line.ok for line in lines), [line for line in lines if not line.ok]
