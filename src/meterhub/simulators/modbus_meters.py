"""Simulated Modbus meters: counters that follow load curves, a register image built from a profile,
and the faults a test can inject. No I/O; the server in :mod:`modbus_sim` puts them on a wire.

Time is simulated: a :class:`SimClock` runs ``speed`` times faster than the wall clock (or only
when advanced by hand), and counters integrate :func:`load_profiles.consumption_rate` along it.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from meterhub.collectors.modbus.profile import DataType, Function, ModbusProfile, ModbusRegister
from meterhub.core.registers import REGISTERS, MeterKind
from meterhub.simulators.load_profiles import consumption_rate, unit_random
from meterhub.simulators.modbus_encoding import encode_words, integer_range, raw_from_value

ILLEGAL_ADDRESS = 2
#: Display limit of float registers: a 5-digit + 1 decimal register rolls over like the display [unit].
FLOAT_ROLLOVER = 100_000.0


class SimClock:
    """Simulated time: ``start`` plus ``speed`` × elapsed wall time, plus manual advances."""

    def __init__(self, start: datetime, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic):
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware start time")
        self._start = start
        self._speed = speed
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._advanced = timedelta()

    def now(self) -> datetime:
        elapsed = (self._monotonic() - self._t0) * self._speed
        return self._start + self._advanced + timedelta(seconds=elapsed)

    def advance(self, delta: timedelta) -> None:
        self._advanced += delta


@dataclass(slots=True)
class Faults:
    """Faults of one simulated device; change them while the server runs.

    * ``no_answer`` — the device stays silent;
    * ``late_answer`` — seconds to wait before answering [s]; with ``late_count`` only the next
      ``late_count`` answers are late, then the device answers on time again;
    * ``crc_error`` — the answer leaves with a corrupted CRC (RTU) or truncated (TCP);
    * ``short_frame`` — the answer stops three bytes short;
    * ``exception_code`` — answer every read with this Modbus exception;
    * ``turnaround`` — normal processing time before each answer [s] (not a fault: real devices take 5–50 ms).
    """

    no_answer: bool = False
    late_answer: float = 0.0
    late_count: int = 0
    crc_error: bool = False
    short_frame: bool = False
    exception_code: int | None = None
    turnaround: float = 0.0


def tariff_zone(local: datetime, zones: int) -> int:
    """Tariff zone (1-based) by local hour: 3 zones — T1 peak 07–10 and 17–21, T2 night 23–07,
    T3 semi-peak otherwise; 2 zones — T1 day 07–23, T2 night; 1 zone — always T1."""
    hour = local.hour
    night = hour >= 23 or hour < 7
    if zones >= 3:
        if night:
            return 2
        return 1 if 7 <= hour < 10 or 17 <= hour < 21 else 3
    if zones == 2:
        return 2 if night else 1
    return 1


@dataclass(slots=True)
class _Channel:
    kind: MeterKind
    seed: int
    total: float  # cumulative main register [unit]
    zones: list[float]  # consumed per tariff zone since the start [unit]
    zone_base: float = 0.0  # each tariff register's reading at the start [unit]
    volume: float = 0.0  # heat carrier volume [m³]
    rate: float = 0.0  # last rate [unit/h]


@dataclass
class SimulatedModbusMeter:
    """One Modbus unit behind a simulator endpoint, answering from its profile."""

    profile: ModbusProfile
    unit_id: int
    serial: int
    seed: int = 0
    timezone: str = "Europe/Moscow"
    #: ``False`` (the default, like a real meter): a read may span the short reserved gaps between
    #: mapped registers (at most the profile's ``max_gap``: they read as 0); any other address —
    #: far from the map, past 0xFFFF, or in the profile's ``[modbus] forbidden`` ranges — is
    #: exception 02. ``True``: every unmapped address is exception 02 (the strictest device).
    reject_unmapped: bool = False
    channel_kinds: dict[int, MeterKind] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    clock_drift: float = 0.0  # the meter clock (tariff switch) gains this many seconds per day [s/d]
    #: pinned values by (channel, register name), in meterhub units: served instead of the physics
    pinned: dict[tuple[int, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.timezone)
        self._channels: dict[int, _Channel] = {}
        self._rollover_shift: dict[tuple[int, str], float] = {}
        self._last: datetime | None = None
        self._origin: datetime | None = None
        self._tariffs = max((_tariff_of(r.name) for r in self.profile.registers), default=0)
        for channel in self.profile.channels:
            kind = self.channel_kinds.get(channel, self.profile.profile.kind)
            seed = self.seed * 1000 + channel
            initial = _initial_total(kind, seed)
            base = initial / max(self._tariffs, 1)
            self._channels[channel] = _Channel(kind, seed, initial, [0.0] * 4, base)
        self._map = self._address_map()
        self._readable = self._readable_addresses()

    # ---- simulated physics -------------------------------------------------------------------
    def advance_to(self, now: datetime) -> None:
        """Integrate every channel's consumption up to ``now`` (minute steps on the meter's clock)."""
        if self._last is None:
            self._last = self._origin = now
            for ch in self._channels.values():
                ch.rate = consumption_rate(ch.kind, now.astimezone(self._zone), ch.seed)
            return
        cursor = self._last
        while cursor < now:
            stop = min(cursor.replace(second=0, microsecond=0) + timedelta(minutes=1), now)
            hours = (stop - cursor).total_seconds() / 3600.0
            local = cursor.astimezone(self._zone)  # households live by the true time …
            zone = tariff_zone(self._meter_time(cursor), self._tariffs)  # … the meter bills by its own clock
            for ch in self._channels.values():
                ch.rate = consumption_rate(ch.kind, local, ch.seed)
                amount = ch.rate * hours
                ch.total += amount
                ch.zones[zone - 1] += amount
                if ch.kind is MeterKind.HEAT:
                    ch.volume += _heat_flow(ch.rate) * hours
            cursor = stop
        self._last = max(self._last, now)

    def _meter_time(self, at: datetime) -> datetime:
        """The meter's own (drifting) clock in its local zone."""
        origin = self._origin or at
        drift = self.clock_drift * (at - origin).total_seconds() / 86400.0
        return (at + timedelta(seconds=drift)).astimezone(self._zone)

    def values(self, now: datetime) -> dict[tuple[int, str], float]:
        """Every profile register's value in meterhub units at ``now``."""
        self.advance_to(now)
        out: dict[tuple[int, str], float] = {}
        for reg in self.profile.registers:
            out[(reg.channel, reg.name)] = self._value(reg, self._channels[reg.channel], now)
        out.update((key, value) for key, value in self.pinned.items() if key in out)
        return out

    def _value(self, reg: ModbusRegister, ch: _Channel, now: datetime) -> float:
        name, n = reg.name, reg.channel
        spec = REGISTERS[name]
        if spec.cumulative:
            value = self._cumulative(name, ch, now) + self._rollover_shift.get((n, name), 0.0)
            return value
        return _momentary(name, ch, now, self.seed)

    def _cumulative(self, name: str, ch: _Channel, now: datetime) -> float:
        tariff = _tariff_of(name)
        if tariff:
            return ch.zone_base + ch.zones[tariff - 1]
        if name.startswith("energy_export"):
            return 0.0
        if name == "reactive_import_kvarh":
            return 0.3 * ch.total
        if name == "heat_volume_m3":
            return ch.volume
        if name == "operating_hours_h":
            return ((now - (self._origin or now)).total_seconds() / 3600.0) + 1000.0
        return ch.total

    # ---- faults and events -------------------------------------------------------------------
    def replace_meter(self, new_serial: int, start_value: float = 0.0) -> None:
        """A new physical meter at the same address: new serial, counters from ``start_value``."""
        self.serial = new_serial
        self._rollover_shift.clear()
        for ch in self._channels.values():
            ch.total = start_value
            ch.zones = [0.0] * 4
            ch.zone_base = start_value / max(self._tariffs, 1)
            ch.volume = 0.0

    def force_rollover(self, now: datetime, margin: float = 0.5) -> None:
        """Bring every counter to ``margin`` units [unit] below the point where its register rolls over."""
        current = self.values(now)
        for reg in self.profile.registers:
            if not REGISTERS[reg.name].cumulative:
                continue
            key = (reg.channel, reg.name)
            wrap = _wrap_value(reg)
            self._rollover_shift[key] = self._rollover_shift.get(key, 0.0) + (wrap - margin - current[key])

    # ---- the register image ------------------------------------------------------------------
    def _address_map(self) -> dict[tuple[Function, int], tuple[ModbusRegister | None, int]]:
        out: dict[tuple[Function, int], tuple[ModbusRegister | None, int]] = {}
        for reg in self.profile.registers:
            for i in range(reg.count):
                out[(reg.function, reg.address + i)] = (reg, i)
        if self.profile.serial is not None:
            s = self.profile.serial
            for i in range(s.count):
                out[(s.function, s.address + i)] = (None, i)
        return out

    def _readable_addresses(self) -> frozenset[tuple[Function, int]]:
        """Mapped addresses and the reserved gaps (≤ ``max_gap``) between them, minus ``forbidden``."""
        readable = set(self._map)
        gap = self.profile.modbus.max_gap
        for function in Function:
            mapped = sorted(a for f, a in self._map if f is function)
            for a, b in itertools.pairwise(mapped):
                if 1 < b - a <= gap + 1:
                    readable.update((function, x) for x in range(a + 1, b))
        for start, end in self.profile.modbus.forbidden:
            readable -= {(f, a) for f, a in readable if start <= a <= end}
        return frozenset(readable)

    def read(self, function: Function, address: int, count: int, now: datetime) -> list[int] | int:
        """The words at ``address…address+count-1``, or an exception code (int).

        Exception 02 (illegal data address) for a read touching an address the meter does not have
        (see ``reject_unmapped``); the ``exception_code`` fault answers every read with its code.
        """
        if self.faults.exception_code is not None:
            return self.faults.exception_code
        addresses = range(address, address + count)
        allowed = self._map if self.reject_unmapped else self._readable
        if any((function, a) not in allowed for a in addresses):
            return ILLEGAL_ADDRESS
        values = self.values(now)
        words: list[int] = []
        cache: dict[int, list[int]] = {}
        for a in range(address, address + count):
            entry = self._map.get((function, a))
            if entry is None:
                words.append(0)
                continue
            reg, index = entry
            key = id(reg)
            if key not in cache:
                cache[key] = self._encode(reg, values)
            words.append(cache[key][index])
        return words

    def _encode(self, reg: ModbusRegister | None, values: dict[tuple[int, str], float]) -> list[int]:
        if reg is None:
            s = self.profile.serial
            assert s is not None
            return encode_words(self.serial, s.type, s.byte_order, s.word_order)
        value = values[(reg.channel, reg.name)]
        counter = REGISTERS[reg.name].cumulative
        if counter and reg.type in (DataType.FLOAT32, DataType.FLOAT64):
            value = value % (FLOAT_ROLLOVER * reg.scale * reg.factor)
        raw = raw_from_value(value, reg.type, reg.scale, reg.factor, reg.offset, counter=counter)
        return encode_words(raw, reg.type, reg.byte_order, reg.word_order)


