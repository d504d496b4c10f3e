"""Deadlines in working and calendar hours, routing and escalation (pure): expected instants counted by
hand on the calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.servicedesk import (
    DeadlineState,
    HoursKind,
    Route,
    RoutingError,
    WorkCalendar,
    add_hours,
    deadline_state,
    escalation_level,
    route_request,
)

MSK = ZoneInfo("Europe/Moscow")
WEEK = {d: (time(9), time(18)) for d in range(1, 6)}
CAL = WorkCalendar(week=WEEK, holidays=frozenset({date(2026, 11, 4)}), zone=MSK)
W, C = HoursKind.WORKING, HoursKind.CALENDAR


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


def test_working_hours_skip_the_night_and_the_weekend() -> None:
    # Fri 4 Dec 17:00 + 24 working h: Fri 17–18 (1), Mon 9 h (10), Tue 9 h (19), Wed 9:00 + 5 h → 14:00.
    assert add_hours(msk(2026, 12, 4, 17), Decimal(24), W, CAL) == msk(2026, 12, 9, 14)


def test_working_hours_skip_a_holiday() -> None:
    # Tue 3 Nov 16:00 + 8 h: 16–18 (2); 4 Nov is a holiday; Thu 5 Nov 9:00 + 6 h → 15:00.
    assert add_hours(msk(2026, 11, 3, 16), Decimal(8), W, CAL) == msk(2026, 11, 5, 15)


def test_a_weekend_made_working_counts() -> None:
    cal = WorkCalendar(week=WEEK, workdays=frozenset({date(2026, 12, 5)}), zone=MSK)
    # Fri 17:00 + 3 h: Fri 17–18 (1), Saturday 5 Dec is a working day: 9:00 + 2 h → 11:00.
    assert add_hours(msk(2026, 12, 4, 17), Decimal(3), W, cal) == msk(2026, 12, 5, 11)


def test_outside_working_time_the_clock_starts_at_opening() -> None:
    # Sunday 6 Dec 10:00 + 1 h → Monday 7 Dec 10:00; a window ending at closing stays on that day.
    assert add_hours(msk(2026, 12, 6, 10), Decimal(1), W, CAL) == msk(2026, 12, 7, 10)
    assert add_hours(msk(2026, 12, 7, 9), Decimal(9), W, CAL) == msk(2026, 12, 7, 18)


def test_calendar_hours_run_round_the_clock() -> None:
    # The emergency service: 30 minutes from registration at 23:50 Saturday (ПП 416 п. 13).
    assert add_hours(msk(2026, 12, 5, 23, 50), Decimal("0.5"), C, CAL) == msk(2026, 12, 6, 0, 20)


def test_naive_times_and_calendars_without_work_are_refused() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        add_hours(datetime(2026, 12, 4, 17), Decimal(1), W, CAL)
    with pytest.raises(ValueError, match="no working time"):
        add_hours(msk(2026, 12, 4, 17), Decimal(1), W, WorkCalendar(week={}, zone=MSK))


_starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=MSK)
)


@settings(deadline=None)
@given(_starts, st.integers(1, 4 * 200), st.integers(1, 4 * 200))
def test_working_deadlines_add_up_and_fall_in_working_time(start: datetime, a: int, b: int) -> None:
    ha, hb = Decimal(a) / 4, Decimal(b) / 4  # quarter hours
    first = add_hours(start, ha, W, CAL)
    assert add_hours(first, hb, W, CAL) == add_hours(start, ha + hb, W, CAL)
    local = first.astimezone(MSK)
    window = CAL.hours_of(local.date())
    assert window is not None and window[0] < local.time() <= window[1]
    # Never earlier than the same number of calendar hours.
    assert first >= start + timedelta(minutes=15 * a)


def test_deadline_states() -> None:
    reg, due = msk(2026, 12, 7, 9), msk(2026, 12, 7, 17)  # an 8-hour window; at risk in its last 2 h
    assert deadline_state(reg, due, msk(2026, 12, 7, 14, 59)) is DeadlineState.ON_TIME
    assert deadline_state(reg, due, msk(2026, 12, 7, 15, 1)) is DeadlineState.AT_RISK
    assert deadline_state(reg, due, msk(2026, 12, 7, 17, 1)) is DeadlineState.OVERDUE
    assert deadline_state(reg, due, msk(2026, 12, 8), done_at=msk(2026, 12, 7, 16)) is DeadlineState.ON_TIME
    assert deadline_state(reg, due, msk(2026, 12, 8), done_at=msk(2026, 12, 7, 18)) is DeadlineState.OVERDUE


def test_routing_prefers_the_buildings_own_route() -> None:
    routes = [Route("fault", None, 1), Route("fault", "B2", 2), Route("emergency", None, 3)]
    assert route_request("fault", "B1", routes) == 1
    assert route_request("fault", "B2", routes) == 2
    assert route_request("emergency", "B2", routes) == 3
    with pytest.raises(RoutingError, match="sd_routes"):
        route_request("billing_claim", "B1", routes)


def test_escalation_levels() -> None:
    resp, res = msk(2026, 12, 7, 10), msk(2026, 12, 9, 10)
    assert escalation_level(resp, res, msk(2026, 12, 7, 9), responded=False) == 0
    assert escalation_level(resp, res, msk(2026, 12, 7, 11), responded=False) == 1
    assert escalation_level(resp, res, msk(2026, 12, 7, 11), responded=True) == 0
    assert escalation_level(resp, res, msk(2026, 12, 9, 11), responded=True) == 2


def test_the_pure_modules_need_no_database_driver() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['psycopg'] = None; "
        "import meterhub.servicedesk.deadlines, meterhub.servicedesk.routing"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
