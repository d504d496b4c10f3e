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


def city_with_co_owners(c: psycopg.Connection) -> None:
    """Building CL, accounts X1–X4 with the debts of :func:`debts_of_2025`; X1's premise owned ½ and ½ by
    Петрова Анна Сергеевна and her son Петров Иван Олегович (born 2012, she is his representative); X3's
    owner only named on the account; X2 under an instalment agreement; the claimant set."""
    debts_of_2025(c, "CL", {"X1": "1", "X2": "2", "X3": "3", "X4": "4"})
    mother = add_person(c, "Петрова", "Анна", "Сергеевна", date(1985, 3, 1))
    son = add_person(c, "Петров", "Иван", "Олегович", date(2012, 5, 1))
    c.execute(
        "INSERT INTO registry_representatives (representative_id, represented_id, kind)"
        " VALUES (%s, %s, 'parent')",
        (mother, son),
    )
    add_owner(c, "CL", "1", mother, (1, 2), date(2015, 1, 1))
    add_owner(c, "CL", "1", son, (1, 2), date(2015, 1, 1))
    c.execute("UPDATE accounts SET owner_name = 'Сидоров Пётр Ильич', owners = 1 WHERE account_no = 'X3'")
    c.execute(
        "INSERT INTO claims_instalments (account_no, signed_on, ends_on, created_by)"
        " VALUES ('X2', '2025-04-01', '2025-12-31', 'lawyer1')"
    )
    c.execute(
        "INSERT INTO claims_claimant (name, inn, ogrn, address, bank_details, signatory) VALUES"
        " ('ООО «УК Тестовая»', '7701234567', '1027700000001', 'г. Тест, ул. Главная, 1',"
        " 'р/с 40702810900000000001 в ПАО «Банк», БИК 044525000', 'Директор Орлов К. В.')"
    )
    c.commit()
