"""Set-up for the claims tests: a building with debts written straight into the money tables, its court
district, and owners in the passport office's register."""

from __future__ import annotations

from datetime import date

import psycopg

from tests.billing.money_data import add_building, add_charge, add_period


def add_person(conn: psycopg.Connection, last: str, first: str, patronymic: str, birth: date) -> int:
    person_id = conn.execute(
        "INSERT INTO registry_persons (birth_date) VALUES (%s) RETURNING person_id", (birth,)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO registry_person_names (person_id, valid_from, last_name, first_name, patronymic)"
        " VALUES (%s, %s, %s, %s, %s)",
        (person_id, birth, last, first, patronymic),
    )
    return person_id


def add_owner(
    conn: psycopg.Connection, building: str, premise: str, person_id: int, share: tuple[int, int], since: date
) -> None:
    conn.execute(
        "INSERT INTO registry_owners (building_id, premise_no, person_id, share_numerator, share_denominator,"
        " acquired_on) VALUES (%s, %s, %s, %s, %s, %s)",
        (building, premise, person_id, share[0], share[1], since),
    )


def add_court(conn: psycopg.Connection, building: str) -> None:
    conn.execute(
        "INSERT INTO claims_court_districts (building_id, court_name, court_address, district)"
        " VALUES (%s, 'Мировой судья судебного участка № 5 Тестового района',"
        " 'г. Тест, ул. Судебная, 1', '5')",
        (building,),
    )


def debts_of_2025(conn: psycopg.Connection, building: str, accounts: dict[str, str]) -> None:
    """January–March 2025 closed: cold water 1 000.00 a month, hot water 500.00 in January; April 2025 (the
    current month) drafted with cold water 1 000.00."""
    add_building(conn, building, accounts)
    for period in ("2025-01", "2025-02", "2025-03"):
        add_period(conn, building, period, "closed")
        for account in accounts:
            add_charge(conn, building, period, account, "cold_water", "1000.00")
            if period == "2025-01":
                add_charge(conn, building, period, account, "hot_water", "500.00")
    add_period(conn, building, "2025-04", "draft")
    for account in accounts:
        add_charge(conn, building, "2025-04", account, "cold_water", "1000.00")
    add_court(conn, building)
