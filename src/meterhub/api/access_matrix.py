"""Who may call which route, read off the routes' dependencies (the access matrix of docs/api.md).

A route's scope is what its dependencies enforce: ``require_role(...)`` limits the roles,
``account_access`` limits residents to linked accounts and refuses engineers, ``building_access`` limits
residents to their buildings and engineers to assigned ones, ``current_user`` alone means "any logged-in
user, own data only". The access-matrix test derives its cases from this, so a new route is covered as
soon as it is added.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from meterhub.api.deps import NO_ACCOUNT_ROLES, RoleRequirement, account_access, building_access, current_user
from meterhub.api.roles import Role

__all__ = ["ApiRouteInfo", "RouteScope", "iter_api_routes", "route_scopes"]


@dataclass(frozen=True)
class RouteScope:
    path: str
    methods: tuple[str, ...]
    summary: str
    authenticated: bool
    roles: frozenset[Role]  # roles that pass the role check (all roles when there is none)
    account_scoped: bool
    building_scoped: bool

    def forbidden_for(self, role: Role) -> bool:
        """Whether ``role`` is refused (403) whatever the parameters."""
        return role not in self.roles or (self.account_scoped and role in NO_ACCOUNT_ROLES)

    def describe(self, role: Role) -> str:
        """The cell of the access matrix for ``role``."""
        if not self.authenticated:
            return "public"
        if self.forbidden_for(role):
            return "403"
        if role is Role.RESIDENT and (self.account_scoped or self.building_scoped):
            return "own (404 other)"
        if role is Role.ENGINEER and self.building_scoped:
            return "assigned (403 other)"
        return "yes"


def _calls(dependant: Dependant) -> list[object]:
    found: list[object] = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found.extend(_calls(sub))
    return found


@dataclass(frozen=True)
class ApiRouteInfo:
    """A FastAPI route as the app serves it: full path (router prefixes applied) and its dependencies."""

    path: str
    methods: tuple[str, ...]
    summary: str
    dependant: Dependant


def iter_api_routes(app: FastAPI) -> Iterator[ApiRouteInfo]:
    """Every FastAPI (APIRoute) route of the app, included routers flattened, in the app's order.

    FastAPI ≥ 0.16x keeps included routers as lazy entries of ``app.routes``; ``iter_route_contexts``
    resolves them. Older versions copy the routes into ``app.routes`` directly.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: routes are flat already
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield ApiRouteInfo(
                    route.path,
                    tuple(sorted(route.methods or ())),
                    route.summary or route.name,
                    route.dependant,
                )
        return
    for ctx in iter_route_contexts(app.routes):
        if not isinstance(ctx.original_route, APIRoute):
            continue
        yield ApiRouteInfo(
            ctx.path, tuple(sorted(ctx.methods or ())), ctx.summary or ctx.name or "", ctx.dependant
        )


def route_scopes(app: FastAPI) -> list[RouteScope]:
    """Every API route of the app with its scope, in the app's order."""
    scopes = []
    for route in iter_api_routes(app):
        calls = _calls(route.dependant)
        roles = frozenset(Role)
        for call in calls:
            if isinstance(call, RoleRequirement):
                roles &= call.roles
        scopes.append(
            RouteScope(
                path=route.path,
                methods=route.methods,
                summary=route.summary,
                authenticated=current_user in calls,
                roles=roles,
                account_scoped=account_access in calls,
                building_scoped=building_access in calls,
            )
        )
    return scopes
