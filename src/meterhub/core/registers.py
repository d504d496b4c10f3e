"""Meter kinds, units and the catalogue of register names meterhub understands.

A register name says what is counted and in which unit (``energy_import_kwh``,
``water_m3``, ``heat_gcal``). Cumulative registers are counters that only grow
(billing volumes are derived from them); instantaneous registers are momentary
values (voltage, power, temperatures) kept for engineers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class MeterKind(StrEnum):
    """What a meter measures."""

    ELECTRICITY = "electricity"
    COLD_WATER = "cold_water"
    HOT_WATER = "hot_water"
    HEAT = "heat"


class Unit(StrEnum):
    KWH = "kWh"
    KVARH = "kvarh"
    M3 = "m3"
    GCAL = "Gcal"
    GJ = "GJ"
    MWH = "MWh"
    V = "V"
    A = "A"
    W = "W"
    VA = "VA"
    VAR = "var"
    HZ = "Hz"
    PF = "1"  # dimensionless (power factor)
    CELSIUS = "degC"
    KELVIN = "K"
    M3_PER_H = "m3/h"
    KW = "kW"
    H = "h"


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    name: str
    unit: Unit
    cumulative: bool
    description: str


def _spec(name: str, unit: Unit, cumulative: bool, description: str) -> tuple[str, RegisterSpec]:
    return name, RegisterSpec(name, unit, cumulative, description)


_TARIFFS = ("", "_t1", "_t2", "_t3", "_t4")
_PHASES = ("_l1", "_l2", "_l3")

REGISTERS: dict[str, RegisterSpec] = dict(
    [
        *(_spec(f"energy_import{t}_kwh", Unit.KWH, True, f"active energy import{t}") for t in _TARIFFS),
        *(_spec(f"energy_export{t}_kwh", Unit.KWH, True, f"active energy export{t}") for t in _TARIFFS),
        _spec("reactive_import_kvarh", Unit.KVARH, True, "reactive energy import"),
        _spec("water_m3", Unit.M3, True, "water volume"),
        _spec("heat_gcal", Unit.GCAL, True, "heat energy"),
        _spec("heat_volume_m3", Unit.M3, True, "heat carrier volume"),
        _spec("operating_hours_h", Unit.H, True, "operating time"),
        *(_spec(f"voltage{p}_v", Unit.V, False, f"voltage {p[1:].upper()}") for p in _PHASES),
        *(_spec(f"current{p}_a", Unit.A, False, f"current {p[1:].upper()}") for p in _PHASES),
        *(_spec(f"power{p}_w", Unit.W, False, f"active power {p[1:].upper()}") for p in _PHASES),
        *(_spec(f"power_factor{p}", Unit.PF, False, f"power factor {p[1:].upper()}") for p in _PHASES),
        _spec("voltage_v", Unit.V, False, "voltage"),
        _spec("current_a", Unit.A, False, "current"),
        _spec("power_w", Unit.W, False, "total active power"),
        _spec("power_factor", Unit.PF, False, "total power factor"),
        _spec("frequency_hz", Unit.HZ, False, "grid frequency"),
        _spec("heat_power_kw", Unit.KW, False, "heat power"),
        _spec("flow_m3h", Unit.M3_PER_H, False, "volume flow"),
        _spec("temp_flow_c", Unit.CELSIUS, False, "flow (supply) temperature"),
        _spec("temp_return_c", Unit.CELSIUS, False, "return temperature"),
        _spec("temp_diff_k", Unit.KELVIN, False, "temperature difference"),
    ]
)

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def register_spec(name: str) -> RegisterSpec:
    """The catalogue entry of a register name; KeyError names the register and the known ones."""
    try:
        return REGISTERS[name]
    except KeyError:
        raise KeyError(
            f"unknown register {name!r}; known registers: {', '.join(sorted(REGISTERS))}"
        ) from None


def is_valid_register_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))
