"""The input digest changes exactly when the engine input changes (hourly series by their bytes).

Random inputs (hypothesis) cover every field of every dataclass in a ``BuildingInput``: changing any one
of them — a value, a ``Decimal``'s exponent alone (``4.5`` → ``4.50``), a zone key, one element of an
hourly array — changes the digest; the same input built again object by object (nothing shared, fresh
``Decimal``s, strings and arrays) has the same digest. The encoding itself is checked against the
module docstring's definition written out by hand for one small input.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import marshal
import pickle
from datetime import date, timedelta
from decimal import Decimal as D
from decimal import localcontext
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from meterhub.billing import (
    AccountInput,
    BuildingInput,
    HourlySeries,
    MeterPeriod,
    MeterStatus,
    Service,
    ServiceConsumer,
    Tariff,
    Zone,
)
from meterhub.billing.rules import input_digest as digest_module
from meterhub.billing.rules.common_property import CommonPropertyInput, CommonPropertyMethod
from meterhub.billing.rules.input_digest import input_digest
from meterhub.billing.rules.volumes import StatePart
from meterhub.billing.rules.zones import ZoneSchedule


def _building(volumes: list[int], residents: int = 2) -> BuildingInput:
    starts = np.arange(3, dtype=np.int64) * 3_600_000_000 + 1_767_214_800_000_000
    meter = MeterPeriod(MeterStatus.VALID, hourly=HourlySeries.from_micro(starts, np.array(volumes)))
    account = AccountInput(
        "LS-1", D("50.0"), residents=residents, services=(ServiceConsumer(Service.ELECTRICITY, meter),)
    )
    tariff = Tariff(Service.ELECTRICITY, date(2025, 1, 1), {Zone.SINGLE: D("6.43")})
    return BuildingInput("B1", "Europe/Moscow", D(100), D(10), (account,), (tariff,))


def test_digest_is_stable_and_sensitive() -> None:
    base = input_digest(_building([1, 2, 3]))
    assert base == input_digest(_building([1, 2, 3]))
    assert base != input_digest(_building([1, 2, 4]))  # one hour differs
    assert base != input_digest(_building([1, 2, 3], residents=3))
    changed_tariff = dataclasses.replace(
        _building([1, 2, 3]),
        tariffs=(Tariff(Service.ELECTRICITY, date(2025, 1, 1), {Zone.SINGLE: D("6.44")}),),
    )
    assert base != input_digest(changed_tariff)


def _unshared_pickle(value: object) -> bytes:
    """The standard pickle, protocol 5, with the memo off (each object written where it occurs) and a
    dataclass as its class and ``init`` fields."""

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj: object) -> object:
            if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
                return type(obj), tuple(getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init)
            return NotImplemented

    buffer = io.BytesIO()
    pickler = Pickler(buffer, protocol=5)
    pickler.fast = True
    pickler.dump(value)
    return buffer.getvalue()


def test_the_encoding_is_the_documented_one() -> None:
    """The module docstring's definition, written out by hand for ``_building([1, 2, 3])``."""
    starts = np.arange(3, dtype=np.int64) * 3_600_000_000 + 1_767_214_800_000_000
    tariff = Tariff(Service.ELECTRICITY, date(2025, 1, 1), {Zone.SINGLE: D("6.43")})
    meter = (
        "valid",  # status by its value
        None,  # zone_volumes
        (("<i8", (3,), starts.tobytes()), ("<i8", (3,), np.array([1, 2, 3], np.int64).tobytes()), None),
        (),  # history
        0,  # consecutive_average_periods
        False,  # being_replaced
        (),  # parts
    )
    account = ("LS-1", "50.0", True, 2, 0, (("electricity", meter, None, True, False),))
    encoded = ("B1", "Europe/Moscow", "100", "10", (account,), (_unshared_pickle(tariff),), (), ())
    expected = hashlib.sha256(b"meterhub engine input, encoding 2\n" + marshal.dumps(encoded, 2)).hexdigest()
    assert input_digest(_building([1, 2, 3])) == expected


def test_the_fast_encoding_lists_every_field() -> None:
    """A field added to a class of the input must be added to the digest's encoding (until then the
    digest falls back to the pickle of the whole input: correct, but ≈ 4× the CPU)."""
    for cls, names in digest_module.ENCODED_FIELDS.items():
        assert tuple(f.name for f in dataclasses.fields(cls)) == names, cls.__name__
    assert digest_module._ENCODING_COMPLETE


