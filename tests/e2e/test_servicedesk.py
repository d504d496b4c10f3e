"""The service desk in a real browser: the operator finds the account and registers a phone request, it is
routed to a contractor, becomes overdue (its deadlines moved into the past in the database: the clock
cannot wait 5 working days), is escalated from the control page, the contractor answers and resolves it
from its own queue, and the operator closes it with the resident's rating; the database is the oracle."""

from __future__ import annotations

import psycopg
import pytest

from tests.e2e.conftest import DESKTOP, log_in, screenshot, wait_ready

pytestmark = [pytest.mark.db, pytest.mark.slow]


def _setup(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        (plumber,) = conn.execute(
            "INSERT INTO sd_executors (name, kind, email) VALUES ('ООО «Аквасервис»', 'contractor', '')"
            " ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind RETURNING executor_id"
        ).fetchone()
        conn.execute(
            "INSERT INTO sd_routes (category, executor_id) VALUES ('fault', %s) ON CONFLICT DO NOTHING",
            (plumber,),
        )
        conn.execute(
            "INSERT INTO sd_executor_users (user_id, executor_id) SELECT user_id, %s FROM api_users"
            " WHERE username = 'subco' ON CONFLICT DO NOTHING",
            (plumber,),
        )


def test_phone_request_routed_overdue_escalated_answered_closed(open_page, db_url: str) -> None:
    _setup(db_url)
    page = open_page(DESKTOP)
    log_in(page, "oper", next_path="/cabinet/desk/")
    assert page.url.endswith("/cabinet/desk/")
    page.fill("#q", "LS-1")
    page.click("#lookup button[type=submit]")
    page.click("tr[data-account='LS-1'] button")
    assert page.input_value("#account_no") == "LS-1"
    page.select_option("#channel", "phone")
    page.select_option("#category", "fault")
    page.fill("#applicant", "Алиса Смирнова")
    page.fill("#contact", "+7 900 123-45-67")
    page.fill("#text", "Течёт кран на кухне, вода на полу")
    page.click("#intake button[type=submit]")
    page.wait_for_selector("#created:not([hidden])")
    assert "ООО «Аквасервис»" in page.inner_text("#created")
    with psycopg.connect(db_url) as conn:
        rid, channel, status, executor = conn.execute(
            "SELECT r.request_id, r.channel, r.status, x.name FROM api_requests r"
            " JOIN sd_executors x USING (executor_id) WHERE r.text LIKE 'Течёт кран на кухне, вода%'"
        ).fetchone()
    assert (channel, status, executor) == ("phone", "in_progress", "ООО «Аквасервис»")

    # Overdue: both deadlines passed (moved back in the database), then escalated from the control page.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_requests SET created_at = now() - interval '10 days',"
            " response_due_at = now() - interval '9 days', resolution_due_at = now() - interval '1 day'"
            " WHERE request_id = %s",
            (rid,),
        )
    page.goto("/cabinet/desk/control")
    wait_ready(page)
    row = page.locator(f"tr[data-request='{rid}']")
    assert "просрочена" in row.inner_text()
    page.click("#escalate")
    page.wait_for_selector(f"#page-status:has-text('№ {rid}')")
    page.wait_for_selector(f"tr[data-request='{rid}']:has-text('уровень 2')")
    screenshot(page, "servicedesk-control")

    # The contractor's own queue: answer and resolve.
    contractor = open_page(DESKTOP)
    log_in(contractor, "subco", next_path="/cabinet/desk/queue")
    contractor.click(f"tr[data-request='{rid}'] a")
    wait_ready(contractor)
    assert contractor.is_hidden("#assign")  # re-assignment is the operator's
    contractor.fill("#answer-text", "Мастер придёт сегодня до 18:00")
    contractor.click("#answer button[type=submit]")
    contractor.wait_for_selector("#events:has-text('Мастер придёт сегодня до 18:00')")
    contractor.fill("#resolve-text", "Заменена прокладка смесителя")
    contractor.click("#resolve button[type=submit]")
    contractor.wait_for_selector("body[data-status=done]")

    # The operator closes it with the resident's rating.
    page.goto(f"/cabinet/desk/request?id={rid}")
    wait_ready(page)
    page.select_option("#rating", "5")
    page.click("#close button[type=submit]")
    page.wait_for_selector("body[data-status=closed]")
    screenshot(page, "servicedesk-request-closed")
    with psycopg.connect(db_url) as conn:
        status, rating, level = conn.execute(
            "SELECT status, rating, escalation_level FROM api_requests WHERE request_id = %s", (rid,)
        ).fetchone()
        kinds = [k for (k,) in conn.execute(
            "SELECT kind FROM sd_request_events WHERE request_id = %s ORDER BY id", (rid,))]  # fmt: skip
    assert (status, rating, level) == ("closed", 5, 2)
    assert kinds == ["registered", "assigned", "escalated", "responded", "resolved", "closed"]

    # The answer as an outgoing letter, registered with its number and seen (printable) in the cabinet.
    page.fill("#letter-subject", "О неисправности смесителя")
    page.fill("#letter-body", "Прокладка смесителя заменена, протечка устранена.")
    page.fill("#letter-signed", "Главный инженер И. И. Петров")
    page.click("#letter button[type=submit]")
    page.wait_for_selector("#letters li[data-letter]")
    # An act for the flat (the water was off while the tap was repaired), confirmed into billing.
    page.select_option("#act select[name=service]", "cold_water")
    page.fill("#act input[name=started_at]", "2026-11-20T08:00")
    page.fill("#act input[name=ended_at]", "2026-11-21T02:30")
    page.click("#act button[type=submit]")
    page.click("#acts li[data-act] button:has-text('Подтвердить')")
    page.wait_for_selector("#acts li:has-text('подтверждён')")
    with psycopg.connect(db_url) as conn:
        (number,) = conn.execute("SELECT letter_no FROM sd_letters WHERE request_id = %s", (rid,)).fetchone()
        hours = conn.execute(
            "SELECT extract(epoch FROM e.ended_at - e.started_at) / 3600, e.premise_no FROM sd_acts a"
            " JOIN service_events e USING (event_id) WHERE a.request_id = %s AND a.status = 'confirmed'",
            (rid,),
        ).fetchone()
    assert (float(hours[0]), hours[1]) == (18.5, "1")  # 20 Nov 08:00 → 21 Nov 02:30 Moscow, flat 1 of LS-1
    resident = open_page(DESKTOP)
    log_in(resident, "alice", next_path="/cabinet/requests")
    letter = resident.wait_for_selector(f"#letters-list li[data-letter='{number}']")
    assert "О неисправности смесителя" in letter.inner_text()
    screenshot(resident, "servicedesk-cabinet-letter")
