"""A digest of a building's engine input: equal digests mean the engine would produce the same lines.

SHA-256 of an encoding of every field of the :class:`~meterhub.billing.rules.building.BuildingInput`,
field by field in declaration order:

* the bulk — accounts, their services and meters (≈ 5,000 objects a building) — as nested tuples of
  plain values, written with :func:`marshal.dumps` (version 2: no back-references, so the bytes depend
  on the values only, never on which equal objects happen to be shared): a ``Decimal`` by its
  scientific string (``4.50`` ≠ ``4.5``; the string gives back the same sign, digits and exponent), an
  enum member by its value, a mapping of zones to volumes as its items in order, an hourly series by
  each array's dtype, shape and raw bytes;
* the rest — tariffs, common-property inputs, history and state parts of a meter (few objects, or
  rare) — by the pickle of each object, written without the pickler's memo and with a dataclass as
  its class and ``init`` fields (:class:`_ValuePickler`), so these bytes too depend on the values only;
  a tariff shared by many accounts is pickled once.

Each slot is encoded by the type of its value: a value of an unexpected type (a subclass, a ``str``
where a ``Decimal`` belongs, an array of objects) is written as its pickle (``bytes``), which no
regular encoding of that slot produces, so the encoding stays injective whatever the input holds;
and if a class of the input gains or loses a field, the whole input is digested by that pickle until
this module lists the field (``tests/billing/test_input_digest.py`` fails until it does). Another
Python or numpy version could write other bytes for the same input (pickle and marshal formats): that
costs one engine run, never a wrong result — the digest decides whether to recompute a closed period,
not what its lines are.

The definition changed on 2026-12-07 (before: SHA-256 of the pickle of the whole input, ≈ 1 MB
through the pickler's object protocol, ≈ 5–12 ms of CPU a building; now ≈ 2.5 ms, most of it the
Python walk over the accounts; docs/billing-close.md): closed periods whose change marker moves after
the upgrade are recomputed once and, their lines being equal, book nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import marshal
import pickle
from decimal import Decimal
from typing import Any

import numpy as np

from meterhub.billing.rules.building import BuildingInput
from meterhub.billing.rules.charges import AccountInput
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer
from meterhub.billing.rules.zones import HourlySeries, Zone

__all__ = ["input_digest"]

_VERSION = b"meterhub engine input, encoding 2\n"

# The fields each encoder below writes, in order. If a class differs (a field added, removed or
# renamed), the fast encoding is not used at all (see the module docstring).
ENCODED_FIELDS: dict[type, tuple[str, ...]] = {
    BuildingInput: (
        "building",
        "time_zone",
        "total_area",
        "common_area",
        "accounts",
        "tariffs",
        "common_property",
        "account_tariffs",
    ),
    AccountInput: ("account", "area", "residential", "residents", "owners", "services"),
    ServiceConsumer: (
        "service",
        "meter",
        "normative",
        "meter_obligatory_and_possible",
        "repeat_access_refusal",
    ),
    MeterPeriod: (
        "status",
        "zone_volumes",
        "hourly",
        "history",
        "consecutive_average_periods",
        "being_replaced",
        "parts",
    ),
    HourlySeries: ("hour_starts_us", "volume_micro", "volumes"),
}
_ENCODING_COMPLETE = all(
    tuple(f.name for f in dataclasses.fields(cls)) == names for cls, names in ENCODED_FIELDS.items()
)


def input_digest(building: BuildingInput) -> str:
    """SHA-256 (hex) of everything the engine reads from ``building``."""
    if not _ENCODING_COMPLETE or type(building) is not BuildingInput:
        return hashlib.sha256(_pickled(building)).hexdigest()
    digest = hashlib.sha256(_VERSION)
    digest.update(marshal.dumps(_building(building), 2))
    return digest.hexdigest()


class _ValuePickler(pickle.Pickler):
    """The pickler of the values outside the plain encoding.

    It runs without its memo (``fast``): every object is written out where it occurs, so the bytes do
    not depend on which equal objects are shared (the input has no reference cycles). A dataclass is
    written as its class and its ``init`` fields; the others (a tariff's converted prices, a zone
    schedule's hour table) are computed from those by its ``__post_init__``."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=5)
        self.fast = True  # no memo (documented as deprecated; CPython keeps it)

    def reducer_override(self, obj: Any) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return type(obj), tuple(getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init)
        return NotImplemented


def _pickled(value: Any) -> bytes:
    """A value outside the plain encoding, by its pickle (``bytes``: no plain encoding is ``bytes``)."""
    buffer = io.BytesIO()
    _ValuePickler(buffer).dump(value)
    return buffer.getvalue()


def _building(b: BuildingInput) -> tuple[Any, ...]:
    shared: dict[int, bytes] = {}  # id → pickle of a tariff (accounts on one plan share its tariffs)
    accounts = b.accounts
    account_tariffs = b.account_tariffs
    return (
        _text(b.building),
        _text(b.time_zone),
        _number(b.total_area),
        _number(b.common_area),
        tuple(map(_account, accounts)) if type(accounts) is tuple else _pickled(accounts),
        _objects(b.tariffs, shared),
        _objects(b.common_property, shared),
        tuple((_text(a), _objects(t, shared)) for a, t in account_tariffs.items())
        if type(account_tariffs) is dict
        else _pickled(account_tariffs),
    )


def _objects(values: Any, shared: dict[int, bytes]) -> tuple[bytes, ...] | bytes:
    """A tuple of few objects (tariffs, common-property inputs): each by its pickle, once per object."""
    if type(values) is not tuple:
        return _pickled(values)
    out = []
    for value in values:
        known = shared.get(id(value))
        if known is None:
            known = shared[id(value)] = _pickled(value)
        out.append(known)
    return tuple(out)


def _text(value: Any) -> str | bytes:
    return value if type(value) is str else _pickled(value)


def _number(value: Any) -> str | int | bytes | None:
    """A ``Decimal`` slot (some also take an ``int`` or ``None``): ``str`` / ``int`` / ``None``."""
    kind = type(value)
    if kind is Decimal:
        return str(value)
    if kind is int or value is None:
        return value
    return _pickled(value)


def _account(a: Any) -> tuple[Any, ...] | bytes:
    if type(a) is not AccountInput:
        return _pickled(a)
    # the usual types are tested inline (a call per field would double the cost); the others go
    # through the slot's function, which gives the same for them
    account, area, residential, residents, owners, services = (
        a.account,
        a.area,
        a.residential,
        a.residents,
        a.owners,
        a.services,
    )
    return (
        account if type(account) is str else _pickled(account),
        str(area) if type(area) is Decimal else _number(area),
        residential if type(residential) is bool else _pickled(residential),
        str(residents) if type(residents) is Decimal else _number(residents),
        owners if type(owners) is int else _pickled(owners),
        tuple(map(_consumer, services)) if type(services) is tuple else _pickled(services),
    )


def _consumer(s: Any) -> tuple[Any, ...] | bytes:
    if type(s) is not ServiceConsumer:
        return _pickled(s)
    service, meter, normative, obligatory, refusal = (
        s.service,
        s.meter,
        s.normative,
        s.meter_obligatory_and_possible,
        s.repeat_access_refusal,
    )
    return (
        service._value_ if type(service) is Service else _pickled(service),
        None if meter is None else _meter(meter),
        str(normative) if type(normative) is Decimal else _number(normative),
        obligatory if type(obligatory) is bool else _pickled(obligatory),
        refusal if type(refusal) is bool else _pickled(refusal),
    )


def _meter(m: Any) -> tuple[Any, ...] | bytes:
    if type(m) is not MeterPeriod:
        return _pickled(m)
    status, zones, hourly, history, averaged, replaced, parts = (
        m.status,
        m.zone_volumes,
        m.hourly,
        m.history,
        m.consecutive_average_periods,
        m.being_replaced,
        m.parts,
    )
    return (
        status._value_ if type(status) is MeterStatus else _pickled(status),
        None if zones is None else _zones(zones),
        None if hourly is None else _hourly(hourly),
        () if type(history) is tuple and not history else _pickled(history),
        averaged if type(averaged) is int else _pickled(averaged),
        replaced if type(replaced) is bool else _pickled(replaced),
        () if type(parts) is tuple and not parts else _pickled(parts),
    )


def _zones(volumes: Any) -> tuple[str, ...] | bytes | None:
    """A zone → volume mapping: its items in order, flat (zone value, volume string, …)."""
    if volumes is None:
        return None
    if type(volumes) is not dict:
        return _pickled(volumes)
    out = []
    for zone, volume in volumes.items():
        if type(zone) is not Zone or type(volume) is not Decimal:
            return _pickled(volumes)
        out.append(zone._value_)
        out.append(str(volume))
    return tuple(out)


def _hourly(h: Any) -> tuple[Any, ...] | bytes:
    if type(h) is not HourlySeries:
        return _pickled(h)
    volumes = h.volumes
    return (
        _array(h.hour_starts_us),
        None if h.volume_micro is None else _array(h.volume_micro),
        None
        if volumes is None
        else tuple(map(_number, volumes))
        if type(volumes) is tuple
        else _pickled(volumes),
    )


def _array(a: Any) -> tuple[str, tuple[int, ...], bytes] | bytes:
    """An integer array by its dtype, shape and bytes (C order)."""
    if type(a) is not np.ndarray or a.dtype.kind not in "iub":
        return _pickled(a)
    return (a.dtype.str, a.shape, a.tobytes())
