"""The binding rule decisions 1–12 of billing-rules.md ("Decisions for meterhub"), one test (or more) each.

Every expected value is computed by hand from the rule's text and written out here with its arithmetic —
never taken from the engine. The database tests use the small building of tests/billing/close_data.py
(Moscow; LS-1 1 resident with the cold-water meter W-1, LS-3 2 residents in premise 3 with an act of
technical impossibility; cold water 50.00 ₽/m³ by normative 5 m³/person, wastewater 40.00 ₽/m³, derived
from cold water) closed by the real close, or buildings written straight into the money tables
(tests/billing/money_data.py). Each database test runs in a transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal as D

import psycopg
import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.close.service_recalculations import run_service_recalculations
from meterhub.billing.money.penalty_run import run_penalties
from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.charges import AccountInput, CommonPropertyShare, compute_account_charges
from meterhub.billing.rules.common_property import (
    CommonPropertyInput,
    CommonPropertyMethod,
    allocate_common_property_volume,
    compute_house_common_property,
)
from meterhub.billing.rules.debt_penalty import ServiceDebt, compute_debt_penalty
from meterhub.billing.rules.payment_allocation import (
    AllocationRule,
    DebtKind,
    IncomingPayment,
    PeriodDebt,
    allocate_payment,
)
from meterhub.billing.rules.penalties import (
    DebtPayment,
    PenaltyDebt,
    PenaltyRules,
    PenaltyTables,
    compute_penalty,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.volumes import (
    IndividualVolume,
    MeterPeriod,
    MeterStatus,
    ServiceConsumer,
    VolumeMethod,
    decide_individual_volume,
    wastewater_volume,
)
from meterhub.billing.rules.zones import TWO_ZONE_SCHEDULE, Zone
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, write_reading
from tests.billing.money_data import add_building, add_charge, add_period

OCT, NOV, DEC = (BillingPeriod(2025, m) for m in (10, 11, 12))
JAN, FEB, MAR, APR, MAY, JUN, JUL = (BillingPeriod(2026, m) for m in range(1, 8))


@pytest.fixture(scope="module")
def small(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
        conn.execute(
            "SELECT meterhub_ensure_partitions(%s, %s, %s)",
            ("readings", datetime(2025, 8, 1, tzinfo=MOSCOW), datetime(2026, 9, 1, tzinfo=MOSCOW)),
        )
        conn.commit()
    return db_url


@pytest.fixture
def conn(small: str) -> Iterator[psycopg.Connection]:
    with connect(small) as c:
        c.execute("SELECT 1")
        yield c
        c.rollback()


def _individual(conn: psycopg.Connection, period: BillingPeriod, account: str, service: str) -> tuple:
    return conn.execute(
        "SELECT min(method), sum(volume), sum(amount) FROM charge_lines WHERE building_id = 'B1' "
        "AND period = %s AND account_no = %s AND service = %s AND kind = 'individual'",
        (str(period), account, service),
    ).fetchone()


def _recalculations(conn: psycopg.Connection, building: str, period: BillingPeriod) -> dict:
    return {
        (a, s, k): amount
        for a, s, k, amount in conn.execute(
            "SELECT account_no, service, reason_kind, amount_kopecks FROM service_recalculation_lines"
            " WHERE building_id = %s AND period = %s",
            (building, str(period)),
        )
    }


SINCE = date(2025, 7, 1)
TWO_ZONE = Tariff(
    Service.ELECTRICITY,
    SINCE,
    {Zone.DAY: D("7.85"), Zone.NIGHT: D("3.47"), Zone.SINGLE: D("6.43")},
    schedule=TWO_ZONE_SCHEDULE,
)
COLD = Tariff(Service.COLD_WATER, SINCE, {Zone.SINGLE: D("52.17")})
TABLES = PenaltyTables.default()
R = D("0.095")  # the penalty rate of 2025 (ПП 474 ред. ПП 329): 9.5 %


def _kopecks(amount: D) -> int:
    return int((amount * 100).quantize(D(1), "ROUND_HALF_UP"))


# --- Decision 1: rounding per receipt line, the total is the sum of rounded lines ---------------------


def test_decision_1_each_line_rounded_half_up_and_the_total_is_their_sum() -> None:
    # E-2: two-zone meter, day 187.34 kWh × 7.85 = 1470.6190 → 1470.62; night 93.21 × 3.47 = 323.4387
    # → 323.44; the receipt total is 1470.62 + 323.44 = 1794.06. Common property O-4: cold water
    # 0.032 × 400 × 54.30 / 3000 = 0.23168 m³ (unrounded) × 52.17 = 12.0867456 → 12.09 (rounding the
    # volume to 0.232 first would give 12.10).
    consumer = ServiceConsumer(
        Service.ELECTRICITY, MeterPeriod(MeterStatus.VALID, {Zone.DAY: D("187.34"), Zone.NIGHT: D("93.21")})
    )
    volume = D("0.032") * 400 * D("54.30") / 3000
    share = CommonPropertyShare(Service.COLD_WATER, volume, "normative", "ф. 15")
    charges = compute_account_charges(
        AccountInput("LS-1", D("54.30"), residents=1, services=(consumer,)),
        BillingPeriod(2026, 1),
        (TWO_ZONE, COLD),
        "Europe/Moscow",
        common_property=(share,),
    )
    amounts = {(line.service.value, line.zone.value, line.kind.value): line for line in charges.lines}
    day = amounts[("electricity", "day", "individual")]
    night = amounts[("electricity", "night", "individual")]
    common = amounts[("cold_water", "single", "common_property")]
    assert (day.amount_exact, day.amount) == (D("1470.6190"), D("1470.62"))
    assert (night.amount_exact, night.amount) == (D("323.4387"), D("323.44"))
    assert common.volume == D("0.23168") and common.amount_exact == D("12.0867456")
    assert common.amount == D("12.09")
    assert charges.total == D("1470.62") + D("323.44") + D("12.09") == D("1806.15")
    # half-up, not half-even: a line of exactly 0.125 ₽ rounds to 0.13 (half-even would give 0.12)
    half = ServiceConsumer(Service.COLD_WATER, MeterPeriod(MeterStatus.VALID, {Zone.SINGLE: D("0.125")}))
    one = Tariff(Service.COLD_WATER, SINCE, {Zone.SINGLE: D("1.00")})
    (line,) = compute_account_charges(
        AccountInput("LS-2", D(1), services=(half,)), BillingPeriod(2026, 1), (one,), "Europe/Moscow"
    ).lines
    assert line.amount == D("0.13")


# --- Decision 2: penalties summed unrounded per debt and rounded once ---------------------------------


def test_decision_2_penalty_of_one_debt_rounded_once() -> None:
    # January 2025, due 10.02.2025; to 31.03.2025 k = 31..49 (13.03–31.03, 19 days) at 1/300, 9.5 %.
    #   electricity 1000.00 × 0.095 × 19 / 300 = 6.016666…
    #   cold water   800.28 × 0.095 × 19 / 300 = 4.815018
    #   hot water    700.00 × 0.095 × 19 / 300 = 4.211666…
    # Σ = 15.043351333… → 15.04 ₽ once per debt (rounded per service: 6.02 + 4.82 + 4.21 = 15.05).
    debt = compute_debt_penalty(
        BillingPeriod(2025, 1),
        date(2025, 2, 10),
        [
            ServiceDebt("cold_water", D("800.28")),
            ServiceDebt("electricity", D("1000.00")),
            ServiceDebt("hot_water", D("700.00")),
        ],
        as_of=date(2025, 3, 31),
        tables=TABLES,
    )
    # (1000.00 + 800.28 + 700.00) × 0.095 × 19 / 300 = 2500.28 × 0.095 = 237.5266, × 19 = 4513.0054, / 300
    assert abs(debt.amount_exact - D("4513.0054") / 300) < D("1e-20")
    assert debt.amount == D("15.04")
    # the per-service split (Decision 10) adds up to the debt's once-rounded penalty: quotas 1504 × e_s / Σe
    # = 601.53…, 481.39…, 421.07… → 601 + 481 + 421 = 1503, the last kopeck to the largest remainder
    # (electricity, .53) → 6.02 + 4.81 + 4.21 = 15.04
    assert [(p.service, p.amount) for p in debt.services] == [
        ("electricity", D("6.02")),
        ("cold_water", D("4.81")),
        ("hot_water", D("4.21")),
    ]


def test_decision_2_payment_day_accrues_and_moratorium_days_advance_the_counter() -> None:
    # P-1: December 2024, 5000.00, due 10.01.2025, paid 15.05.2025: 10.02–10.04 (k = 31..90, 60 days) at
    # 1/300 = 95.00; 11.04–15.05 (35 days incl. the payment day) at 1/130 = 127.884615… → 222.88 ₽;
    # with the payment day excluded 34 days → 124.230769… → 219.23 ₽.
    paid = (DebtPayment(date(2025, 5, 15), D(5000)),)
    p1 = PenaltyDebt(BillingPeriod(2024, 12), D(5000), date(2025, 1, 10), paid)
    assert compute_penalty(p1, as_of=date(2025, 5, 31), tables=TABLES).amount == D("222.88")
    exclusive = PenaltyRules(include_payment_day=False)
    assert compute_penalty(p1, as_of=date(2025, 5, 31), tables=TABLES, rules=exclusive).amount == D("219.23")
    # February 2022, 1300.00, due 10.03.2022, paid 15.10.2022. The ПП 497 moratorium 01.04–01.10.2022
    # covers k = 22..205 and accrues nothing, but the counter advances: 02.10–15.10 are k = 206..219 →
    # 14 days at 1/130, at the rate of the payment day min(key 7.5 %, 9.5 %) = 7.5 % (versioned table):
    # 1300 × 0.075 / 130 × 14 = 10.50 ₽ (a counter stopped by the moratorium would give k = 22..35:
    # only 5 days at 1/300).
    paid = (DebtPayment(date(2022, 10, 15), D(1300)),)
    mor = PenaltyDebt(BillingPeriod(2022, 2), D(1300), date(2022, 3, 10), paid)
    result = compute_penalty(mor, as_of=date(2022, 10, 31), tables=TABLES)
    assert result.rate_percent == D("7.5")
    assert result.amount == D("10.50")


@pytest.mark.db
def test_decision_2_stored_penalty_lines_add_up_to_the_debt_rounded_once(conn: psycopg.Connection) -> None:
    add_building(conn, "D2", {"D2-1": "1"})
    add_period(conn, "D2", "2025-01", "closed")
    add_period(conn, "D2", "2025-03", "draft")
    for service, amount in (("electricity", "1000.00"), ("cold_water", "800.28"), ("hot_water", "700.00")):
        add_charge(conn, "D2", "2025-01", "D2-1", service, amount)
    run_penalties(conn, "D2", BillingPeriod(2025, 3))
    lines = dict(
        conn.execute(
            "SELECT service, accrued_kopecks FROM penalty_lines WHERE account_no = 'D2-1'"
        ).fetchall()
    )
    # the same debt as above: 15.04 ₽ once, split 6.02 + 4.81 + 4.21 (per-service rounding gave 15.05)
    assert lines == {"electricity": 602, "cold_water": 481, "hot_water": 421}
    details = conn.execute(
        "SELECT details->'debt'->>'accrued_kopecks' FROM penalty_lines WHERE account_no = 'D2-1'"
    ).fetchall()
    assert {row[0] for row in details} == {"1504"}


# --- Decision 3: the due date is a per-period table -----------------------------------------------------


def test_decision_3_due_day_10_then_15_from_the_february_2026_period() -> None:
    # periods up to January 2026: day 10 of the next month; from February 2026 (177-ФЗ): day 15
    assert TABLES.due_date(BillingPeriod(2025, 12)) == date(2026, 1, 10)
    assert TABLES.due_date(BillingPeriod(2026, 1)) == date(2026, 2, 10)
    assert TABLES.due_date(BillingPeriod(2026, 2)) == date(2026, 3, 15)
    assert TABLES.due_date(BillingPeriod(2026, 11)) == date(2026, 12, 15)
    # it is data, not a constant: a table with day 25 from March 2026 moves only those periods
    shipped = PenaltyTables.default()
    changed = PenaltyTables(
        (*shipped.due_days, type(shipped.due_days[0])(BillingPeriod(2026, 3), 25, "test")),
        shipped.rate_regimes,
        shipped.key_rates,
        shipped.key_rate_known_through,
        shipped.moratoria,
    )
    assert changed.due_date(BillingPeriod(2026, 2)) == date(2026, 3, 15)
    assert changed.due_date(BillingPeriod(2026, 3)) == date(2026, 4, 25)


# --- Decision 4: interruption hours over the monthly total ----------------------------------------------


@pytest.mark.db
def test_decision_4_interruption_hours_over_the_monthly_total(conn: psycopg.Connection) -> None:
    add_building(conn, "D4", {"D4-1": "1"})
    add_period(conn, "D4", "2025-11", "draft")
    add_charge(conn, "D4", "2025-11", "D4-1", "cold_water", "1000.00")
    # one cold-water outage of 30 h (03.11 06:00 → 04.11 12:00); permitted 8 h a month, 4 h at once
    conn.execute(
        "INSERT INTO service_events (building_id, premise_no, service, kind, started_at, ended_at)"
        " VALUES ('D4', NULL, 'cold_water', 'interruption', %s, %s)",
        (datetime(2025, 11, 3, 6, tzinfo=MOSCOW), datetime(2025, 11, 4, 12, tzinfo=MOSCOW)),
    )
    (line,) = run_service_recalculations(conn, "D4", BillingPeriod(2025, 11))
    # hours over the monthly total: 30 − 8 = 22 h (over the single limit would be 30 − 4 = 26 h: not used)
    # ΔP = 1000.00 × 0.15 % × 22 = 33.00 ₽ (26 h would give 39.00)
    assert line.quantity == 22
    assert line.amount_kopecks == -3300
    assert "22 ч" in line.reason


# --- Decision 5: payment allocation ----------------------------------------------------------------------


def _debts() -> list[PeriodDebt]:
    return [
        # June 2021: time-barred (more than three years old), still paid oldest first
        PeriodDebt(BillingPeriod(2021, 6), date(2021, 7, 10), (("cold_water", D("100.00")),)),
        PeriodDebt(BillingPeriod(2025, 10), date(2025, 11, 10), (("cold_water", D("200.00")),)),
        PeriodDebt(BillingPeriod(2025, 11), date(2025, 12, 10), (("cold_water", D("300.00")),)),
        PeriodDebt(
            BillingPeriod(2025, 10), date(2025, 11, 10), (("cold_water", D("10.00")),), DebtKind.PENALTY
        ),
    ]


def test_decision_5_named_period_then_oldest_first_then_penalties_then_advance() -> None:
    # 450.00 naming November: November 300.00 first, then the oldest: June 2021 100.00 (time-barred
    # included), October 50.00 of 200.00; the penalty is not named and principal remains → unpaid.
    named = allocate_payment(IncomingPayment(D("450.00"), BillingPeriod(2025, 11)), _debts())
    assert [(str(line.period), line.kind.value, line.amount, line.rule) for line in named.lines] == [
        ("2025-11", "principal", D("300.00"), AllocationRule.NAMED_PERIOD),
        ("2021-06", "principal", D("100.00"), AllocationRule.OLDEST_FIRST),
        ("2025-10", "principal", D("50.00"), AllocationRule.OLDEST_FIRST),
    ]
    assert named.advance == 0
    # 700.00 without a period: 100 + 200 + 300 = 600.00 principal oldest first, then the penalty 10.00
    # after all principal, the rest 700 − 610 = 90.00 an advance
    plain = allocate_payment(IncomingPayment(D("700.00")), _debts())
    assert [(str(line.period), line.kind.value, line.amount) for line in plain.lines] == [
        ("2021-06", "principal", D("100.00")),
        ("2025-10", "principal", D("200.00")),
        ("2025-11", "principal", D("300.00")),
        ("2025-10", "penalty", D("10.00")),
    ]
    assert plain.advance == D("90.00")
    # 20.00 designated for penalties: the penalty 10.00 first, then the oldest principal (June 2021) 10.00
    designated = allocate_payment(IncomingPayment(D("20.00"), penalties_designated=True), _debts())
    assert [(str(line.period), line.kind.value, line.amount) for line in designated.lines] == [
        ("2025-10", "penalty", D("10.00")),
        ("2021-06", "principal", D("10.00")),
    ]


# --- Decision 6: averages of multi-zone meters per zone ---------------------------------------------------


def test_decision_6_average_per_zone() -> None:
    # I-3: day 210, 190, 205, 195, 200, 200 → 1200 / 6 = 200 kWh; night 100, 95, 105, 98, 102, 100 →
    # 600 / 6 = 100 kWh; 200 × 7.85 = 1570.00 + 100 × 3.47 = 347.00 → 1917.00 ₽
    history = [
        {Zone.DAY: D(d), Zone.NIGHT: D(n)}
        for d, n in ((210, 100), (190, 95), (205, 105), (195, 98), (200, 102), (200, 100))
    ]
    consumer = ServiceConsumer(Service.ELECTRICITY, MeterPeriod(MeterStatus.NO_READINGS, history=history))
    volume = decide_individual_volume(consumer, account="LS-1", residential=True, residents=1, owners=1)
    assert volume.method is VolumeMethod.AVERAGE
    assert volume.zone_volumes == {Zone.DAY: D(200), Zone.NIGHT: D(100)}
    charges = compute_account_charges(
        AccountInput("LS-1", D(50), residents=1, services=(consumer,)),
        BillingPeriod(2026, 1),
        (TWO_ZONE,),
        "Europe/Moscow",
    )
    assert {line.zone: line.amount for line in charges.lines} == {
        Zone.DAY: D("1570.00"),
        Zone.NIGHT: D("347.00"),
    }
    assert charges.total == D("1917.00")


# --- Decision 7: common property by fact capped by the normative, negative → 0 -------------------------


def test_decision_7_actual_capped_is_the_default() -> None:
    # S_об 3000, S_ои 400, N 1.2 kWh/m² → cap 480 kWh; Σ V_u 12150 kWh; tariff 6.43; S_i 54.30
    assert CommonPropertyInput(Service.ELECTRICITY, D("1.2")).method is CommonPropertyMethod.ACTUAL_CAPPED
    cases = {
        D(12500): (D(350), D(0)),  # O-1: 12500 − 12150 = 350 < 480 → 350, no excess
        D(12800): (D(480), D(170)),  # O-2: 650 > 480 → 480, excess 170 borne by the УК
        D(12000): (D(0), D(0)),  # O-3: −150 → 0
    }
    for house, (distributed, excess) in cases.items():
        inp = CommonPropertyInput(Service.ELECTRICITY, D("1.2"), house_volume=house)
        result = compute_house_common_property(inp, individual_total=D(12150), common_area=D(400))
        assert (result.distributed, result.excess) == (distributed, excess)
    # O-2 per apartment: 480 × 54.30 / 3000 = 8.688 kWh × 6.43 = 55.86384 → 55.86 ₽
    shares = allocate_common_property_volume(D(480), {"LS-1": D("54.30")}, D(3000))
    assert shares["LS-1"] == D("8.688")
    assert round(shares["LS-1"] * D("6.43"), 2) == D("55.86")


# --- Decision 8: after the averaging limit the normative continues -------------------------------------


@pytest.mark.db
def test_decision_8_normative_continues_after_the_averaging_limit(conn: psycopg.Connection) -> None:
    # W-1 (LS-1 cold water) readings: Sep 25 0.0, Oct 25 3.0, Nov 25 6.5, and in the building's data
    # Dec 25 10.0, Jan 25 16.5 → metered Oct 3.0, Nov 3.5, Dec 3.5, Jan 6.5 m³; nothing read after January.
    for ts, value in (
        (datetime(2025, 9, 25, 12), 0.0),
        (datetime(2025, 10, 25, 12), 3.0),
        (datetime(2025, 11, 25, 12), 6.5),
    ):
        write_reading(conn, "W-1", "water_m3", ts.replace(tzinfo=MOSCOW), value)
    for p in (OCT, NOV, DEC, JAN, FEB, MAR, APR, MAY, JUN, JUL):
        close_building(conn, "B1", p, CloseOptions(final=True))
    # Feb–Apr: average (3.0 + 3.5 + 3.5 + 6.5) / 4 = 4.125 m³ × 50.00 = 206.25 ₽ (п. 59 «б», 3 of 3)
    for p in (FEB, MAR, APR):
        assert _individual(conn, p, "LS-1", "cold_water") == ("average", D("4.125"), D("206.25"))
    # May, June, July: the normative 1 person × 5 m³ = 5 m³ × 50.00 = 250.00 ₽ (no ×1.5: readings not
    # submitted, case «б»). June and July must not restart the averaging (206.25 ₽) after May's normative.
    for p in (MAY, JUN, JUL):
        assert _individual(conn, p, "LS-1", "cold_water") == ("normative", D(5), D("250.00"))
    # wastewater follows: May–July 5 m³ × 40.00 = 200.00 ₽
    assert _individual(conn, JUL, "LS-1", "wastewater") == ("normative", D(5), D("200.00"))
    # readings come back in August's window: metered again (readings restart the count)
    write_reading(conn, "W-1", "water_m3", datetime(2026, 8, 25, 12, tzinfo=MOSCOW), 40.0)
    write_reading(conn, "W-1", "water_m3", datetime(2026, 7, 25, 12, tzinfo=MOSCOW), 37.0)
    close_building(conn, "B1", BillingPeriod(2026, 8))
    # 40.0 − 37.0 = 3.0 m³ × 50.00 = 150.00 ₽
    assert _individual(conn, BillingPeriod(2026, 8), "LS-1", "cold_water") == ("meter", D("3.0"), D("150.00"))


@pytest.mark.db
def test_decision_8_house_meter_average_does_not_restart(conn: psycopg.Connection) -> None:
    from meterhub.billing.close.results_store import common_property_history

    add_building(conn, "D8", {"D8-1": "1"})
    # cold-water common property requested "by fact, capped": June–August with the house meter (ΔV 1.2,
    # 1.5, 1.8 m³), September–November without a valid house reading → averaged, December after the
    # 3-period limit → the normative in place of the requested method.
    months = [
        ("2025-06", "actual_capped", D("1.2")),
        ("2025-07", "actual_capped", D("1.5")),
        ("2025-08", "actual_capped", D("1.8")),
        ("2025-09", "average", None),
        ("2025-10", "average", None),
        ("2025-11", "average", None),
        ("2025-12", "normative", None),
    ]
    for period, method, difference in months:
        add_period(conn, "D8", period, "closed")
        conn.execute(
            "INSERT INTO period_common_property (building_id, period, service, method_requested, method,"
            " formula, house_volume, individual_total, difference, normative_volume, distributed, excess,"
            " excess_cost, negative) VALUES ('D8', %s, 'cold_water', 'actual_capped', %s, 'f', NULL, 0, %s,"
            " 3, 1, 0, 0, false)",
            (period, method, difference),
        )
    history, count = common_property_history(conn, "D8", JAN)["cold_water"]
    # the averaging count runs over September–December (4 periods), not from December's normative (0)
    assert (history, count) == ([D("1.2"), D("1.5"), D("1.8")], 4)
    inp = CommonPropertyInput(
        Service.COLD_WATER, D("0.1"), history=history, consecutive_average_periods=count
    )
    result = compute_house_common_property(inp, individual_total=D(0), common_area=D(30))
    # January stays on the normative 0.1 × 30 = 3 m³ (an average (1.2 + 1.5 + 1.8) / 3 = 1.5 m³ would
    # restart the averaging)
    assert (result.method, result.distributed) == (CommonPropertyMethod.NORMATIVE, D("3.0"))


# --- Decision 9: a payment designated for penalties pays those accrued to its date -----------------------


@pytest.mark.db
def test_decision_9_penalty_payment_pays_the_penalty_accrued_to_its_date(conn: psycopg.Connection) -> None:
    add_building(conn, "D9", {"D9-1": "1"})
    add_period(conn, "D9", "2025-01", "closed")
    add_period(conn, "D9", "2025-03", "closed")
    add_charge(conn, "D9", "2025-01", "D9-1", "cold_water", "3000.00")
    run_penalties(conn, "D9", BillingPeriod(2025, 3))
    # billed at the March close: k = 31..49 (13.03–31.03, 19 days) × 3000 × 0.095 / 300 = 18.05 ₽
    billed = conn.execute("SELECT accrued_kopecks FROM penalty_lines WHERE account_no = 'D9-1'").fetchone()
    assert billed == (_kopecks(3000 * R / 300 * 19),) == (1805,)
    # 50.00 "пени" paid 20.04.2025: accrued to that day 13.03–20.04 = 19 + 20 = 39 days × 0.95 = 37.05 ₽
    # goes to the penalty; the rest 50.00 − 37.05 = 12.95 to January's principal (oldest first).
    post_payment(
        conn,
        account_no="D9-1",
        amount_kopecks=5000,
        paid_on=date(2025, 4, 20),
        payment_id="d9",
        source="t",
        purpose="пени",
    )
    parts = conn.execute(
        "SELECT kind, debt_period, amount_kopecks, rule FROM payment_allocations WHERE account_no = 'D9-1'"
        " ORDER BY allocation_id"
    ).fetchall()
    assert parts == [
        ("penalty", "2025-01", _kopecks(3000 * R / 300 * 39), "named_penalty"),
        ("principal", "2025-01", 5000 - 3705, "oldest_first"),
    ]
    assert _kopecks(3000 * R / 300 * 39) == 3705


# --- Decision 10: pro-rata splits by largest remainder, ties in receipt order ----------------------------


def test_decision_10_ties_go_in_receipt_order() -> None:
    # 0.05 ₽ named for a period owing hot water, maintenance and wastewater 1.00 ₽ each (given
    # alphabetically): quotas 5 × 100/300 = 1.666… each, floors 1 + 1 + 1 = 3, 2 kopecks left, equal
    # remainders → receipt order: hot water, wastewater (then maintenance) → 0.02, 0.02, 0.01.
    # (Alphabetically the second kopeck would have gone to maintenance.)
    period = BillingPeriod(2025, 11)
    owed = (("hot_water", D("1.00")), ("maintenance", D("1.00")), ("wastewater", D("1.00")))
    debts = [PeriodDebt(period, date(2025, 12, 10), owed)]
    allocation = allocate_payment(IncomingPayment(D("0.05"), period), debts)
    assert {line.service: line.amount for line in allocation.lines} == {
        "hot_water": D("0.02"),
        "wastewater": D("0.02"),
        "maintenance": D("0.01"),
    }
    # A penalty split for display: electricity and cold water 1000.00 each, January 2025 to 13.03.2025
    # (k = 31, 1 day): 1000 × 0.095 / 300 = 0.316666… each, Σ 0.633333… → 0.63; quotas 31.5 + 31.5,
    # floors 31 + 31, the kopeck left to electricity (first in receipt order; alphabetically cold water).
    debt = compute_debt_penalty(
        BillingPeriod(2025, 1),
        date(2025, 2, 10),
        [ServiceDebt("cold_water", D(1000)), ServiceDebt("electricity", D(1000))],
        as_of=date(2025, 3, 13),
        tables=TABLES,
    )
    assert debt.amount == D("0.63")
    assert [(p.service, p.amount) for p in debt.services] == [
        ("electricity", D("0.32")),
        ("cold_water", D("0.31")),
    ]


# --- Decision 11: validity-dated configuration ---------------------------------------------------------


@pytest.mark.db
def test_decision_11_configuration_applies_from_its_date_and_never_rebills(conn: psycopg.Connection) -> None:
    # Premise 3 (LS-3, 2 residents, no cold-water meter): acts of technical impossibility per service —
    # electricity since 2020, cold water only from 01.02.2026. January: no cold-water act in force →
    # formula 4(1): 2 × 5 m³ = 10 m³ × 50.00 × 1.5 = 750.00 ₽ (without the coefficient 500.00, excess
    # 250.00); wastewater 10 m³ × 40.00 = 400.00 ₽, never ×1.5.
    conn.execute(
        "INSERT INTO technical_impossibility_acts (building_id, premise_no, service, valid_from) VALUES"
        " ('B1', '3', 'electricity', '2020-01-01'), ('B1', '3', 'cold_water', '2026-02-01')"
    )
    close_building(conn, "B1", JAN, CloseOptions(final=True))
    assert _individual(conn, JAN, "LS-3", "cold_water") == ("normative_x1_5", D(10), D("750.00"))
    assert _individual(conn, JAN, "LS-3", "wastewater")[1:] == (D(10), D("400.00"))
    common = "SELECT sum(amount) FROM charge_lines WHERE period = %s AND service = 'cold_water'"
    common += " AND kind = 'common_property'"
    # cold-water common property by NORMATIVE: 0.1 m³/m² × 30 m² = 3 m³ × 50.00 = 150.00 ₽ in all
    assert conn.execute(common, (str(JAN),)).fetchone() == (D("150.00"),)
    # From February the building's cold-water common property is "by fact" (a meeting decision); the
    # change is dated and January is closed: the February close must not re-bill January.
    conn.execute(
        "INSERT INTO common_property_methods (building_id, service, valid_from, method) VALUES"
        " ('B1', 'cold_water', '2026-02-01', 'actual')"
    )
    close_building(conn, "B1", FEB)
    # February: the cold-water act is in force → formula 4: 10 m³ × 50.00 = 500.00 ₽, no coefficient
    assert _individual(conn, FEB, "LS-3", "cold_water") == ("normative", D(10), D("500.00"))
    method = conn.execute(
        "SELECT method_requested FROM period_common_property WHERE period = %s AND service = 'cold_water'",
        (str(FEB),),
    ).fetchone()
    assert method == ("actual",)
    # nothing re-billed: no recalculation line for January; January's lines are as closed
    assert conn.execute("SELECT count(*) FROM recalculation_lines").fetchone() == (0,)
    assert _individual(conn, JAN, "LS-3", "cold_water") == ("normative_x1_5", D(10), D("750.00"))
    assert conn.execute(common, (str(JAN),)).fetchone() == (D("150.00"),)


# --- Decision 12: wastewater follows its water components ----------------------------------------------


@pytest.mark.db
def test_decision_12_wastewater_absence_follows_cold_water(conn: psycopg.Connection) -> None:
    # LS-3 (premise 3, act of technical impossibility): 2 residents, cold water by normative 2 × 5 = 10 m³
    # × 50.00 = 500.00 ₽; wastewater (no own meter) = cold water 10 m³ × 40.00 = 400.00 ₽.
    # One of them away 05.01–18.01.2026: full days 06..17 = 12 (departure and return days excluded).
    conn.execute(
        "INSERT INTO absence_periods (account_no, departed_on, returned_on) VALUES ('LS-3', '2026-01-05',"
        " '2026-01-18')"
    )
    close_building(conn, "B1", JAN)
    assert _individual(conn, JAN, "LS-3", "cold_water") == ("normative", D(10), D("500.00"))
    assert _individual(conn, JAN, "LS-3", "wastewater")[1:] == (D(10), D("400.00"))
    got = _recalculations(conn, "B1", JAN)
    # cold water: 500.00 × 1 person × 12 days / (2 persons × 31 days) = 96.7741… → −96.77 ₽
    assert got[("LS-3", "cold_water", "absence")] == -9677
    # wastewater: the cold-water volume reduction 10 × 12 / (2 × 31) = 1.935483… m³ × 40.00 = 77.4193…
    # → −77.42 ₽ (before Decision 12 wastewater was never reduced)
    assert got[("LS-3", "wastewater", "absence")] == -7742
    # LS-1 (no act) gets no absence recalculation at all
    assert not [k for k in got if k[0] == "LS-1" and k[2] == "absence"]


def test_decision_12_wastewater_never_gets_the_coefficient() -> None:
    # cold water by normative with ×1.5 (formula 4(1)): volume 3 × 4.86 = 14.58 m³, coefficient 1.5;
    # hot water metered 2.5 m³. Wastewater = 14.58 + 2.5 = 17.08 m³ with coefficient 1 (not 1.5).
    cold = IndividualVolume(
        Service.COLD_WATER,
        VolumeMethod.NORMATIVE_X1_5,
        "ф. 4(1)",
        {Zone.SINGLE: D("14.58")},
        coefficient=D("1.5"),
        persons=3,
        normative=D("4.86"),
    )
    hot = IndividualVolume(Service.HOT_WATER, VolumeMethod.METER, "ф. 1", {Zone.SINGLE: D("2.5")})
    waste = wastewater_volume([cold, hot])
    assert waste.total == D("17.08")
    assert waste.coefficient == 1
    assert waste.method is VolumeMethod.NORMATIVE
