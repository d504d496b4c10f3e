"""Build a fleet of simulated Modbus meters from short text specs (used by ``meterhub simulate modbus``).

* meters: ``PROFILE[:COUNT]`` — COUNT meters of a profile, unit ids assigned in order from ``first_unit``;
* faults: ``UNIT:KIND[=VALUE]`` with KIND one of ``no_answer``, ``late=S``, ``crc``, ``short``,
  ``exception=CODE``, ``turnaround=S``, ``rollover``, ``drift=S_PER_DAY``, ``replace=AFTER_S``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.profiles import get_profile
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter

FAULT_KINDS = ("no_answer", "late", "crc", "short", "exception", "turnaround", "rollover", "drift", "replace")


@dataclass(frozen=True, slots=True)
class FaultSpec:
    unit_id: int
    kind: str
    value: float | None = None


def build_meters(
    specs: Sequence[str], *, first_unit: int = 1, seed: int = 1, reject_unmapped: bool = False
) -> list[SimulatedModbusMeter]:
    """Meters for ``PROFILE[:COUNT]`` specs; serials are 10000000 + unit id + 1000 × seed."""
    meters: list[SimulatedModbusMeter] = []
    unit = first_unit
    for spec in specs:
        name, _, count_text = spec.partition(":")
        count = int(count_text) if count_text else 1
        profile = get_profile(name)
        if not isinstance(profile, ModbusProfile):
            raise ValueError(f"{name!r} is not a Modbus profile")
        for _ in range(count):
            if unit > 247:
                raise ValueError("more than 247 meters on one simulated endpoint")
            meters.append(
                SimulatedModbusMeter(
                    profile,
                    unit_id=unit,
                    serial=10_000_000 + 1000 * seed + unit,
                    seed=seed * 1000 + unit,
                    reject_unmapped=reject_unmapped,
                )
            )
            unit += 1
    return meters


def parse_fault(spec: str) -> FaultSpec:
    """Parse ``UNIT:KIND[=VALUE]``; ValueError names what is wrong."""
    unit_text, _, rest = spec.partition(":")
    kind, _, value_text = rest.partition("=")
    if not unit_text.isdigit() or kind not in FAULT_KINDS:
        raise ValueError(f"fault {spec!r}: expected UNIT:KIND[=VALUE] with KIND in {', '.join(FAULT_KINDS)}")
    needs_value = kind in ("late", "exception", "turnaround", "drift", "replace")
    if needs_value and not value_text:
        raise ValueError(f"fault {spec!r}: {kind} needs a value, e.g. {unit_text}:{kind}=0.5")
    try:
        value = float(value_text) if value_text else None
    except ValueError:
        raise ValueError(f"fault {spec!r}: {value_text!r} is not a number") from None
    return FaultSpec(int(unit_text), kind, value)


def apply_fault(meters: Sequence[SimulatedModbusMeter], fault: FaultSpec, clock: SimClock) -> None:
    """Set a fault on its meter (``replace`` is scheduled on the running loop)."""
    meter = next((m for m in meters if m.unit_id == fault.unit_id), None)
    if meter is None:
        raise ValueError(f"fault for unit {fault.unit_id}: no such simulated meter")
    f, v = meter.faults, fault.value
    if fault.kind == "no_answer":
        f.no_answer = True
    elif fault.kind == "crc":
        f.crc_error = True
    elif fault.kind == "short":
        f.short_frame = True
    elif fault.kind == "late":
        f.late_answer = float(v or 0)
    elif fault.kind == "exception":
        f.exception_code = int(v or 4)
    elif fault.kind == "turnaround":
        f.turnaround = float(v or 0)
    elif fault.kind == "drift":
        meter.clock_drift = float(v or 0)
    elif fault.kind == "rollover":
        meter.force_rollover(clock.now())
    elif fault.kind == "replace":
        asyncio.get_running_loop().call_later(float(v or 0), meter.replace_meter, meter.serial + 500_000)
