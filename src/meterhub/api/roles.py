"""Roles and the authenticated user (pure types, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["STAFF_ROLES", "Role", "User"]


class Role(StrEnum):
    """resident (житель): own linked accounts; engineer (инженер): telemetry of assigned buildings,
    read-only; accountant (бухгалтер): billing operations for all accounts; admin: users and buildings;
    passport_office (паспортист): the register of residents and their documents (docs/passport-office.md);
    operator (оператор): registers, routes and controls requests; contractor (подрядчик): its executor's
    queue of requests only (docs/requests.md); lawyer (юрист): the legal department's claims and court cases
    (docs/claims.md), no access to the account routes of the cabinet."""

    RESIDENT = "resident"
    ENGINEER = "engineer"
    ACCOUNTANT = "accountant"
    ADMIN = "admin"
    PASSPORT_OFFICE = "passport_office"
    OPERATOR = "operator"
    CONTRACTOR = "contractor"
    LAWYER = "lawyer"


STAFF_ROLES = (
    Role.ENGINEER,
    Role.ACCOUNTANT,
    Role.ADMIN,
    Role.PASSPORT_OFFICE,
    Role.OPERATOR,
    Role.CONTRACTOR,
    Role.LAWYER,
)


@dataclass(frozen=True)
class User:
    """The caller of a request.

    ``building_ids``: for an engineer the assigned buildings; for a resident the buildings of the
    linked accounts. ``account_nos``: the accounts linked to a resident (empty for staff).
    ``via``: how the request authenticated, 'cookie' or 'bearer'.
    """

    id: int
    username: str
    role: Role
    building_ids: frozenset[str] = frozenset()
    account_nos: frozenset[str] = frozenset()
    full_name: str = ""
    via: str = field(default="bearer", compare=False)
