"""The access matrix, derived from the app's route table (every route, including routers other modules add).

1. A resident can never read another account's data: every route with path parameters is called as alice
   (linked to LS-1 in B1) with every combination of other people's ids (accounts LS-2 in her building and
   LS-9 in B2, building B2, their meters and requests, bob's user id); the answer must be 403 or 404, never
   2xx and never a validation error that shows the access check let the call through. Every 2xx answer
   any call gets is also searched for the other residents' data.
2. Each role gets 403 outside its scope: the scope is read off the route's dependencies
   (meterhub.api.access_matrix), and each role outside it is refused.
3. Every /api/v1 route except login refuses anonymous callers with 401.

Path parameters are substituted by name; a route with a parameter name this test does not know fails with
a message saying where to add it.
"""

from __future__ import annotations

import itertools
import re
import uuid

import psycopg
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from starlette.routing import Route

from meterhub.api.access_matrix import iter_api_routes, route_scopes
from meterhub.api.app import create_app
from meterhub.api.deps import Conn, CurrentUser
from meterhub.api.roles import Role
from meterhub.api.sessions import digest
from tests.api.world import PASSWORD, World

pytestmark = pytest.mark.db

CALLER = {
    Role.RESIDENT: "alice",
    Role.ENGINEER: "eng",
    Role.ACCOUNTANT: "acc",
    Role.ADMIN: "root",
    Role.PASSPORT_OFFICE: "clerk",
    Role.OPERATOR: "oper",
    Role.CONTRACTOR: "subco",
    Role.LAWYER: "lawyer1",
}
# Strings only other residents' data contains (account numbers, owner names, request texts, payment ids).
FOREIGN_MARKERS = (
    "LS-2",
    "LS-9",
    "Петров",
    "Кузнецова",
    "BOB-SECRET-TEXT",
    "CAROL-SECRET-TEXT",
    "PAY-BOB-SECRET",
    "E-2",
    "E-9",
    "W-2",
    "gw-b2",
)
PUBLIC = {
    "/api/v1/auth/login",
    "/api/v1/health",  # a probe for load balancers: database up or not, no data
    "/api/v1/auth/password-reset",  # asking for a reset link by e-mail: for those who cannot log in
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/auth/email-confirm",  # the link in the letter may be opened in a browser without a session
    "/api/v1/contacts",  # the management company's phones and how to get access: the login page shows them
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs/oauth2-redirect",
}
PARAM_RE = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?}")


def own_and_foreign(world: World) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Values of every known path parameter: alice's own, and other people's."""
    own = {
        "account_no": "LS-1",
        "building_id": "B1",
        "meter_id": "E-1",
        "request_id": str(world.requests["alice"]),
        "user_id": str(world.users["alice"]),
        "job_id": str(uuid.uuid4()),
        "period": "2026-01",
        "year": "2026",
        "register": "energy_import_kwh",
        # the passport office's register (residents are refused by role whatever the id)
        "person_id": "1",
        "event_id": "1",
        "order_id": "1",
        "ownership_id": "1",
        # the legal department's cases (residents are refused by role whatever the id)
        "case_id": "1",
        "document_id": "1",
        "token_id": str(token_id_of(world, "alice")),
    }
    foreign = {
        "account_no": ["LS-2", "LS-9"],
        "building_id": ["B2"],
        "meter_id": ["E-2", "E-9", "W-2"],
        "request_id": [str(world.requests["bob"]), str(world.requests["carol"])],
        "user_id": [str(world.users["bob"])],
        "token_id": [str(token_id_of(world, "bob"))],
    }
    return own, foreign


def token_id_of(world: World, who: str) -> int:
    """The id (GET /auth/tokens) of the world's bearer token of ``who``."""
    with psycopg.connect(world.url) as conn:
        row = conn.execute(
            "SELECT session_id FROM api_sessions WHERE token_digest = %s", (digest(world.tokens[who]),)
        ).fetchone()
    assert row is not None
    return row[0]


def _params(path: str) -> list[str]:
    return PARAM_RE.findall(path)


def _fill(path: str, values: dict[str, str]) -> str:
    return PARAM_RE.sub(lambda m: values[m.group(1)], path)


