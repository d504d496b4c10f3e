"""Read queries behind the account endpoints: what an account is, its services and its charge lines.

Reads only; amounts and methods come from the tables the billing close wrote (``charge_lines``,
``recalculation_lines``), balances and payments from :mod:`meterhub.billing.money.ledger`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from meterhub.registry.counts_store import register_counts_on

__all__ = [
    "AccountRow",
    "account_row",
    "account_services",
    "charge_lines",
    "charged_periods",
    "latest_charged_period",
    "list_accounts",
    "recalculation_lines",
]


@dataclass(frozen=True)
class AccountRow:
    account_no: str
    building_id: str
    address: str
    time_zone: str
    premise_no: str
    area: Decimal
    share: Decimal
    owner_name: str
    opened_on: date
    closed_on: date | None
    registered: int
    temporary: int


_ACCOUNT = """
SELECT a.account_no, a.building_id, b.address, b.time_zone, a.premise_no, p.area, a.share, a.owner_name,
       a.opened_on, a.closed_on,
       COALESCE(r.registered, 0) AS registered, COALESCE(r.temporary, 0) AS temporary
  FROM accounts a
  JOIN buildings b USING (building_id)
  JOIN premises p ON p.building_id = a.building_id AND p.premise_no = a.premise_no
  LEFT JOIN LATERAL (
      SELECT registered, temporary FROM resident_counts rc
       WHERE rc.account_no = a.account_no AND rc.valid_from <= CURRENT_DATE
         AND (rc.valid_to IS NULL OR rc.valid_to > CURRENT_DATE)
       ORDER BY rc.valid_from DESC LIMIT 1
  ) r ON true
"""


def _with_register(conn: psycopg.Connection, rows: list[AccountRow]) -> list[AccountRow]:
    """Today's registered/temporary from the register where the building keeps it (meterhub.registry)."""
    today = date.today()
    out = []
    counts: dict[str, dict | None] = {}
    for row in rows:
        if row.building_id not in counts:
            counts[row.building_id] = register_counts_on(conn, row.building_id, today)
        register = counts[row.building_id]
        if register is not None:
            count = register.get(row.account_no)
            registered, temporary = (count.registered, count.temporary) if count else (0, 0)
            row = replace(row, registered=registered, temporary=temporary)
        out.append(row)
    return out


def account_row(conn: psycopg.Connection, account_no: str) -> AccountRow | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_ACCOUNT + " WHERE a.account_no = %s", (account_no,)).fetchone()
    return _with_register(conn, [AccountRow(**row)])[0] if row else None


def list_accounts(
    conn: psycopg.Connection,
    *,
    account_nos: list[str] | None = None,
    building_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AccountRow]:
    """Accounts ordered by building and number; ``account_nos`` restricts to those (residents)."""
    where, params = [], []
    if account_nos is not None:
        where.append("a.account_no = ANY(%s)")
        params.append(account_nos)
    if building_id is not None:
        where.append("a.building_id = %s")
        params.append(building_id)
    sql = _ACCOUNT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY a.building_id, a.account_no LIMIT %s OFFSET %s"
    with conn.cursor(row_factory=dict_row) as cur:
        rows = [AccountRow(**r) for r in cur.execute(sql, (*params, limit, offset)).fetchall()]
    return _with_register(conn, rows)


def account_services(conn: psycopg.Connection, account_no: str) -> list[dict[str, Any]]:
    """Services the account's building bills, with unit, Russian name and the meters serving the premise."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT bs.service, s.name_ru, s.unit, bs.common_property_method,
                   COALESCE(array_agg(ml.meter_id ORDER BY ml.meter_id)
                            FILTER (WHERE ml.meter_id IS NOT NULL), '{}') AS meter_ids
              FROM accounts a
              JOIN building_services bs ON bs.building_id = a.building_id
              JOIN services s ON s.service = bs.service
              LEFT JOIN meter_links ml ON ml.building_id = a.building_id AND ml.premise_no = a.premise_no
                   AND ml.service = bs.service AND ml.valid_from <= CURRENT_DATE
                   AND (ml.valid_to IS NULL OR ml.valid_to > CURRENT_DATE)
             WHERE a.account_no = %s
             GROUP BY bs.service, s.name_ru, s.unit, bs.common_property_method
             ORDER BY bs.service
            """,
            (account_no,),
        ).fetchall()


def charged_periods(conn: psycopg.Connection, account_no: str) -> list[tuple[str, str]]:
    """(period, status draft/closed) of every period with charge lines for the account, newest first."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            """
            SELECT DISTINCT c.period, bp.status FROM charge_lines c
              JOIN billing_periods bp ON bp.building_id = c.building_id AND bp.period = c.period
             WHERE c.account_no = %s ORDER BY c.period DESC
            """,
            (account_no,),
        ).fetchall()
    ]


def latest_charged_period(conn: psycopg.Connection, account_no: str) -> tuple[str, str] | None:
    periods = charged_periods(conn, account_no)
    return periods[0] if periods else None


def charge_lines(conn: psycopg.Connection, account_no: str, period: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT c.service, s.name_ru, c.kind, c.zone, c.part_start, c.part_end, c.volume, c.unit,
                   c.tariff, c.coefficient, c.method, c.formula, c.amount, c.amount_without_coefficient,
                   c.excess, c.note
              FROM charge_lines c JOIN services s USING (service)
             WHERE c.account_no = %s AND c.period = %s
             ORDER BY c.service, c.kind DESC, c.zone, c.part_start
            """,
            (account_no, period),
        ).fetchall()


def recalculation_lines(conn: psycopg.Connection, account_no: str, period: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT corrects_period, service, kind, zone, volume_delta, amount, method_before, method_after,
                   reason
              FROM recalculation_lines WHERE account_no = %s AND period = %s
             ORDER BY corrects_period, service, kind, zone, part_start
            """,
            (account_no, period),
        ).fetchall()