def test_a_value_of_another_type_in_a_slot_changes_the_digest() -> None:
    """A ``str`` where a ``Decimal`` belongs, an ``int`` for a ``Decimal``, ``1`` for ``True``: each is a
    different input for the engine, so a different digest (the slot's odd value goes in as its pickle)."""
    base = _building([1, 2, 3])
    account = base.accounts[0]
    variants = [
        dataclasses.replace(base, accounts=(dataclasses.replace(account, area="50.0"),)),  # type: ignore[arg-type]
        dataclasses.replace(base, accounts=(dataclasses.replace(account, residents=D(2)),)),
        dataclasses.replace(base, accounts=(dataclasses.replace(account, residential=1),)),  # type: ignore[arg-type]
        dataclasses.replace(base, total_area=100),  # type: ignore[arg-type]
    ]
    digests = {input_digest(base), *map(input_digest, variants)}
    assert len(digests) == 1 + len(variants)


def test_sharing_of_equal_objects_does_not_matter() -> None:
    """Two accounts on one plan share its tuple of tariffs in the loader; built separately, the same."""
    plan = (Tariff(Service.ELECTRICITY, date(2025, 1, 1), {Zone.SINGLE: D("6.43")}, name="plan"),)
    other = (Tariff(Service.ELECTRICITY, date(2025, 1, 1), {Zone.SINGLE: D("6.43")}, name="plan"),)
    base = _building([1, 2, 3])
    shared = dataclasses.replace(base, account_tariffs={"LS-1": plan, "LS-2": plan})
    separate = dataclasses.replace(base, account_tariffs={"LS-1": plan, "LS-2": other})
    assert input_digest(shared) == input_digest(separate)


# --- random inputs -----------------------------------------------------------------------------------

_decimals = st.one_of(
    st.decimals(min_value=-(10**6), max_value=10**6, allow_nan=False, allow_infinity=False),
    st.sampled_from([D("4.5"), D("4.50"), D("0"), D("-0"), D("0E+2"), D("1E-30")]),
)
_texts = st.text(max_size=5)
_days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1))
_zone_maps = st.dictionaries(st.sampled_from(list(Zone)), _decimals, max_size=3)


@st.composite
def _hourly(draw: st.DrawFn) -> HourlySeries:
    n = draw(st.integers(0, 4))
    starts = np.array(draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n)), np.int64)
    if draw(st.booleans()):
        values = draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n))
        return HourlySeries.from_micro(starts, np.array(values, np.int64))
    return HourlySeries(starts, volumes=tuple(draw(st.lists(_decimals, min_size=n, max_size=n))))


_parts = st.builds(
    StatePart,
    start=_days,
    end=_days,
    status=st.sampled_from(list(MeterStatus)),
    zone_volumes=st.none() | _zone_maps,
    hourly=st.none() | _hourly(),
    being_replaced=st.booleans(),
    source=_texts,
)
_meters = st.builds(
    MeterPeriod,
    status=st.sampled_from(list(MeterStatus)),
    zone_volumes=st.none() | _zone_maps,
    hourly=st.none() | _hourly(),
    history=st.lists(_zone_maps, max_size=2).map(tuple),
    consecutive_average_periods=st.integers(0, 5),
    being_replaced=st.booleans(),
    parts=st.lists(_parts, max_size=2).map(tuple),
)
_consumers = st.builds(
    ServiceConsumer,
    service=st.sampled_from(list(Service)),
    meter=st.none() | _meters,
    normative=st.none() | _decimals,
    meter_obligatory_and_possible=st.booleans(),
    repeat_access_refusal=st.booleans(),
)
_accounts = st.builds(
    AccountInput,
    account=_texts,
    area=_decimals,
    residential=st.booleans(),
    residents=st.integers(0, 5) | _decimals,
    owners=st.integers(0, 3),
    services=st.lists(_consumers, max_size=3).map(tuple),
)
_tariffs = st.builds(
    Tariff,
    service=st.sampled_from(list(Service)),
    valid_from=_days,
    prices=st.fixed_dictionaries({Zone.SINGLE: _decimals.map(abs)}),
    name=_texts,
)
_common_property = st.builds(
    CommonPropertyInput,
    service=st.sampled_from(list(Service)),
    normative_per_m2=_decimals,
    method=st.sampled_from(list(CommonPropertyMethod)),
    house_volume=st.none() | _decimals,
    hot_water_preparation_volume=st.none() | _decimals,
    history=st.lists(_decimals, max_size=2).map(tuple),
    consecutive_average_periods=st.integers(0, 5),
)
_buildings = st.builds(
    BuildingInput,
    building=_texts,
    time_zone=st.sampled_from(["Europe/Moscow", "Asia/Omsk"]),
    total_area=_decimals,
    common_area=_decimals,
    accounts=st.lists(_accounts, max_size=3).map(tuple),
    tariffs=st.lists(_tariffs, max_size=2).map(tuple),
    common_property=st.lists(_common_property, max_size=2).map(tuple),
    account_tariffs=st.dictionaries(_texts, st.lists(_tariffs, max_size=2).map(tuple), max_size=2),
)


