"""The gateways' retained status (``GatewayStatus``) in the database: ``gateways`` holds each gateway's
latest state, its devices' health and its outbox backlog; ``gateway_status_history`` the timeline.

A status older than the one stored (a retained message redelivered after a newer one) does not
overwrite it. The caller (``message_store``) upserts the statuses of one transaction in gateway id
order, so two writers never wait for each other's rows in opposite orders.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg.types.json import Jsonb

from meterhub.core.mqtt_contract import GatewayStatus


def store_gateway_status(conn: psycopg.Connection, st: GatewayStatus, building: str, gateway: str) -> None:
    """Upsert the gateway's current status and append it to the history (in the caller's transaction)."""
    devices = Jsonb([d.model_dump(mode="json") for d in st.devices])
    conn.execute(
        """
        INSERT INTO gateways (gateway_id, building_id, state, software_version, status_ts, last_seen,
                              outbox_backlog, outbox_oldest, outbox_dropped, devices)
        VALUES (%s, %s, %s, %s, %s, now(), %s, %s, %s, %s)
        ON CONFLICT (gateway_id) DO UPDATE SET
            building_id = EXCLUDED.building_id, state = EXCLUDED.state,
            software_version = EXCLUDED.software_version, status_ts = EXCLUDED.status_ts,
            last_seen = now(), outbox_backlog = EXCLUDED.outbox_backlog,
            outbox_oldest = EXCLUDED.outbox_oldest, outbox_dropped = EXCLUDED.outbox_dropped,
            devices = EXCLUDED.devices
        WHERE gateways.status_ts <= EXCLUDED.status_ts
        """,
        (
            gateway,
            building,
            st.state,
            st.software_version,
            st.ts,
            st.outbox_backlog,
            st.outbox_oldest,
            st.outbox_dropped,
            devices,
        ),
    )
    conn.execute(
        """
        INSERT INTO gateway_status_history
            (gateway_id, building_id, status_ts, state, devices, outbox_backlog, outbox_dropped)
        VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
        """,
        (gateway, building, st.ts, st.state, devices, st.outbox_backlog, st.outbox_dropped),
    )


def stamp_last_seen(conn: psycopg.Connection, gateway_ids: Iterable[str]) -> None:
    """``last_seen = now()`` for gateways whose readings this transaction stores.

    ``SKIP LOCKED``: a row another writer holds (it is stamping it, or upserting its status) is left
    to it — it sets the same time — so this never waits for, or deadlocks with, another writer."""
    conn.execute(
        """
        UPDATE gateways g SET last_seen = greatest(g.last_seen, now())
        FROM (SELECT gateway_id FROM gateways WHERE gateway_id = ANY(%s)
              ORDER BY gateway_id FOR UPDATE SKIP LOCKED) mine
        WHERE g.gateway_id = mine.gateway_id
        """,
        (sorted(set(gateway_ids)),),
    )
