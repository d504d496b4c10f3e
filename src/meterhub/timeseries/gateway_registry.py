"""The gateway registry (реестр шлюзов): gateway id → building, and the gateway's broker credentials.

Every gateway is bound to one building. The ingest looks the gateways of each group of messages up
here in the same transaction that stores them (``bindings``), so a gateway added, moved or retired
takes effect with the next message. ``meterhub gateways`` manages the table and writes the broker's
password and ACL files from it (``timeseries.broker_acl``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from meterhub.core.mqtt_contract import ID_PATTERN

__all__ = [
    "GatewayBinding",
    "GatewayRegistryError",
    "bindings",
    "list_gateways",
    "register_gateway",
    "register_gateways",
    "retire_gateway",
    "set_password_hash",
]

_ID_FULL = re.compile(ID_PATTERN.removeprefix("^").removesuffix("$"))
_SELECT = (
    "SELECT gateway_id, building_id, retired_at IS NOT NULL, mqtt_password_hash, note, registered_at "
    "FROM gateway_registry "
)


class GatewayRegistryError(ValueError):
    """A registry change that cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class GatewayBinding:
    gateway_id: str
    building_id: str
    retired: bool = False
    has_password: bool = False
    note: str = ""
    registered_at: datetime | None = None
    password_hash: str | None = None


def register_gateway(
    conn: psycopg.Connection,
    gateway_id: str,
    building_id: str,
    *,
    password_hash: str | None = None,
    note: str = "",
    move: bool = False,
) -> GatewayBinding:
    """Bind a gateway to a building (in the caller's transaction); re-registering is harmless.

    A gateway bound to another building is moved only with ``move=True`` (its topic changes with it);
    a retired gateway is registered again. ``password_hash`` None keeps the stored hash.
    """
    for kind, value in (("gateway id", gateway_id), ("building id", building_id)):
        if not _ID_FULL.fullmatch(value):
            raise GatewayRegistryError(
                f"{kind} {value!r} must be 1–64 characters of A–Z, a–z, 0–9, '_', '.', '-'"
            )
    row = conn.execute(
        "SELECT building_id FROM gateway_registry WHERE gateway_id = %s FOR UPDATE", (gateway_id,)
    ).fetchone()
    if row is not None and row[0] != building_id and not move:
        raise GatewayRegistryError(
            f"gateway {gateway_id!r} is registered to building {row[0]!r}; to move it to {building_id!r} "
            "say so (--move), and change the gateway's [gateway] building too"
        )
    conn.execute(
        """
        INSERT INTO gateway_registry (gateway_id, building_id, mqtt_password_hash, note)
        VALUES (%s, %s, %s, %s)
        ON CONFLICT (gateway_id) DO UPDATE SET
            building_id = EXCLUDED.building_id,
            mqtt_password_hash = coalesce(EXCLUDED.mqtt_password_hash, gateway_registry.mqtt_password_hash),
            note = CASE WHEN EXCLUDED.note = '' THEN gateway_registry.note ELSE EXCLUDED.note END,
            retired_at = NULL
        """,
        (gateway_id, building_id, password_hash, note),
    )
    return _one(conn, gateway_id)


def register_gateways(conn: psycopg.Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """Register many (gateway, building) pairs at once (demo, tests, simulated fleets)."""
    rows = sorted(set(pairs))
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO gateway_registry (gateway_id, building_id) VALUES (%s, %s) "
            "ON CONFLICT (gateway_id) DO UPDATE SET building_id = EXCLUDED.building_id, retired_at = NULL",
            rows,
        )


def set_password_hash(conn: psycopg.Connection, gateway_id: str, password_hash: str) -> None:
    if (
        conn.execute(
            "UPDATE gateway_registry SET mqtt_password_hash = %s WHERE gateway_id = %s",
            (password_hash, gateway_id),
        ).rowcount
        == 0
    ):
        raise GatewayRegistryError(f"gateway {gateway_id!r} is not registered; add it first")


def retire_gateway(conn: psycopg.Connection, gateway_id: str) -> None:
    """Retire a gateway: its messages go to dead letters, it disappears from the broker files."""
    if (
        conn.execute(
            "UPDATE gateway_registry SET retired_at = coalesce(retired_at, now()) WHERE gateway_id = %s",
            (gateway_id,),
        ).rowcount
        == 0
    ):
        raise GatewayRegistryError(f"gateway {gateway_id!r} is not registered")


def list_gateways(conn: psycopg.Connection, *, include_retired: bool = False) -> list[GatewayBinding]:
    where = "" if include_retired else "WHERE retired_at IS NULL "
    rows = conn.execute(_SELECT + where + "ORDER BY building_id, gateway_id").fetchall()
    return [_binding(row) for row in rows]


def bindings(conn: psycopg.Connection, gateway_ids: Iterable[str]) -> dict[str, GatewayBinding]:
    """The registry entries of these gateways (retired ones included, marked); absent ids are unknown."""
    ids = sorted(set(gateway_ids))
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT gateway_id, building_id, retired_at IS NOT NULL FROM gateway_registry "
        "WHERE gateway_id = ANY(%s)",
        (ids,),
    ).fetchall()
    return {gid: GatewayBinding(gid, bid, retired) for gid, bid, retired in rows}


def _one(conn: psycopg.Connection, gateway_id: str) -> GatewayBinding:
    row = conn.execute(_SELECT + "WHERE gateway_id = %s", (gateway_id,)).fetchone()
    if row is None:
        raise GatewayRegistryError(f"gateway {gateway_id!r} is not registered")
    return _binding(row)


def _binding(row: tuple) -> GatewayBinding:
    gid, bid, retired, pw, note, at = row
    return GatewayBinding(gid, bid, retired, pw is not None, note, at, pw)
