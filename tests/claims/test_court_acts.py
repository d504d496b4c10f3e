"""A court act against several defendants of one case: spouses held solidarily for their half, a third
co-owner by his share with the penalties refused — the amounts worked by hand, the act stored per award,
published to ``court_decisions`` a row per defendant, and the same through the API; money from solidary
debtors paying in turns counted once against their common award; plus the refusals of an entry that
cannot be a court act (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from meterhub.claims.awards import (
    Award,
    ClaimedDebtor,
    awards_as_claimed,
    check_awards,
    defendants,
    total_awarded,
)
from meterhub.claims.cases_store import prepare_case, record_step
from meterhub.claims.court_acts import set_court_act_sink
from meterhub.claims.writ_payments import receive_under_writ
from meterhub.cli.wiring import plug_court_decisions
from tests.claims.claims_data import add_owner, add_person, debts_of_2025

AS_OF = date(2025, 4, 30)
db = pytest.mark.db


def test_entries_that_cannot_be_a_court_act_are_refused() -> None:
    ok = [Award("solidary", (1, 2), 176496, 100000), Award("share", (3,), 175000, 100000)]
    check_awards(ok, [1, 2, 3])
    cases = [
        ([], "at least one defendant"),
        ([Award("share", (1, 2), 100)], "exactly one debtor"),
        ([Award("solidary", (1,), 100)], "at least two debtors"),
        ([Award("share", (4,), 100)], "debtor 4 is not a debtor of the case"),
        ([Award("share", (1,), 100), Award("solidary", (1, 2), 100)], "debtor 1 is in two awards"),
        ([Award("share", (1,), 0)], "must be positive"),
        ([Award("share", (1,), 5, -1)], "cannot be negative"),
    ]
    for awards, message in cases:
        with pytest.raises(ValueError, match=message):
            check_awards(awards, [1, 2, 3])
    # a solidary amount is collected once, however many owe it; each of its debtors owes the whole of it
    assert total_awarded(ok) == 176496 + 175000
    assert [(d.debtor_no, d.liability, d.amount_kopecks, d.jointly_with) for d in defendants(ok)] == [
        (1, "solidary", 176496, (2,)),
        (2, "solidary", 176496, (1,)),
        (3, "share", 175000, ()),
    ]


def test_joint_owners_are_proposed_solidarily() -> None:
    # the spouses of one joint ownership owe the sum of their parts together: 882.48 + 882.48 = 1 764.96,
    # costs 500.00 + 500.00; the third owner his own 1 764.97 and 1 000.00
    claimed = [
        ClaimedDebtor(1, 87500, 748, 50000, joint_group=1),
        ClaimedDebtor(2, 87500, 748, 50000, joint_group=1),
        ClaimedDebtor(3, 175000, 1497, 100000),
    ]
    assert awards_as_claimed(claimed) == [
        Award("solidary", (1, 2), 176496, 100000),
        Award("share", (3,), 176497, 100000),
    ]
    # a joint group of one (the other joint owner not sued) is an ordinary share
    assert awards_as_claimed([ClaimedDebtor(1, 100, 0, 0, joint_group=4)]) == [Award("share", (1,), 100, 0)]


def three_co_owners(c: psycopg.Connection) -> None:
    """Building CA, account Y1 (premise 1) with the debts of ``debts_of_2025``, owned by the spouses Кузнецов
    and Кузнецова, ¼ each (acquired 01.01.2010, in that order), and Орлов ½ (01.06.2012); Y2 owned by one."""
    debts_of_2025(c, "CA", {"Y1": "1", "Y2": "2"})
    husband = add_person(c, "Кузнецов", "Олег", "Петрович", date(1970, 2, 2))
    wife = add_person(c, "Кузнецова", "Ольга", "Ивановна", date(1972, 3, 3))
    other = add_person(c, "Орлов", "Игорь", "Львович", date(1980, 4, 4))
    single = add_person(c, "Одинцов", "Олег", "Олегович", date(1960, 5, 5))
    add_owner(c, "CA", "1", husband, (1, 4), date(2010, 1, 1))
    add_owner(c, "CA", "1", wife, (1, 4), date(2010, 1, 1))
    add_owner(c, "CA", "1", other, (1, 2), date(2012, 6, 1))
    add_owner(c, "CA", "2", single, (1, 1), date(2001, 1, 1))
    c.execute(
        "INSERT INTO claims_claimant (name, inn, ogrn, address, bank_details, signatory) VALUES"
        " ('ООО «УК Тест»', '7701234567', '1027700000001', 'г. Тест', 'р/с 40702810900000000001',"
        " 'Иванов И. И.')"
    )
    c.commit()


@pytest.fixture(scope="module")
def world(db_url: str):
    from meterhub.timeseries.database import connect

    with connect(db_url) as c:
        three_co_owners(c)
    plug_court_decisions()
    yield
    set_court_act_sink(None)


def _decisions(conn, account: str) -> list[tuple]:
    return conn.execute(
        "SELECT debtor_no, debtor_last_name, amount_kopecks, liability, repaid_on FROM court_decisions"
        " WHERE account_no = %s ORDER BY debtor_no",
        (account,),
    ).fetchall()


@db
def test_spouses_solidarily_and_a_co_owner_by_share(world, conn) -> None:
    case_id = prepare_case(conn, "Y1", as_of=AS_OF, actor="lawyer1")
    conn.commit()
    debtors = conn.execute(
        "SELECT debtor_no, full_name, principal_kopecks, penalty_kopecks, state_fee_kopecks"
        " FROM claims_case_debtors WHERE case_id = %s ORDER BY debtor_no",
        (case_id,),
    ).fetchall()
    # Lines (tests/claims/test_cases.py): principal Jan cold 1 000.00, Jan hot 500.00, Feb and Mar cold
    # 1 000.00; penalties Jan cold 15.52, Jan hot 7.76, Feb cold 6.65. Shares ¼ ¼ ½ (weights 1 1 2 of 4):
    # every line divides exactly except 6.65 → 1.6625 1.6625 3.325 → 166 166 332 + the odd kopeck to the
    # largest remainder (Орлов, .5) → 333. Principal 875.00 875.00 1 750.00; penalties 3.88 + 1.94 + 1.66
    # = 7.48, 7.48 and 7.76 + 3.88 + 3.33 = 14.97. The fee 2 000.00 by the claimed 882.48 : 882.48 :
    # 1 764.97 → 499.99(86) 499.99(86) 1 000.00(28) + 2 kopecks to the largest remainders → 500 500 1 000.
    assert debtors == [
        (1, "Кузнецов Олег Петрович", 87500, 748, 50000),
        (2, "Кузнецова Ольга Ивановна", 87500, 748, 50000),
        (3, "Орлов Игорь Львович", 175000, 1497, 100000),
    ]
    record_step(conn, case_id, "filed", date(2025, 5, 5), "lawyer1")
    # several defendants: one amount for all is not a court act we can record
    with pytest.raises(ValueError, match="3 defendants"):
        record_step(
            conn, case_id, "order_issued", date(2025, 5, 20), "lawyer1", case_number="2-7/2025",
            awarded_kopecks=352993,
        )  # fmt: skip
    conn.rollback()
    record_step(conn, case_id, "filed", date(2025, 5, 5), "lawyer1")
    # The order: the spouses (joint property) solidarily for their half 882.48 + 882.48 = 1 764.96 with
    # costs 500.00 + 500.00; Орлов by his share, the penalties refused: 1 750.00 and costs 1 000.00.
    awards = [Award("solidary", (1, 2), 176496, 100000), Award("share", (3,), 175000, 100000)]
    step = record_step(
        conn, case_id, "order_issued", date(2025, 5, 20), "lawyer1", case_number="2-7/2025",
        in_force_on=date(2025, 6, 3), awards=awards,
    )  # fmt: skip
    conn.commit()
    # collectable under the order: 1 764.96 once (not per spouse) + 1 750.00 = 3 514.96
    assert conn.execute(
        "SELECT awarded_kopecks FROM claims_cases WHERE case_id = %s", (case_id,)
    ).fetchone() == (351496,)
    assert conn.execute(
        "SELECT award_no, liability, amount_kopecks, costs_kopecks FROM claims_case_awards WHERE step_id = %s"
        " ORDER BY award_no",
        (step,),
    ).fetchall() == [(1, "solidary", 176496, 100000), (2, "share", 175000, 100000)]
    assert conn.execute(
        "SELECT award_no, debtor_no FROM claims_case_award_debtors WHERE step_id = %s ORDER BY debtor_no",
        (step,),
    ).fetchall() == [(1, 1), (1, 2), (2, 3)]
    # court costs awarded: 1 000.00 + 1 000.00, one line next to the fee paid on filing
    assert conn.execute(
        "SELECT paid_kopecks, awarded_kopecks FROM claims_case_costs WHERE case_id = %s ORDER BY cost_id",
        (case_id,),
    ).fetchall() == [(200000, 0), (0, 200000)]
    # ГИС ЖКХ sees every defendant: each spouse owes the whole 1 764.96 jointly, Орлов his 1 750.00
    assert _decisions(conn, "Y1") == [
        (1, "Кузнецов", 176496, "solidary", None),
        (2, "Кузнецова", 176496, "solidary", None),
        (3, "Орлов", 175000, "share", None),
    ]
    # the order cancelled: every defendant's row is marked
    record_step(conn, case_id, "order_cancelled", date(2025, 7, 1), "lawyer1")
    conn.commit()
    assert [r[4] for r in _decisions(conn, "Y1")] == [date(2025, 7, 1)] * 3
    # marking it repaid keeps the day the order came into force
    assert conn.execute(
        "SELECT DISTINCT in_force_on FROM court_decisions WHERE account_no = 'Y1'"
    ).fetchall() == [(date(2025, 6, 3),)]


@db
def test_one_debtor_keeps_the_single_amount(world, conn) -> None:
    case_id = prepare_case(conn, "Y2", as_of=AS_OF, actor="lawyer1")
    record_step(conn, case_id, "filed", date(2025, 5, 5), "lawyer1")
    # the whole 3 500.00 + 29.93 claimed; the court awards 3 500.00 and costs 2 000.00 (the fee)
    record_step(
        conn,
        case_id,
        "order_issued",
        date(2025, 5, 20),
        "lawyer1",
        case_number="2-8/2025",
        awarded_kopecks=350000,
    )
    conn.commit()
    assert _decisions(conn, "Y2") == [(1, "Одинцов", 350000, "share", None)]
    assert conn.execute(
        "SELECT sum(awarded_kopecks) FROM claims_case_costs WHERE case_id = %s",
        (case_id,),
    ).fetchone() == (200000,)


@db
def test_a_joint_ownership_in_the_register_is_ordered_solidarily_by_default(world, conn) -> None:
    # building CJ, account J1: the spouses Совместные own the flat jointly — ½ + ½ in joint group 1 — with the
    # same debts: each claimed 1 750.00 + 14.97 / 14.96 (the odd kopeck of a line to the first owner)
    debts_of_2025(conn, "CJ", {"J1": "1"})
    husband = add_person(conn, "Совместный", "Семён", "Ильич", date(1975, 1, 1))
    wife = add_person(conn, "Совместная", "Софья", "Ивановна", date(1976, 1, 1))
    for person in (husband, wife):
        add_owner(conn, "CJ", "1", person, (1, 2), date(2010, 1, 1))
    conn.execute("UPDATE registry_owners SET joint_group = 1 WHERE building_id = 'CJ'")
    case_id = prepare_case(conn, "J1", as_of=AS_OF, actor="lawyer1")
    assert conn.execute(
        "SELECT debtor_no, principal_kopecks, penalty_kopecks, state_fee_kopecks, joint_group"
        " FROM claims_case_debtors WHERE case_id = %s ORDER BY debtor_no",
        (case_id,),
    ).fetchall() == [(1, 175000, 1497, 100000, 1), (2, 175000, 1496, 100000, 1)]
    record_step(conn, case_id, "filed", date(2025, 5, 5), "lawyer1")
    record_step(conn, case_id, "order_issued", date(2025, 5, 20), "lawyer1", case_number="2-50/2025")
    conn.commit()
    # no entry: the order as claimed — the joint owners solidarily for 1 764.97 + 1 764.96 = 3 529.93
    assert _decisions(conn, "J1") == [
        (1, "Совместный", 352993, "solidary", None),
        (2, "Совместная", 352993, "solidary", None),
    ]
    assert conn.execute(
        "SELECT awarded_kopecks FROM claims_cases WHERE case_id = %s", (case_id,)
    ).fetchone() == (352993,)


@db
def test_awards_through_the_api(world, db_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from fastapi.testclient import TestClient

    from meterhub.api.app import create_app
    from meterhub.api.roles import Role
    from meterhub.api.sessions import issue_bearer
    from meterhub.api.users_store import create_user
    from meterhub.core.settings import Settings

    with psycopg.connect(db_url, autocommit=True) as c:
        uid = create_user(c, "lawyer9", "correct-horse-battery", Role.LAWYER).id
        lawyer = {"Authorization": f"Bearer {issue_bearer(c, uid, timedelta(days=1), 't').token}"}
    settings = Settings(
        database_url=db_url, data_dir=Path(tmp_path_factory.mktemp("d")),
        secret_key="test-secret-key-for-meterhub-api-tests-0123456789", db_pool_max_size=2,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        # Y1's order was cancelled (above): the claim goes on as a lawsuit and ends in a decision
        cases = client.get("/api/v1/claims/cases", headers=lawyer).json()
        j1 = next(c for c in cases if c["account_no"] == "J1")["case_id"]
        j1_debtors = client.get(f"/api/v1/claims/cases/{j1}", headers=lawyer).json()["debtors"]
        assert [(d["debtor_no"], d["joint_group"]) for d in j1_debtors] == [(1, 1), (2, 1)]
        y1 = next(c for c in cases if c["account_no"] == "Y1")["case_id"]
        steps = f"/api/v1/claims/cases/{y1}/steps"
        r = client.post(steps, headers=lawyer, json={"state": "lawsuit_filed", "happened_on": "2025-07-10"})
        assert r.status_code == 201, r.text
        bad = {
            "state": "decision", "happened_on": "2025-08-01", "case_number": "2-99/2025",
            "awards": [{"liability": "solidary", "debtors": [1], "amount_kopecks": 100}],
        }  # fmt: skip
        r = client.post(steps, headers=lawyer, json=bad)
        assert r.status_code == 422 and "at least two debtors" in r.text
        # the court: all three solidarily for the principal 3 500.00, costs 2 000.00
        good = {
            "state": "decision", "happened_on": "2025-08-01", "case_number": "2-99/2025",
            "awards": [{"liability": "solidary", "debtors": [1, 2, 3], "amount_kopecks": 350000,
                        "costs_kopecks": 200000}],
        }  # fmt: skip
        assert client.post(steps, headers=lawyer, json=good).status_code == 201
        act = client.get(f"/api/v1/claims/cases/{y1}", headers=lawyer).json()["court_act"]
        assert (act["state"], act["happened_on"]) == ("decision", "2025-08-01")
        assert act["awards"] == [
            {
                "award_no": 1, "liability": "solidary", "liability_ru": "солидарно", "amount_kopecks": 350000,
                "costs_kopecks": 200000,
                "debtors": [
                    {"debtor_no": 1, "full_name": "Кузнецов Олег Петрович"},
                    {"debtor_no": 2, "full_name": "Кузнецова Ольга Ивановна"},
                    {"debtor_no": 3, "full_name": "Орлов Игорь Львович"},
                ],
            }
        ]  # fmt: skip
        assert [d["jointly_with"] for d in act["defendants"]] == [
            ["Кузнецова Ольга Ивановна", "Орлов Игорь Львович"],
            ["Кузнецов Олег Петрович", "Орлов Игорь Львович"],
            ["Кузнецов Олег Петрович", "Кузнецова Ольга Ивановна"],
        ]
    with psycopg.connect(db_url) as c:
        rows = c.execute(
            "SELECT case_number, debtor_no, amount_kopecks, liability FROM court_decisions"
            " WHERE case_number = '2-99/2025' ORDER BY debtor_no"
        ).fetchall()
    assert rows == [("2-99/2025", n, 350000, "solidary") for n in (1, 2, 3)]


@db
def test_solidary_owners_paying_in_turns(world, conn) -> None:
    # building CW, account W1: the spouses Вдовин and Вдовина own the flat jointly (½ + ½, joint group 1);
    # the order as claimed holds them solidarily for 3 529.93 with costs 2 000.00 — one award, collected once
    debts_of_2025(conn, "CW", {"W1": "1"})
    for last, first in (("Вдовин", "Павел"), ("Вдовина", "Полина")):
        add_owner(
            conn,
            "CW",
            "1",
            add_person(conn, last, first, "Ильич", date(1975, 1, 1)),
            (1, 2),
            date(2010, 1, 1),
        )
    conn.execute("UPDATE registry_owners SET joint_group = 1 WHERE building_id = 'CW'")
    case_id = prepare_case(conn, "W1", as_of=AS_OF, actor="lawyer1")
    record_step(conn, case_id, "filed", date(2025, 5, 5), "lawyer1")
    record_step(conn, case_id, "order_issued", date(2025, 5, 20), "lawyer1", case_number="2-60/2025")
    conn.commit()
    with pytest.raises(ValueError, match="no debtor 3"):
        receive_under_writ(conn, case_id, 100, date(2025, 6, 1), "ПП 0", "lawyer1", debtor_no=3)
    conn.rollback()
    # the wife pays 2 000.00: January 1 000.00 + 500.00, then 500.00 of February
    r1 = receive_under_writ(conn, case_id, 200000, date(2025, 6, 15), "ПП 1", "lawyer1", debtor_no=2)
    assert (r1.to_debts, r1.to_costs, r1.to_advance) == (200000, 0, 0)
    # the husband pays 3 000.00: what is left of the common award, 3 529.93 − 2 000.00 = 1 529.93 (February
    # 500.00, March 1 000.00, the penalties 29.93), then 1 470.07 of the costs 2 000.00
    r2 = receive_under_writ(conn, case_id, 300000, date(2025, 7, 1), "ПП 2", "lawyer1", debtor_no=1)
    assert (r2.to_debts, r2.to_costs, r2.to_advance) == (152993, 147007, 0)
    # the wife pays 600.00: the costs left, 2 000.00 − 1 470.07 = 529.93, and 70.07 of advance
    r3 = receive_under_writ(conn, case_id, 60000, date(2025, 7, 2), "ПП 3", "lawyer1", debtor_no=2)
    assert (r3.to_debts, r3.to_costs, r3.to_advance) == (0, 52993, 7007)
    # the award is repaid by the two of them: more money is an advance (one award: no debtor needed)
    r4 = receive_under_writ(conn, case_id, 5000, date(2025, 7, 3), "ПП 4", "lawyer1")
    assert (r4.to_debts, r4.to_costs, r4.to_advance, r4.award_no) == (0, 0, 5000, 1)
    rows = conn.execute(
        "SELECT a.debt_period, a.kind, a.service, sum(a.amount_kopecks) FROM payment_allocations a"
        " JOIN claims_writ_receipts r USING (payment_pk) WHERE r.case_id = %s AND a.kind <> 'advance'"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        (case_id,),
    ).fetchall()
    # exactly the lines claimed from the two of them, once
    assert rows == [
        ("2025-01", "penalty", "cold_water", 1552),
        ("2025-01", "penalty", "hot_water", 776),
        ("2025-01", "principal", "cold_water", 100000),
        ("2025-01", "principal", "hot_water", 50000),
        ("2025-02", "penalty", "cold_water", 665),
        ("2025-02", "principal", "cold_water", 100000),
        ("2025-03", "principal", "cold_water", 100000),
    ]
    assert conn.execute(
        "SELECT debtor_no, award_no FROM claims_writ_receipts WHERE case_id = %s ORDER BY receipt_id",
        (case_id,),
    ).fetchall() == [(2, 1), (1, 1), (2, 1), (None, 1)]
    conn.rollback()


@db
def test_a_lawsuit_after_a_cancelled_order_pays_the_claims_fee_less_the_orders(world, conn) -> None:
    # building CS, account S1 with one owner and the debts of debts_of_2025: price 3 500.00 + 29.93
    debts_of_2025(conn, "CS", {"S1": "1"})
    add_owner(
        conn,
        "CS",
        "1",
        add_person(conn, "Соколов", "Семён", "Ильич", date(1970, 1, 1)),
        (1, 1),
        date(2000, 1, 1),
    )
    case_id = prepare_case(conn, "S1", as_of=AS_OF, actor="lawyer1")
    record_step(conn, case_id, "filed", date(2025, 5, 5), "lawyer1")
    record_step(conn, case_id, "order_issued", date(2025, 5, 20), "lawyer1", case_number="2-70/2025")
    record_step(conn, case_id, "order_cancelled", date(2025, 6, 20), "lawyer1")
    step = record_step(conn, case_id, "lawsuit_filed", date(2025, 7, 10), "lawyer1")
    # НК РФ ст. 333.19 п. 1 пп. 1 (259-ФЗ): a claim up to 100 000 ₽ costs 4 000 ₽; the court order cost 50 %
    # of it, 2 000 ₽, paid on filing and credited to the claim (ст. 333.20 п. 1 пп. 13): 2 000 ₽ more to pay
    details = conn.execute("SELECT details FROM claims_case_steps WHERE step_id = %s", (step,)).fetchone()[0]
    assert (details["claim_fee_kopecks"], details["credited_kopecks"]) == (400000, 200000)
    # the decision without an entry: what the suit claimed — the principal 3 500.00 and the penalties
    # recalculated to 10.07.2025 (9.5 %, 1/300 for days 31–90, 1/130 from day 91): January (due 10.02) 60
    # days at 1/300 and 60 at 1/130 on 1 000.00 and 500.00: 19.00 + 43.846… + 9.50 + 21.923… = 94.269… →
    # 94.27; February (due 10.03) 60 and 32 days on 1 000.00: 19.00 + 23.384… → 42.38; March (due 10.04)
    # 60 days and 1: 19.00 + 0.730… → 19.73; 3 500.00 + 156.38 = 3 656.38 — with the claim's whole fee as
    # the court costs
    record_step(conn, case_id, "decision", date(2025, 8, 1), "lawyer1", case_number="2-700/2025")
    costs = conn.execute(
        "SELECT paid_kopecks, paid_on, awarded_kopecks FROM claims_case_costs WHERE case_id = %s"
        " ORDER BY cost_id",
        (case_id,),
    ).fetchall()
    assert costs == [
        (200000, date(2025, 5, 5), 0),  # the court order's fee
        (0, None, 200000),  # awarded by the order
        (0, None, -200000),  # the order cancelled: its costs are no longer awarded
        (200000, date(2025, 7, 10), 0),  # the claim's fee less the credited 2 000 ₽
        (0, None, 400000),  # awarded by the decision: the claim's whole fee
    ]
    assert conn.execute(
        "SELECT amount_kopecks, costs_kopecks FROM claims_case_awards a"
        " JOIN claims_case_steps s USING (step_id) WHERE a.case_id = %s AND s.state = 'decision'",
        (case_id,),
    ).fetchall() == [(365638, 400000)]
    conn.rollback()
