"""Helpers for the Modbus tests: run coroutines, start the simulator as a real peer, build devices.

Kept in a plain module (imported by the Modbus test modules) rather than a conftest, so the M-Bus
tests in the same folder keep their own fixtures.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from meterhub.collectors.modbus.device import ModbusDeviceConfig
from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.profiles import get_profile
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter
from meterhub.simulators.modbus_sim import ModbusSimulator

T = TypeVar("T")
START = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)  # a Monday morning


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run one test coroutine with a hard limit, so a hang fails instead of stalling the suite."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def modbus_profile(profile_id: str) -> ModbusProfile:
    profile = get_profile(profile_id)
    assert isinstance(profile, ModbusProfile)
    return profile


def meter(profile_id: str, unit_id: int, serial: int | None = None, **kwargs: Any) -> SimulatedModbusMeter:
    return SimulatedModbusMeter(
        modbus_profile(profile_id), unit_id=unit_id, serial=serial or 10_000 + unit_id, seed=unit_id, **kwargs
    )


def device(name: str, endpoint: str, unit_id: int, profile: str, **kwargs: Any) -> ModbusDeviceConfig:
    kwargs.setdefault("timeout", 0.3)
    kwargs.setdefault("backoff", 0.01)
    return ModbusDeviceConfig(name=name, endpoint=endpoint, unit_id=unit_id, profile=profile, **kwargs)


@asynccontextmanager
async def tcp_simulator(
    meters: list[SimulatedModbusMeter], *, rtu_framing: bool = False, clock: SimClock | None = None
) -> AsyncIterator[tuple[ModbusSimulator, str]]:
    """A simulator on a real TCP socket; yields it and the endpoint URL a collector uses."""
    sim = ModbusSimulator(meters, clock or SimClock(START, speed=0.0))
    port = await sim.start_tcp(rtu_framing=rtu_framing)
    scheme = "rtu+tcp" if rtu_framing else "tcp"
    try:
        yield sim, f"{scheme}://127.0.0.1:{port}"
    finally:
        await sim.stop()


@asynccontextmanager
async def rtu_simulator(
    meters: list[SimulatedModbusMeter], *, baudrate: int | None = None, clock: SimClock | None = None
) -> AsyncIterator[tuple[ModbusSimulator, str]]:
    """A simulator on a pseudo-terminal line; yields it and the rtu:// endpoint URL."""
    sim = ModbusSimulator(meters, clock or SimClock(START, speed=0.0))
    path = await sim.start_rtu(baudrate)
    try:
        yield sim, f"rtu://{path}?baudrate={baudrate or 115200}"
    finally:
        await sim.stop()


def simulator_peer(transport: str, meters: list[SimulatedModbusMeter]):
    """The simulator as the peer over ``transport``: ``rtu-pty``, ``rtu+tcp`` or ``tcp``."""
    if transport == "rtu-pty":
        return rtu_simulator(meters)
    return tcp_simulator(meters, rtu_framing=transport == "rtu+tcp")
