"""A meter's data for one billing period, from the time series: is it valid, and in which form.

Two sources, chosen per meter:

* **hourly** — the meter has rows in ``hourly_consumption`` for the local month: a register is valid
  when every hour of the month has a billable volume (complete) and no hour is suspect;
* **register delta** — the meter has no hourly rows (monthly or manual readings): the value of each
  cumulative register at the two month boundaries (latest valid reading at or before the boundary, no
  older than ``register_max_age``), ``V = (end − start) × multiplier``, a falling counter on a meter with
  ``register_digits`` wrapping at 10^digits.

A meter whose verification is due before the end of the period (``verification_due < end_day``) is
not valid (ПП 354 п. 59 «а»), whatever its data; so is one whose recorded state (``meter_states``:
failed, being replaced, verification expired) is not ``working`` (:func:`group_state`,
:func:`meter_state_period`). When the state changes inside the period (a state row dated inside it, or
the verification date), the period is split (:func:`state_timeline`, :func:`meter_state_parts`): the
working days are metered from the readings at the parts' ends, the others averaged pro rata by days.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from meterhub.billing.rules.periods import local_midnight_utc
from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, StatePart
from meterhub.billing.rules.zones import HourlySeries, Zone, zone_volumes_from_registers

if TYPE_CHECKING:  # row types of the readers that feed these rules; the rules never read them themselves
    from meterhub.billing.close.repository import CounterEventRow, MeterLinkRow
    from meterhub.timeseries.bulk_reads import RegisterValue
    from meterhub.timeseries.queries import PeriodTotal

__all__ = [
    "SERVICE_REGISTERS",
    "MeterData",
    "MeterProblem",
    "RegisterWindow",
    "group_state",
    "meter_data_from_hourly",
    "meter_data_from_registers",
    "meter_state_parts",
    "meter_state_parts_hourly",
    "meter_state_period",
    "state_timeline",
]


@dataclass(frozen=True)
class ServiceRegisters:
    """The register holding a service's total and the tariff registers (label → register name)."""

    total: str
    tariff: Mapping[str, str] = field(default_factory=dict)


SERVICE_REGISTERS: Mapping[str, ServiceRegisters] = {
    "electricity": ServiceRegisters(
        "energy_import_kwh",
        {"T1": "energy_import_t1_kwh", "T2": "energy_import_t2_kwh", "T3": "energy_import_t3_kwh"},
    ),
    "cold_water": ServiceRegisters("water_m3"),
    "hot_water": ServiceRegisters("water_m3"),
    "wastewater": ServiceRegisters("water_m3"),
    "heat": ServiceRegisters("heat_gcal"),
}
"""Which registers of a meter the close reads for each service."""


class MeterProblem(StrEnum):
    """Why a meter has no valid reading for the period (report categories)."""

    EXPIRED = "verification_expired"
    SUSPECT = "suspect_data"
    INCOMPLETE = "incomplete"
    NO_DATA = "no_data"


@dataclass
class MeterData:
    """What a meter offers for the period: zone volumes from tariff registers, the total, or an hourly
    series (``hourly_key`` = (meter, register) to fetch); ``problem`` set when not valid."""

    link: MeterLinkRow
    source: str  # "hourly" or "registers"
    zones: dict[Zone, Decimal] | None = None
    total: Decimal | None = None
    hourly_key: tuple[str, str] | None = None
    problem: MeterProblem | None = None
    detail: str = ""
    hours_present: int = 0
    hours_expected: int = 0

    @property
    def valid(self) -> bool:
        return self.problem is None


def _expired(link: MeterLinkRow, end_day: date) -> MeterData | None:
    if link.verification_due is not None and link.verification_due < end_day:
        return MeterData(
            link,
            "none",
            problem=MeterProblem.EXPIRED,
            detail=f"meter {link.meter_id}: verification was due {link.verification_due}",
        )
    return None


