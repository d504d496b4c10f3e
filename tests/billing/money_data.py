"""Helpers for the money tests: a tiny building written straight into the tables the close fills.

The money side reads ``charge_lines`` (and ``recalculation_lines``) and never the engine, so these tests
insert charge lines with hand-chosen amounts instead of running the close; the close hook itself is
tested with the real close in test_penalty_run.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg


def add_building(conn: psycopg.Connection, building: str, accounts: dict[str, str]) -> None:
    """A building with one premise per account (``{account_no: premise_no}``), Europe/Moscow."""
    conn.execute(
        "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method)"
        " VALUES (%s, %s, 'Europe/Moscow', 1000, 100, 'management_company')",
        (building, f"г. Тест, ул. {building}"),
    )
    for account_no, premise in accounts.items():
        conn.execute(
            "INSERT INTO premises (building_id, premise_no, area) VALUES (%s, %s, 50)", (building, premise)
        )
        conn.execute(
            "INSERT INTO accounts (account_no, building_id, premise_no, opened_on) VALUES (%s, %s, %s, %s)",
            (account_no, building, premise, date(2020, 1, 1)),
        )


def add_period(conn: psycopg.Connection, building: str, period: str, status: str = "closed") -> None:
    conn.execute(
        "INSERT INTO billing_periods (building_id, period, status, computed_at, closed_at) "
        "VALUES (%s, %s, %s, now(), CASE WHEN %s = 'closed' THEN now() END) "
        "ON CONFLICT (building_id, period) DO UPDATE SET status = EXCLUDED.status, "
        "closed_at = EXCLUDED.closed_at",
        (building, period, status, status),
    )


def add_charge(
    conn: psycopg.Connection,
    building: str,
    period: str,
    account_no: str,
    service: str,
    amount: str,
    *,
    method: str = "meter",
    volume: str = "1",
    tariff: str | None = None,
    kind: str = "individual",
) -> None:
    """One charge line of ``amount`` ₽ (the rest of the columns filled consistently)."""
    year, month = (int(x) for x in period.split("-"))
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    conn.execute(
        "INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start,"
        " part_end, volume, unit, tariff, coefficient, method, formula, amount_exact, amount,"
        " amount_without_coefficient, excess)"
        " VALUES (%s, %s, %s, %s, %s, 'single', %s, %s, %s, 'u', %s, 1, %s, 'test', %s, %s, NULL, 0)",
        (
            building,
            period,
            account_no,
            service,
            kind,
            start,
            end,
            Decimal(volume),
            Decimal(tariff) if tariff else Decimal(amount),
            method,
            Decimal(amount),
            Decimal(amount),
        ),
    )
