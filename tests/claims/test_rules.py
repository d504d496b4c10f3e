"""The pure rules of the claims stage: the state fee (НК РФ ст. 333.19) hand-computed from the code's text
for both schedules, the split among co-owners, limitation (ГК РФ ст. 196, 200, 204), the case's life and
what money from one defendant under a court act may pay (his award, line by line)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.claims.lifecycle import CaseState, TransitionError, check_transition
from meterhub.claims.shares import Share, split_by_shares, split_lines_by_shares
from meterhub.claims.state_fee import StateFeeTables, state_fee
from meterhub.claims.time_bar import Suspension, limitation_ends, time_barred
from meterhub.claims.writ_limits import award_debt_limits

OLD = date(2024, 9, 7)  # the last day of the schedule before Федеральный закон № 259-ФЗ
NEW = date(2024, 9, 8)


@pytest.mark.parametrize(
    ("price", "filed_on", "court_order", "expected_rubles"),
    [
        # before 08.09.2024: 4 % but not less than 400 ₽; a court order costs 50 %
        ("15000.00", OLD, True, 300),  # 15 000 × 4 % = 600 → × 50 % = 300
        ("10000.00", OLD, True, 200),  # 400 (minimum) × 50 %
        ("50000.00", OLD, True, 850),  # 800 + 3 % × 30 000 = 1 700 → 850
        ("150000.50", OLD, True, 2100),  # 3 200 + 2 % × 50 000.50 = 4 200.01 → 2 100.005 → 2 100
        ("150000.50", OLD, False, 4200),  # the claim itself: 4 200.01 → 4 200
        ("10000000.00", OLD, False, 58200),  # 13 200 + 0.5 % × 9 000 000
        ("20000000.00", OLD, False, 60000),  # 108 200 → at most 60 000
        # from 08.09.2024: up to 100 000 ₽ — 4 000 ₽; a court order still 50 %
        ("50000.00", NEW, True, 2000),
        ("100000.00", NEW, True, 2000),
        ("100000.01", NEW, True, 2000),  # 4 000.0003 → 2 000.00015 → 2 000
        ("123456.78", NEW, True, 2352),  # 4 000 + 3 % × 23 456.78 = 4 703.7034 → 2 351.8517 → 2 352
        ("123456.78", NEW, False, 4704),
        ("400000.00", NEW, False, 12500),  # 10 000 + 2.5 % × 100 000
        ("200000000.00", NEW, False, 464000),  # 314 000 + 0.15 % × 100 000 000
        ("500000000.00", NEW, False, 900000),  # 914 000 → at most 900 000
    ],
)
def test_state_fee_by_the_code(price: str, filed_on: date, court_order: bool, expected_rubles: int) -> None:
    kopecks = int(Decimal(price) * 100)
    fee = state_fee(kopecks, filed_on, court_order=court_order)
    assert fee.amount_kopecks == expected_rubles * 100
    assert "333.19" in fee.source and ("259-ФЗ" in fee.source)


def test_state_fee_table_is_dated_and_sourced() -> None:
    tables = StateFeeTables.default()
    assert tables.schedule_on(OLD).minimum == 400 and tables.schedule_on(NEW).minimum == 4000
    assert all(s.court_order_percent == 50 for s in tables.schedules)
    with pytest.raises(LookupError):
        tables.schedule_on(date(2000, 1, 1))
    with pytest.raises(ValueError, match="positive"):
        state_fee(0, NEW)


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1, max_value=10**12),
    st.sampled_from([OLD, NEW]),
)
def test_state_fee_never_falls_as_the_price_rises(a: int, b: int, filed_on: date) -> None:
    low, high = sorted((a, b))
    assert state_fee(low, filed_on).amount_kopecks <= state_fee(high, filed_on).amount_kopecks
    assert state_fee(high, filed_on).amount_kopecks % 100 == 0


def test_bracket_bounds_join_up() -> None:
    """Each bracket's base is the previous bracket's fee at its upper bound (no jump in the schedule)."""
    for schedule in StateFeeTables.default().schedules:
        for previous, bracket in zip(schedule.brackets, schedule.brackets[1:], strict=False):
            at_bound = previous.base + (previous.up_to - previous.over) * previous.percent / 100
            assert max(at_bound, schedule.minimum) == bracket.base


def test_two_co_owners_each_get_his_half() -> None:
    assert split_by_shares(100000, [Share(1, 2), Share(1, 2)]) == [50000, 50000]
    assert split_by_shares(1001, [Share(1, 2), Share(1, 2)]) == [501, 500]  # tie → the earlier owner
    assert split_by_shares(1000, [Share(1, 3), Share(2, 3)]) == [333, 667]  # 333.33 / 666.67
    assert split_by_shares(1001, [Share(1, 2)]) == [500]  # the other half's owner is not sued
    with pytest.raises(ValueError, match="more than the whole"):
        split_by_shares(100, [Share(2, 3), Share(1, 2)])


@given(
    st.integers(min_value=0, max_value=10**10),
    st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=5),
)
def test_shares_of_the_whole_sum_to_the_line(amount: int, numerators: list[int]) -> None:
    denominator = sum(numerators)
    shares = [Share(n, denominator) for n in numerators]
    parts = split_by_shares(amount, shares)
    assert sum(parts) == amount
    for part, n in zip(parts, numerators, strict=True):
        assert abs(part * denominator - amount * n) < denominator  # within a kopeck of the exact share


def test_lines_split_per_owner() -> None:
    lines = {("2025-01", "cold_water", "principal"): 1001, ("2025-01", "cold_water", "penalty"): 3}
    first, second = split_lines_by_shares(lines, [Share(1, 2), Share(1, 2)])
    assert first == {("2025-01", "cold_water", "principal"): 501, ("2025-01", "cold_water", "penalty"): 2}
    assert second == {("2025-01", "cold_water", "principal"): 500, ("2025-01", "cold_water", "penalty"): 1}


def test_limitation_of_a_monthly_charge() -> None:
    # Due 10.02.2021: late from 11.02.2021, the term runs from 12.02.2021, its last day is 11.02.2024.
    due = date(2021, 2, 10)
    assert limitation_ends(due) == date(2024, 2, 11)
    assert not time_barred(due, date(2024, 2, 11))
    assert time_barred(due, date(2024, 2, 12))


def test_a_pending_application_stops_the_term_and_a_cancelled_order_leaves_six_months() -> None:
    due = date(2021, 2, 10)
    # Filed 01.12.2023 with 72 days left (to 11.02.2024); the order cancelled 01.03.2024: 01.03 + 72 days
    # = 12.05.2024, less than six months → 01.09.2024 (ст. 204 п. 3).
    cancelled = Suspension(date(2023, 12, 1), date(2024, 3, 1), order_cancelled=True)
    assert limitation_ends(due, [cancelled]) == date(2024, 9, 1)
    # Returned (not cancelled): only the 72 days stopped → 12.05.2024.
    returned = Suspension(date(2023, 12, 1), date(2024, 3, 1), order_cancelled=False)
    assert limitation_ends(due, [returned]) == date(2024, 5, 12)
    assert limitation_ends(due, [Suspension(date(2023, 12, 1), None)]) is None
    # An application filed after the term ended changes nothing.
    assert limitation_ends(due, [Suspension(date(2024, 3, 1), date(2024, 4, 1))]) == date(2024, 2, 11)


def test_case_life() -> None:
    check_transition(CaseState.PREPARED, CaseState.FILED)
    check_transition(CaseState.ORDER_ISSUED, CaseState.ORDER_CANCELLED)
    check_transition(CaseState.ORDER_CANCELLED, CaseState.LAWSUIT_FILED)
    check_transition(CaseState.ENFORCEMENT, CaseState.CLOSED_UNCOLLECTABLE)
    with pytest.raises(TransitionError, match="allowed: filed"):
        check_transition(CaseState.PREPARED, CaseState.ORDER_ISSUED)
    with pytest.raises(TransitionError, match="none"):
        check_transition(CaseState.CLOSED_PAID, CaseState.ENFORCEMENT)


def test_the_rules_need_no_database_driver() -> None:
    """The pure modules import with psycopg made unimportable (CONVENTIONS 12)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import meterhub.claims, meterhub.claims.state_fee, meterhub.claims.shares, meterhub.claims.time_bar,"
        " meterhub.claims.lifecycle\n"
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def test_writ_limits_per_award() -> None:
    jan_cold, jan_hot = ("2025-01", "principal", "cold_water"), ("2025-01", "principal", "hot_water")
    feb_cold, jan_penalty = ("2025-02", "principal", "cold_water"), ("2025-01", "penalty", "cold_water")
    claimed = {jan_cold: 50000, jan_hot: 25000, feb_cold: 50000, jan_penalty: 776}
    paid = {jan_cold: 20000}  # this award paid 200.00 of January's cold water before
    owed = {jan_cold: 80000, jan_hot: 50000, feb_cold: 40000, jan_penalty: 1552}  # February part paid
    # per line: January 500.00 − 200.00 = 300.00 and 250.00; February min(500.00, 400.00); the penalty 7.76
    assert award_debt_limits(claimed, paid, owed, 10**9) == {
        ("2025-01", "principal"): {"cold_water": 30000, "hot_water": 25000},
        ("2025-02", "principal"): {"cold_water": 40000},
        ("2025-01", "penalty"): {"cold_water": 776},
    }
    # 900.00 left of the award (the penalties refused): January 550.00, then 350.00 of February, no penalty
    assert award_debt_limits(claimed, paid, owed, 90000) == {
        ("2025-01", "principal"): {"cold_water": 30000, "hot_water": 25000},
        ("2025-02", "principal"): {"cold_water": 35000},
    }
    # 300.00 left: January cut pro rata 300 : 250 → 163.63(63) / 136.36(36), the odd kopeck to cold water
    assert award_debt_limits(claimed, paid, owed, 30000) == {
        ("2025-01", "principal"): {"cold_water": 16364, "hot_water": 13636}
    }
    # the award repaid: nothing more
    assert award_debt_limits(claimed, paid, owed, 0) == {}
