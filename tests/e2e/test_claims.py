"""The legal department's pages in a real browser: the debtors list and a batch of applications, the
debtor's card, the cases list, and the case page where a court order against three co-owners is entered —
the spouses (joint owners in the register, proposed so) solidarily, the third by his share with the
penalties refused. The database is the oracle; the
amounts are the ones worked by hand in tests/claims/test_court_acts.py."""

from __future__ import annotations

import psycopg
import pytest

from tests.e2e.conftest import DESKTOP, log_in, screenshot, wait_ready

pytestmark = [pytest.mark.db, pytest.mark.slow]
AS_OF = "2025-04-30"


@pytest.fixture(scope="module")
def claims_world(cabinet_world, db_url: str) -> None:
    """Building CA of tests/claims/test_court_acts.py: Y1 owned ¼ ¼ ½ (Кузнецов, Кузнецова, Орлов), Y2 by
    one owner; debts January–March 2025 of 3 500.00 each, the claimant and the court district."""
    from tests.claims.test_court_acts import three_co_owners

    with psycopg.connect(db_url) as conn:
        three_co_owners(conn)
        # the spouses' quarters are one joint ownership (общая совместная собственность)
        conn.execute(
            "UPDATE registry_owners o SET joint_group = 1 FROM registry_person_names n"
            " WHERE n.person_id = o.person_id AND o.building_id = 'CA'"
            " AND n.last_name IN ('Кузнецов', 'Кузнецова')"
        )


def _case_of(db_url: str, account: str) -> int | None:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT max(case_id) FROM claims_cases WHERE account_no = %s", (account,)
        ).fetchone()
    return row[0]


