"""Requests through the database: phone registration with deadlines from the category data and the
working calendar, routing to a contractor, escalation, the overdue / at-risk list, answer, closing with a
rating and the report by channel and executor with the share on time (counted by hand)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from meterhub.servicedesk import DeadlineState
from meterhub.servicedesk.reports import control_list, requests_report
from meterhub.servicedesk.requests_store import (
    NewRequest,
    RequestError,
    assign,
    close_request,
    escalate_overdue,
    register_request,
    resolve,
    respond,
)
from tests.billing.money_data import add_building

pytestmark = pytest.mark.db
MSK = ZoneInfo("Europe/Moscow")


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


def _executor(conn, name: str, kind: str) -> int:
    return conn.execute(
        "INSERT INTO sd_executors (name, kind) VALUES (%s, %s) RETURNING executor_id", (name, kind)
    ).fetchone()[0]


def test_request_lifecycle_control_and_reports(db_url: str, conn) -> None:
    add_building(conn, "CB", {"C1": "1", "C2": "2"})
    plumbers = _executor(conn, "ООО «Сантехник»", "contractor")
    ads = _executor(conn, "АДС", "emergency_service")
    office = _executor(conn, "Абонентский отдел", "department")
    conn.execute(
        "INSERT INTO sd_routes (category, building_id, executor_id) VALUES ('fault', 'CB', %s),"
        " ('emergency', NULL, %s), ('billing_claim', NULL, %s)",
        (plumbers, ads, office),
    )
    # Friday 4 Dec 2026 17:00: a fault by phone — 24 working h to answer (Fri 1 h + Mon 9 + Tue 9 + Wed 5
    # → Wed 9 Dec 14:00) and 120 working h to resolve.
    fault = register_request(
        conn,
        NewRequest(
            "phone", "fault", "течёт стояк", account_no="C1", applicant="Петров", contact="+79001234567"
        ),
        msk(2026, 12, 4, 17),
    )
    row = conn.execute(
        "SELECT channel, building_id, executor_id, status, response_due_at, resolution_due_at"
        " FROM api_requests WHERE request_id = %s",
        (fault,),
    ).fetchone()
    # 120 h = Fri 1 + 13 × 9 (Mon 7 … Wed 23 Dec, 13 working days) = 118 → Thu 24 Dec 9:00 + 2 h = 11:00.
    assert row == ("phone", "CB", plumbers, "in_progress", msk(2026, 12, 9, 14), msk(2026, 12, 24, 11))
    # An emergency without an account (a passer-by): calendar hours, 30 min to respond, 72 h to resolve.
    leak = register_request(
        conn, NewRequest("phone", "emergency", "вода в подвале", building_id="CB"), msk(2026, 12, 5, 23, 50)
    )
    due = conn.execute(
        "SELECT executor_id, response_due_at, resolution_due_at FROM api_requests WHERE request_id = %s",
        (leak,),
    ).fetchone()
    assert due == (ads, msk(2026, 12, 6, 0, 20), msk(2026, 12, 8, 23, 50))
    claim = register_request(
        conn,
        NewRequest("email", "billing_claim", "неверный перерасчёт", account_no="C2"),
        msk(2026, 12, 7, 9),
    )
    unrouted = register_request(
        conn, NewRequest("web", "information", "справка", account_no="C2"), msk(2026, 12, 7, 9)
    )
    assert conn.execute(
        "SELECT executor_id, status FROM api_requests WHERE request_id = %s", (unrouted,)
    ).fetchone() == (
        None,
        "new",
    )
    with pytest.raises(RequestError, match="unknown category"):
        register_request(conn, NewRequest("phone", "nonsense", "x", account_no="C1"), msk(2026, 12, 7, 9))

    # Monday 7 Dec 10:00: the emergency is past both its response (00:20 Sun) — level 1.
    assert escalate_overdue(conn, msk(2026, 12, 7, 10)) == [(leak, 1)]
    assert escalate_overdue(conn, msk(2026, 12, 7, 10)) == [], "each level once"
    # 9 Dec 00:00: the emergency's 72 h passed → level 2; the fault's answer is still in time.
    assert escalate_overdue(conn, msk(2026, 12, 9)) == [(leak, 2)]

    # Control on 8 Dec 20:00: the emergency (window 72 h, 4 h left < 18 h) at risk; nothing overdue yet.
    states = {r.request_id: r.state for r in control_list(conn, msk(2026, 12, 8, 20))}
    assert states == {leak: DeadlineState.AT_RISK}
    states = {r.request_id: r.state for r in control_list(conn, msk(2026, 12, 22, 17))}
    # 22 Dec 17:00: emergency overdue; the fault (due 24 Dec 11:00, window 19 d 18 h, 25 % = 4 d 22.5 h)
    # at risk; the claim (72 working h from Mon 7 Dec 9:00 = 8 working days 7–11, 14–16 Dec → Wed 16 Dec
    # 18:00) overdue; the unrouted information request (80 h = 8 days + 8 h → Thu 17 Dec 17:00) overdue.
    assert states == {
        leak: DeadlineState.OVERDUE,
        claim: DeadlineState.OVERDUE,
        unrouted: DeadlineState.OVERDUE,
        fault: DeadlineState.AT_RISK,
    }
    assert [r.request_id for r in control_list(conn, msk(2026, 12, 22, 17), executor_id=plumbers)] == [fault]

    # The fault: re-assigned to the department, answered, resolved in time, closed with a rating.
    assign(conn, fault, office, msk(2026, 12, 8, 9), comment="не подрядные работы")
    respond(conn, fault, "мастер придёт 9 декабря", msk(2026, 12, 8, 10), actor=None)
    resolve(conn, fault, "стояк заменён", msk(2026, 12, 9, 15), actor=None)
    with pytest.raises(RequestError, match="only a done request"):
        close_request(conn, leak, msk(2026, 12, 9, 16), confirmed=True)
    close_request(conn, fault, msk(2026, 12, 10, 9), confirmed=True, rating=5, comment="спасибо")
    # The claim resolved late (due 16 Dec 18:00), closed without the resident's answer, rating 2 later.
    resolve(conn, claim, "перерасчёт выполнен", msk(2026, 12, 17, 10), actor=None)
    close_request(conn, claim, msk(2026, 12, 18, 10), confirmed=False, rating=2)
    kinds = [
        k
        for (k,) in conn.execute(
            "SELECT kind FROM sd_request_events WHERE request_id = %s ORDER BY id", (fault,)
        )
    ]
    assert kinds == ["registered", "assigned", "reassigned", "responded", "resolved", "closed"]
    statuses = [
        s
        for (s,) in conn.execute(
            "SELECT status FROM api_request_history WHERE request_id = %s ORDER BY id", (fault,)
        )
    ]
    assert statuses == ["new", "in_progress", "in_progress", "done", "closed"]

    now = msk(2026, 12, 22, 17)
    by_channel = {r.key: r for r in requests_report(conn, "channel", msk(2026, 12, 1), msk(2027, 1, 1), now)}
    assert set(by_channel) == {"phone", "email", "web"}
    phone, email = by_channel["phone"], by_channel["email"]
    # phone: fault (resolved in time) + emergency (open, overdue) → 1 of 1 resolved on time = 100.0 %
    assert (phone.registered, phone.open, phone.resolved, phone.resolved_on_time, phone.overdue_open) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert phone.share_on_time == Decimal("100.0") and phone.average_rating == Decimal("5.00")
    assert (email.resolved, email.resolved_on_time, email.share_on_time) == (1, 0, Decimal("0.0"))
    assert by_channel["web"].share_on_time is None
    by_executor = {
        r.key: r.registered for r in requests_report(conn, "executor", msk(2026, 12, 1), msk(2027, 1, 1), now)
    }
    assert by_executor == {"Абонентский отдел": 2, "АДС": 1, "не назначен": 1}
    with pytest.raises(ValueError, match="report by one of"):
        requests_report(conn, "colour", msk(2026, 12, 1), msk(2027, 1, 1), now)
