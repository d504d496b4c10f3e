"""The stored form of a reading's value: a scaled integer where the value has one, else the double.

``readings`` keeps ``value_int × 10^-value_scale`` (``value_float`` NULL) when the value has an exact
decimal form with at most 9 decimals, and ``value_float`` (``value_int`` NULL) otherwise (migration
0012). The scale is the register's resolution (``meter_registers.value_decimals``, default 3: litres of
m³, Wh of kWh) or, for a value with more decimals, the fewest that give it exactly. Compressed
TimescaleDB chunks code integers by delta of delta (a cumulative register at its resolution costs
1–2 B) where doubles cost ~5 B (Gorilla).

The integer form is chosen only if dividing it by 10^scale in float64 gives back the very double
received; PostgreSQL decodes with the same IEEE division (``meterhub_reading_value``), so the value
read back is always the value written.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_SCALE = 9
POW10: tuple[float, ...] = tuple(10.0**d for d in range(MAX_SCALE + 1))
_POW10 = np.array(POW10)
SAFE = 2.0**53  # |value_int| below this is exact in float64


def encode_value(v: float, floor: int) -> tuple[int | None, int, float | None]:
    """(value_int, value_scale, value_float) of a finite value; ``floor`` is the register's scale."""
    for d in range(floor, MAX_SCALE + 1):
        p = POW10[d]
        x = v * p
        if not -SAFE < x < SAFE:
            break
        m = round(x)
        if m / p == v:
            return m, d, None
    return None, floor, v


def decode_value(value_int: int | None, value_scale: int, value_float: float | None) -> float:
    """The value of a stored (value_int, value_scale, value_float)."""
    if value_float is not None:
        return value_float
    assert value_int is not None
    return value_int / POW10[value_scale]


def encode_values(
    values: npt.NDArray[np.float64], floors: npt.NDArray[np.integer]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """``encode_value`` over arrays: (value_int, value_scale, has an integer form) per value.

    The common case — every value exact at its register's scale — is one pass; values that need more
    decimals try the next scales; values with none keep ``exact`` False (store them as doubles).
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    scale = np.broadcast_to(np.asarray(floors, dtype=np.int16), (n,)).copy()
    value_int = np.zeros(n, dtype=np.int64)
    exact = np.zeros(n, dtype=np.bool_)
    pending = np.arange(n)
    with np.errstate(invalid="ignore", over="ignore"):
        while len(pending):
            p = _POW10[scale[pending]]
            v = values[pending]
            x = v * p
            ok = np.abs(x) < SAFE
            r = np.rint(np.where(ok, x, 0.0))
            ok &= r / p == v
            done = pending[ok]
            value_int[done] = r[ok].astype(np.int64)
            exact[done] = True
            rest = pending[~ok & (np.abs(x) < SAFE)]  # too big at this scale: too big at every larger one
            scale[rest] += 1
            pending = rest[scale[rest] <= MAX_SCALE]
    scale[~exact] = np.asarray(floors, dtype=np.int16)[~exact] if np.ndim(floors) else floors
    return value_int, scale, exact
