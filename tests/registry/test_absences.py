"""Temporary absence from the register: a resident registered at the place of stay in another premise is
absent from his own over the stay, where the building takes absences from its register; the billing's
recalculation then reduces the normative charge by the full days (hand-computed, billing-rules R-1)."""

from __future__ import annotations

from datetime import date

import pytest

from meterhub.billing.close.service_recalculations import run_service_recalculations
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.registry.absences import absences_elsewhere
from meterhub.registry.events import ResidenceKind, ResidenceSpan
from meterhub.registry.resident_days import AccountWindow
from tests.billing.money_data import add_building, add_charge, add_period

RES, STAY = ResidenceKind.RESIDENCE, ResidenceKind.STAY


def _span(
    i: int, person: int, premise: str, kind: ResidenceKind, start: date, end: date | None, b: str = "AB"
):
    return ResidenceSpan(i, person, b, premise, kind, start, end)


def test_a_stay_elsewhere_is_an_absence_from_home() -> None:
    accounts = [AccountWindow("A1", "1", date(2010, 1, 1)), AccountWindow("A2", "2", date(2010, 1, 1))]
    home = [
        _span(1, 7, "1", RES, date(2020, 1, 1), None),
        _span(2, 8, "1", RES, date(2020, 1, 1), date(2025, 11, 10)),  # left home on 10.11
        _span(3, 9, "2", STAY, date(2025, 11, 1), date(2025, 12, 1)),  # only a stay here: not "home"
    ]
    stays = [
        _span(10, 7, "5", STAY, date(2025, 11, 5), date(2025, 11, 18), b="ZZ"),  # another building
        _span(11, 8, "2", STAY, date(2025, 11, 3), date(2025, 11, 20)),  # same building, other premise
        _span(12, 7, "1", STAY, date(2025, 10, 1), date(2025, 10, 5)),  # the same premise: not an absence
        _span(13, 7, "3", STAY, date(2025, 12, 1), date(2025, 12, 9)),  # after the period
    ]
    found = absences_elsewhere(home, stays, accounts, date(2025, 11, 1), date(2025, 12, 1))
    assert [(a.account_no, a.person_id, a.departed_on, a.returned_on, a.stay_building) for a in found] == [
        ("A1", 8, date(2025, 11, 3), date(2025, 11, 10), "AB"),  # clipped to his home registration
        ("A1", 7, date(2025, 11, 5), date(2025, 11, 18), "ZZ"),
    ]
    assert found[1].document == (
        "регистрация по месту пребывания: дом ZZ, кв. 5, с 05.11.2025 по 18.11.2025 (регистрационный учёт)"
    )


def _world(conn, takes: bool) -> None:
    add_building(conn, "AB", {"A1": "1", "A2": "2"})
    add_period(conn, "AB", "2025-11", "draft")
    conn.execute(
        "UPDATE premises SET meter_install_possible = false WHERE building_id = 'AB' AND premise_no = '1'"
    )
    # A1: cold water by normative, 1 person: 4.86 m³ × 52.17 ₽ = 253.5462 ₽ (billing-rules R-1)
    add_charge(conn, "AB", "2025-11", "A1", "cold_water", "253.55", method="normative")
    conn.execute("UPDATE charge_lines SET amount_exact = 253.5462 WHERE account_no = 'A1'")
    conn.execute(
        "INSERT INTO period_volumes (building_id, period, account_no, service, zone, volume, method, formula,"
        " persons, normative, coefficient) VALUES ('AB', '2025-11', 'A1', 'cold_water', 'single', 4.86,"
        " 'normative', 'formula 4', 1, 4.86, 1)"
    )
    conn.execute(
        "INSERT INTO registry_buildings (building_id, kept_from, absences_from_register)"
        " VALUES ('AB', %s, %s)",
        (date(2025, 1, 1), takes),
    )
    person = conn.execute("INSERT INTO registry_persons DEFAULT VALUES RETURNING person_id").fetchone()[0]
    conn.execute(
        "INSERT INTO registry_person_names VALUES (%s, '1980-01-01', 'Отъездов', 'Олег', '', '')", (person,)
    )
    conn.execute(
        "INSERT INTO registry_events (kind, person_id, building_id, premise_no, event_date, recorded_by)"
        " VALUES ('residence', %s, 'AB', '1', '2020-01-01', 'test')",
        (person,),
    )
    # registered at the place of stay in flat 2 from 05.11 until 18.11 (the end is the first day not there)
    conn.execute(
        "INSERT INTO registry_events"
        " (kind, person_id, building_id, premise_no, event_date, end_date, recorded_by)"
        " VALUES ('stay', %s, 'AB', '2', '2025-11-05', '2025-11-18', 'test')",
        (person,),
    )


def _absence_lines(conn) -> dict[tuple[str, str], int]:
    lines = run_service_recalculations(conn, "AB", BillingPeriod(2025, 11))
    return {(r.account_no, r.service): r.amount_kopecks for r in lines if r.reason_kind == "absence"}


@pytest.mark.db
def test_the_recalculation_takes_the_absence_from_the_register(conn) -> None:
    _world(conn, takes=True)
    # left (registered elsewhere) on 05.11, back on 18.11 → full days 6..17 = 12:
    # 253.5462 × 12 / 30 = 101.41848 → −101.42 ₽
    assert _absence_lines(conn) == {("A1", "cold_water"): -10142}
    # the resident's own application for the same days stands alone: not taken out twice
    conn.execute(
        "INSERT INTO absence_periods (account_no, departed_on, returned_on, document)"
        " VALUES ('A1', '2025-11-05', '2025-11-18', 'заявление')"
    )
    assert _absence_lines(conn) == {("A1", "cold_water"): -10142}
    conn.rollback()


@pytest.mark.db
def test_a_building_that_does_not_take_them_has_none(conn) -> None:
    _world(conn, takes=False)
    assert _absence_lines(conn) == {}
    conn.rollback()
