"""No input gives a 5xx: a NUL character (``%00`` / ``\\u0000``) in every path parameter, every query
parameter and every string of every JSON or form body of every /api/v1 route (generated from the route
table and the OpenAPI description, like the access matrix), as a resident and as an admin, and in the
cabinet pages' query. Each must be refused with a 4xx, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.test_access_matrix import _api_routes, _fill, _params, own_and_foreign, sample_request
from tests.api.world import World

pytestmark = pytest.mark.db

NUL = "\x00"


def _query_params(openapi: dict, path: str, method: str) -> list[str]:
    op = openapi["paths"].get(path, {}).get(method.lower(), {})
    return [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]


def _with_nul(value):
    """Every string of a JSON value with a NUL inside."""
    if isinstance(value, str):
        return value[:1] + NUL + value[1:]
    if isinstance(value, dict):
        return {k: _with_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_nul(v) for v in value] or [NUL]
    return value


def _cases(client: TestClient, world: World):
    """(method, url, request kwargs, what) for every route with a NUL in each place a value goes."""
    own, _ = own_and_foreign(world)
    openapi = client.app.openapi()
    for path, method in _api_routes(client.app):
        sample = sample_request(openapi, path, method)
        for name in _params(path):
            yield method, _fill(path, {**own, name: own[name] + "%00"}), sample, f"path {name}"
        url = _fill(path, own)
        for name in _query_params(openapi, path, method):
            params = {**sample.get("params", {}), name: "2026" + NUL}
            yield method, url, {**sample, "params": params}, f"query {name}"
        if "json" in sample:
            yield method, url, {**sample, "json": _with_nul(sample["json"])}, "json body"
        if sample.get("data"):
            yield method, url, {**sample, "data": _with_nul(sample["data"])}, "form body"
        # httpx would replace a URL's query by ``params``: the raw one goes alone
        raw = {k: v for k, v in sample.items() if k != "params"}
        yield method, url + "?x=%00", raw, "raw %00 in the query string"


@pytest.mark.parametrize("who", ["alice", "root"])
def test_a_nul_character_anywhere_never_gives_a_5xx(client: TestClient, world: World, who: str) -> None:
    failures, checked = [], 0
    for method, url, kwargs, what in _cases(client, world):
        r = client.request(method, url, headers=world.auth(who), follow_redirects=False, **kwargs)
        checked += 1
        if r.status_code >= 500:
            failures.append(f"{method} {url} ({what}) as {who}: {r.status_code} {r.text[:200]}")
    assert not failures, "5xx for a NUL character:\n" + "\n".join(failures)
    assert checked > 60


def test_nul_in_the_path_or_query_is_a_clear_400(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-1%00/charges", headers=world.auth("alice"))
    assert r.status_code == 400
    assert "NUL" in r.json()["detail"] and "недопустимый символ" in r.json()["detail"]
    r = client.get("/api/v1/accounts/LS-1/charges?period=2026-01%00", headers=world.auth("alice"))
    assert r.status_code == 400
    body = client.post("/api/v1/auth/login", json={"username": "alice\x00", "password": "x"})
    assert body.status_code in (400, 401, 422)


def test_cabinet_pages_refuse_nul_without_a_5xx(client: TestClient, world: World) -> None:
    for url in ("/cabinet/login?next=/cabinet/%00", "/cabinet/?account=LS-1%00", "/cabinet/%00"):
        assert client.get(url, follow_redirects=False).status_code < 500, url
