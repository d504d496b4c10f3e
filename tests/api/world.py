"""The world of the API tests: the small building B1 of tests/billing/close_data.py with January 2026
closed, plus building B2 with one account, and one user per role.

- alice (resident) is linked to LS-1 (B1); bob (resident) to LS-2 (B1, same building) and
  carol (resident) to LS-9 (B2). Alice is the usual caller; LS-2, LS-9, B2 and their meters,
  requests and receipts are what she must never see.
- eng (engineer) is assigned B1 only; acc (accountant); root (admin).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import psycopg

from meterhub.api.roles import Role
from meterhub.api.sessions import issue_bearer
from meterhub.api.users_store import assign_buildings, create_user, link_account
from meterhub.billing.close.period import close_building
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.close_data import load_small_building

PASSWORD = "correct-horse-battery"
# The smallest valid PNG (1×1 transparent pixel).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
JAN = BillingPeriod(2026, 1)


@dataclass
class World:
    url: str
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)  # who filed it → request id

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def add_building_b2(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method) "
        "VALUES ('B2', 'г. Омск, ул. Мира, д. 2', 'Asia/Omsk', 100, 10, 'hoa')"
    )
    conn.execute("INSERT INTO premises (building_id, premise_no, area) VALUES ('B2', '9', 45)")
    conn.execute(
        "INSERT INTO accounts (account_no, building_id, premise_no, owner_name, opened_on) "
        "VALUES ('LS-9', 'B2', '9', 'Кузнецова К. К.', '2020-01-01')"
    )
    conn.execute(
        "INSERT INTO meters (meter_id, kind, manufacturer, serial, building_id, verification_due) "
        "VALUES ('E-9', 'electricity', 'EAP', '9', 'B2', '2031-01-01')"
    )
    conn.execute(
        "INSERT INTO meter_registers (meter_id, register, unit, cumulative) "
        "VALUES ('E-9', 'energy_import_kwh', 'kWh', true)"
    )
    conn.execute(
        "INSERT INTO meter_links (meter_id, valid_from, building_id, premise_no, service) "
        "VALUES ('E-9', '2020-01-01', 'B2', '9', 'electricity')"
    )
    conn.execute(
        "INSERT INTO gateways (gateway_id, building_id, state, status_ts, last_seen) "
        "VALUES ('gw-b2', 'B2', 'online', now(), now()), ('gw-b1', 'B1', 'offline', now(), now())"
    )


def add_payments(conn: psycopg.Connection) -> None:
    """LS-1 paid 1000.00 on 2026-02-05 for January's maintenance; LS-2 paid 4788.00 (its whole January)."""
    for account, pid, kopecks, service in (
        ("LS-1", "PAY-ALICE-1", 100000, "maintenance"),
        ("LS-2", "PAY-BOB-SECRET", 478800, "maintenance"),
    ):
        (pk,) = conn.execute(
            "INSERT INTO payments (source, payment_id, account_no, amount_kopecks, paid_on, period_named, "
            "purpose) VALUES ('sber', %s, %s, %s, '2026-02-05', '2026-01', 'оплата ЖКУ') "
            "RETURNING payment_pk",
            (pid, account, kopecks),
        ).fetchone()
        conn.execute(
            "INSERT INTO payment_allocations (payment_pk, account_no, booked_period, paid_on, debt_period, "
            "service, kind, amount_kopecks, rule) "
            "VALUES (%s, %s, '2026-02', '2026-02-05', '2026-01', %s, 'principal', %s, 'named_period')",
            (pk, account, service, kopecks),
        )


def add_payee(conn: psycopg.Connection) -> None:
    """The management company and its bank requisites printed on every receipt."""
    conn.execute(
        "INSERT INTO receipt_payees (applies_to, name, inn, kpp, address, bank_name, bic, "
        "settlement_account, "
        "correspondent_account) VALUES ('*', 'ООО «УК Ленинская»', '5501234567', '550101001', "
        "'г. Омск, ул. Ленина, д. 1', 'ПАО СБЕРБАНК', '044525225', '40702810900000000001', "
        "'30101810400000000225')"
    )


def build_world(url: str) -> World:
    from meterhub.timeseries.database import connect

    world = World(url)
    with connect(url) as conn:
        load_small_building(conn)
        add_building_b2(conn)
        add_payee(conn)
        conn.commit()
        close_building(conn, "B1", JAN)
        add_payments(conn)
        conn.commit()
    with connect(url, autocommit=True) as conn:
        for name, role in (
            ("alice", Role.RESIDENT),
            ("bob", Role.RESIDENT),
            ("carol", Role.RESIDENT),
            ("dave", Role.RESIDENT),
            ("eng", Role.ENGINEER),
            ("acc", Role.ACCOUNTANT),
            ("root", Role.ADMIN),
            ("clerk", Role.PASSPORT_OFFICE),
            ("oper", Role.OPERATOR),
            ("subco", Role.CONTRACTOR),
            ("lawyer1", Role.LAWYER),
        ):
            world.users[name] = create_user(conn, name, PASSWORD, role).id
        link_account(conn, world.users["alice"], "LS-1", "admin")
        link_account(conn, world.users["bob"], "LS-2", "admin")
        link_account(conn, world.users["carol"], "LS-9", "admin")
        assign_buildings(conn, world.users["eng"], ["B1"])
        for name, uid in world.users.items():
            world.tokens[name] = issue_bearer(conn, uid, timedelta(days=1), "tests").token
        for name, account, text in (
            ("alice", "LS-1", "Течёт кран на кухне"),
            ("bob", "LS-2", "BOB-SECRET-TEXT"),
            ("carol", "LS-9", "CAROL-SECRET-TEXT"),
        ):
            (rid,) = conn.execute(
                "INSERT INTO api_requests (account_no, category, text, created_by) "
                "VALUES (%s, 'plumbing', %s, %s) RETURNING request_id",
                (account, text, world.users[name]),
            ).fetchone()
            conn.execute(
                "INSERT INTO api_request_history (request_id, status, changed_by) VALUES (%s, 'new', %s)",
                (rid, world.users[name]),
            )
            conn.execute(
                "INSERT INTO api_request_photos (request_id, content_type, size_bytes, sha256, data) "
                "VALUES (%s, 'image/png', %s, 'x', %s)",
                (rid, len(PNG), PNG),
            )
            world.requests[name] = rid
    return world
