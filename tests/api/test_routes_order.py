"""The telemetry router is included first (the cabinet's busiest calls match without scanning the other
routers); that is only safe while none of its paths also matches another route's path."""

from __future__ import annotations

import re

from meterhub.api.app import create_app
from meterhub.api.routes import telemetry
from meterhub.core.settings import Settings


def _routes(app) -> list[tuple[object, object]]:
    """(router, route) of every route of every included router, in the app's order."""
    out = []
    for included in app.router.routes:
        router = getattr(included, "original_router", None)
        for route in getattr(router, "routes", ()):
            out.append((router, route))
    return out


def test_no_other_route_shares_a_path_with_telemetry() -> None:
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1/unused"))
    routes = _routes(app)
    assert routes and routes[0][0] is telemetry.router  # included first
    ours = [route for router, route in routes if router is telemetry.router]
    others = [route for router, route in routes if router is not telemetry.router and hasattr(route, "path")]
    assert len(ours) >= 5 and len(others) > 100
    clashes = []
    for other in others:
        sample = re.sub(r"\{[^}]+\}", "X1", other.path)  # every path parameter filled in
        for route in ours:
            if route.path_regex.match(sample) and route.methods & (getattr(other, "methods", None) or set()):
                clashes.append((route.path, other.path))
    assert clashes == []
