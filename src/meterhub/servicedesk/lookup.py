"""The operator's account lookup (поиск лицевого счёта): by account number, by phone (the register of
residents and the contacts of earlier requests) or by address words («Ленина 5 кв 12»)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

__all__ = ["AccountHit", "find_accounts"]


@dataclass(frozen=True)
class AccountHit:
    account_no: str
    building_id: str
    premise_no: str
    address: str
    matched: str  # account / phone / address


_BASE = """
SELECT a.account_no, a.building_id, a.premise_no, b.address FROM accounts a
  JOIN buildings b USING (building_id)
"""


def _phone_digits(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    return digits[-10:] if len(digits) >= 7 and re.fullmatch(r"[\d\s()+-]+", text.strip()) else None


def find_accounts(conn: psycopg.Connection, query: str, limit: int = 20) -> list[AccountHit]:
    query = query.strip()
    if len(query) < 2:
        return []
    hits: dict[str, AccountHit] = {}

    def add(rows, how: str) -> None:
        for account, building, premise, address in rows:
            hits.setdefault(account, AccountHit(account, building, premise, address, how))

    add(
        conn.execute(
            _BASE + " WHERE a.account_no ILIKE %s ORDER BY a.account_no LIMIT %s",
            (query.replace("%", r"\%") + "%", limit),
        ),
        "account",
    )
    phone = _phone_digits(query)
    if phone:
        add(
            conn.execute(
                _BASE + " WHERE a.account_no IN ("
                "  SELECT e.account_no FROM registry_events e JOIN registry_persons p USING (person_id)"
                "   WHERE e.account_no IS NOT NULL AND right(regexp_replace(p.phone, '\\D', '', 'g'), 10)"
                "   = %s UNION SELECT r.account_no FROM api_requests r"
                "   WHERE r.account_no IS NOT NULL AND right(regexp_replace(r.contact, '\\D', '', 'g'), 10)"
                "   = %s)"
                " ORDER BY a.account_no LIMIT %s",
                (phone, phone, limit),
            ),
            "phone",
        )
    words = [w for w in re.split(r"[\s,.]+", query.lower()) if w and w not in ("кв", "д", "ул", "дом")]
    if words and not phone:
        clauses = " AND ".join(["(lower(b.address) LIKE %s OR a.premise_no = %s)"] * len(words))
        params: list = []
        for w in words:
            params += [f"%{w}%", w]
        add(
            conn.execute(
                _BASE + f" WHERE {clauses} ORDER BY b.address, a.premise_no LIMIT %s", (*params, limit)
            ),
            "address",
        )
    return list(hits.values())[:limit]