def _check_known(path: str, own: dict[str, str]) -> None:
    unknown = [p for p in _params(path) if p not in own]
    assert not unknown, (
        f"route {path} has path parameter(s) {unknown} the access-matrix test does not know; add own and "
        "foreign values for them in tests/api/test_access_matrix.py own_and_foreign()"
    )


def _api_routes(app) -> list[tuple[str, str]]:
    """(path, method) of every /api/ route (the cabinet pages are checked separately)."""
    return [
        (route.path, method)
        for route in iter_api_routes(app)
        if route.path.startswith("/api/")
        for method in route.methods
    ]


def _call(client: TestClient, method: str, url: str, headers: dict[str, str], sample: dict | None = None):
    return client.request(method, url, headers=headers, follow_redirects=False, **(sample or {}))


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _sample_value(schema: dict, components: dict):
    """A valid value for a JSON schema: its example or default, else the simplest value of its type."""
    schema = _resolve(schema, components)
    for key in ("examples", "example", "default"):
        if key in schema and schema[key] is not None:
            return schema[key][0] if key == "examples" else schema[key]
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if _resolve(o, components).get("type") != "null"]
        return _sample_value(options[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "string":
        fmt, pattern = schema.get("format"), schema.get("pattern", "")
        if fmt == "date":
            return "2026-01-15"
        if fmt == "date-time":
            return "2026-01-15T12:00:00+03:00"
        if "(0[1-9]|1[0-2])" in pattern:
            return "2026-01"
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return [_sample_value(schema["items"], components)] if schema.get("minItems") else []
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _sample_value(props[k], components) for k in schema.get("required", []) if k in props}
    return "x"


def sample_request(openapi: dict, path: str, method: str) -> dict:
    """Query parameters and a body that pass validation, from the operation's OpenAPI description, so a
    403/404 proves the access check refused the call (not a validation error in front of it)."""
    op = openapi["paths"].get(path, {}).get(method.lower(), {})
    components = openapi.get("components", {}).get("schemas", {})
    params = {
        p["name"]: _sample_value(p["schema"], components)
        for p in op.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    sample: dict = {"params": params}
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        sample["json"] = _sample_value(content["application/json"]["schema"], components)
    elif "multipart/form-data" in content or "application/x-www-form-urlencoded" in content:
        form = _resolve(next(iter(content.values()))["schema"], components)
        sample["data"] = {
            k: _sample_value(v, components)
            for k, v in form.get("properties", {}).items()
            if k in form.get("required", []) and _resolve(v, components).get("format") != "binary"
        }
    return sample


def _foreign_data(response) -> list[str]:
    """The markers of other residents' data in a 2xx answer."""
    if not 200 <= response.status_code < 300:
        return []
    body = response.content.decode("utf-8", "replace")
    return [m for m in FOREIGN_MARKERS if m in body]


def _assert_no_foreign_data(response, where: str) -> None:
    leaked = _foreign_data(response)
    assert not leaked, f"{where} answered {response.status_code} with other residents' data {leaked}"


def test_the_route_table_is_not_empty_and_has_the_core_routers(client: TestClient) -> None:
    paths = {p for p, _ in _api_routes(client.app)}
    for expected in ("/api/v1/accounts/{account_no}", "/api/v1/requests/{request_id}", "/api/v1/me"):
        assert expected in paths


def resident_violations(client: TestClient, world: World) -> tuple[list[str], int]:
    """Every way alice reached other people's data: (violations, number of calls checked)."""
    own, foreign = own_and_foreign(world)
    alice = world.auth("alice")
    openapi = client.app.openapi()
    violations, checked = [], 0
    for path, method in _api_routes(client.app):
        _check_known(path, own)
        names = _params(path)
        choices = [[own[n], *foreign.get(n, [])] for n in names]
        for combo in itertools.product(*choices):
            values = dict(zip(names, combo, strict=True))
            url = _fill(path, {**own, **values})
            where = f"{method} {url} as resident alice"
            if all(values[n] == own[n] for n in names):
                # her own ids (or none): allowed, but a GET must not contain anybody else's data
                if method == "GET":
                    r = _call(client, method, url, alice, sample_request(openapi, path, method))
                    leaked = _foreign_data(r)
                    if leaked:
                        violations.append(f"{where}: {r.status_code} with other residents' data {leaked}")
                    checked += 1
                continue
            r = _call(client, method, url, alice, sample_request(openapi, path, method))
            checked += 1
            if r.status_code == 422:
                violations.append(
                    f"{where}: the sample request did not validate ({r.text[:300]}); give the parameters or "
                    "the body model OpenAPI examples so this test can reach the access check"
                )
            elif r.status_code not in (403, 404):
                violations.append(
                    f"{where}: expected 403/404 for other people's ids, got {r.status_code} {r.text[:300]}"
                )
    return violations, checked


def test_resident_never_gets_another_accounts_data(client: TestClient, world: World) -> None:
    violations, checked = resident_violations(client, world)
    assert not violations, "\n".join(violations)
    assert checked > 20


def test_the_matrix_catches_a_route_without_an_access_check(
    client: TestClient, world: World, api_settings
) -> None:
    """The test has teeth: an app with one careless route (no account_access) fails it."""
    careless = APIRouter()

    @careless.get("/api/v1/careless/{account_no}")
    def owner(account_no: str, user: CurrentUser, conn: Conn) -> dict:
        row = conn.execute("SELECT owner_name FROM accounts WHERE account_no = %s", (account_no,)).fetchone()
        return {"owner": row[0] if row else None}

    app = create_app(api_settings)
    app.include_router(careless)
    with TestClient(app) as leaky:
        violations, _ = resident_violations(leaky, world)
    assert violations and all("/api/v1/careless/" in v for v in violations)
    assert any("LS-2" in v for v in violations) and any("LS-9" in v for v in violations)


def test_each_role_gets_403_outside_its_scope(client: TestClient, world: World) -> None:
    own, _ = own_and_foreign(world)
    failures, checked = [], 0
    scopes = route_scopes(client.app)
    for scope in scopes:
        if not scope.authenticated:
            continue
        _check_known(scope.path, own)
        for role, caller in CALLER.items():
            values = dict(own)
            cases = []
            if scope.forbidden_for(role):
                cases.append(values)
            if role is Role.ENGINEER and scope.building_scoped and not scope.forbidden_for(role):
                cases.append({**values, "building_id": "B2"})  # not assigned to eng
            for case in cases:
                url = _fill(scope.path, case)
                for method in scope.methods:
                    r = _call(client, method, url, world.auth(caller))
                    checked += 1
                    if r.status_code != 403:
                        failures.append(f"{method} {url} as {role.value}: {r.status_code} {r.text[:200]}")
    assert not failures, "expected 403:\n" + "\n".join(failures)
    assert checked > 10


def test_anonymous_callers_get_401_everywhere_but_login(client: TestClient, world: World) -> None:
    own, _ = own_and_foreign(world)
    anonymous = TestClient(client.app)  # no lifespan: shares the running app's state, has no cookies
    failures = []
    for path, method in _api_routes(client.app):
        if path in PUBLIC:
            continue
        r = _call(anonymous, method, _fill(path, own), {})
        if r.status_code != 401:
            failures.append(f"{method} {path}: {r.status_code}")
    assert not failures, "expected 401 without credentials:\n" + "\n".join(failures)


def test_cabinet_pages_show_no_foreign_data_to_a_logged_in_resident(client: TestClient, world: World) -> None:
    own, foreign = own_and_foreign(world)
    browser = TestClient(client.app)
    assert (
        browser.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}).status_code
        == 200
    )
    pages = [r for r in iter_api_routes(client.app) if not r.path.startswith("/api/")]
    pages += [r for r in client.app.routes if type(r) is Route and not r.path.startswith("/api/")]
    for page in pages:
        if "GET" not in (page.methods or ()):
            continue
        _check_known(page.path, own)
        names = _params(page.path)
        for combo in itertools.product(*[[own[n], *foreign.get(n, [])] for n in names]):
            url = _fill(page.path, {**own, **dict(zip(names, combo, strict=True))})
            _assert_no_foreign_data(_call(browser, "GET", url, {}), f"GET {url}")
