"""Heat-meter register units → Гкал (gigacalorie), in one place (billing-rules.md §9.4).

Russian heat accounting uses the International Table calorie: 1 cal = 4.1868 J exactly, so

    1 Гкал = 4.1868 GJ = 1.163 MWh = 1 163 kWh = 1 000 Mcal.

The reciprocal factors (1/1.163, 1/4.1868) do not terminate; the conversion therefore *divides once*, at
the end, in the engine's ``Decimal`` context, and is applied to register **deltas** in the native unit
(end − start), never to pre-rounded values (§9.4, decision 9.0-2). M-Bus units (EN 13757-3: Wh/kWh/MWh
VIFs, J/MJ/GJ VIFs, the 0xFB Mcal extension) are all expressed here as (numerator, denominator) of an
exact rational factor to Гкал.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from meterhub.billing.rules.rounding import engine_context, to_decimal

__all__ = ["GCAL_PER_UNIT", "HeatUnitError", "gcal_delta", "normalise_unit", "to_gcal"]

JOULES_PER_GCAL = Fraction(41868, 10_000) * 10**9  # 4.1868e9 J
WH_PER_GCAL = 1_163_000

#: Exact factor "Гкал per 1 unit" for every unit a heat register may carry.
GCAL_PER_UNIT: dict[str, Fraction] = {
    "gcal": Fraction(1),
    "mcal": Fraction(1, 1000),
    "kcal": Fraction(1, 1_000_000),
    "wh": Fraction(1, WH_PER_GCAL),
    "kwh": Fraction(1000, WH_PER_GCAL),
    "mwh": Fraction(1_000_000, WH_PER_GCAL),
    "gwh": Fraction(1_000_000_000, WH_PER_GCAL),
    "j": 1 / JOULES_PER_GCAL,
    "kj": 1000 / JOULES_PER_GCAL,
    "mj": 10**6 / JOULES_PER_GCAL,
    "gj": 10**9 / JOULES_PER_GCAL,
}

_ALIASES = {"гкал": "gcal", "мкал": "mcal", "квт·ч": "kwh", "квтч": "kwh", "мвт·ч": "mwh", "гдж": "gj"}


class HeatUnitError(ValueError):
    """A register unit that is not an energy unit (e.g. m³ of carrier) — kept out of the heat volume."""


def normalise_unit(unit: str) -> str:
    """``'MWh'``, ``'kW·h'``, ``'GJ'``, ``'Гкал'`` … → the key of :data:`GCAL_PER_UNIT`."""
    key = unit.strip().lower().replace("·", "").replace(" ", "").replace("_", "")
    key = _ALIASES.get(unit.strip().lower(), key)
    if key not in GCAL_PER_UNIT:
        raise HeatUnitError(
            f"heat register unit {unit!r} is not an energy unit (expected Gcal, kWh, MWh, GJ, Mcal…)"
        )
    return key


def to_gcal(value: Decimal | int | str, unit: str) -> Decimal:
    """An energy amount in ``unit`` → Гкал, exact to the engine precision (one division)."""
    amount = to_decimal(value, "heat amount")
    factor = GCAL_PER_UNIT[normalise_unit(unit)]
    with engine_context():
        return amount * factor.numerator / factor.denominator


def gcal_delta(start: Decimal | int | str, end: Decimal | int | str, unit: str) -> Decimal:
    """Heat between two register readings in ``unit`` → Гкал: the native delta first, converted once."""
    with engine_context():
        delta = to_decimal(end, "register end") - to_decimal(start, "register start")
    return to_gcal(delta, unit)