def _leaves(obj: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every changeable value of the input with its path (fields, items, dict keys and values, array
    elements); a tariff's zone schedule is left whole (its own tests cover its digest)."""
    if isinstance(obj, ZoneSchedule):
        return []
    if dataclasses.is_dataclass(obj):
        found = []
        for f in dataclasses.fields(obj):
            if f.init:
                found += _leaves(getattr(obj, f.name), (*path, ("field", f.name)))
        return found
    if isinstance(obj, tuple):
        return [leaf for i, item in enumerate(obj) for leaf in _leaves(item, (*path, ("item", i)))]
    if isinstance(obj, dict):
        found = [(((*path, ("key", k))), k) for k in obj]
        return found + [leaf for k, v in obj.items() for leaf in _leaves(v, (*path, ("value", k)))]
    if isinstance(obj, np.ndarray):
        return [((*path, ("element", i)), obj[i]) for i in range(len(obj))]
    if obj is None:
        return []
    return [(path, obj)]


def _changed(value: Any, how: int) -> Any:
    """Another value of the same type (a ``Decimal``: another value, or the same value with one more
    digit — the engine sees ``4.50`` and ``4.5`` differently)."""
    if isinstance(value, enum.Enum):
        members = [m for m in type(value) if m is not value]
        assume(members)
        return members[how % len(members)]
    if isinstance(value, bool | np.bool_):
        return not value
    if isinstance(value, int | np.integer):
        return value ^ 1
    if isinstance(value, D):
        with localcontext(prec=200):
            if how % 2:
                return value + 1
            return value.quantize(D(1).scaleb(value.as_tuple().exponent - 1))  # type: ignore[operator]
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, date):
        return value + timedelta(days=1)
    raise AssertionError(f"no change for {value!r}")


def _replaced(obj: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    (kind, at), rest = path[0], path[1:]
    if kind == "field":
        return dataclasses.replace(obj, **{at: _replaced(getattr(obj, at), rest, new)})
    if kind == "item":
        return (*obj[:at], _replaced(obj[at], rest, new), *obj[at + 1 :])
    if kind == "value":
        return {k: _replaced(v, rest, new) if k == at else v for k, v in obj.items()}
    if kind == "key":
        assume(new not in obj)
        return {(new if k == at else k): v for k, v in obj.items()}
    copy = obj.copy()
    copy[at] = new
    return copy


def _rebuilt(obj: Any) -> Any:
    """The same value built again: fresh objects everywhere, nothing shared."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, ZoneSchedule):
        return type(obj)(
            **{f.name: _rebuilt(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
        )
    if isinstance(obj, tuple):
        return tuple(_rebuilt(item) for item in obj)
    if isinstance(obj, dict):
        return {_rebuilt(k): _rebuilt(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return np.array(obj.tolist(), dtype=obj.dtype)
    if isinstance(obj, D):
        return D(str(obj))
    if isinstance(obj, str) and not isinstance(obj, enum.Enum):
        return "".join(list(obj + "!"))[:-1]
    if isinstance(obj, date):
        return date(obj.year, obj.month, obj.day)
    return obj


_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_buildings)
def test_equal_inputs_built_separately_have_equal_digests(building: BuildingInput) -> None:
    again = _rebuilt(building)
    assert again is not building
    assert input_digest(again) == input_digest(building)


@_SETTINGS
@given(_buildings, st.data())
def test_changing_any_field_changes_the_digest(building: BuildingInput, data: st.DataObject) -> None:
    leaves = _leaves(building)
    assume(leaves)
    path, value = leaves[data.draw(st.integers(0, len(leaves) - 1), label="leaf")]
    new = _changed(value, data.draw(st.integers(0, 10), label="how"))
    try:
        changed = _replaced(building, path, new)
    except (ValueError, TypeError):
        assume(False)  # the change makes an invalid input (e.g. a tariff's end before its start)
    assert input_digest(changed) != input_digest(building), path


@pytest.mark.parametrize("complete", [True, False])
def test_without_the_fast_encoding_the_digest_is_the_pickle(monkeypatch, complete: bool) -> None:
    """A class that gained a field falls back to the whole input's pickle (still a valid digest)."""
    monkeypatch.setattr(digest_module, "_ENCODING_COMPLETE", complete)
    building = _building([1, 2, 3])
    assert (input_digest(building) == hashlib.sha256(_unshared_pickle(building)).hexdigest()) is not complete
