"""Exact money and volume arithmetic: ``Decimal`` only, rounding at named points (деньги, округление).

Rules (billing-rules.md, decision 1):

* volumes, tariffs and intermediate products stay unrounded ``Decimal``;
* each receipt line is rounded **half-up to 0.01 ₽** (:func:`round_money`), the receipt total is the sum
  of its rounded lines;
* ``float`` never enters money: :func:`to_decimal` rejects it with a ``TypeError``.

The engine computes with :data:`ENGINE_PRECISION` significant digits (:func:`engine_context`). Only
divisions (area shares, averages, day-proration) can produce repeating fractions; those are carried to
100 digits. Before the half-up kopeck rounding an amount is first snapped to :data:`MONEY_GUARD_QUANTUM`
(1e-32 ₽), so a repeating share that is mathematically *exactly* on a half kopeck (e.g. ⅓ × 0.015 ₽ =
0.005 ₽, computed as 0.004999…) rounds like the exact rational number would. Real inputs have at most a
handful of decimals (micro-units, tariffs to 1e-6, areas to 1e-4), so an amount that is not on a
half-kopeck boundary is always much farther than 1e-32 ₽ from it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

__all__ = [
    "ENGINE_PRECISION",
    "KOPECK",
    "MICRO",
    "MONEY_GUARD_QUANTUM",
    "engine_context",
    "from_micro",
    "round_money",
    "strip_zeros",
    "to_decimal",
    "to_kopecks",
    "truncate_money",
]

ENGINE_PRECISION = 100
"""Significant digits of every engine computation (Decimal context precision)."""

KOPECK = Decimal("0.01")
"""The rounding quantum of a receipt line [₽]."""

MONEY_GUARD_QUANTUM = Decimal("1e-32")
"""Amounts are snapped to this quantum [₽] (half-even) before the half-up kopeck rounding."""

MICRO = 1_000_000
"""Micro-units per unit: the time-series layer stores volumes as integer micro-units (1 mWh, 1 ml)."""


_ENGINE = Context(prec=ENGINE_PRECISION, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999)


def engine_context() -> AbstractContextManager[Context]:
    """Run a block with the engine's Decimal context (precision :data:`ENGINE_PRECISION`, half-even).

    Every public engine function that does arithmetic wraps its body in this context, so results do not
    depend on the caller's ``decimal`` settings. It is ``decimal``'s own context manager (a copy of the
    engine context is active inside the block): the close enters it about 20,000 times per building, and a
    generator-based manager cost three times as much per entry (≈ 10 % of the close's Python time).
    """
    return localcontext(_ENGINE)


def to_decimal(value: Decimal | int | str, what: str = "value") -> Decimal:
    """Convert a boundary value to ``Decimal`` exactly; ``float`` is refused.

    ``what`` names the field in the error message (e.g. ``"tariff price"``). ``bool`` is refused too
    (it is an ``int`` in Python but never a quantity); so are NaN and infinities.
    """
    if isinstance(value, bool):
        raise TypeError(f"{what}: got a bool ({value!r}); pass a Decimal, an int or a numeric string")
    if isinstance(value, float):
        raise TypeError(
            f"{what}: got the float {value!r}; money and volumes must be exact — "
            f"pass Decimal({str(value)!r}) or the string {str(value)!r} instead"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except ArithmeticError:
            raise ValueError(f"{what}: {value!r} is not a decimal number") from None
    else:
        raise TypeError(f"{what}: expected Decimal, int or str, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise ValueError(f"{what}: {value!r} is not a finite number")
    return result


def strip_zeros(value: Decimal) -> Decimal:
    """The same number without trailing fractional zeros (``6.33500…0`` → ``6.335``, ``100.0`` → ``100``)."""
    with engine_context():
        if value == value.to_integral_value():
            return value.quantize(Decimal(1))
        return value.normalize()


def from_micro(micro: int) -> Decimal:
    """Integer micro-units (the time-series storage unit) → exact ``Decimal`` [unit]."""
    if isinstance(micro, bool) or not isinstance(micro, int):
        raise TypeError(f"micro-units must be an int, got {type(micro).__name__} {micro!r}")
    return Decimal(micro).scaleb(-6)


def round_money(amount: Decimal) -> Decimal:
    """Round an exact amount [₽] half-up (away from zero at .5) to 0.01 ₽ — the one rounding point of a line.

    The amount is first snapped to :data:`MONEY_GUARD_QUANTUM` (see the module docstring). Floats are
    refused with ``TypeError``.
    """
    exact = to_decimal(amount, "amount")
    snapped = exact.quantize(MONEY_GUARD_QUANTUM, ROUND_HALF_EVEN, context=_ENGINE)
    return snapped.quantize(KOPECK, ROUND_HALF_UP, context=_ENGINE)


def truncate_money(amount: Decimal) -> Decimal:
    """Round an amount [₽] toward zero to 0.01 ₽ (the first step of largest-remainder distribution)."""
    exact = to_decimal(amount, "amount")
    snapped = exact.quantize(MONEY_GUARD_QUANTUM, ROUND_HALF_EVEN, context=_ENGINE)
    return snapped.quantize(KOPECK, ROUND_DOWN, context=_ENGINE)


def to_kopecks(amount: Decimal) -> int:
    """A rounded amount [₽] → integer kopecks (e.g. for the QR ``Sum=`` field); refuses unrounded amounts."""
    value = to_decimal(amount, "amount")
    kopecks = value * 100
    if kopecks != kopecks.to_integral_value():
        raise ValueError(f"amount {value} is not a whole number of kopecks; round it with round_money first")
    return int(kopecks)