def test_debtors_card_cases_and_a_court_order_against_three_co_owners(
    claims_world, open_page, db_url: str
) -> None:
    page = open_page(DESKTOP)
    log_in(page, "lawyer1", next_path="/cabinet/claims/")
    page.goto("/cabinet/claims/")
    wait_ready(page)
    # the debtors of building CA on 30.04.2025: three months of debt each, 3 500.00; the list's penalties are
    # those billed and unpaid (none were billed here — the accrued 29.93 are on the card and in the case)
    page.fill("#filter input[name=as_of]", AS_OF)
    page.fill("#filter input[name=building_id]", "CA")
    page.click("#filter button[type=submit]")
    # (the page first lists every debtor on today's date: wait for the filtered list)
    page.wait_for_function(
        "() => document.querySelectorAll('#debtors tr').length === 2"
        " && [...document.querySelectorAll('#debtors tr')].every((r) => r.innerText.includes('3 500,00'))"
    )
    rows = [r.split("\t") for r in page.inner_text("#debtors").splitlines()]
    assert [(r[1], r[4], r[6], r[7]) for r in rows] == [
        ("Y1", "3", "3 500,00", "0,00"),
        ("Y2", "3", "3 500,00", "0,00"),
    ]
    screenshot(page, "claims-debtors")
    page.check("#debtors input[value=Y1]")
    page.click("#prepare")
    page.wait_for_selector("#results a")
    case_id = _case_of(db_url, "Y1")
    assert page.inner_text("#results") == f"Y1: дело {case_id} — заявление подготовлено"

    # the debtor's card: the debt per period and service with penalties, the case just prepared
    page.goto(f"/cabinet/claims/debtor?account=Y1&as_of={AS_OF}")
    wait_ready(page)
    debts = page.inner_text("#debts")
    for text in ("Январь 2025\tХолодная вода\tпени\t15,52", "Январь 2025\tГорячая вода\tпени\t7,76", "6,65"):
        assert text in debts, text
    assert f"{case_id}" in page.inner_text("#cases")
    screenshot(page, "claims-debtor-card")

    # the cases list shows it prepared
    page.goto("/cabinet/claims/cases")
    wait_ready(page)
    assert "Y1" in page.inner_text("main")

    # the case page: its three debtors with their shares and claimed parts
    page.goto(f"/cabinet/claims/case?id={case_id}")
    wait_ready(page)
    debtors = page.inner_text("#debtors")
    assert "Кузнецов Олег Петрович" in debtors and "1/4" in debtors and "1/2" in debtors
    assert page.is_hidden("#award-entry")  # the next step is filing, not a court act
    page.select_option("#next-state", "filed")
    page.fill("#step input[name=happened_on]", "2025-05-05")
    page.click("#step button[type=submit]")
    page.wait_for_selector("#timeline li:has-text('05.05.2025')")

    # the court order: entered per defendant
    page.select_option("#next-state", "order_issued")
    assert page.is_visible("#award-entry")
    page.fill("#step input[name=happened_on]", "2025-05-20")
    page.fill("#step input[name=case_number]", "2-7/2025")
    amounts = page.locator("#award-rows .award-amount")
    # prefilled with what was claimed: 875.00 + 7.48, 875.00 + 7.48, 1 750.00 + 14.97
    assert [amounts.nth(i).input_value() for i in range(3)] == ["882.48", "882.48", "1764.97"]
    # the spouses are joint owners in the register: proposed solidarily, both ticked
    joint = page.locator("#award-rows .award-joint")
    assert page.is_checked("#liability-solidary")
    assert [joint.nth(i).is_checked() for i in range(3)] == [True, True, False]
    joint.nth(1).uncheck()
    page.click("#step button[type=submit]")  # one debtor ticked: refused by the page, nothing recorded
    page.wait_for_selector("#page-status.error")
    assert page.inner_text("#page-status") == "Для солидарного взыскания отметьте не меньше двух должников"
    joint.nth(1).check()
    # the spouses' amounts together: 882.48 + 882.48 = 1 764.96, costs 500.00 + 500.00
    assert page.input_value("#solidary-amount") == "1764.96"
    assert page.input_value("#solidary-costs") == "1000.00"
    assert amounts.nth(0).is_disabled() and not amounts.nth(2).is_disabled()
    amounts.nth(2).fill("1750.00")  # the court refused Орлов's penalties
    screenshot(page, "claims-case-court-order-entry")
    page.click("#step button[type=submit]")
    page.wait_for_selector("#court-act:not([hidden])")
    act = [r.split("\t") for r in page.inner_text("#court-act-rows").splitlines()]
    assert act == [
        ["Кузнецов Олег Петрович", "солидарно с Кузнецова Ольга Ивановна", "1 764,96", "1 000,00"],
        ["Кузнецова Ольга Ивановна", "солидарно с Кузнецов Олег Петрович", "1 764,96", "1 000,00"],
        ["Орлов Игорь Львович", "по доле", "1 750,00", "1 000,00"],
    ]
    assert "3 514,96" in page.inner_text("#summary")  # awarded: 1 764.96 once + 1 750.00
    screenshot(page, "claims-case-court-order")
    with psycopg.connect(db_url) as conn:
        awards = conn.execute(
            "SELECT a.liability, a.amount_kopecks, a.costs_kopecks,"
            " array_agg(d.debtor_no ORDER BY d.debtor_no)"
            " FROM claims_case_awards a JOIN claims_case_award_debtors d USING (step_id, award_no)"
            " WHERE a.case_id = %s GROUP BY 1, 2, 3, a.award_no ORDER BY a.award_no",
            (case_id,),
        ).fetchall()
        decisions = conn.execute(
            "SELECT debtor_no, debtor_last_name, amount_kopecks, liability FROM court_decisions"
            " WHERE case_number = '2-7/2025' ORDER BY debtor_no"
        ).fetchall()
        actor = conn.execute(
            "SELECT actor FROM claims_case_steps WHERE case_id = %s AND state = 'order_issued'", (case_id,)
        ).fetchone()
    assert awards == [("solidary", 176496, 100000, [1, 2]), ("share", 175000, 100000, [3])]
    assert decisions == [
        (1, "Кузнецов", 176496, "solidary"),
        (2, "Кузнецова", 176496, "solidary"),
        (3, "Орлов", 175000, "share"),
    ]
    assert actor == ("lawyer1",)

    # money under the order from Орлов (debtor 3): 2 000.00 pays his award 1 750.00 — his principal only,
    # the court refused his penalties — then 250.00 of his costs 1 000.00; nothing of the spouses' part
    page.select_option("#writ-debtor", "3")
    page.fill("#writ input[name=amount]", "2000.00")
    page.fill("#writ input[name=received_on]", "2025-06-15")
    page.fill("#writ input[name=reference]", "ПП 7")
    page.click("#writ button[type=submit]")
    page.wait_for_selector("#receipts tr")
    assert page.inner_text("#receipts").split("\t") == [
        "15.06.2025",
        "3. Орлов Игорь Львович",
        "2 000,00",
        "1 750,00",
        "250,00",
        "ПП 7",
    ]
    screenshot(page, "claims-case-writ-receipt")
    with psycopg.connect(db_url) as conn:
        paid = conn.execute(
            "SELECT a.debt_period, a.kind, a.service, a.amount_kopecks FROM claims_writ_receipts r"
            " JOIN payment_allocations a USING (payment_pk) WHERE r.case_id = %s ORDER BY 1, 2, 3",
            (case_id,),
        ).fetchall()
    # his ½ of every principal line: January 500.00 and 250.00, February and March 500.00 each
    assert paid == [
        ("2025-01", "principal", "cold_water", 50000),
        ("2025-01", "principal", "hot_water", 25000),
        ("2025-02", "principal", "cold_water", 50000),
        ("2025-03", "principal", "cold_water", 50000),
    ]
