"""The service desk (обращения): requests by every channel, their deadlines in working or calendar hours,
routing to departments and contractors, escalation, history, and acts of undersupply that become the
billing stage's interruption records.

Pure modules (:mod:`deadlines`, :mod:`routing`, :mod:`acts`) take no database or clock; the stores
(:mod:`requests_store`, :mod:`acts_store`, :mod:`reports`) do the I/O. Money is computed by billing only.
"""

from meterhub.servicedesk.deadlines import (
    Deadlines,
    DeadlineState,
    HoursKind,
    WorkCalendar,
    add_hours,
    deadline_state,
    deadlines_for,
)
from meterhub.servicedesk.routing import Route, RoutingError, escalation_level, route_request

__all__ = [
    "DeadlineState",
    "Deadlines",
    "HoursKind",
    "Route",
    "RoutingError",
    "WorkCalendar",
    "add_hours",
    "deadline_state",
    "deadlines_for",
    "escalation_level",
    "route_request",
]