def _wrap_value(reg: ModbusRegister) -> float:
    """The value [unit] at which a counter register rolls over to zero."""
    if reg.type in (DataType.FLOAT32, DataType.FLOAT64):
        return FLOAT_ROLLOVER * reg.scale * reg.factor
    high = integer_range(reg.type)[1]
    return (high + 1) * reg.scale * reg.factor + reg.offset


def _tariff_of(name: str) -> int:
    for t in (1, 2, 3, 4):
        if f"_t{t}_" in name:
            return t
    return 0


def _initial_total(kind: MeterKind, seed: int) -> float:
    """A plausible counter reading at the start of the simulation [unit]."""
    span = {
        MeterKind.ELECTRICITY: 20000.0,
        MeterKind.COLD_WATER: 400.0,
        MeterKind.HOT_WATER: 250.0,
        MeterKind.HEAT: 40.0,
    }[kind]
    return round(span * (0.05 + 0.95 * unit_random(seed, "initial")), 3)


def _heat_flow(heat_rate_gcal_h: float, delta_t: float = 25.0) -> float:
    """Carrier flow [m³/h] carrying ``heat_rate`` [Gcal/h] at a temperature difference [K]."""
    return heat_rate_gcal_h / (delta_t * 0.001)


def _momentary(name: str, ch: _Channel, now: datetime, seed: int) -> float:
    """Plausible momentary values derived from the channel's current rate."""
    wobble = math.sin(now.timestamp() / 37.0 + seed)
    phase = name.split("_l")[-1][0] if "_l" in name else ""
    share = {"1": 0.45, "2": 0.33, "3": 0.22}.get(phase, 1.0)
    voltage = 230.0 + 4.0 * wobble + (1.0 if phase == "2" else 0.0)
    power_w = ch.rate * 1000.0 * share
    if name.startswith("voltage"):
        return round(voltage, 1)
    if name.startswith("power_factor"):
        return round(0.93 + 0.05 * wobble, 3)
    if name.startswith("power"):
        return round(power_w, 1)
    if name.startswith("current"):
        return round(power_w / voltage / 0.95, 3)
    if name == "frequency_hz":
        return round(50.0 + 0.03 * wobble, 2)
    if name == "heat_power_kw":
        return round(ch.rate * 1163.0, 3)
    if name == "flow_m3h":
        return round(_heat_flow(ch.rate) if ch.kind is MeterKind.HEAT else ch.rate, 4)
    if name == "temp_flow_c":
        return round(70.0 + 2 * wobble, 2)
    if name == "temp_return_c":
        return round(45.0 + 2 * wobble, 2)
    if name == "temp_diff_k":
        return 25.0
    return 0.0
