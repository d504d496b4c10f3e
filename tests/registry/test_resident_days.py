"""Days-weighted resident counts from replayed events, against hand-computed person-days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.registry.events import EventKind as K
from meterhub.registry.events import RegistrationEvent as E
from meterhub.registry.events import ReplayError, ResidenceKind, ResidenceSpan, replay_events
from meterhub.registry.resident_days import AccountWindow, DayCount, counts_by_day

MARCH = (date(2026, 3, 1), date(2026, 4, 1))  # 31 days


def _arrival(event_id, kind, person, day, end=None, premise="1", account=None):
    return E(event_id, kind, person, day, "B1", premise, end, None, account)


def _dereg(event_id, arrival, person, day, premise="1", reason="departure"):
    return E(event_id, K.DEREGISTRATION, person, day, "B1", premise, None, arrival, reason=reason)


MARCH_EVENTS = [
    _arrival(1, K.RESIDENCE, 101, date(2026, 1, 10)),  # A: whole March
    _arrival(2, K.RESIDENCE, 102, date(2026, 3, 11)),  # B: 11..31
    _arrival(3, K.RESIDENCE, 103, date(2025, 5, 1)),  # C: departs 21 March
    _dereg(4, 3, 103, date(2026, 3, 21)),
    _arrival(5, K.STAY, 104, date(2026, 3, 5), date(2026, 3, 15)),  # D: stay 5..14
    _arrival(6, K.NOTICE, 105, date(2026, 3, 1), date(2026, 3, 4)),  # E: 3 days by notice: not counted
    _arrival(7, K.NOTICE, 106, date(2026, 3, 20)),  # F: by notice from 20 March, open
    _arrival(8, K.RESIDENCE, 107, date(2026, 3, 2)),  # G: registered by mistake …
    E(9, K.ANNULMENT, 107, date(2026, 3, 3), "B1", "1", None, 8),  # … annulled
]


def test_days_weighted_count_across_arrivals_and_departures() -> None:
    counts = counts_by_day(
        replay_events(MARCH_EVENTS), [AccountWindow("LS-1", "1", date(2020, 1, 1))], *MARCH
    )
    # A 31 + B 21 (11..31) + C 20 (1..20) + D 10 (5..14) + F 12 (20..31); E ≤ 5 days, G annulled
    assert counts.person_days("LS-1") == 31 + 21 + 20 + 10 + 12 == 94
    assert counts.weighted("LS-1") == D(94) / D(31)
    day = counts.by_account["LS-1"]
    assert (day[0].registered, day[0].temporary) == (2, 0)  # 1 March: A, C (E not counted)
    assert (day[4].registered, day[4].temporary) == (2, 1)  # 5 March: A, C + D
    assert (day[19].registered, day[19].temporary) == (3, 1)  # 20 March: A, B, C + F
    assert (day[20].registered, day[20].temporary) == (2, 1)  # 21 March: C left
    assert day[30].total == 3  # 31 March: A, B, F


def test_a_stay_ends_at_its_planned_end_or_an_earlier_departure_and_an_extension_moves_it() -> None:
    events = [
        _arrival(1, K.STAY, 201, date(2026, 2, 20), date(2026, 3, 10)),  # 1..9 March
        _arrival(2, K.STAY, 202, date(2026, 3, 1), date(2026, 6, 1)),
        _dereg(3, 2, 202, date(2026, 3, 8), reason="stay_ended"),  # 1..7 March
        _arrival(4, K.STAY, 203, date(2026, 3, 25), date(2026, 3, 28)),
        E(5, K.STAY_EXTENSION, 203, date(2026, 3, 27), "B1", "1", date(2026, 4, 15), 4),  # 25..31
    ]
    counts = counts_by_day(replay_events(events), [AccountWindow("LS-1", "1", date(2020, 1, 1))], *MARCH)
    assert counts.person_days("LS-1") == 9 + 7 + 7
    assert all(c.registered == 0 for c in counts.by_account["LS-1"])


def test_a_person_counts_once_a_day_and_goes_to_the_account_open_that_day() -> None:
    events = [
        _arrival(1, K.RESIDENCE, 301, date(2026, 1, 1), premise="2"),
        _arrival(2, K.NOTICE, 301, date(2026, 3, 1), premise="2"),  # the same person: counted once
        _arrival(3, K.RESIDENCE, 302, date(2026, 3, 1), premise="3", account="LS-3b"),
        _arrival(4, K.RESIDENCE, 303, date(2026, 3, 1), premise="3"),
    ]
    accounts = [
        AccountWindow("LS-2a", "2", date(2020, 1, 1), date(2026, 3, 16)),  # sold on 16 March
        AccountWindow("LS-2b", "2", date(2026, 3, 16)),
        AccountWindow("LS-3a", "3", date(2020, 1, 1), share=D("0.5")),  # a communal flat: two rooms
        AccountWindow("LS-3b", "3", date(2020, 1, 1), share=D("0.5")),
    ]
    counts = counts_by_day(replay_events(events), accounts, *MARCH)
    assert counts.person_days("LS-2a") == 15 and counts.person_days("LS-2b") == 16
    assert counts.by_account["LS-2a"][0].registered == 1 and counts.by_account["LS-2a"][0].temporary == 0
    # bound to LS-3b; the unbound person goes to the largest share, ties to the lower account number
    assert counts.person_days("LS-3b") == 31 and counts.person_days("LS-3a") == 31


def test_residents_of_a_premise_without_an_open_account_are_reported() -> None:
    events = [_arrival(1, K.RESIDENCE, 401, date(2026, 3, 30), premise="9")]
    counts = counts_by_day(replay_events(events), [], *MARCH)
    assert counts.unbilled == [("9", date(2026, 3, 30), 1), ("9", date(2026, 3, 31), 1)]


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([_dereg(1, 99, 1, date(2026, 3, 1))],
         r"Запись № 1 \(снятие с учёта\) ссылается на запись № 99, которая не является действующей"),
        ([_arrival(1, K.RESIDENCE, 1, date(2026, 3, 5)), _dereg(2, 1, 1, date(2026, 3, 5))],
         "Запись № 2: дата снятия с учёта 05.03.2026 не позже даты регистрации 05.03.2026; укажите дату"),
        ([_arrival(1, K.RESIDENCE, 1, date(2026, 3, 5)), _dereg(2, 1, 1, date(2026, 3, 6)),
          _dereg(3, 1, 1, date(2026, 3, 7))],
         r"Запись № 3: регистрация \(запись № 1\) уже прекращена записью № 2; повторно снять с учёта"),
        ([E(1, K.STAY, 1, date(2026, 3, 1), "B1", "1")],
         "Запись № 1: для регистрации по месту пребывания укажите дату окончания"),
    ],
)  # fmt: skip
def test_contradictory_histories_are_refused_with_the_event_named(events, message) -> None:
    with pytest.raises(ReplayError, match=message):
        replay_events(events)


def test_the_pure_part_imports_without_the_database_driver() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import meterhub.registry, meterhub.registry.events, meterhub.registry.resident_days\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@st.composite
def _premise_history(draw):
    """Spans of up to 6 persons in one premise whose account changes hands on a drawn day."""
    sold = date(2026, 3, 1) + timedelta(days=draw(st.integers(-5, 40)))
    accounts = [AccountWindow("A", "1", date(2020, 1, 1), sold), AccountWindow("B", "1", sold)]
    spans = []
    for i in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(list(ResidenceKind)))
        start = date(2026, 3, 1) + timedelta(days=draw(st.integers(-40, 35)))
        length = draw(st.one_of(st.none(), st.integers(1, 60)))
        end = None if length is None else start + timedelta(days=length)
        person = draw(st.integers(1, 4))  # persons may repeat: counted once a day
        pinned = draw(st.sampled_from([None, "A", "B"]))
        spans.append(ResidenceSpan(i + 1, person, "B1", "1", kind, start, end, pinned))
    return spans, accounts


@given(_premise_history())
def test_counts_equal_a_day_by_day_recount(history) -> None:
    """The counts (computed per run of equal days) equal a naive count of every single day."""
    spans, accounts = history
    counts = counts_by_day(spans, accounts, *MARCH)
    for i in range(31):
        day = MARCH[0] + timedelta(days=i)
        open_now = [a for a in accounts if a.opened_on <= day and (a.closed_on is None or day < a.closed_on)]
        expected: dict[str, dict[int, bool]] = {}
        for s in spans:
            notice = s.kind is ResidenceKind.NOTICE
            short_notice = notice and s.end is not None and (s.end - s.start).days <= 5
            if short_notice or not (s.start <= day and (s.end is None or day < s.end)):
                continue
            names = [a.account_no for a in open_now]
            account = s.account_no if s.account_no in names else min(names)
            persons = expected.setdefault(account, {})
            persons[s.person_id] = persons.get(s.person_id, False) or s.kind is ResidenceKind.RESIDENCE
        for account in ("A", "B"):
            got = counts.by_account.get(account, [DayCount()] * 31)[i]
            want = expected.get(account, {})
            assert (got.registered, got.temporary) == (
                sum(want.values()),
                sum(not r for r in want.values()),
            ), (day, account)