def meter_data_from_hourly(link: MeterLinkRow, totals: Mapping[str, PeriodTotal], end_day: date) -> MeterData:
    """From the meter's ``period_totals`` per register (hourly rows exist for the period).

    Volumes are kept for an incomplete meter too (with ``hours_present``), so a meter replaced inside
    the period can be combined with its successor; ``problem`` says whether the meter alone is valid.
    """
    expired = _expired(link, end_day)
    if expired:
        return expired
    regs = SERVICE_REGISTERS[link.service]
    data = MeterData(link, "hourly")
    tariff = {label: totals[name] for label, name in regs.tariff.items() if name in totals}
    total = totals.get(regs.total)
    present = [t for t in (total, *tariff.values()) if t is not None]
    if not present:
        data.problem, data.detail = MeterProblem.NO_DATA, f"meter {link.meter_id}: no {regs.total} hours"
        return data
    suspect = next((t for t in present if t.suspect_hours), None)
    if suspect is not None:
        data.problem = MeterProblem.SUSPECT
        data.detail = f"meter {link.meter_id}: {suspect.suspect_hours} suspect hour(s) in {suspect.register}"
        return data
    data.hours_present = max(t.hours_present for t in present)
    data.hours_expected = present[0].hours_expected
    if len(tariff) >= 2 and all(t.hours_present == data.hours_present for t in tariff.values()):
        data.zones = zone_volumes_from_registers({label: t.volume for label, t in tariff.items()})
    if total is not None and total.hours_present == data.hours_present:
        data.total = total.volume
        data.hourly_key = (link.meter_id, regs.total)
    elif data.zones is not None:
        with engine_context():
            data.total = sum(data.zones.values(), Decimal(0))
    if data.total is None:
        data.problem = MeterProblem.INCOMPLETE
        data.detail = f"meter {link.meter_id}: its registers cover different hours"
    elif data.hours_present < data.hours_expected:
        data.problem = MeterProblem.INCOMPLETE
        data.detail = f"meter {link.meter_id}: {data.hours_present} of {data.hours_expected} hours"
    return data


def _exact(value: float | Decimal) -> Decimal:
    """A register value as stored (float, converted by its shortest repr) or already exact (the loader's
    interpolated register at the end of an averaged run, п. 61)."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


_VOLUME_QUANTUM = Decimal("0.000001")
_ZERO = Decimal(0)
_NO_READINGS: tuple[None, None] = (None, None)


def _delta(link: MeterLinkRow, start: float | Decimal, end: float | Decimal) -> Decimal | None:
    """``(end − start) × multiplier`` [unit]; a falling counter wraps at 10^digits, else None.

    Runs in the engine context of its caller (:func:`meter_data_from_registers` enters it once per meter,
    not once per register piece)."""
    delta = _exact(end) - _exact(start)
    if delta < 0 and link.register_digits:
        delta += Decimal(10) ** link.register_digits
    if delta < 0:
        return None
    return (delta * link.multiplier).quantize(_VOLUME_QUANTUM)


@dataclass(frozen=True)
class RegisterWindow:
    """Where a register meter's boundary readings must lie: the start reading in ``(start_after,
    start_at]``, the end reading in ``(end_after, end_at]`` (``None``: no lower limit; the loader's
    ``register_max_age`` already bounds it). With the readings window (by the 25th) these are the
    previous and the current period's windows; counter events are those in ``(start_at, end_at]``."""

    start_at: datetime
    end_at: datetime
    start_after: datetime | None = None
    end_after: datetime | None = None


def _register_volume(
    link: MeterLinkRow,
    values: Sequence[RegisterValue | None],
    events: Sequence[CounterEventRow],
    window: RegisterWindow | None,
) -> Decimal | None:
    """The register's volume over the period, or None when a boundary reading is missing.

    A replacement inside the period (ПП 354 п. 81 acts, recorded in ``register_events``): on the old
    meter the removal's final reading ends the chain; on the new meter the installation's initial
    reading starts it; a ``reset`` closes one chain and opens the next. Each piece is (end − start)
    with the meter's rollover and multiplier. Runs in the engine context of its caller.
    """
    start, end = values
    if window is not None:
        if start is not None and window.start_after is not None and start.ts <= window.start_after:
            start = None
        if end is not None and window.end_after is not None and end.ts <= window.end_after:
            end = None
        if start is not None and end is not None and end.ts <= start.ts:
            end = None
    current: float | Decimal | None = None if start is None else start.value
    pieces: list[Decimal] = []
    for i, ev in enumerate(events):
        if ev.kind in ("removal", "reset"):
            if current is None or ev.value_before is None:
                return None
            piece = _delta(link, current, ev.value_before)
            if piece is None:
                return None
            pieces.append(piece)
            current = None
        if ev.kind in ("installation", "reset"):
            if current is not None and i > 0:
                return None  # two installations without a removal: inconsistent acts
            current = ev.value_after
    if events and events[-1].kind == "removal":
        pass  # the old meter's chain ends at its final reading; later readings are not its own
    elif current is None or end is None:
        return None
    else:
        if events and end.ts <= events[-1].ts:
            return None  # the end reading is older than the act: it is not a reading of this chain
        piece = _delta(link, current, end.value)
        if piece is None:
            return None
        pieces.append(piece)
    return sum(pieces, _ZERO)


