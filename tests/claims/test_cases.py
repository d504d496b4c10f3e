"""A case from the debtors list to money under the court order, on a real database: two co-owners ½ and ½
(one a minor with his mother as legal representative) each claimed his share with the penalties; the state
fee from the table (hand-computed); the timeline; the court order published to the exchange's
``court_decisions``; money under the writ paying only the case's debts, the ledger exact to the kopeck."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from meterhub.billing.money.ledger import outstanding_by_debt
from meterhub.claims.cases_store import attach_document, case_timeline, prepare_case, record_step
from meterhub.claims.court_acts import set_court_act_sink
from meterhub.claims.lifecycle import CaseState, TransitionError
from meterhub.claims.reports import cases_by_building, cases_by_state, fssp_list, reports_xlsx
from meterhub.claims.selection import debt_statement, select_debtors
from meterhub.claims.writ_payments import receive_under_writ
from meterhub.cli.wiring import plug_court_decisions
from meterhub.exchange.gis.debt_answers import court_decisions_of
from tests.billing.money_data import add_charge, add_period
from tests.claims.claims_data import city_with_co_owners

pytestmark = pytest.mark.db

AS_OF = date(2025, 4, 30)


@pytest.fixture(scope="module")
def city(db_url: str):
    from meterhub.timeseries.database import connect

    with connect(db_url) as c:
        city_with_co_owners(c)
    plug_court_decisions()
    yield
    set_court_act_sink(None)


def test_debt_statement_per_period_and_service_with_penalties(city, conn) -> None:
    statement = debt_statement(conn, "X1", AS_OF)
    got = {(x.period, x.service, x.kind): x.amount for x in statement.lines}
    # Penalties to 30.04.2025 at 9.5 % (1/300 from day 31): January's debt 1 500.00, due 10.02, k = 31 on
    # 13.03 → 49 days: 1 500 × 49 × 0.095 / 300 = 23.275 → 23.28, split 2:1 → 15.52 / 7.76; February's
    # 1 000.00 from 10.04 → 21 days: 6.65; March (due 10.04) is overdue but has no penalty yet; April (due
    # 10.05) is not overdue.
    assert got == {
        ("2025-01", "cold_water", "principal"): 100000,
        ("2025-01", "hot_water", "principal"): 50000,
        ("2025-02", "cold_water", "principal"): 100000,
        ("2025-03", "cold_water", "principal"): 100000,
        ("2025-01", "cold_water", "penalty"): 1552,
        ("2025-01", "hot_water", "penalty"): 776,
        ("2025-02", "cold_water", "penalty"): 665,
    }
    assert not any(x.time_barred for x in statement.lines)


def test_selection_leaves_out_instalments(city, conn) -> None:
    found = [d.account_no for d in select_debtors(conn, AS_OF, building_id="CL", min_months=3)]
    assert found == ["X1", "X3", "X4"]  # X2 has an instalment agreement running


def test_co_owners_each_claimed_his_share_with_the_fee(city, conn) -> None:
    case_id = prepare_case(conn, "X1", as_of=AS_OF, actor="lawyer1")
    conn.commit()
    case = conn.execute(
        "SELECT state, principal_kopecks, penalty_kopecks, state_fee_kopecks, period_from, period_to,"
        " court_name"
        " FROM claims_cases WHERE case_id = %s",
        (case_id,),
    ).fetchone()
    # Price 3 500.00 + 29.93 = 3 529.93 ₽, filed in 2025: claim fee 4 000 ₽ (up to 100 000 ₽), a court
    # order 50 % = 2 000 ₽.
    assert case[:6] == ("prepared", 350000, 2993, 200000, "2025-01", "2025-03")
    assert case[6].startswith("Мировой судья судебного участка № 5")
    debtors = conn.execute(
        "SELECT debtor_no, full_name, share_numerator, share_denominator, representative, principal_kopecks,"
        " penalty_kopecks, state_fee_kopecks FROM claims_case_debtors WHERE case_id = %s ORDER BY debtor_no",
        (case_id,),
    ).fetchall()
    # Each half: principal 500 + 250 + 500 + 500 = 1 750.00; penalties 7.76 + 3.88 + 3.33 (6.65: the odd
    # kopeck to the first owner) = 14.97 and 7.76 + 3.88 + 3.32 = 14.96; the fee 2 000 split 176 497 :
    # 176 496 → 1 000.00 each.
    assert debtors == [
        (1, "Петрова Анна Сергеевна", 1, 2, "", 175000, 1497, 100000),
        (2, "Петров Иван Олегович", 1, 2, "Петрова Анна Сергеевна (родитель)", 175000, 1496, 100000),
    ]
    lines = conn.execute(
        "SELECT debtor_no, debt_period, service, kind, amount_kopecks FROM claims_case_debts"
        " WHERE case_id = %s AND debtor_no = 2 ORDER BY debt_period, kind, service",
        (case_id,),
    ).fetchall()
    assert lines == [
        (2, "2025-01", "cold_water", "penalty", 776),
        (2, "2025-01", "hot_water", "penalty", 388),
        (2, "2025-01", "cold_water", "principal", 50000),
        (2, "2025-01", "hot_water", "principal", 25000),
        (2, "2025-02", "cold_water", "penalty", 332),
        (2, "2025-02", "cold_water", "principal", 50000),
        (2, "2025-03", "cold_water", "principal", 50000),
    ]
    # An open case takes the account out of the next selection.
    assert "X1" not in [d.account_no for d in select_debtors(conn, AS_OF, building_id="CL")]


def test_account_owner_when_the_register_has_none(city, conn) -> None:
    case_id = prepare_case(conn, "X3", as_of=AS_OF, actor="lawyer1")
    rows = conn.execute(
        "SELECT full_name, share_numerator, share_denominator, principal_kopecks FROM claims_case_debtors"
        " WHERE case_id = %s",
        (case_id,),
    ).fetchall()
    assert rows == [("Сидоров Пётр Ильич", 1, 1, 350000)]
    conn.rollback()


def test_a_deceased_owner_is_not_made_a_debtor(city, conn) -> None:
    # the son died on 15.03.2025, before the application: no court order against him (ГК РФ ст. 1175)
    conn.execute("UPDATE registry_persons SET death_date = '2025-03-15' WHERE birth_date = '2012-05-01'")
    with pytest.raises(ValueError, match=r"Петров Иван Олегович \(умер 15.03.2025\) died before.*heirs"):
        prepare_case(conn, "X1", as_of=AS_OF, actor="lawyer1")
    conn.rollback()


def test_timeline_court_order_and_money_under_it(city, conn) -> None:
    case_id = conn.execute("SELECT case_id FROM claims_cases WHERE account_no = 'X1'").fetchone()[0]
    with pytest.raises(TransitionError):
        record_step(conn, case_id, "order_issued", date(2025, 5, 20), "lawyer1", case_number="2-1/2025")
    conn.rollback()
    filed = record_step(
        conn, case_id, "filed", date(2025, 5, 5), "lawyer1", note="подано через ГАС «Правосудие»"
    )
    attach_document(
        conn, case_id, "application", "zayavlenie.pdf", "application/pdf", b"%PDF-1.4 x", "lawyer1", filed
    )
    with pytest.raises(ValueError, match="case number"):
        record_step(conn, case_id, "order_issued", date(2025, 5, 20), "lawyer2")
    conn.rollback()
    record_step(conn, case_id, "filed", date(2025, 5, 5), "lawyer1")
    record_step(
        conn,
        case_id,
        "order_issued",
        date(2025, 5, 20),
        "lawyer2",
        case_number="2-1234/2025",
        in_force_on=date(2025, 6, 3),
    )
    record_step(conn, case_id, "enforcement", date(2025, 6, 5), "lawyer2", note="направлен в ФССП")
    conn.commit()
    steps = case_timeline(conn, case_id)
    assert [(s.state, s.happened_on, s.actor) for s in steps] == [
        (CaseState.PREPARED, AS_OF, "lawyer1"),
        (CaseState.FILED, date(2025, 5, 5), "lawyer1"),
        (CaseState.ORDER_ISSUED, date(2025, 5, 20), "lawyer2"),
        (CaseState.ENFORCEMENT, date(2025, 6, 5), "lawyer2"),
    ]
    assert steps[1].documents == () and steps[0].documents == ()  # the rolled-back attachment is gone
    costs = conn.execute(
        "SELECT kind, paid_kopecks, awarded_kopecks FROM claims_case_costs WHERE case_id = %s"
        " ORDER BY cost_id",
        (case_id,),
    ).fetchall()
    assert costs == [("state_fee", 200000, 0), ("state_fee", 0, 200000)]

    # The debt request answer sees the court order, a row per defendant: without an entry per defendant
    # the order awards what was claimed, each by share — 1 750.00 + 14.97 = 1 764.97 and 1 750.00 + 14.96
    # = 1 764.96 (together the case's 3 529.93).
    decisions = court_decisions_of(conn, ["X1"])
    assert [(d.case_number, d.amount_kopecks, d.debt_from, d.debt_to) for d in decisions] == [
        ("2-1234/2025", 176497, "2025-01", "2025-03"),
        ("2-1234/2025", 176496, "2025-01", "2025-03"),
    ]
    assert [(d.last_name, d.first_name, d.in_force_on) for d in decisions] == [
        ("Петрова", "Анна", date(2025, 6, 3)),
        ("Петров", "Иван", date(2025, 6, 3)),
    ]
    assert conn.execute(
        "SELECT awarded_kopecks FROM claims_cases WHERE case_id = %s", (case_id,)
    ).fetchone() == (352993,)

    before = outstanding_by_debt(conn, ["X1"])["X1"]
    # Money comes from one defendant and pays his award only. The mother (debtor 1) was claimed principal
    # January cold 500.00, hot 250.00, February and March cold 500.00 each, penalties 7.76 + 3.88 + 3.33
    # (the odd kopeck of 6.65 to the earlier owner) = 14.97; her award 1 764.97 and costs 1 000.00.
    with pytest.raises(ValueError, match="name the debtor"):
        receive_under_writ(conn, case_id, 100000, date(2025, 6, 15), "ПП 100", "lawyer2")
    conn.rollback()
    # 1 000.00 from her on 15.06.2025: her January 750.00 in full, then 250.00 of her February.
    first = receive_under_writ(conn, case_id, 100000, date(2025, 6, 15), "ПП 101", "lawyer2", debtor_no=1)
    assert (first.to_debts, first.to_costs, first.to_advance, first.award_no) == (100000, 0, 0, 1)
    after = outstanding_by_debt(conn, ["X1"])["X1"]
    paid = {
        key: {s: before[key][s] - after.get(key, {}).get(s, 0) for s in before[key]}
        for key in before
        if key[1] == "principal"
    }
    assert paid == {
        ("2025-01", "principal"): {"cold_water": 50000, "hot_water": 25000},
        ("2025-02", "principal"): {"cold_water": 25000},
        ("2025-03", "principal"): {"cold_water": 0},
        ("2025-04", "principal"): {"cold_water": 0},  # not the current month
    }

    # 5 000.00 more from her: what is left of her award, 1 764.97 − 1 000.00 = 764.97 (February 250.00,
    # March 500.00, her penalties 14.97), then her costs 1 000.00, the last 3 235.03 an advance — none of
    # it pays her son's part, though the account still owes it.
    second = receive_under_writ(conn, case_id, 500000, date(2025, 7, 1), "ПП 102", "lawyer2", debtor_no=1)
    assert (second.to_debts, second.to_costs, second.to_advance) == (76497, 100000, 323503)
    assert outstanding_by_debt(conn, ["X1"])["X1"][("2025-01", "principal")] == {
        "cold_water": 50000,
        "hot_water": 25000,
    }
    # her award is repaid: more money from her is an advance
    third = receive_under_writ(conn, case_id, 10000, date(2025, 7, 2), "ПП 103", "lawyer2", debtor_no=1)
    assert (third.to_debts, third.to_costs, third.to_advance) == (0, 0, 10000)
    # the son (debtor 2) pays his award 1 764.96 (his February penalty 3.32) and costs 1 000.00 exactly
    fourth = receive_under_writ(conn, case_id, 276496, date(2025, 7, 2), "ПП 104", "lawyer2", debtor_no=2)
    assert (fourth.to_debts, fourth.to_costs, fourth.to_advance, fourth.award_no) == (176496, 100000, 0, 2)
    conn.commit()
    allocated = conn.execute(
        "SELECT p.payment_pk, p.amount_kopecks, sum(a.amount_kopecks), bool_and(a.rule LIKE 'writ:%%'"
        " OR a.kind = 'advance') FROM payments p JOIN payment_allocations a USING (payment_pk)"
        " WHERE p.source = 'writ' GROUP BY p.payment_pk ORDER BY p.payment_pk"
    ).fetchall()
    assert [(r[1], r[2], r[3]) for r in allocated] == [
        (100000, 100000, True),
        (400000, 400000, True),
        (10000, 10000, True),
        (176496, 176496, True),
    ]
    rows = conn.execute(
        "SELECT debt_period, kind, service, sum(amount_kopecks) FROM payment_allocations"
        " WHERE payment_pk = ANY(%s) AND kind <> 'advance' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        ([r[0] for r in allocated],),
    ).fetchall()
    # Exactly what the case claimed, to the kopeck; nothing of April.
    assert rows == [
        ("2025-01", "penalty", "cold_water", 1552),
        ("2025-01", "penalty", "hot_water", 776),
        ("2025-01", "principal", "cold_water", 100000),
        ("2025-01", "principal", "hot_water", 50000),
        ("2025-02", "penalty", "cold_water", 665),
        ("2025-02", "principal", "cold_water", 100000),
        ("2025-03", "principal", "cold_water", 100000),
    ]
    final = outstanding_by_debt(conn, ["X1"])["X1"]
    assert final[("2025-04", "principal")] == {"cold_water": 100000}
    assert all(k[0] == "2025-04" or k[1] == "penalty" for k in final)

    record_step(conn, case_id, "closed_paid", date(2025, 7, 2), "lawyer2")
    conn.commit()
    assert [d.repaid_on for d in court_decisions_of(conn, ["X1"])] == [date(2025, 7, 2)] * 2
    with pytest.raises(ValueError, match="closed"):
        receive_under_writ(conn, case_id, 100, date(2025, 7, 3), "ПП 105", "lawyer2", debtor_no=1)
    conn.rollback()


def test_reports_and_the_bailiffs_list(city, conn) -> None:
    """After the X1 case above (closed, paid in full with the costs): X4 under an order at the bailiffs',
    500.00 collected."""
    conn.execute("UPDATE accounts SET owner_name = 'Кузнецов Олег Павлович' WHERE account_no = 'X4'")
    case_id = prepare_case(conn, "X4", as_of=AS_OF, actor="lawyer1")
    record_step(conn, case_id, "filed", date(2025, 5, 6), "lawyer1")
    record_step(conn, case_id, "order_issued", date(2025, 5, 21), "lawyer1", case_number="2-2000/2025")
    record_step(
        conn,
        case_id,
        "enforcement",
        date(2025, 6, 6),
        "lawyer1",
        details={"proceeding": "12345/25/77001-ИП", "office": "ОСП по Тестовому району"},
    )
    receive_under_writ(conn, case_id, 50000, date(2025, 6, 20), "ПП 201", "lawyer1")
    conn.commit()

    by_state = {t.key: t for t in cases_by_state(conn)}
    assert list(by_state) == ["enforcement", "closed_paid"]
    paid = by_state["closed_paid"]
    assert (paid.cases, paid.claimed, paid.awarded, paid.collected) == (1, 352993, 352993, 352993)
    assert (paid.costs_paid, paid.costs_awarded, paid.costs_recovered) == (200000, 200000, 200000)
    active = by_state["enforcement"]
    assert (active.cases, active.claimed, active.awarded, active.collected, active.costs_recovered) == (
        1,
        352993,
        352993,
        50000,
        0,
    )
    [building] = cases_by_building(conn)
    # (352 993 + 50 000) / (352 993 × 2) = 57.08 % → 57.1
    assert (building.key, building.cases, building.collected, building.collection_rate) == (
        "CL",
        2,
        402993,
        Decimal("57.1"),
    )
    [row] = fssp_list(conn)
    assert (row.case_number, row.proceeding, row.office, row.sent_on) == (
        "2-2000/2025",
        "12345/25/77001-ИП",
        "ОСП по Тестовому району",
        date(2025, 6, 6),
    )
    assert (row.awarded, row.costs_awarded, row.collected, row.remaining) == (352993, 200000, 50000, 502993)
    assert row.debtors == "Кузнецов Олег Павлович"

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(reports_xlsx(conn)))
    assert book.sheetnames == ["По состояниям", "По домам", "Сверка ФССП"]
    states = [[c.value for c in r] for r in book["По состояниям"].iter_rows(min_row=2)]  # floats back
    assert states[0][:5] == ["на исполнении (ФССП / банк)", 1, 3529.93, 3529.93, 500]
    fssp = [[c.value for c in r] for r in book["Сверка ФССП"].iter_rows(min_row=2)]
    assert fssp[0][1] == "2-2000/2025" and fssp[0][-1] == 5029.93


def test_time_barred_periods_are_flagged_and_left_out(city, conn) -> None:
    """January 2022 (due 10.02.2022) is out of time on 30.04.2025 — its last day was 11.02.2025 — and
    stays in the statement flagged; the case claims only 2025 unless asked to include it."""
    conn.execute("INSERT INTO premises (building_id, premise_no, area) VALUES ('CL', '5', 50)")
    conn.execute(
        "INSERT INTO accounts (account_no, building_id, premise_no, opened_on, owner_name)"
        " VALUES ('X5', 'CL', '5', '2020-01-01', 'Орлов Антон Ильич')"
    )
    add_period(conn, "CL", "2022-01", "closed")
    add_charge(conn, "CL", "2022-01", "X5", "cold_water", "700.00")
    add_charge(conn, "CL", "2025-01", "X5", "cold_water", "300.00")
    lines = debt_statement(conn, "X5", AS_OF).lines
    barred = {(x.period, x.kind): (x.time_barred, x.limitation_ends) for x in lines}
    assert barred[("2022-01", "principal")] == (True, date(2025, 2, 11))
    assert barred[("2025-01", "principal")] == (False, date(2028, 2, 11))
    case_id = prepare_case(conn, "X5", as_of=AS_OF, actor="lawyer1")
    periods = conn.execute(
        "SELECT DISTINCT debt_period FROM claims_case_debts WHERE case_id = %s", (case_id,)
    ).fetchall()
    assert periods == [("2025-01",)]
    assert conn.execute(
        "SELECT principal_kopecks FROM claims_cases WHERE case_id = %s", (case_id,)
    ).fetchone() == (30000,)
    conn.rollback()
