"""Routing of requests to executors (маршрутизация: отдел, подрядчик, АДС) and escalation (pure).

A route names a category and optionally a building; the building's own route wins over the category's
general one. Escalation raises the level of an overdue open request once per overdue deadline step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Route", "RoutingError", "escalation_level", "route_request"]


@dataclass(frozen=True)
class Route:
    category: str
    building_id: str | None
    executor_id: int


class RoutingError(LookupError):
    pass


def route_request(category: str, building_id: str | None, routes: Iterable[Route]) -> int:
    """The executor for a request of ``category`` in ``building_id``; RoutingError names what to add."""
    general = None
    for route in routes:
        if route.category != category:
            continue
        if route.building_id is not None and route.building_id == building_id:
            return route.executor_id
        if route.building_id is None:
            general = route.executor_id
    if general is None:
        raise RoutingError(
            f"no executor for category {category!r} (building {building_id!r}); add a route in sd_routes"
        )
    return general


def escalation_level(response_due: datetime, resolution_due: datetime, now: datetime, responded: bool) -> int:
    """0 in time; 1 when the response is late (to the head of the executor); 2 when the resolution is
    late (to the head of the УК's dispatch)."""
    if now > resolution_due:
        return 2
    if not responded and now > response_due:
        return 1
    return 0
