"""Realistic, deterministic consumption curves for simulated meters.

Pure functions of (meter kind, time, seed): the same seed gives the same curve in every process,
so simulators, benchmarks and tests can reproduce a building. Pass ``at`` in the building's local
time zone (any aware ``datetime``): day/night and weekday/weekend follow its wall clock.

Rates are in the catalogue unit of the meter's main register per hour:

* electricity — active power [kW] (= kWh per hour);
* cold and hot water — flow [m³/h]; water arrives in draws (shower, tap, toilet) of a few minutes;
* heat — heat power [Gcal/h], following the outdoor temperature of the season (no heating above +8 °C).

Randomness is a stable hash (BLAKE2b) of ``(seed, kind, minute)``, never the process hash seed.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from meterhub.core.registers import MeterKind

#: Electricity, apartment, share of the daily peak by local hour (working day).
_ELECTRICITY_WEEKDAY = (
    0.25,
    0.2,
    0.18,
    0.18,
    0.18,
    0.2,
    0.35,
    0.6,
    0.55,
    0.35,
    0.3,
    0.3,
    0.32,
    0.3,
    0.3,
    0.32,
    0.4,
    0.6,
    0.85,
    1.0,
    1.0,
    0.9,
    0.7,
    0.45,
)
#: Same for Saturday and Sunday: people sleep longer and stay at home during the day.
_ELECTRICITY_WEEKEND = (
    0.3,
    0.25,
    0.2,
    0.18,
    0.18,
    0.18,
    0.22,
    0.3,
    0.5,
    0.7,
    0.75,
    0.7,
    0.7,
    0.65,
    0.6,
    0.6,
    0.62,
    0.7,
    0.85,
    0.95,
    1.0,
    0.9,
    0.75,
    0.5,
)
#: Water: probability that a 5-minute slot holds a draw, by local hour.
_WATER_WEEKDAY = (
    0.01,
    0.005,
    0.005,
    0.005,
    0.005,
    0.02,
    0.25,
    0.35,
    0.2,
    0.06,
    0.05,
    0.05,
    0.06,
    0.05,
    0.05,
    0.05,
    0.06,
    0.1,
    0.18,
    0.22,
    0.25,
    0.22,
    0.15,
    0.05,
)
_WATER_WEEKEND = (
    0.02,
    0.01,
    0.005,
    0.005,
    0.005,
    0.005,
    0.02,
    0.06,
    0.18,
    0.25,
    0.2,
    0.12,
    0.12,
    0.1,
    0.08,
    0.08,
    0.08,
    0.1,
    0.15,
    0.2,
    0.22,
    0.2,
    0.15,
    0.06,
)
_SLOT_MINUTES = 5

PEAK_POWER_KW = 1.6  # evening peak of an average apartment [kW]
BASE_POWER_KW = 0.06  # fridge and standby [kW]
DRAW_FLOW_M3H = (0.24, 0.6)  # a tap or a shower: 4…10 L/min [m³/h]
HOT_WATER_SHARE = 0.45  # hot water draws are rarer than cold ones [-]
HEAT_LOSS_GCAL_H_PER_K = 0.00004  # apartment heat loss coefficient [Gcal/(h·K)]
INDOOR_C = 20.0  # [°C]
HEATING_LIMIT_C = 8.0  # heating season: outdoor temperature below this [°C]


def unit_random(seed: int, *parts: object) -> float:
    """A stable uniform number in [0, 1) from the seed and any labels (same input, same number)."""
    key = ":".join([str(seed), *map(str, parts)]).encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def meter_scale(kind: MeterKind, seed: int) -> float:
    """How much this household consumes relative to the average: 0.5…1.7 [-]."""
    return 0.5 + 1.2 * unit_random(seed, kind.value, "scale")


def is_weekend(at: datetime) -> bool:
    return at.weekday() >= 5


def outdoor_temperature(at: datetime, seed: int = 0) -> float:
    """Outdoor air temperature [°C] of a continental climate: −12 °C mid-January, +20 °C mid-July,
    4 K colder at night, with a day-to-day weather swing of ±4 K."""
    day = at.timetuple().tm_yday
    seasonal = 4.0 - 16.0 * math.cos(2 * math.pi * (day - 15) / 365.25)
    diurnal = -2.0 * math.cos(2 * math.pi * (at.hour + at.minute / 60 - 3) / 24)
    weather = 8.0 * (unit_random(seed, "weather", at.date().isoformat()) - 0.5)
    return seasonal + diurnal + weather


def consumption_rate(kind: MeterKind, at: datetime, seed: int) -> float:
    """Rate of consumption at ``at`` in the meter's unit per hour (see the module docstring).

    Constant within a minute, so :func:`consumption` integrates it exactly.
    """
    minute = _minute_index(at)
    if kind is MeterKind.ELECTRICITY:
        shape = (_ELECTRICITY_WEEKEND if is_weekend(at) else _ELECTRICITY_WEEKDAY)[at.hour]
        noise = 0.75 + 0.5 * unit_random(seed, "e", minute)
        return BASE_POWER_KW + PEAK_POWER_KW * meter_scale(kind, seed) * shape * noise
    if kind in (MeterKind.COLD_WATER, MeterKind.HOT_WATER):
        return _water_rate(kind, at, minute, seed)
    if kind is MeterKind.HEAT:
        outdoor = outdoor_temperature(at, seed)
        if outdoor >= HEATING_LIMIT_C:
            return 0.0
        return HEAT_LOSS_GCAL_H_PER_K * meter_scale(kind, seed) * (INDOOR_C - outdoor)
    raise ValueError(f"no load profile for meter kind {kind!r}")


def consumption(kind: MeterKind, start: datetime, end: datetime, seed: int) -> float:
    """Amount consumed between ``start`` and ``end`` [unit] — the integral of :func:`consumption_rate`.

    Minute by minute (the rate is constant within a minute), with partial minutes at both ends.
    """
    if end <= start:
        return 0.0
    total = 0.0
    cursor = start
    while cursor < end:
        next_minute = cursor.replace(second=0, microsecond=0) + timedelta(minutes=1)
        stop = min(next_minute, end)
        total += consumption_rate(kind, cursor, seed) * (stop - cursor).total_seconds() / 3600.0
        cursor = stop
    return total


def _minute_index(at: datetime) -> int:
    """Minutes since the epoch of the wall clock (the local date and time, not UTC)."""
    naive = at.replace(tzinfo=None)
    return int((naive - datetime(1970, 1, 1)).total_seconds() // 60)


def _water_rate(kind: MeterKind, at: datetime, minute: int, seed: int) -> float:
    slot = minute // _SLOT_MINUTES
    probability = (_WATER_WEEKEND if is_weekend(at) else _WATER_WEEKDAY)[at.hour]
    probability *= meter_scale(kind, seed) * (HOT_WATER_SHARE if kind is MeterKind.HOT_WATER else 1.0)
    if unit_random(seed, kind.value, "draw", slot) >= probability:
        return 0.0
    length = 1 + int(unit_random(seed, kind.value, "len", slot) * _SLOT_MINUTES)
    if minute - slot * _SLOT_MINUTES >= length:
        return 0.0
    low, high = DRAW_FLOW_M3H
    return low + (high - low) * unit_random(seed, kind.value, "flow", slot)


__all__ = [
    "consumption",
    "consumption_rate",
    "is_weekend",
    "meter_scale",
    "outdoor_temperature",
    "unit_random",
]
