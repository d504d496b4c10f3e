"""Benchmark: one poll cycle of 64 Modbus RTU meters on one simulated 9600-baud line.

The simulator serves the meters on a pseudo-terminal pair whose relay paces every byte at the baud
rate (11 bits per character) and keeps the line silent for 3.5 characters after each frame. The
collector polls all meters concurrently; the bus lock serialises them. The wire limit is computed
from frame sizes (request 8 bytes, answer 5 + 2·n bytes) plus the two 3.5-character intervals per
transaction (Modbus over serial line V1.02, 2.5.1.1) and the simulated device turnaround.

Two plans are measured: the planner's merged reads, and one request per register.

    .venv/bin/python benchmarks/bench_modbus_poll.py [--meters 64] [--baudrate 9600] [--turnaround 0]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from datetime import UTC, datetime

from meterhub.collectors.modbus.device import ModbusDeviceConfig, profile_plan_state, profile_spans
from meterhub.collectors.modbus.planning import plan_reads, wire_request_count
from meterhub.collectors.modbus.poller import ModbusCollector
from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.modbus.rtu import transaction_wire_time
from meterhub.collectors.profiles import get_profile
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter
from meterhub.simulators.modbus_sim import ModbusSimulator


def wire_limit(
    profile: ModbusProfile, config: ModbusDeviceConfig, baudrate: int, turnaround: float
) -> tuple[float, int]:
    """Least line time one device's poll needs [s], and its number of reads."""
    spans = profile_spans(profile, read_serial=False)
    plan = plan_reads(spans, config.plan_options(profile), profile_plan_state(profile))
    seconds = sum(transaction_wire_time(r.count, baudrate) + turnaround for r in plan.requests)
    return seconds, len(plan.requests)


async def cycle(
    meters: int, baudrate: int, turnaround: float, one_per_request: bool, profile_id: str
) -> dict:
    profile = get_profile(profile_id)
    assert isinstance(profile, ModbusProfile)
    units = range(1, meters + 1)
    fleet = [SimulatedModbusMeter(profile, unit_id=u, serial=20_000 + u, seed=u) for u in units]
    for m in fleet:
        m.faults.turnaround = turnaround
    sim = ModbusSimulator(fleet, SimClock(datetime.now(UTC), speed=60.0))
    path = await sim.start_rtu(baudrate)
    url = f"rtu://{path}?baudrate={baudrate}"
    configs = [
        ModbusDeviceConfig(
            name=f"m{u}",
            endpoint=url,
            unit_id=u,
            profile=profile_id,
            serial=str(20_000 + u),
            timeout=1.0,
            retries=0,
            one_register_per_request=one_per_request or None,
        )
        for u in range(1, meters + 1)
    ]
    collector = ModbusCollector(configs, {profile_id: profile})
    try:
        first = profile.registers[0]  # open the port before timing
        link = collector.pollers[0].link
        await link.read(1, first.function, first.address, 2, timeout=1.0, frame_delay=0.0)
        t0 = time.perf_counter()
        results = await collector.poll_once()
        elapsed = time.perf_counter() - t0
    finally:
        collector.close()
        await sim.stop()
    failed = [r.device for r in results if not r.ok]
    limit, per_device_reads = wire_limit(profile, configs[0], baudrate, turnaround)
    return {
        "requests": sum(r.requests for r in results),
        "readings": sum(len(r.readings) for r in results),
        "elapsed": elapsed,
        "limit": limit * meters,
        "reads_per_device": per_device_reads,
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=64)
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--turnaround", type=float, default=0.0, help="simulated device turnaround [s]")
    parser.add_argument("--profile", default="eastron-sdm120")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    profile = get_profile(args.profile)
    assert isinstance(profile, ModbusProfile)
    naive_requests = wire_request_count(profile_spans(profile, read_serial=False)) * args.meters
    print(
        f"{args.meters} × {args.profile} ({len(profile.registers)} registers) on one "
        f"{args.baudrate}-Bd RTU line, device turnaround {args.turnaround * 1000:.0f} ms"
    )
    print(f"{'plan':<26}{'requests':>9}{'readings':>10}{'measured s':>12}{'wire limit s':>14}{'ratio':>8}")
    rows = []
    for label, one in (("merged reads (planner)", False), ("one request per register", True)):
        r = asyncio.run(cycle(args.meters, args.baudrate, args.turnaround, one, args.profile))
        rows.append(r)
        ratio = r["elapsed"] / r["limit"]
        print(
            f"{label:<26}{r['requests']:>9}{r['readings']:>10}{r['elapsed']:>12.2f}{r['limit']:>14.2f}{ratio:>8.3f}"
            + (f"  FAILED: {r['failed'][:5]}" if r["failed"] else "")
        )
    merged, naive = rows
    print(
        f"requests: {merged['requests']} merged vs {naive_requests} one per register "
        f"({naive_requests / merged['requests']:.1f}× fewer); "
        f"line time {naive['elapsed'] / merged['elapsed']:.2f}× shorter"
    )
    print(f"measured / wire limit (merged): {merged['elapsed'] / merged['limit']:.3f} (target ≤ 1.3)")


if __name__ == "__main__":
    main()
