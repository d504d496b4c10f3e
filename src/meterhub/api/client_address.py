"""Who is calling: the client address behind trusted proxies, HTTPS, and the login device cookie.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the TCP peer is one of
``Settings.trusted_proxies`` (addresses or CIDR networks). The client is then the right-most address of
``X-Forwarded-For`` that is not itself a trusted proxy (earlier entries are what the client wrote).
Anyone else's ``X-Forwarded-For`` is ignored, so it cannot move an attacker out of the login limit.

The device cookie ``mh_device`` is set at a successful login: ``<id>.<HMAC(secret, username, id)>``.
A browser presenting a valid one for the username being tried is a client the owner used before, which
the login limiter keeps apart from strangers (see :mod:`meterhub.api.rate_limit`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from functools import lru_cache

from fastapi import Request

__all__ = [
    "DEVICE_COOKIE",
    "client_ip",
    "device_id_for",
    "is_https",
    "is_trusted",
    "new_device_cookie",
    "trusted_networks",
]

DEVICE_COOKIE = "mh_device"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def trusted_networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t.strip(), strict=False) for t in trusted if t.strip())


def is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _trusted(request: Request) -> tuple[Network, ...]:
    return trusted_networks(tuple(request.app.state.settings.trusted_proxies))


def client_ip(request: Request) -> str:
    """The caller's address: the peer, or what trusted proxies forwarded."""
    peer = request.client.host if request.client else "unknown"
    networks = _trusted(request)
    if not networks or not is_trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from a proxy: fall back to the proxy itself
    return hops[0] if hops else peer


def is_https(request: Request) -> bool:
    """Whether the client reached us over HTTPS (directly, or as a trusted proxy says)."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    networks = _trusted(request)
    if networks and is_trusted(peer, networks):
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


def _mac(secret: str, username: str, device: str) -> str:
    message = f"mh-device:{username}:{device}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def new_device_cookie(secret: str, username: str) -> str:
    device = secrets.token_urlsafe(12)
    return f"{device}.{_mac(secret, username, device)}"


def device_id_for(request: Request, secret: str, username: str) -> str | None:
    """The device id when the browser's device cookie was earned by ``username``, else None."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    device, _, mac = value.partition(".")
    if not device or not mac or len(value) > 100:
        return None
    return device if hmac.compare_digest(mac, _mac(secret, username, device)) else None
