"""The fast path of :func:`~meterhub.billing.rules.building.compute_building_charges`: the same lines, fewer
Python layers per line (быстрый путь расчёта).

The reference path decides every account's volumes and builds every line through the general functions
of :mod:`.volumes` and :mod:`.charges` (each re-derives tariff parts, enters the Decimal context, checks
its inputs, splits one hourly series). Most accounts of a building are the same few shapes, so this path
does per building what does not depend on the account and keeps per account only the arithmetic:

* **volumes** — a valid meter with register (zone) volumes that are already exact ``Decimal`` s keyed by
  :class:`Zone` is taken as the reference's :func:`~.volumes.decide_individual_volume` takes it (formula
  1, with п. 38 for zones); wastewater without a meter is the sum of cold and hot water with the weakest
  method. Everything else — hourly meters, averages, normatives (×1.5), invalid values — goes through
  the reference decision itself;
* **hourly series** — all hourly series of a building with the same hour starts (in the close, every
  hourly meter of the building over the same local month) are split in one numpy pass: local day and
  hour, tariff part and zone once for the shared starts, then exact integer sums per meter and zone
  (int64 micro-units, as :meth:`~.zones.HourlySeries.sum_by_group`);
* **lines** — tariff parts and their checks once per (tariff book, service); the line arithmetic of
  :func:`~.charges._line` (``volume × price × coefficient``, half-up kopeck rounding after the 1e-32 guard
  snap, which is a no-op for amounts with at most 32 decimals and is applied as in
  :func:`~.rounding.round_money` otherwise).

What it does not handle falls back to the reference functions *per account* (or per service for
volumes): a tariff priced on the wrong basis, an input of another type, a series with decimal volumes
or its own hour starts, any error (the reference then raises its own message). The property test
``tests/billing/test_engine_fast_path.py`` compares both paths' whole results on random buildings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from meterhub.billing.rules.charges import (
    MAINTENANCE_FORMULA,
    AccountCharges,
    AccountInput,
    BillingRules,
    ChargeKind,
    ChargeLine,
    CommonPropertyShare,
    _decide,
    _zones_for_tariff,
    check_services_listed_once,
    compute_account_charges,
)
from meterhub.billing.rules.common_property import SHARE_QUANTUM, allocate_common_property_volume
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import _ENGINE, KOPECK, MONEY_GUARD_QUANTUM, to_decimal
from meterhub.billing.rules.tariffs import (
    _EPOCH_DATE,
    SERVICE_UNITS,
    PriceBasis,
    Service,
    TariffBook,
    TariffPart,
    part_zone_groups,
    prorate_by_days,
)
from meterhub.billing.rules.volumes import (
    WASTEWATER_FORMULA,
    IndividualVolume,
    MeterStatus,
    ServiceConsumer,
    VolumeMethod,
    VolumeRules,
)
from meterhub.billing.rules.zones import HourlySeries, Zone, ZoneScheme, local_days_and_hours

__all__ = [
    "allocate_common_property",
    "common_property_shares",
    "fast_account_charges",
    "fast_account_volumes",
    "individual_total",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)
# an enum member looked up on its class costs ~0.5 µs in Python 3.11: the hot loops use these names
_SINGLE, _DAY, _NIGHT, _PEAK, _SEMI_PEAK = Zone.SINGLE, Zone.DAY, Zone.NIGHT, Zone.PEAK, Zone.SEMI_PEAK
_MAINTENANCE, _WASTEWATER = Service.MAINTENANCE, Service.WASTEWATER
_INDIVIDUAL, _COMMON_PROPERTY = ChargeKind.INDIVIDUAL, ChargeKind.COMMON_PROPERTY
_VALID, _METER = MeterStatus.VALID, VolumeMethod.METER
_SINGLE_RATE, _TWO_ZONE = ZoneScheme.SINGLE_RATE, ZoneScheme.TWO_ZONE


def _fast_constructor(cls: type, names: tuple[str, ...]) -> Callable[..., Any]:
    """A function building an instance of the frozen dataclass ``cls`` from all its fields, positionally.

    A frozen dataclass's ``__init__`` sets each field through a global lookup of ``object.__setattr__``
    and an attribute call (≈ 4 µs for a ChargeLine's 18 fields, the largest single cost of a line); the
    function generated here sets the same attributes in the same order through a local name, so the
    instance is the same (Python 3.11's inline attribute values included: the cyclic collector sees one
    object, as for ``__init__``). Checked at import: ``cls`` must still be a frozen dataclass with exactly
    these fields, no defaults computed by factories at init, and no ``__post_init__`` or slots.
    """
    fields = tuple(f.name for f in dataclasses.fields(cls))
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if fields != names or not params.frozen or hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
        raise RuntimeError(f"fast_path: {cls.__name__} changed ({fields}); update its fast constructor")
    body = "".join(f"    set_attr(instance, {name!r}, {name})\n" for name in names)
    source = f"def construct({', '.join(names)}):\n    instance = new(cls)\n{body}    return instance\n"
    namespace: dict[str, Any] = {"new": object.__new__, "set_attr": object.__setattr__, "cls": cls}
    exec(source, namespace)  # the way dataclasses builds __init__
    return namespace["construct"]


_new_line = _fast_constructor(
    ChargeLine,
    (
        "account",
        "period",
        "service",
        "kind",
        "zone",
        "volume",
        "unit",
        "tariff",
        "method",
        "formula",
        "amount_exact",
        "amount",
        "part_start",
        "part_end",
        "coefficient",
        "amount_without_coefficient",
        "excess",
        "note",
    ),
)
_new_share = _fast_constructor(CommonPropertyShare, ("service", "volume", "method", "formula"))
_new_volume = _fast_constructor(
    IndividualVolume,
    (
        "service",
        "method",
        "formula",
        "zone_volumes",
        "hourly",
        "coefficient",
        "persons",
        "normative",
        "average_months",
        "note",
        "parts",
    ),
)
_METER_FORMULA = "ПП 354, Прил. 2, ф. 1"
_METER_ZONES_FORMULA = "ПП 354, Прил. 2, ф. 1; п. 38 (зоны суток)"
_METHOD_RANK = {
    VolumeMethod.METER: 0,
    VolumeMethod.AVERAGE: 1,
    VolumeMethod.NORMATIVE: 2,
    VolumeMethod.NORMATIVE_X1_5: 2,
}
_METHOD_VALUE = {m: m.value for m in VolumeMethod}
_AREA = VolumeMethod.AREA.value
_RANKED = (VolumeMethod.METER, VolumeMethod.AVERAGE, VolumeMethod.NORMATIVE)


# --- volumes -------------------------------------------------------------------------------------------


def fast_account_volumes(account: AccountInput, rules: VolumeRules) -> dict[Service, IndividualVolume]:
    """:func:`~.charges.account_volumes`, with register-metered services and derived wastewater inline."""
    decided: dict[Service, IndividualVolume] = {}
    check_services_listed_once(account)
    wastewater: ServiceConsumer | None = None
    for consumer in account.services:
        service = consumer.service
        if service is _MAINTENANCE:
            continue
        if service is _WASTEWATER and consumer.meter is None:
            wastewater = consumer
            continue
        decided[service] = _metered_registers(consumer) or _decide(account, consumer, rules)
    if wastewater is not None:
        water = [decided[s] for s in (Service.COLD_WATER, Service.HOT_WATER) if s in decided]
        decided[_WASTEWATER] = _wastewater(water) if water else _decide(account, wastewater, rules)
    return decided


def _metered_registers(consumer: ServiceConsumer) -> IndividualVolume | None:
    """A valid meter's register volumes (when they need no conversion or check) or hourly series in
    micro-units, as :func:`~.volumes.decide_individual_volume` takes them; else ``None``."""
    meter = consumer.meter
    if meter is None or meter.status is not _VALID or meter.parts:
        return None
    zone_volumes = meter.zone_volumes
    if zone_volumes is None:
        hourly = meter.hourly
        if hourly is None or hourly.volume_micro is None:
            return None
        return _new_volume(  # type: ignore[return-value]
            consumer.service,
            _METER,
            _METER_ZONES_FORMULA,
            {_SINGLE: hourly.total()},
            hourly,
            _ONE,
            None,
            None,
            None,
            "",
            (),
        )
    zones: dict[Zone, Decimal] = {}
    for z, v in zone_volumes.items():
        if type(z) is not Zone or type(v) is not Decimal or not v.is_finite() or v < 0:
            return None  # the reference converts, or raises with its message
        zones[z] = v
    single = len(zones) == 0 or (len(zones) == 1 and _SINGLE in zones)
    return _new_volume(  # type: ignore[return-value]
        consumer.service,
        _METER,
        _METER_FORMULA if single else _METER_ZONES_FORMULA,
        zones,
        None,
        _ONE,
        None,
        None,
        None,
        "",
        (),
    )


def _total(volume: IndividualVolume) -> Decimal:
    """:attr:`IndividualVolume.total` inside the engine context the caller holds."""
    return sum(volume.zone_volumes.values(), _ZERO)


def common_property_shares(
    service: Service, allocated: Mapping[str, Decimal], method: str, formula: str
) -> dict[str, CommonPropertyShare]:
    """The :class:`CommonPropertyShare` of every account of one service (one dict per building)."""
    return {account: _new_share(service, v, method, formula) for account, v in allocated.items()}


def allocate_common_property(
    distributed: Decimal, areas: Mapping[str, Decimal], total_area: Decimal
) -> dict[str, Decimal]:
    """:func:`~.common_property.allocate_common_property_volume` for areas the building has converted
    already (``Decimal`` s): the same operations in the same engine context, without a conversion, a
    context entry and a function call per account. Other inputs go to the reference."""
    if (
        type(distributed) is not Decimal
        or type(total_area) is not Decimal
        or not distributed.is_finite()
        or not total_area.is_finite()
        or total_area <= 0
        or any(type(a) is not Decimal or not a.is_finite() or a < 0 for a in areas.values())
    ):
        return allocate_common_property_volume(distributed, areas, total_area)
    with localcontext(_ENGINE):
        exact = {acc: distributed * a / total_area for acc, a in areas.items()}
        target = (distributed * sum(areas.values(), _ZERO) / total_area).quantize(SHARE_QUANTUM)
        shares = {acc: v.quantize(SHARE_QUANTUM, ROUND_DOWN) for acc, v in exact.items()}
        leftover = int((target - sum(shares.values(), _ZERO)) / SHARE_QUANTUM)
        if leftover:
            order = sorted(shares, key=lambda acc: exact[acc] - shares[acc], reverse=True)
            step = SHARE_QUANTUM if leftover > 0 else -SHARE_QUANTUM
            for acc in order[: abs(leftover)]:
                shares[acc] += step
        return {
            acc: v.quantize(_ONE) if v == v.to_integral_value() else v.normalize()
            for acc, v in shares.items()
        }


def individual_total(volumes: Mapping[str, Mapping[Service, IndividualVolume]], service: Service) -> Decimal:
    """Σ_u V_u of ``service`` over all accounts [unit], as the reference sums ``IndividualVolume.total``
    (engine context held by the caller)."""
    return sum((_total(v[service]) for v in volumes.values() if service in v), _ZERO)


def _wastewater(components: Sequence[IndividualVolume]) -> IndividualVolume:
    """:func:`~.volumes.wastewater_volume` of one or two decided water volumes (engine context held)."""
    total = sum((_total(c) for c in components), _ZERO)
    method = _RANKED[max(_METHOD_RANK[c.method] for c in components)]
    parts = " + ".join(f"{c.service} {c.method}" for c in components)
    return _new_volume(  # type: ignore[return-value]
        _WASTEWATER,
        method,
        WASTEWATER_FORMULA,
        {_SINGLE: total},
        None,
        _ONE,
        None,
        None,
        None,
        f"sum of {parts}",
        (),
    )


# --- hourly series, one pass per building ---------------------------------------------------------------


class _HourlySplitter:
    """Zone volumes per tariff part of many hourly series over the same hour starts (one numpy pass)."""

    def __init__(self, tz: ZoneInfo, period: BillingPeriod) -> None:
        self.tz = tz
        self.period = period
        self.first = (period.first_day - _EPOCH_DATE).days
        self.end = (period.end_day - _EPOCH_DATE).days
        self._starts: list[np.ndarray] = []
        self._local: list[tuple[np.ndarray, np.ndarray] | None] = []
        self._groups: dict[tuple[int, int], tuple[np.ndarray, int] | None] = {}

    def _starts_index(self, starts: np.ndarray) -> int:
        for i, known in enumerate(self._starts):
            if known is starts or (known.shape == starts.shape and np.array_equal(known, starts)):
                return i
        self._starts.append(starts)
        local_day, local_hour = local_days_and_hours(starts, self.tz)
        inside = not np.any((local_day < self.first) | (local_day >= self.end))
        self._local.append((local_day, local_hour) if inside else None)
        return len(self._starts) - 1

    def groups(self, series: HourlySeries, parts: Sequence[TariffPart]) -> tuple[np.ndarray, int] | None:
        """Group index (tariff part × zone) of each hour and the number of groups; ``None`` = fallback."""
        micro, starts = series.volume_micro, series.hour_starts_us
        if micro is None or micro.dtype != np.int64 or starts.dtype != np.int64 or micro.ndim != 1:
            return None
        index = self._starts_index(series.hour_starts_us)
        key = (index, id(parts))
        if key not in self._groups:
            self._groups[key] = self._split_groups(index, parts)
        return self._groups[key]

    def _split_groups(self, index: int, parts: Sequence[TariffPart]) -> tuple[np.ndarray, int] | None:
        local = self._local[index]
        if local is None:
            return None  # hours outside the month: the reference raises
        local_day, local_hour = local
        return part_zone_groups(parts, local_day, local_hour, self.first, self.end)


def _split_hourly(
    requests: list[tuple[HourlySeries, Sequence[TariffPart]]], splitter: _HourlySplitter
) -> list[list[dict[Zone, Decimal]] | None]:
    """:func:`~.tariffs.split_hourly_by_part` of every request (``None`` where the reference must do it)."""
    results: list[list[dict[Zone, Decimal]] | None] = [None] * len(requests)
    batches: dict[tuple[int, int], list[int]] = {}
    grouping: dict[tuple[int, int], tuple[np.ndarray, int]] = {}
    for r, (series, parts) in enumerate(requests):
        found = splitter.groups(series, parts)
        if found is None:
            continue
        key = (id(found[0]), id(parts))
        grouping[key] = found
        batches.setdefault(key, []).append(r)
    for key, members in batches.items():
        groups, n_groups = grouping[key]
        volumes = np.stack([requests[r][0].volume_micro for r in members]).astype(np.int64, copy=False)
        sums = np.zeros((len(members), n_groups), dtype=np.int64)
        for g in range(n_groups):
            sums[:, g] = volumes[:, groups == g].sum(axis=1, dtype=np.int64)
        parts = requests[members[0]][1]
        for row, r in enumerate(members):
            values = [Decimal(s).scaleb(-6) for s in sums[row].tolist()]
            per_part: list[dict[Zone, Decimal]] = []
            offset = 0
            for part in parts:
                zones = part.tariff.scheme.zones
                per_part.append(dict(zip(zones, values[offset : offset + len(zones)], strict=True)))
                offset += len(zones)
            results[r] = per_part
    return results


# --- lines ---------------------------------------------------------------------------------------------


def _round(exact: Decimal) -> Decimal:
    """:func:`~.rounding.round_money` of an exact product (a ``Decimal`` already: no conversion)."""
    return exact.quantize(MONEY_GUARD_QUANTUM, ROUND_HALF_EVEN, context=_ENGINE).quantize(
        KOPECK, ROUND_HALF_UP, context=_ENGINE
    )


class _Priced:
    """A tariff part with what its lines read: prices by zone, the part's days, the unit."""

    __slots__ = ("end", "part", "prices", "start", "unit")

    def __init__(self, part: TariffPart, unit: str) -> None:
        self.part = part
        self.prices = {
            z: part.tariff.price(z) for z in (*part.tariff.scheme.zones, _SINGLE) if part.tariff.has_price(z)
        }
        self.start = part.start
        self.end = part.end
        self.unit = unit


class _Plans:
    """Tariff parts per (tariff book, service), checked once: ``None`` when the price basis is wrong."""

    def __init__(self, period: BillingPeriod) -> None:
        self.period = period
        self._parts: dict[tuple[int, Service], list[TariffPart] | None] = {}
        self._priced: dict[tuple[int, Service, bool], list[_Priced] | None] = {}

    def parts(self, book: TariffBook, service: Service) -> list[TariffPart] | None:
        key = (id(book), service)
        if key not in self._parts:
            parts = book.parts(service, self.period)
            basis = PriceBasis.PER_M2 if service is _MAINTENANCE else PriceBasis.PER_UNIT
            ok = all(part.tariff.basis is basis for part in parts)
            self._parts[key] = parts if ok else None
        return self._parts[key]

    def priced(self, book: TariffBook, service: Service, checked: bool = True) -> list[_Priced] | None:
        """The parts with their prices; ``checked=False`` skips the basis check (common property)."""
        key = (id(book), service, checked)
        if key not in self._priced:
            parts = self.parts(book, service) if checked else book.parts(service, self.period)
            unit = SERVICE_UNITS[service]
            self._priced[key] = None if parts is None else [_Priced(part, unit) for part in parts]
        return self._priced[key]


class _Fallback(Exception):
    """The account leaves the fast path (the reference computes it, and raises where it must)."""


def _line(
    account: str,
    period: BillingPeriod,
    service: Service,
    kind: ChargeKind,
    zone: Zone,
    volume: Decimal,
    priced: _Priced,
    method: str,
    formula: str,
    coefficient: Decimal,
    note: str,
) -> ChargeLine:
    price = priced.prices[zone]  # KeyError: the reference raises its message
    base_exact = volume * price
    if coefficient is _ONE:
        exact = base_exact * coefficient
        amount = _round(exact)
        without = None
        excess = Decimal(0)
    else:
        exact = base_exact * coefficient
        amount = _round(exact)
        if coefficient != 1:
            without = _round(base_exact)
            excess = amount - without
        else:
            without = None
            excess = Decimal(0)
    return _new_line(  # type: ignore[return-value]
        account,
        period,
        service,
        kind,
        zone,
        volume,
        priced.unit,
        price,
        method,
        formula,
        exact,
        amount,
        priced.start,
        priced.end,
        coefficient,
        without,
        excess,
        note,
    )


def _zones(zone_volumes: Mapping[Zone, Decimal], part: TariffPart) -> Mapping[Zone, Decimal]:
    """:func:`~.charges._zones_for_tariff` with its two common cases inline (engine context held)."""
    tariff = part.tariff
    scheme = tariff.scheme
    if len(zone_volumes) == 1 and _SINGLE in zone_volumes:
        if scheme is _SINGLE_RATE or tariff.has_price(_SINGLE):
            return {_SINGLE: zone_volumes[_SINGLE]}
    elif scheme is _TWO_ZONE and _SINGLE not in zone_volumes:
        get = zone_volumes.get
        day = get(_DAY, _ZERO) + get(_PEAK, _ZERO)
        day += get(_SEMI_PEAK, _ZERO)
        return {_DAY: day, _NIGHT: get(_NIGHT, _ZERO)}
    return _zones_for_tariff(zone_volumes, tariff)


def _account_lines(
    account: AccountInput,
    period: BillingPeriod,
    book: TariffBook,
    plans: _Plans,
    volumes: Mapping[Service, IndividualVolume],
    hourly: Mapping[Service, list[dict[Zone, Decimal]]],
    shares: Sequence[CommonPropertyShare],
) -> list[ChargeLine]:
    number = account.account
    lines: list[ChargeLine] = []
    append = lines.append
    for consumer in account.services:
        service = consumer.service
        priced = plans.priced(book, service)
        if priced is None:
            raise _Fallback
        if service is _MAINTENANCE:
            area = account.area
            if type(area) is not Decimal or not area.is_finite():
                area = to_decimal(area, f"account {number} area")
            if len(priced) == 1:
                append(
                    _line(
                        number,
                        period,
                        service,
                        _INDIVIDUAL,
                        _SINGLE,
                        area,
                        priced[0],
                        _AREA,
                        MAINTENANCE_FORMULA,
                        _ONE,
                        "",
                    )
                )
                continue
            parts = [p.part for p in priced]
            for p, share in zip(priced, prorate_by_days(area, parts, period), strict=True):
                append(
                    _line(
                        number,
                        period,
                        service,
                        _INDIVIDUAL,
                        _SINGLE,
                        share,
                        p,
                        _AREA,
                        MAINTENANCE_FORMULA,
                        _ONE,
                        "",
                    )
                )
            continue
        volume = volumes[service]
        if volume.parts:
            raise _Fallback  # a meter state change inside the period: the reference prices each part
        if volume.hourly is not None:
            per_part = hourly.get(service)
            if per_part is None:
                raise _Fallback
        elif len(priced) == 1:
            per_part = [volume.zone_volumes]
        else:
            parts = [p.part for p in priced]
            by_zone = {z: prorate_by_days(v, parts, period) for z, v in volume.zone_volumes.items()}
            per_part = [{z: shares_[i] for z, shares_ in by_zone.items()} for i in range(len(parts))]
        method = _METHOD_VALUE[volume.method]
        formula, coefficient, note = volume.formula, volume.coefficient, volume.note
        for p, zone_volumes in zip(priced, per_part, strict=True):
            for zone, v in _zones(zone_volumes, p.part).items():
                append(
                    _line(
                        number, period, service, _INDIVIDUAL, zone, v, p, method, formula, coefficient, note
                    )
                )
    for cp in shares:
        priced = plans.priced(book, cp.service, checked=False)
        assert priced is not None
        if len(priced) == 1:
            append(
                _line(
                    number,
                    period,
                    cp.service,
                    _COMMON_PROPERTY,
                    _SINGLE,
                    cp.volume,
                    priced[0],
                    cp.method,
                    cp.formula,
                    _ONE,
                    "",
                )
            )
            continue
        parts = [p.part for p in priced]
        for p, v in zip(priced, prorate_by_days(cp.volume, parts, period), strict=True):
            append(
                _line(
                    number,
                    period,
                    cp.service,
                    _COMMON_PROPERTY,
                    _SINGLE,
                    v,
                    p,
                    cp.method,
                    cp.formula,
                    _ONE,
                    "",
                )
            )
    return lines


def fast_account_charges(
    accounts: Sequence[AccountInput],
    period: BillingPeriod,
    tz: ZoneInfo,
    book_of: Callable[[str], TariffBook],
    volumes: Mapping[str, Mapping[Service, IndividualVolume]],
    shares: Mapping[str, Sequence[CommonPropertyShare]],
    rules: BillingRules,
) -> list[AccountCharges]:
    """Every account's :class:`AccountCharges`, equal to :func:`~.charges.compute_account_charges` with
    the same volumes and shares (which computes the accounts this path does not handle).

    Runs inside the caller's engine context.
    """
    plans = _Plans(period)
    splitter = _HourlySplitter(tz, period)
    requests: list[tuple[HourlySeries, Sequence[TariffPart]]] = []
    owners: list[tuple[int, Service]] = []
    books = [book_of(a.account) for a in accounts]
    for index, (account, book) in enumerate(zip(accounts, books, strict=True)):
        for service, volume in volumes[account.account].items():
            if volume.hourly is not None:
                try:
                    parts = plans.parts(book, service)
                except ValueError:
                    continue  # no tariff: the reference raises for this account
                if parts is not None:
                    requests.append((volume.hourly, parts))
                    owners.append((index, service))
    hourly: list[dict[Service, list[dict[Zone, Decimal]]]] = [{} for _ in accounts]
    for (index, service), split in zip(owners, _split_hourly(requests, splitter), strict=True):
        if split is not None:
            hourly[index][service] = split
    result = []
    for account, book, own_hourly in zip(accounts, books, hourly, strict=True):
        number = account.account
        decided = volumes[number]
        try:
            lines = _account_lines(account, period, book, plans, decided, own_hourly, shares[number])
        except Exception:
            result.append(
                compute_account_charges(
                    account, period, book, tz, common_property=shares[number], rules=rules, volumes=decided
                )
            )
            continue
        result.append(AccountCharges(number, period, dict(decided), tuple(lines)))
    return result
