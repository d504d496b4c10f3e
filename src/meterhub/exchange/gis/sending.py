"""Sending a written message through the installation's transport and recording what happened.

The status moves to ``sent`` only when the transport returns the operator's acknowledgement; a refusal
or an error marks the message ``failed`` with the reason. Nothing is marked sent otherwise.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
from lxml import etree

from meterhub.exchange.gis.transport import GisTransport
from meterhub.exchange.gis.xml import NS

__all__ = ["SendError", "send_message"]


class SendError(RuntimeError):
    pass


def send_message(conn: psycopg.Connection, transport: GisTransport, path: Path) -> uuid.UUID:
    """Sign and send one message file written by an export; returns the operator's ack MessageGUID."""
    try:
        root = etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise SendError(f"cannot read the message: {exc}") from None
    message = root.findtext(f".//{{{NS['base']}}}MessageGUID")
    row = (
        conn.execute(
            "SELECT export_id, operation, status FROM gis_exports WHERE message_guid = %s",
            (uuid.UUID(message) if message else None,),
        ).fetchone()
        if message
        else None
    )
    if row is None:
        raise SendError("not a message meterhub exported (its MessageGUID is not in gis_exports)")
    export_id, operation_name, status = row
    if status in ("sent", "answered"):
        raise SendError(f"already {status}; export again to send new data")
    from meterhub.exchange.gis.envelope import OPERATIONS

    operation = OPERATIONS[operation_name]
    try:
        signed = transport.sign(path.read_bytes())
        result = transport.send(operation, signed)
    except Exception as exc:  # the installation's signer/sender: whatever it raises is the reason
        conn.execute(
            "UPDATE gis_exports SET status = 'failed', errors = errors || %s::jsonb WHERE export_id = %s",
            (json.dumps([f"{type(exc).__name__}: {exc}"], ensure_ascii=False), export_id),
        )
        raise SendError(f"the transport refused: {type(exc).__name__}: {exc}") from None
    conn.execute(
        "UPDATE gis_exports SET status = 'sent', sent_at = now(), ack_guid = %s WHERE export_id = %s",
        (result.ack_message_guid, export_id),
    )
    return result.ack_message_guid
