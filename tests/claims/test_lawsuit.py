"""A lawsuit after a cancelled court order claims for another price: the debt still owed and the penalties
recalculated to the day the suit is filed, the claim's fee on that price with the order's fee credited, the
decision's default awards and the money under it by the suit's lines. Every amount by hand below."""

from __future__ import annotations

from datetime import date

import pytest

from meterhub.claims.cases_store import prepare_case, record_step
from meterhub.claims.court_acts import set_court_act_sink
from meterhub.claims.writ_payments import receive_under_writ
from meterhub.cli.wiring import plug_court_decisions
from tests.billing.money_data import add_building, add_charge, add_period
from tests.claims.claims_data import add_court, add_owner, add_person

pytestmark = pytest.mark.db


@pytest.fixture
def plugged():
    plug_court_decisions()
    yield
    set_court_act_sink(None)


def test_a_suit_claims_the_penalties_to_its_own_day_and_pays_the_fee_on_that_price(plugged, conn) -> None:
    # Building CW, account W1 owned ½ and ½ by Волков (acquired first) and Волкова; cold water 40 000.00
    # in each of January, February and March 2025 (closed), due on the 10th of the next month.
    add_building(conn, "CW", {"W1": "1"})
    for period in ("2025-01", "2025-02", "2025-03"):
        add_period(conn, "CW", period, "closed")
        add_charge(conn, "CW", period, "W1", "cold_water", "40000.00")
    add_court(conn, "CW")
    add_owner(
        conn,
        "CW",
        "1",
        add_person(conn, "Волков", "Пётр", "Ильич", date(1970, 1, 1)),
        (1, 2),
        date(2001, 1, 1),
    )
    add_owner(
        conn,
        "CW",
        "1",
        add_person(conn, "Волкова", "Анна", "Юрьевна", date(1972, 2, 2)),
        (1, 2),
        date(2002, 1, 1),
    )

    # The court order on 30.04.2025 (ЖК РФ ст. 155 ч. 14, 9.5 %; no penalty for days 1–30, 1/300 for
    # days 31–90, 1/130 from day 91):
    #   January, due 10.02: day 31 is 13.03; 13.03..30.04 = 49 days:
    #     40 000 × 0.095 / 300 × 49 = 620.666… → 620.67
    #   February, due 10.03: day 31 is 10.04; 10.04..30.04 = 21 days: 40 000 × 0.095 / 300 × 21 = 266.00
    #   March, due 10.04: day 20 on 30.04, no penalty yet.
    # price 120 000.00 + 886.67 = 120 886.67; the order's fee (259-ФЗ) = ½ × (4 000 + 3 % × 20 886.67)
    #   = ½ × 4 626.6001 = 2 313.30005 → 2 313 ₽.
    case_id = prepare_case(conn, "W1", as_of=date(2025, 4, 30), actor="lawyer1")
    claimed = conn.execute(
        "SELECT principal_kopecks, penalty_kopecks, state_fee_kopecks FROM claims_cases WHERE case_id = %s",
        (case_id,),
    ).fetchone()
    assert claimed == (12000000, 88667, 231300)
    record_step(conn, case_id, "filed", date(2025, 5, 5), "lawyer1")
    record_step(conn, case_id, "order_issued", date(2025, 5, 20), "lawyer1", case_number="2-71/2025")
    record_step(conn, case_id, "order_cancelled", date(2025, 6, 20), "lawyer1")

    # The suit on 10.07.2025 — penalties to that day inclusive:
    #   January: day 90 is 11.05, so 13.03..11.05 = 60 days at 1/300 = 760.00 and 12.05..10.07
    #     = 20 + 30 + 10 = 60 days at 1/130: 40 000 × 0.095 / 130 × 60 = 1 753.846… → 2 513.846… → 2 513.85
    #   February: day 90 is 08.06: 10.04..08.06 = 21 + 31 + 8 = 60 days = 760.00, 09.06..10.07 = 22 + 10
    #     = 32 days: 40 000 × 0.095 / 130 × 32 = 935.384… → 1 695.384… → 1 695.38
    #   March: day 31 is 11.05, day 90 is 09.07: 11.05..09.07 = 21 + 30 + 9 = 60 days = 760.00, and 10.07
    #     one day at 1/130 = 29.230… → 789.230… → 789.23
    # penalties 2 513.85 + 1 695.38 + 789.23 = 4 998.46; price 120 000.00 + 4 998.46 = 124 998.46;
    # the claim's fee 4 000 + 3 % × 24 998.46 = 4 749.9538 → 4 750 ₽ (on the order's price it would have
    # been 4 627 ₽), of which the order's 2 313 ₽ is credited: 2 437 ₽ paid on filing.
    step = record_step(conn, case_id, "lawsuit_filed", date(2025, 7, 10), "lawyer1")
    details = conn.execute("SELECT details FROM claims_case_steps WHERE step_id = %s", (step,)).fetchone()[0]
    assert (
        details["suit_principal_kopecks"],
        details["suit_penalty_kopecks"],
        details["price_kopecks"],
        details["claim_fee_kopecks"],
        details["credited_kopecks"],
    ) == (12000000, 499846, 12499846, 475000, 231300)
    assert conn.execute(
        "SELECT paid_kopecks, paid_on FROM claims_case_costs WHERE case_id = %s AND paid_kopecks > 0"
        " ORDER BY cost_id",
        (case_id,),
    ).fetchall() == [(231300, date(2025, 5, 5)), (243700, date(2025, 7, 10))]
    # Each line split ½ / ½, the odd kopeck to the earlier owner (Волков): January 2 513.85 → 1 256.93 /
    # 1 256.92, February 1 695.38 → 847.69 each, March 789.23 → 394.62 / 394.61; principal 20 000.00 each.
    lines = conn.execute(
        "SELECT debtor_no, debt_period, kind, amount_kopecks FROM claims_suit_debts WHERE step_id = %s"
        " ORDER BY debtor_no, debt_period, kind",
        (step,),
    ).fetchall()
    assert lines == [
        (1, "2025-01", "penalty", 125693),
        (1, "2025-01", "principal", 2000000),
        (1, "2025-02", "penalty", 84769),
        (1, "2025-02", "principal", 2000000),
        (1, "2025-03", "penalty", 39462),
        (1, "2025-03", "principal", 2000000),
        (2, "2025-01", "penalty", 125692),
        (2, "2025-01", "principal", 2000000),
        (2, "2025-02", "penalty", 84769),
        (2, "2025-02", "principal", 2000000),
        (2, "2025-03", "penalty", 39461),
        (2, "2025-03", "principal", 2000000),
    ]
    # The decision without an entry awards the suit's amounts: Волков 60 000.00 + 2 499.24 = 62 499.24,
    # Волкова 60 000.00 + 2 499.22 = 62 499.22, and the claim's fee 4 750 ₽ split by them: 475 000 ×
    # 6 249 924 / 12 499 846 = 237 500.038 and × 6 249 922 / … = 237 499.962 → 237 500 and 237 499, the odd
    # kopeck to the larger remainder (.962): 2 375.00 each.
    record_step(conn, case_id, "decision", date(2025, 8, 1), "lawyer1", case_number="2-710/2025")
    assert conn.execute(
        "SELECT a.amount_kopecks, a.costs_kopecks FROM claims_case_awards a JOIN claims_case_steps s"
        " USING (step_id) WHERE a.case_id = %s AND s.state = 'decision' ORDER BY a.award_no",
        (case_id,),
    ).fetchall() == [(6249924, 237500), (6249922, 237500)]
    # Money under the decision from Волков: 70 000.00 pays his suit lines 62 499.24 — more than the order
    # claimed of him (60 000.00 + 443.34) — then his costs 2 375.00; 5 125.76 is an advance.
    record_step(conn, case_id, "writ_issued", date(2025, 8, 15), "lawyer1")
    receipt = receive_under_writ(conn, case_id, 7000000, date(2025, 8, 20), "ПП 7", "lawyer1", debtor_no=1)
    assert (receipt.to_debts, receipt.to_costs, receipt.to_advance) == (6249924, 237500, 512576)
    paid = conn.execute(
        "SELECT a.debt_period, a.kind, sum(a.amount_kopecks) FROM payment_allocations a"
        " WHERE a.payment_pk = %s AND a.kind <> 'advance' GROUP BY 1, 2 ORDER BY 1, 2",
        (receipt.payment_pk,),
    ).fetchall()
    assert paid == [
        ("2025-01", "penalty", 125693),
        ("2025-01", "principal", 2000000),
        ("2025-02", "penalty", 84769),
        ("2025-02", "principal", 2000000),
        ("2025-03", "penalty", 39462),
        ("2025-03", "principal", 2000000),
    ]
    # enforced under the decision: only a court order is cancelled, a decision is appealed
    record_step(conn, case_id, "enforcement", date(2025, 8, 25), "lawyer1")
    with pytest.raises(ValueError, match="enforced under a court decision"):
        record_step(conn, case_id, "order_cancelled", date(2025, 9, 1), "lawyer1")
    conn.rollback()
