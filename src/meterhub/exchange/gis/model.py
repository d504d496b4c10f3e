"""What the messages are built from: plain dataclasses filled by :mod:`.sources` (pure, no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree

from meterhub.exchange.gis.xml import child, element, guid

__all__ = [
    "AccountData",
    "BuiltMessage",
    "DeviceData",
    "GuidFactory",
    "HouseData",
    "Item",
    "MissingIdentifier",
    "NsiRef",
    "PayerPerson",
    "PaymentData",
    "PremiseData",
    "ReadingData",
    "ensure_at_most",
    "new_message",
]

GuidFactory = Callable[[], uuid.UUID]


class MissingIdentifier(LookupError):
    """A message needs an identifier ГИС ЖКХ has not returned yet (or an НСИ entry not filled)."""


@dataclass(frozen=True, slots=True)
class NsiRef:
    """An НСИ entry (reference-book item): registry number, code, GUID and name."""

    registry: int | None
    code: str
    guid: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One object of a message under its TransportGUID (entity and meterhub key, for the response)."""

    transport_guid: uuid.UUID
    entity: str
    local_key: str


@dataclass(slots=True)
class BuiltMessage:
    """A request element of a service with the objects it carries."""

    operation: str
    body: etree._Element
    items: list[Item] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Objects left out with the reason (e.g. an identifier still missing)."""

    def add_transport_guid(
        self, parent: etree._Element, entity: str, local_key: str, new_guid: GuidFactory
    ) -> str:
        """Append a new ``base:TransportGUID`` to ``parent`` and remember the object under it."""
        transport = new_guid()
        child(parent, "base:TransportGUID", guid(transport))
        self.items.append(Item(transport, entity, local_key))
        return guid(transport)


def new_message(
    operation: str, request: str, version: str, count: int, limit: int, what: str
) -> BuiltMessage:
    """An empty request element ``request`` (``prefix:Name``) with its schema version, for at most ``limit``
    objects (the schema's maxOccurs; callers split larger lists)."""
    ensure_at_most(count, limit, what)
    return BuiltMessage(operation, element(request, **{"base:version": version}))


def ensure_at_most(count: int, limit: int, what: str) -> None:
    """A message holds at most ``limit`` objects (the schema's maxOccurs); callers split larger lists."""
    if count > limit:
        raise ValueError(f"{count} {what} in one message; at most {limit}")


@dataclass(frozen=True, slots=True)
class PremiseData:
    premise_no: str
    residential: bool
    area: Decimal
    entrance: int | None
    premises_guid: str | None


@dataclass(frozen=True, slots=True)
class HouseData:
    building_id: str
    address: str
    total_area: Decimal
    fias_guid: str | None
    premises: tuple[PremiseData, ...]


@dataclass(frozen=True, slots=True)
class PayerPerson:
    """The payer as the passport office (registry) knows the owner: name, sex, birth date, СНИЛС."""

    surname: str
    first_name: str
    patronymic: str | None
    sex: str | None
    """``M`` or ``F`` (None: not recorded)."""
    birth_date: date | None
    snils: str | None
    """11 digits."""


@dataclass(frozen=True, slots=True)
class AccountData:
    account_no: str
    building_id: str
    premise_no: str
    share: Decimal
    owner_name: str
    persons: int
    total_area: Decimal
    residential_area: Decimal | None
    opened_on: date
    closed_on: date | None
    premises_guid: str | None
    fias_guid: str | None
    account_guid: str | None
    payer: PayerPerson | None = None
    """The owner from the passport office when it keeps the building, else None (``owner_name`` is used)."""


@dataclass(frozen=True, slots=True)
class DeviceData:
    meter_id: str
    serial: str
    model: str
    building_id: str
    premise_no: str | None
    """None: a house meter (ОДПУ)."""
    residential: bool
    service: str
    registers: tuple[str, ...]
    """Cumulative registers (e.g. energy_import_t1_kwh, energy_import_t2_kwh)."""
    installed_on: date | None
    verification_due: date | None
    remote: bool
    first_values: tuple[Decimal, ...]
    """The first reading of each register (the base value ГИС ЖКХ asks for a new device)."""
    premises_guid: str | None
    fias_guid: str | None
    account_guids: tuple[str, ...]
    version_guid: str | None

    @property
    def house(self) -> bool:
        """A house meter (ОДПУ)?"""
        return self.premise_no is None


@dataclass(frozen=True, slots=True)
class ReadingData:
    meter_id: str
    service: str
    house: bool
    values: tuple[Decimal, ...]
    """Register values T1[, T2[, T3]] (one for a single-rate meter)."""
    taken_on: date
    root_guid: str | None
    version_guid: str | None


@dataclass(frozen=True, slots=True)
class PaymentData:
    source: str
    payment_id: str
    account_no: str
    amount: Decimal
    paid_on: date
    period_named: str | None
    payment_document_id: str | None
    izhku: str | None
