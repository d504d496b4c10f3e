"""A small building for the register's database tests: B1 with premises 1–3 and their accounts."""

from __future__ import annotations

import psycopg

from meterhub.registry.audit import Actor

CLERK = Actor("clerk", "passport_office")


def add_building(conn: psycopg.Connection, building_id: str = "B1") -> None:
    conn.execute(
        "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method) "
        "VALUES (%s, 'г. Тверь, ул. Советская, д. 5', 'Europe/Moscow', 300, 30, 'management_company')",
        (building_id,),
    )
    for premise, area in (("1", 54.2), ("2", 40), ("3", 70)):
        conn.execute(
            "INSERT INTO premises (building_id, premise_no, area) VALUES (%s, %s, %s)",
            (building_id, premise, area),
        )
    for account, premise, opened, closed, owner in (
        (f"{building_id}-LS-1", "1", "2015-01-01", None, "Иванов Иван Петрович"),
        (f"{building_id}-LS-2a", "2", "2015-01-01", "2026-03-16", "Смирнова Анна"),
        (f"{building_id}-LS-2b", "2", "2026-03-16", None, "Орлов Олег"),
        (f"{building_id}-LS-3", "3", "2015-01-01", None, "Кузнецов Пётр"),
    ):
        conn.execute(
            "INSERT INTO accounts (account_no, building_id, premise_no, owner_name, opened_on, closed_on) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (account, building_id, premise, owner, opened, closed),
        )