def meter_data_from_registers(
    link: MeterLinkRow,
    values: Mapping[str, Sequence[RegisterValue | None]],
    end_day: date,
    *,
    events: Mapping[str, Sequence[CounterEventRow]] | None = None,
    window: RegisterWindow | None = None,
) -> MeterData:
    """From the register values at the period's two boundaries (no hourly rows for the period).

    ``values[register]`` = [start, end] readings; ``events[register]`` = the register's counter events
    inside the period (replacement acts), oldest first; ``window`` = where the readings must lie.
    """
    if events:
        removal = next((e for evs in events.values() for e in evs if e.kind == "removal"), None)
        names: Collection[str] = set(values) | set(events)
    else:
        events, removal, names = {}, None, values.keys()
    expired = _expired(link, removal.ts.date() if removal else end_day)
    if expired:
        return expired
    regs = SERVICE_REGISTERS[link.service]
    data = MeterData(link, "registers")
    with engine_context():  # once per meter: every register piece below computes in it
        tariff = {
            label: _register_volume(link, values.get(name, _NO_READINGS), events.get(name, ()), window)
            for label, name in regs.tariff.items()
            if name in names
        }
        if len(tariff) >= 2 and all(v is not None for v in tariff.values()):
            data.zones = zone_volumes_from_registers({k: v for k, v in tariff.items() if v is not None})
        if regs.total in names:
            data.total = _register_volume(
                link, values.get(regs.total, _NO_READINGS), events.get(regs.total, ()), window
            )
        if data.total is None and data.zones is not None:
            data.total = sum(data.zones.values(), _ZERO)
    if data.total is None:
        data.problem = MeterProblem.NO_DATA
        where = "in the readings windows" if window and window.start_after else "at both period boundaries"
        data.detail = f"meter {link.meter_id}: no valid register readings {where}"
    return data


def meter_state_period(state: str, service: str, supplier_duty: bool) -> MeterPeriod:
    """The :class:`MeterPeriod` of a meter whose recorded state is not ``working`` (ПП 354 п. 59 «а»)."""
    if service == "electricity" and supplier_duty and state != "being_replaced":
        return MeterPeriod(MeterStatus.FAILED_SUPPLIER_DUTY)
    return MeterPeriod(MeterStatus.FAILED, being_replaced=state == "being_replaced")


def group_state(
    group: list[MeterData], states: dict[str, tuple[str, date]], day: date
) -> tuple[str, date, str] | None:
    """(state, since, meter) of the first meter of the group linked on ``day`` whose recorded state is
    not ``working``, or None."""
    for m in group:
        link = m.link
        if (link.valid_from is not None and link.valid_from > day) or (
            link.valid_to is not None and link.valid_to <= day
        ):
            continue
        found = states.get(link.meter_id)
        if found is not None and found[0] != "working":
            return found[0], found[1], link.meter_id
    return None


def state_timeline(
    first_day: date,
    end_day: date,
    initial: str,
    changes: Sequence[tuple[date, str]],
    verification_due: date | None = None,
) -> list[tuple[date, date, str]]:
    """The meter's states over ``[first_day, end_day)`` as ``(start, end, state)`` parts, in date order.

    ``initial``: the state in force on the first day (``working`` without a row); ``changes``: the
    ``meter_states`` rows dated inside the period; a ``verification_due`` inside the period is a change to
    ``verification_expired`` on that day (a state row of the same day, e.g. ``working`` after a new
    verification, overrides it). Consecutive rows with the same state make one part.
    """
    events = [(d, 1, state) for d, state in changes if first_day < d < end_day]
    if verification_due is not None and first_day < verification_due < end_day:
        events.append((verification_due, 0, "verification_expired"))
    events.sort(key=lambda e: (e[0], e[1]))
    states: list[tuple[date, str]] = [(first_day, initial)]
    for day, _, state in events:
        if day == states[-1][0]:
            states[-1] = (day, state)  # a later row of the same day overrides
        else:
            states.append((day, state))
    merged: list[tuple[date, str]] = []
    for day, state in states:
        if not merged or merged[-1][1] != state:
            merged.append((day, state))
    ends = [day for day, _ in merged[1:]] + [end_day]
    return [(start, end, state) for (start, state), end in zip(merged, ends, strict=True)]


