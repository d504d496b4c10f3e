"""Cumulative register readings → hourly interval consumption, with VEE (validation, estimation, editing).

Pure functions over numpy arrays: no database, no clock. Times are integer microseconds since the
Unix epoch (UTC); hours are UTC hours. Volumes are integers in 10⁻⁶ of the register unit
("micro-units": 1 mWh, 1 ml, 1 kcal), so sums are exact: the hourly volumes of any span add up to the
last minus the first valid reading of that span, to the micro-unit.

The algorithm for one series (one register of one meter):

1. **Validate** each reading against the last *valid* one (not merely the previous one, so a single
   spike does not poison the rest):

   * quality BAD from the device → flagged ``bad_quality``;
   * lower than the last valid value → a *rollover* if the register wraps at 10^digits and the wrapped
     delta is physically possible, else flagged ``backwards``;
   * more than ``max_per_hour × max(Δt, 15 min)`` above it → flagged ``jump``;
   * readings after a meter's removal or before its installation → flagged.

   Explicit counter events (``reset``: the counter restarts on the same meter; ``removal`` /
   ``installation``: a replacement) are honoured: the chain closes at the value before and continues
   from the value after, so a replacement never produces a negative volume.
2. **Split** the chain of valid readings across hour boundaries by linear interpolation of the counter.
   Hours before the first and after the last valid reading are not invented.
3. **Quality** of each hour from the longest read interval that covers it: ``MEASURED`` up to the
   normal cadence (default 75 min), ``INTERPOLATED`` up to 72 h, ``ESTIMATED`` beyond.
4. Hours that only flagged readings cover (e.g. after an unrecorded counter restart) are emitted as
   ``SUSPECT`` from the flagged readings' own deltas: visible on charts, excluded from billing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from meterhub.core.readings import HourQuality, ReadingQuality

HOUR_US = 3_600_000_000
MICRO = 1_000_000
_MIN_JUMP_WINDOW_H = 0.25

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class EventKind(StrEnum):
    RESET = "reset"
    REMOVAL = "removal"
    INSTALLATION = "installation"


class FlagReason(StrEnum):
    BAD_QUALITY = "bad_quality"
    BACKWARDS = "backwards"
    JUMP = "jump"
    AFTER_REMOVAL = "after_removal"
    BEFORE_INSTALLATION = "before_installation"
    EVENT_INCONSISTENT = "event_inconsistent"


@dataclass(frozen=True, slots=True)
class CounterEvent:
    """An explicit counter event at ``ts_us`` [µs since epoch]."""

    ts_us: int
    kind: EventKind
    value_before: float | None = None  # register value just before (reset, removal)
    value_after: float | None = None  # register value just after (reset, installation)


@dataclass(frozen=True, slots=True)
class SeriesParams:
    """Per-series validation parameters.

    ``multiplier`` — transformer ratio or pulse factor: volume = Δcounter × multiplier;
    ``register_digits`` — the counter wraps at 10^digits [register unit] (None: never wraps); a decrease
    is a rollover only if the wrapped increase is below ``rollover_max_fraction`` of the range and
    physically possible;
    ``max_per_hour`` — physical maximum consumption [unit/h, after multiplier] (None: no check).
    """

    multiplier: float = 1.0
    register_digits: int | None = None
    max_per_hour: float | None = None
    rollover_max_fraction: float = 0.1  # a wrap is believed only if the wrapped delta is below this share
    measured_max_gap_us: int = 75 * 60 * 1_000_000
    interpolated_max_gap_us: int = 72 * HOUR_US


@dataclass(frozen=True, slots=True)
class Flag:
    ts_us: int
    reason: FlagReason
    detail: str


@dataclass(slots=True)
class SeriesResult:
    """Hourly consumption of one series: hour starts [µs], volumes [micro-units], HourQuality codes."""

    hours: I64
    volume_micro: I64
    quality: npt.NDArray[np.int16]
    flags: list[Flag] = field(default_factory=list)
    valid_count: int = 0

    @staticmethod
    def empty(flags: list[Flag] | None = None) -> SeriesResult:
        return SeriesResult(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int16), flags or [])


def to_micro(values: F64, multiplier: float) -> I64:
    """Register values [unit] → integer micro-units after the multiplier."""
    return np.rint(np.asarray(values, dtype=np.float64) * (multiplier * MICRO)).astype(np.int64)


def compute_hourly(
    ts_us: I64,
    values: F64,
    quality: npt.NDArray[np.integer] | None = None,
    events: list[CounterEvent] | tuple[CounterEvent, ...] = (),
    params: SeriesParams = SeriesParams(),
    *,
    emit_from_us: int | None = None,
) -> SeriesResult:
    """Hourly consumption of one series from its readings (sorted by time, unique times).

    ``emit_from_us`` drops hours that start before it (incremental recomputation: the caller passes
    readings starting at a reading known to be valid and keeps only the hours it rewrites).
    """
    ts_us = np.asarray(ts_us, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if quality is None:
        quality = np.zeros(len(ts_us), dtype=np.int16)
    if len(ts_us) > 1 and np.any(np.diff(ts_us) <= 0):
        raise ValueError("readings must be sorted by time with unique timestamps")

    if not events and _all_valid(ts_us, values, quality, params):
        chain_t, chain_c = ts_us, to_micro(values, params.multiplier)
        flags: list[Flag] = []
        suspect_runs: list[tuple[I64, I64]] = []
    else:
        chain_t, chain_c, flags, suspect_runs = _validate_walk(ts_us, values, quality, events, params)

    hours, volume, hq = split_into_hours(chain_t, chain_c, params)
    if suspect_runs:
        hours, volume, hq = _add_suspect_hours(hours, volume, hq, suspect_runs, params)
    if emit_from_us is not None and len(hours):
        keep = hours >= emit_from_us
        hours, volume, hq = hours[keep], volume[keep], hq[keep]
    return SeriesResult(hours, volume, hq, flags, valid_count=len(chain_t))


def _allowed_increase(dt_us: F64 | float, params: SeriesParams) -> F64 | float:
    """Largest physically possible increase [register unit] over Δt."""
    assert params.max_per_hour is not None
    dt_h = np.maximum(np.asarray(dt_us, dtype=np.float64) / HOUR_US, _MIN_JUMP_WINDOW_H)
    return params.max_per_hour * dt_h / params.multiplier


def _all_valid(ts_us: I64, values: F64, quality: npt.NDArray[np.integer], params: SeriesParams) -> bool:
    """Vectorised fast path: no bad quality, never decreasing, never above the physical maximum."""
    if len(values) == 0:
        return True
    if not np.all(np.isfinite(values)) or np.any(quality == ReadingQuality.BAD):
        return False
    d = np.diff(values)
    if np.any(d < 0):
        return False
    return not (params.max_per_hour is not None and np.any(d > _allowed_increase(np.diff(ts_us), params)))


_READ, _CLOSE, _OPEN = 0, 1, 2


def _validate_walk(
    ts_us: I64,
    values: F64,
    quality: npt.NDArray[np.integer],
    events: list[CounterEvent] | tuple[CounterEvent, ...],
    params: SeriesParams,
) -> tuple[I64, I64, list[Flag], list[tuple[I64, I64]]]:
    """The slow path: walk readings and events in time order keeping the last valid reading."""
    points: list[tuple[int, int, float, int]] = []  # (ts, kind, value, reading quality)
    for t, v, q in zip(ts_us.tolist(), values.tolist(), quality.tolist(), strict=True):
        points.append((t, _READ, v, q))
    installed_at: int | None = None
    for ev in events:
        if ev.kind in (EventKind.RESET, EventKind.REMOVAL):
            points.append((ev.ts_us, _CLOSE, float(ev.value_before), 0))  # type: ignore[arg-type]
        if ev.kind in (EventKind.RESET, EventKind.INSTALLATION):
            points.append((ev.ts_us, _OPEN, float(ev.value_after), 0))  # type: ignore[arg-type]
        if ev.kind is EventKind.INSTALLATION:
            installed_at = ev.ts_us if installed_at is None else min(installed_at, ev.ts_us)
    points.sort(key=lambda p: (p[0], p[1]))

    scale = params.multiplier * MICRO
    wrap = 10.0**params.register_digits if params.register_digits else None
    chain_t: list[int] = []
    chain_c: list[int] = []
    flags: list[Flag] = []
    runs: list[tuple[list[int], list[int]]] = []
    current_run: tuple[list[int], list[int]] | None = None
    active = installed_at is None
    last_t = 0
    last_v = 0.0
    base = 0  # micro-units added to the raw counter so the chain stays continuous (rollover, reset)
    have_last = False

    def push(t: int, c: int) -> None:
        if chain_t and chain_t[-1] == t:
            chain_c[-1] = max(chain_c[-1], c)
        else:
            chain_t.append(t)
            chain_c.append(c)

    def flag(t: int, v: float, reason: FlagReason, detail: str) -> None:
        nonlocal current_run
        flags.append(Flag(t, reason, detail))
        if reason in (FlagReason.BACKWARDS, FlagReason.JUMP) and np.isfinite(v):
            if current_run is None:
                current_run = ([], [])
                runs.append(current_run)
            current_run[0].append(t)
            current_run[1].append(round(v * scale))

    for t, kind, v, q in points:
        if kind == _OPEN:
            # continue the chain at its last value, so no volume appears or disappears at the event
            base = chain_c[-1] - round(v * scale) if have_last else 0
            last_t, last_v, have_last, active = t, v, True, True
            push(t, base + round(v * scale))
            current_run = None
            continue
        if kind == _CLOSE:
            if have_last and active:
                if v < last_v:
                    flags.append(
                        Flag(
                            t,
                            FlagReason.EVENT_INCONSISTENT,
                            f"event value {v} is below the last valid reading {last_v}; volume set to 0",
                        )
                    )
                    v = last_v
                push(t, base + round(v * scale))
                last_t, last_v = t, v
            active = False
            current_run = None
            continue
        # an ordinary reading
        if q == ReadingQuality.BAD:
            flags.append(Flag(t, FlagReason.BAD_QUALITY, "the device marked this value as not valid"))
            continue
        if not np.isfinite(v):
            flags.append(Flag(t, FlagReason.BAD_QUALITY, f"value {v} is not a finite number"))
            continue
        if not active:
            if installed_at is not None and t < installed_at:
                flag(t, v, FlagReason.BEFORE_INSTALLATION, "reading before the meter's installation event")
            else:
                flag(t, v, FlagReason.AFTER_REMOVAL, "reading after the meter's removal event")
            continue
        if not have_last:
            last_t, last_v, have_last = t, v, True
            push(t, base + round(v * scale))
            continue
        delta = v - last_v
        dt = t - last_t
        allowed = _allowed_increase(dt, params) if params.max_per_hour is not None else None
        if delta < 0:
            wrapped = delta + wrap if wrap is not None else None
            plausible = (
                wrapped is not None
                and 0 <= wrapped < wrap * params.rollover_max_fraction  # type: ignore[operator]
                and (allowed is None or wrapped <= allowed)
            )
            if plausible:
                base += round(wrap * scale)  # type: ignore[operator]
            else:
                flag(
                    t,
                    v,
                    FlagReason.BACKWARDS,
                    f"counter went from {last_v} to {v} with no reset or replacement recorded",
                )
                continue
        elif allowed is not None and delta > allowed:
            flag(
                t,
                v,
                FlagReason.JUMP,
                f"increase {delta:g} in {dt / HOUR_US:.2f} h exceeds the physical maximum "
                f"{params.max_per_hour:g}/h",
            )
            continue
        current_run = None
        last_t, last_v = t, v
        push(t, base + round(v * scale))

    return (
        np.asarray(chain_t, dtype=np.int64),
        np.asarray(chain_c, dtype=np.int64),
        flags,
        [(np.asarray(rt, np.int64), np.asarray(rc, np.int64)) for rt, rc in runs if len(rt) >= 2],
    )


def split_into_hours(
    chain_t: I64, chain_c: I64, params: SeriesParams
) -> tuple[I64, I64, npt.NDArray[np.int16]]:
    """Split a valid, non-decreasing counter chain across UTC hour boundaries.

    Returns hour starts [µs], volumes [micro-units] and HourQuality codes. The volumes telescope:
    their sum is exactly ``chain_c[-1] - chain_c[0]``.
    """
    n = len(chain_t)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int16)
    t0, tn = int(chain_t[0]), int(chain_t[-1])
    first_hour = (t0 // HOUR_US) * HOUR_US
    inner = np.arange(first_hour + HOUR_US, tn, HOUR_US, dtype=np.int64)  # boundaries strictly inside
    at_inner = np.rint(
        np.interp(inner.astype(np.float64), chain_t.astype(np.float64), chain_c.astype(np.float64))
    ).astype(np.int64)
    counters = np.concatenate(([chain_c[0]], at_inner, [chain_c[-1]]))
    # interpolation rounding can never break monotonicity of a non-decreasing chain, but be explicit:
    counters = np.maximum.accumulate(counters)
    counters[-1] = chain_c[-1]
    volume = np.diff(counters)
    hours = np.concatenate(([first_hour], inner))
    seg_start = np.concatenate(([t0], inner))
    seg_end = np.concatenate((inner, [tn]))

    gaps = np.diff(chain_t)
    a = np.searchsorted(chain_t, seg_start, side="right") - 1
    b = np.searchsorted(chain_t, seg_end, side="left") - 1
    a = np.clip(a, 0, n - 2)
    b = np.clip(b, 0, n - 2)
    longest = np.maximum(np.maximum.reduceat(gaps, a), gaps[b])
    quality = np.where(
        longest <= params.measured_max_gap_us,
        HourQuality.MEASURED,
        np.where(longest <= params.interpolated_max_gap_us, HourQuality.INTERPOLATED, HourQuality.ESTIMATED),
    ).astype(np.int16)
    return hours, volume.astype(np.int64), quality


def _add_suspect_hours(
    hours: I64,
    volume: I64,
    quality: npt.NDArray[np.int16],
    runs: list[tuple[I64, I64]],
    params: SeriesParams,
) -> tuple[I64, I64, npt.NDArray[np.int16]]:
    """Hours covered only by flagged readings, from their own (non-decreasing) deltas, as SUSPECT."""
    extra_h: list[I64] = []
    extra_v: list[I64] = []
    covered = set(hours.tolist())
    for rt, rc in runs:
        # split the run where it decreases; each monotone piece is a chain of its own
        cuts = np.flatnonzero(np.diff(rc) < 0) + 1
        for pt, pc in zip(np.split(rt, cuts), np.split(rc, cuts), strict=True):
            h, v, _ = split_into_hours(pt, pc, params)
            if len(h):
                keep = np.fromiter((x not in covered for x in h.tolist()), bool, len(h))
                extra_h.append(h[keep])
                extra_v.append(v[keep])
                covered.update(h[keep].tolist())
    if not extra_h:
        return hours, volume, quality
    all_h = np.concatenate([hours, *extra_h])
    all_v = np.concatenate([volume, *extra_v])
    all_q = np.concatenate([quality, *(np.full(len(x), HourQuality.SUSPECT, np.int16) for x in extra_h)])
    order = np.argsort(all_h, kind="stable")
    return all_h[order], all_v[order], all_q[order]
