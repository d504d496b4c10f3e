"""A confirmed act of undersupply becomes the interruption record the close recalculates; the expected
reductions are hand-computed from ПП 354 Приложение 1 (0.15 % of the month's charge per hour over the
permitted 8 h of cold water)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from meterhub.billing.close.service_recalculations import run_service_recalculations
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.servicedesk.acts_store import ActDraft, cancel_act, confirm_act, draw_up_act
from meterhub.servicedesk.requests_store import NewRequest, RequestError, register_request
from tests.billing.money_data import add_building, add_charge, add_period

pytestmark = pytest.mark.db
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 11, 25, 12, tzinfo=MSK)


def _recalc(conn) -> dict[tuple[str, str, str], int]:
    lines = run_service_recalculations(conn, "AB", BillingPeriod(2025, 11))
    conn.commit()
    return {(r.account_no, r.service, r.reason_kind): r.amount_kopecks for r in lines}


def test_confirmed_act_changes_the_close_recalculation(db_url: str, conn) -> None:
    add_building(conn, "AB", {"A1": "1", "A2": "2"})
    add_period(conn, "AB", "2025-11", "draft")
    add_charge(conn, "AB", "2025-11", "A1", "cold_water", "1000.00")
    add_charge(conn, "AB", "2025-11", "A2", "cold_water", "600.00")
    add_charge(conn, "AB", "2025-11", "A2", "hot_water", "800.00")
    conn.commit()
    assert _recalc(conn) == {}

    # Flat 1 phones: no cold water since 20 Nov 08:00; the act for the premise ends 21 Nov 02:30.
    request = register_request(
        conn,
        NewRequest("phone", "undersupply", "нет холодной воды", account_no="A1", applicant="Иванов"),
        datetime(2025, 11, 20, 8, tzinfo=MSK),
    )
    act_id, act_no = draw_up_act(
        conn,
        ActDraft(
            "AB",
            "1",
            "cold_water",
            "interruption",
            datetime(2025, 11, 20, 8, tzinfo=MSK),
            findings="отсутствует ХВС в кв. 1",
            request_id=request,
        ),
    )
    assert act_no == "А-2025-00001"
    conn.commit()
    assert _recalc(conn) == {}, "a draft act is not yet an interruption"
    with pytest.raises(RequestError, match="not restored"):
        confirm_act(conn, act_id, NOW)
    conn.rollback()

    confirm_act(conn, act_id, NOW, ended_at=datetime(2025, 11, 21, 2, 30, tzinfo=MSK))
    # A building-wide poor-quality hot water act of 3 h 15 min (every hour counts: no allowance).
    hw_id, _ = draw_up_act(
        conn,
        ActDraft(
            "AB",
            None,
            "hot_water",
            "poor_quality",
            datetime(2025, 11, 22, 10, tzinfo=MSK),
            datetime(2025, 11, 22, 13, 15, tzinfo=MSK),
            "температура ГВС 42 °C",
        ),
    )
    confirm_act(conn, hw_id, NOW)
    conn.commit()
    assert _recalc(conn) == {
        # 08:00 → 02:30 next day = 18.5 h; over the permitted 8 h: 10.5 h;
        # 1000.00 × 0.15 % × 10.5 = 15.75 ₽
        ("A1", "cold_water", "interruption"): -1575,
        # 13:15 − 10:00 = 3.25 h; 800.00 × 0.15 % × 3.25 = 3.90 ₽ (flat 2 has hot water; flat 1 does not)
        ("A2", "hot_water", "poor_quality"): -390,
    }
    events = conn.execute("SELECT kind FROM sd_request_events WHERE request_id = %s ORDER BY id", (request,))
    assert [k for (k,) in events] == ["registered", "comment", "act"]

    cancel_act(conn, act_id)
    conn.commit()
    assert _recalc(conn) == {("A2", "hot_water", "poor_quality"): -390}
    assert conn.execute("SELECT status FROM sd_acts WHERE act_id = %s", (act_id,)).fetchone() == (
        "cancelled",
    )