def meter_state_parts(
    link: MeterLinkRow,
    timeline: Sequence[tuple[date, date, str]],
    bounds: Mapping[str, Sequence[RegisterValue | None]],
    *,
    supplier_duty: bool,
    min_zones: int = 0,
    share: Decimal = Decimal(1),
) -> tuple[StatePart, ...]:
    """A register meter's :class:`~.volumes.StatePart` s over the period (``timeline`` from
    :func:`state_timeline`), × the account's ``share``.

    ``bounds[register]``: the register's reading at each boundary of the timeline (``len(timeline) + 1``
    values: the period's start reading, the reading at each event — the latest valid one at or before the
    local midnight that starts the event's day —, the period's end reading). A working part is metered
    from its two boundary readings, per tariff register when the meter has at least ``min_zones`` of
    them. A working part without both readings (no reading at the event) takes the state of the next
    other part (else the previous) and adjacent parts of one state are merged; one part left means no
    split is possible (the close then keeps the whole-month state, as without a change) [I].
    """
    other = [meter_state_period(state, link.service, supplier_duty) for _, _, state in timeline]
    parts: list[StatePart | None] = []
    for i, (start, end, state) in enumerate(timeline):
        if state != "working":
            period = other[i]
            parts.append(StatePart(start, end, period.status, being_replaced=period.being_replaced))
            continue
        values: dict[str, list[RegisterValue | None]] = {}
        for register, at in bounds.items():
            first, last = at[i], at[i + 1]
            if first is not None and last is not None and last.ts <= first.ts:
                last = None
            values[register] = [first, last]
        data = meter_data_from_registers(link, values, end)
        if not data.valid or data.total is None:
            parts.append(None)
            continue
        with engine_context():
            if data.zones is not None and len(data.zones) >= min_zones:
                zones = {z: v * share for z, v in data.zones.items()}
            else:
                zones = {Zone.SINGLE: data.total * share}
        source = ", ".join(
            f"{r} {values[r][0].value:g} → {values[r][1].value:g}"  # type: ignore[union-attr]
            for r in sorted(values)
            if values[r][0] is not None and values[r][1] is not None
        )
        parts.append(StatePart(start, end, MeterStatus.VALID, zones, source=f"показания {source}"))
    return _settle(timeline, parts)


def meter_state_parts_hourly(
    link: MeterLinkRow,
    timeline: Sequence[tuple[date, date, str]],
    series: HourlySeries,
    tz: ZoneInfo,
    *,
    supplier_duty: bool,
    share: Decimal = Decimal(1),
) -> tuple[StatePart, ...]:
    """An hourly (telemetry) meter's :class:`~.volumes.StatePart` s: a working part takes the series'
    hours of its local days (× ``share``) when every hour of them is there (suspect hours are not in the
    billable series); otherwise it has no valid reading and is settled as in :func:`meter_state_parts`."""
    other = [meter_state_period(state, link.service, supplier_duty) for _, _, state in timeline]
    starts = np.asarray(series.hour_starts_us)
    parts: list[StatePart | None] = []
    for i, (start, end, state) in enumerate(timeline):
        if state != "working":
            parts.append(StatePart(start, end, other[i].status, being_replaced=other[i].being_replaced))
            continue
        low = int(local_midnight_utc(start, tz).timestamp()) * 1_000_000
        high = int(local_midnight_utc(end, tz).timestamp()) * 1_000_000
        mask = (starts >= low) & (starts < high)
        if int(mask.sum()) != (high - low) // 3_600_000_000 or series.volume_micro is None:
            parts.append(None)
            continue
        micro = np.asarray(series.volume_micro)[mask]
        if share == 1:
            hourly = HourlySeries.from_micro(starts[mask], micro)
        else:
            with engine_context():
                hourly = HourlySeries(
                    starts[mask], volumes=tuple(Decimal(int(v)) / 1_000_000 * share for v in micro)
                )
        parts.append(StatePart(start, end, MeterStatus.VALID, hourly=hourly, source="часовые данные"))
    return _settle(timeline, parts)


def _settle(
    timeline: Sequence[tuple[date, date, str]], parts: Sequence[StatePart | None]
) -> tuple[StatePart, ...]:
    """Working parts without a valid reading (``None``) take the state of the next other part (else the
    previous); adjacent parts of one non-working state are merged."""
    decided: list[StatePart] = []
    for i, part in enumerate(parts):
        if part is None:
            start, end, _ = timeline[i]
            neighbour = next(
                (p for p in parts[i + 1 :] if p is not None and p.status is not MeterStatus.VALID), None
            )
            if neighbour is None:
                neighbour = next(
                    (p for p in reversed(parts[:i]) if p is not None and p.status is not MeterStatus.VALID),
                    None,
                )
            if neighbour is None:  # no other state: cannot happen for a timeline with a change
                return ()
            part = StatePart(start, end, neighbour.status, being_replaced=neighbour.being_replaced)
        previous = decided[-1] if decided else None
        if (
            previous is not None
            and part.status is not MeterStatus.VALID
            and (previous.status, previous.being_replaced) == (part.status, part.being_replaced)
        ):
            decided[-1] = StatePart(previous.start, part.end, part.status, being_replaced=part.being_replaced)
        else:
            decided.append(part)
    return tuple(decided)
