"""Mosquitto's password and ACL files from the gateway registry (pure: text in, text out).

Each registered gateway logs in with its gateway id as user name and may publish only the topics of
its own building and id, and read only its commit acknowledgements::

    user gw-1
    topic write meterhub/v1/B-001/gw-1/readings
    topic write meterhub/v1/B-001/gw-1/status
    topic read meterhub/v1/B-001/gw-1/commits

so a gateway's login cannot even publish under another building; the ingest checks the same binding
on every message (``message_store``), which also covers brokers configured by other means.

Password lines use Mosquitto 2's own format, ``user:$7$101$<salt>$<hash>`` (PBKDF2-SHA512, 101
iterations, 12-byte salt, both base64): the same line ``mosquitto_passwd`` writes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from meterhub.core.mqtt_contract import INGEST_GROUP, TOPIC_ROOT

__all__ = [
    "BrokerEntry",
    "acl_text",
    "generate_password",
    "mosquitto_hash",
    "parse_passwd",
    "passwd_text",
    "verify_mosquitto_hash",
]

PBKDF2_ITERATIONS = 101  # what mosquitto_passwd uses for $7$
INGEST_USER = "ingest"


@dataclass(frozen=True)
class BrokerEntry:
    """A registered, active gateway as the broker must know it."""

    gateway_id: str
    building_id: str
    password_hash: str | None  # None: keep the line the password file already has


def generate_password() -> str:
    """A random password for a new gateway (24 URL-safe characters, ~143 bits)."""
    return secrets.token_urlsafe(18)


def mosquitto_hash(password: str, *, salt: bytes | None = None) -> str:
    """The ``$7$`` hash Mosquitto 2 stores for ``password``."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, 64)
    return f"$7${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_mosquitto_hash(password: str, stored: str) -> bool:
    """Does ``password`` match a ``$7$`` hash (as Mosquitto checks it)?"""
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        computed = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt), int(iterations), 64
        )
        return hmac.compare_digest(computed, base64.b64decode(digest))
    except ValueError:
        return False


def parse_passwd(text: str) -> dict[str, str]:
    """``user → hash`` of a Mosquitto password file (comments and blank lines skipped)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        user, hashed = line.split(":", 1)
        out[user] = hashed
    return out


def passwd_text(entries: Iterable[BrokerEntry], existing: Mapping[str, str]) -> tuple[str, list[str]]:
    """The gateways' password file and the ids of gateways with no password anywhere.

    A gateway without a hash in the registry keeps its line from ``existing`` (a file made with
    ``mosquitto_passwd`` before the registry); users not registered (or retired) are left out.
    """
    lines: list[str] = []
    missing: list[str] = []
    for e in sorted(entries, key=lambda e: e.gateway_id):
        hashed = e.password_hash or existing.get(e.gateway_id)
        if hashed is None:
            missing.append(e.gateway_id)
            continue
        lines.append(f"{e.gateway_id}:{hashed}")
    return "".join(line + "\n" for line in lines), missing


def acl_text(entries: Iterable[BrokerEntry], *, ingest_user: str = INGEST_USER) -> str:
    """The whole ACL file: the ingest's rights, then one section per gateway."""
    root = TOPIC_ROOT
    out = [
        "# Generated from the meterhub gateway registry by `meterhub gateways broker-config`;",
        "# edit the registry (meterhub gateways add/remove), not this file.",
        "",
        "# the ingest: reads every gateway's readings (also through the shared subscription) and status,",
        "# publishes the commit acknowledgements",
        f"user {ingest_user}",
        f"topic read {root}/+/+/readings",
        f"topic read {root}/+/+/status",
        f"topic read $share/{INGEST_GROUP}/{root}/+/+/readings",
        f"topic write {root}/+/+/commits",
    ]
    for e in sorted(entries, key=lambda e: (e.building_id, e.gateway_id)):
        base = f"{root}/{e.building_id}/{e.gateway_id}"
        out += [
            "",
            f"# gateway {e.gateway_id} of building {e.building_id}",
            f"user {e.gateway_id}",
            f"topic write {base}/readings",
            f"topic write {base}/status",
            f"topic read {base}/commits",
        ]
    return "\n".join(out) + "\n"
