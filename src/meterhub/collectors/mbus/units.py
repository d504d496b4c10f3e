"""Convert decoded M-Bus values (units as EN 13757-3 states them) to meterhub catalogue units.

Exact ``Decimal`` factors: 1 Wh = 3600 J; 1 cal (IT) = 4.1868 J, so 1 Gcal = 4.1868 GJ =
1.163 MWh; 1 ft³ = 0.028316846592 m³; 1 US gal = 0.003785411784 m³; °F → °C as (x − 32)·5/9,
a temperature *difference* in °F as x·5/9 K.
"""

from __future__ import annotations

from decimal import Decimal

_J = Decimal(1)
_WH = Decimal(3600)
_ENERGY_J: dict[str, Decimal] = {
    "J": _J,
    "GJ": Decimal(10) ** 9,
    "Wh": _WH,
    "kWh": _WH * 1000,
    "MWh": _WH * 10**6,
    "Gcal": Decimal("4.1868") * 10**9,
}
_POWER_W: dict[str, Decimal] = {
    "W": Decimal(1),
    "kW": Decimal(1000),
    "MW": Decimal(10**6),
    "J/h": Decimal(1) / Decimal(3600),
    "GJ/h": Decimal(10**9) / Decimal(3600),
    "Gcal/h": Decimal("4.1868") * 10**9 / Decimal(3600),
}
_GALLON = Decimal("0.003785411784")
_VOLUME_M3: dict[str, Decimal] = {"m3": Decimal(1), "ft3": Decimal("0.028316846592"), "US gal": _GALLON}
_FLOW_M3H: dict[str, Decimal] = {
    "m3/h": Decimal(1),
    "m3/min": Decimal(60),
    "m3/s": Decimal(3600),
    "US gal/min": _GALLON * 60,
    "US gal/h": _GALLON,
}
_TIME_H: dict[str, Decimal] = {
    "s": Decimal(1) / 3600,
    "min": Decimal(1) / 60,
    "h": Decimal(1),
    "d": Decimal(24),
}
_SAME = {"V", "A", "bar", "kg", "t"}
_TABLES = (_ENERGY_J, _POWER_W, _VOLUME_M3, _FLOW_M3H, _TIME_H)


class UnitError(ValueError):
    """A record's unit cannot be expressed in the register's unit."""


def convert(value: Decimal, unit: str, target: str, quantity: str = "") -> Decimal:
    """``value`` [unit] in [target]; ``quantity`` tells a temperature difference in °F apart."""
    if unit == target:
        return value
    if unit == "degF":
        if target == "degC":
            return (value - 32) * 5 / 9
        if target == "K" and quantity == "temperature_difference":
            return value * 5 / 9
    if unit == "K" and target == "degC" and quantity == "temperature_difference":
        raise UnitError("a temperature difference [K] is not a temperature [degC]")
    for table in _TABLES:
        if unit in table and target in table:
            return value * table[unit] / table[target]
    if unit in _SAME and target == unit:
        return value
    raise UnitError(f"cannot convert {unit or 'a dimensionless value'!r} to {target!r}")
