"""The close's resident counts come from the register where the building keeps it (days from kept_from),
from the counts import otherwise; the stored history replays and refuses contradictions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import psycopg
import pytest

from meterhub.billing.close.repository import residents_in_period, residents_on
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context
from meterhub.registry.events import EventKind, ReplayError
from meterhub.registry.events_store import (
    Basis,
    NewArrival,
    premise_household,
    record_annulment,
    record_arrival,
    record_deregistration,
)
from meterhub.registry.persons_store import PersonName, create_person
from tests.registry.world import CLERK, add_building

pytestmark = pytest.mark.db
MARCH = BillingPeriod(2026, 3)


def _n(person_days: int) -> D:
    """person-days / 31 days of March, in the engine's precision [persons]."""
    with engine_context():
        return D(person_days) / 31


def _person(conn, last: str, first: str = "Иван") -> int:
    return create_person(conn, CLERK, PersonName(last, first, "Петрович"), birth_date=date(1980, 1, 1))


@pytest.fixture(scope="module")
def world(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_building(conn)
        conn.execute(
            "INSERT INTO resident_counts (account_no, valid_from, registered) VALUES "
            "('B1-LS-1', '2026-01-01', 2), ('B1-LS-3', '2026-01-01', 4)"
        )
        p = {name: _person(conn, name) for name in ("Антонов", "Борисов", "Воронов", "Дмитриев", "Егоров")}
        arrive = lambda who, kind, day, premise="1", end=None: record_arrival(  # noqa: E731
            conn, CLERK, NewArrival(p[who], "B1", premise, kind, day, end, relation_to_head="сын")
        )
        arrive("Антонов", EventKind.RESIDENCE, date(2026, 1, 10))
        arrive("Борисов", EventKind.RESIDENCE, date(2026, 3, 11))
        c = arrive("Воронов", EventKind.RESIDENCE, date(2025, 5, 1))
        record_deregistration(conn, CLERK, c, date(2026, 3, 21), "departure", moved_to="г. Москва",
                              basis=Basis("заявление", "17", date(2026, 3, 20)))  # fmt: skip
        arrive("Дмитриев", EventKind.STAY, date(2026, 3, 5), end=date(2026, 3, 15))
        wrong = arrive("Егоров", EventKind.RESIDENCE, date(2026, 3, 2))
        record_annulment(conn, CLERK, wrong, date(2026, 3, 3), "не тот человек")
        arrive("Егоров", EventKind.RESIDENCE, date(2026, 1, 1), premise="2")
        return p


def test_without_the_register_the_counts_import_is_used(conn, world) -> None:
    got = residents_in_period(conn, "B1", MARCH)
    assert got["B1-LS-1"] == 2 and got["B1-LS-3"] == 4


def test_the_register_counts_from_kept_from_and_the_import_before(conn, world) -> None:
    conn.execute("INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2026-03-11')")
    got = residents_in_period(conn, "B1", MARCH)
    # LS-1: import 2 persons × 10 days (1..10); register 11..31: Антонов 21, Борисов 21, Воронов 10 (11..20),
    # Дмитриев 4 (11..14); Егоров's registration was annulled
    assert got["B1-LS-1"] == _n(2 * 10 + 21 + 21 + 10 + 4)
    # LS-3: the import's 4 persons only until 10 March; nobody in the register
    assert got["B1-LS-3"] == _n(4 * 10)
    # premise 2: Егоров 11..15 on LS-2a (closed 16 March), 16..31 on LS-2b
    assert got["B1-LS-2a"] == _n(5) and got["B1-LS-2b"] == _n(16)
    assert residents_on(conn, "B1", date(2026, 3, 12)) == {"B1-LS-1": 4, "B1-LS-2a": 1, "B1-LS-3": 0}
    conn.rollback()


def test_a_register_kept_from_before_the_period_replaces_the_import(conn, world) -> None:
    conn.execute("INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2026-01-01')")
    got = residents_in_period(conn, "B1", MARCH)
    assert got["B1-LS-1"] == _n(31 + 21 + 20 + 10)
    assert got.get("B1-LS-3", 0) == 0
    conn.rollback()


def test_contradicting_events_are_refused_and_history_is_append_only(conn, world) -> None:
    arrival = conn.execute(
        "SELECT event_id FROM registry_events WHERE person_id = %s AND kind = 'residence'",
        (world["Воронов"],),
    ).fetchone()[0]
    with pytest.raises(ReplayError, match="уже прекращена записью"):
        record_deregistration(conn, CLERK, arrival, date(2026, 4, 1), "departure")
    with pytest.raises(ReplayError, match=r"уже зарегистрирован в квартире 1 .*; сначала снимите его"):
        record_arrival(
            conn, CLERK, NewArrival(world["Антонов"], "B1", "1", EventKind.RESIDENCE, date(2026, 4, 1))
        )
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("DELETE FROM registry_events WHERE event_id = %s", (arrival,))
    conn.rollback()


def test_the_premise_history_keeps_former_residents(conn, world) -> None:
    members = premise_household(conn, "B1", "1")
    names = [m.full_name.split()[0] for m in members]
    assert names == ["Воронов", "Антонов", "Дмитриев", "Борисов"]  # the annulled registration is gone
    former = members[0]
    assert former.span.end == date(2026, 3, 21) and former.moved_to == "г. Москва"


def test_a_register_change_marks_the_building_for_the_recalculation_check(conn, world) -> None:
    before = conn.execute("SELECT count(*) FROM billing_input_changes WHERE building_id = 'B1'").fetchone()[0]
    record_arrival(conn, CLERK, NewArrival(world["Егоров"], "B1", "3", EventKind.NOTICE, date(2026, 2, 1)))
    after = conn.execute("SELECT count(*) FROM billing_input_changes WHERE building_id = 'B1'").fetchone()[0]
    assert after == before + 1


def test_residents_of_a_premise_without_an_open_account_are_logged_not_billed(conn, world, caplog) -> None:
    conn.execute("INSERT INTO premises (building_id, premise_no, area) VALUES ('B1', '4', 30)")
    conn.execute("INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2026-01-01')")
    record_arrival(conn, CLERK, NewArrival(world["Егоров"], "B1", "4", EventKind.NOTICE, date(2026, 3, 30)))
    with caplog.at_level("WARNING", logger="meterhub.registry.counts_store"):
        got = residents_in_period(conn, "B1", MARCH)
    assert "premises 4 on 2 premise-day(s)" in caplog.text and "not billed" in caplog.text
    assert set(got) == {"B1-LS-1", "B1-LS-2a", "B1-LS-2b", "B1-LS-3"}  # premise 4 has no account to bill
    conn.rollback()
