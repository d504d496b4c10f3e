"""The test city for the ГИС ЖКХ exchange: the closed small building of the receipt tests plus what ГИС ЖКХ
and the УК would add.

On top of tests/billing/receipts/receipt_data.py (B1 «г. Омск, ул. Ленина, д. 1», January 2026 closed by the
real close, payee, December 2025 and June 2025 charges of LS-1, payments of LS-1 on 2025-12-20 and
2026-01-15, a January penalty line of LS-1):

* the НСИ entries of the organisation (test GUIDs made with uuid5 from the entry's name: real ones come from
  the УК's ГИС ЖКХ account) for every resource, service and the penalties;
* the ФИАС/ГАР GUID of B1 (:data:`FIAS_B1`);
* a January 2026 payment of LS-2 (1 500.00 ₽ on 2026-01-20, naming 2026-01).
"""

from __future__ import annotations

import uuid
from datetime import date

import psycopg

from tests.billing.receipts.receipt_data import load_receipt_world

FIAS_B1 = "5f6a3c6e-0b1a-4b8e-9c11-0d5e1f2a3b4c"
ORG_PPA = uuid.UUID("11111111-2222-4333-8444-555555555555")
EXECUTOR = uuid.UUID("66666666-7777-4888-9999-000000000000")
_NS = uuid.UUID("0c8d7c4e-9a3e-4c57-8f4a-3a9c1e0d2b6f")


def nsi_guid(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


def counter_guids(prefix: str = "00000000-0000-4000-8000-"):
    """GUIDs 00000000-0000-4000-8000-000000000001, …: deterministic TransportGUIDs/MessageGUIDs."""
    n = 0

    def new() -> uuid.UUID:
        nonlocal n
        n += 1
        return uuid.UUID(f"{prefix}{n:012d}")

    return new


def load_gis_city(conn: psycopg.Connection) -> None:
    load_receipt_world(conn)
    for kind, value, registry, code in (
        ("resource", "cold_water", 2, "1"), ("resource", "hot_water", 2, "2"),
        ("resource", "electricity", 2, "3"), ("resource", "heat", 2, "5"), ("resource", "wastewater", 2, "8"),
        ("service", "cold_water", 51, "1"), ("service", "hot_water", 51, "2"),
        ("service", "wastewater", 51, "3"), ("service", "electricity", 51, "4"), ("service", "heat", 51, "5"),
        ("service", "maintenance", 50, "1"), ("service", "penalties", 329, "1"),
    ):  # fmt: skip
        conn.execute(
            "INSERT INTO gis_nsi_refs (kind, local_value, registry, code, guid, name) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (kind, local_value) DO UPDATE "
            "SET registry = EXCLUDED.registry, code = EXCLUDED.code, guid = EXCLUDED.guid",
            (kind, value, registry, code, nsi_guid(f"{kind}:{value}"), value),
        )
    conn.execute(
        "INSERT INTO gis_identifiers (kind, local_key, value, source) "
        "VALUES ('house_fias_guid', 'B1', %s, 'test')",
        (FIAS_B1,),
    )
    conn.execute(
        "INSERT INTO payments (source, payment_id, account_no, amount_kopecks, paid_on, period_named) "
        "VALUES ('test', 'P-3', 'LS-2', 150000, %s, '2026-01')",
        (date(2026, 1, 20),),
    )
    conn.commit()
