"""HTTP guards every response passes through (a pure ASGI middleware: no per-request task or copy).

- A NUL character (``%00`` or a raw 0x00) in the path or query string is refused with 400 before any
  route runs; PostgreSQL text cannot hold it and no identifier, date or text we accept contains it.
  NUL inside a JSON or form body reaches psycopg, whose ``DataError`` becomes 400 too
  (:func:`nul_in_body_handler`), so no input gives a 5xx.
- API answers (``/api/v1``) get ``Cache-Control: no-store`` unless the route set its own, and every
  answer ``X-Content-Type-Options: nosniff``; JSON and photos are private to the caller and a shared cache
  must not keep them, nor a browser guess a photo's type.
- A POST/PUT/PATCH/DELETE calls ``after_write`` just before its answer leaves (the app empties its
  cache of authenticated callers there, so a logout or revocation is seen by this process's next request).
- Behind HTTPS (the request's scheme, or ``X-Forwarded-Proto: https`` from a trusted proxy) every answer
  carries ``Strict-Transport-Security``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
from fastapi import Request
from fastapi.responses import JSONResponse

from meterhub.api.client_address import is_trusted, trusted_networks

__all__ = ["HSTS", "HttpGuards", "nul_in_body_handler"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HSTS = "max-age=31536000; includeSubDomains"
_NUL_DETAIL = (
    "the request contains a NUL character (%00), which no field accepts; remove it "
    "(запрос содержит недопустимый символ NUL)"
)


class HttpGuards:
    def __init__(
        self, app, trusted_proxies: list[str], api_prefix: str, after_write: Callable[[], None] | None = None
    ) -> None:
        self.app = app
        self.after_write = after_write
        self.networks = trusted_networks(tuple(trusted_proxies))
        self.api_prefix = api_prefix.encode()

    def _https(self, scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        if not self.networks or not client or not is_trusted(client[0], self.networks):
            return False
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-proto":
                return value.split(b",")[0].strip().lower() == b"https"
        return False

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        query = scope.get("query_string", b"")
        if any(b"%00" in part or b"\x00" in part for part in (raw_path, query)) or "\x00" in scope["path"]:
            body = json.dumps({"detail": _NUL_DETAIL}, ensure_ascii=False).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", b"no-store"),
                        (b"x-content-type-options", b"nosniff"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        is_api = raw_path.startswith(self.api_prefix)
        https = self._https(scope)
        after_write = self.after_write if scope["method"] not in _SAFE_METHODS else None

        async def send_guarded(message) -> None:
            if message["type"] == "http.response.start":
                if after_write is not None:
                    after_write()
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if is_api and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if https and b"strict-transport-security" not in names:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_guarded)


async def nul_in_body_handler(request: Request, exc: psycopg.DataError) -> JSONResponse:
    """psycopg refuses NUL in text before it reaches the server: that is the client's input (400)."""
    if "NUL" in str(exc):
        return JSONResponse({"detail": _NUL_DETAIL}, status_code=400)
    return JSONResponse(
        {"detail": f"the database refused a value of the request: {exc} (недопустимое значение)"},
        status_code=400,
    )
