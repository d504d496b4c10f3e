"""CPU of the pure billing engine per building: the reference path vs the fast path, and the input digest.

    .venv/bin/python benchmarks/bench_engine.py [--buildings 20] [--flats 350] [--profile]

No database. Each building is the one ``benchmarks/bench_close.py`` generates in PostgreSQL, built here
directly as a :class:`BuildingInput` (the loader's output): 350 flats in one of five time zones, areas
30–90 m², 1–4 residents; electricity two-zone (7.85 / 3.47 ₽/kWh, single 6.43) — 20 % of the flats with
an hourly meter (a full local month of hourly volumes in micro-kWh), 80 % with T1/T2 register deltas;
cold (52.17 ₽/m³) and hot water (243.60 ₽/m³) metered in 95 % of the flats (the rest by the normative,
×1.5), ~1 % of the meters with an expired verification (normative); wastewater derived (38.92 ₽/m³);
maintenance 31.45 ₽/m²; common property: electricity and cold water ``ACTUAL_CAPPED`` with house meters,
hot water ``NORMATIVE``.

Measured in one run, CPU time (``time.process_time``) per building: ``compute_building_charges`` on the
reference path (``fast=False``), on the fast path (``fast=True``, the default), their ratio, and
``input_digest`` — each the least of ``--repeat`` runs, with the load average beside it. Both paths'
results are compared (``==`` and ``repr``) on every building. ``--profile`` prints
the cProfile top functions of both paths.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import sys
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from meterhub.billing.rules.building import BuildingInput, compute_building_charges
from meterhub.billing.rules.charges import AccountInput
from meterhub.billing.rules.common_property import CommonPropertyInput, CommonPropertyMethod
from meterhub.billing.rules.input_digest import input_digest
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import PriceBasis, Service, Tariff
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer
from meterhub.billing.rules.zones import (
    TWO_ZONE_SCHEDULE,
    HourlySeries,
    Zone,
    zone_volumes_from_registers,
)

PERIOD = BillingPeriod(2026, 1)
TIME_ZONES = ("Europe/Moscow", "Asia/Omsk", "Asia/Yekaterinburg", "Europe/Samara", "Asia/Novosibirsk")
D = Decimal
HOUR_US = 3_600_000_000

TARIFFS = (
    Tariff(
        Service.ELECTRICITY,
        PERIOD.first_day.replace(year=2025, month=7),
        {Zone.SINGLE: D("6.43"), Zone.DAY: D("7.85"), Zone.NIGHT: D("3.47")},
        schedule=TWO_ZONE_SCHEDULE,
    ),
    Tariff(Service.COLD_WATER, PERIOD.first_day.replace(year=2025, month=7), {Zone.SINGLE: D("52.17")}),
    Tariff(Service.HOT_WATER, PERIOD.first_day.replace(year=2025, month=7), {Zone.SINGLE: D("243.60")}),
    Tariff(Service.WASTEWATER, PERIOD.first_day.replace(year=2025, month=7), {Zone.SINGLE: D("38.92")}),
    Tariff(
        Service.MAINTENANCE,
        PERIOD.first_day.replace(year=2025, month=7),
        {Zone.SINGLE: D("31.45")},
        basis=PriceBasis.PER_M2,
    ),
)
NORMATIVES = {
    Service.ELECTRICITY: D("100"),
    Service.COLD_WATER: D("4.86"),
    Service.HOT_WATER: D("3.51"),
    Service.WASTEWATER: D("8.37"),
}


def synthetic_building(b: int, flats: int = 350) -> BuildingInput:
    """Building ``b`` of the bench_close city, as the loader would build its engine input."""
    tz = TIME_ZONES[b % 5]
    start, end = PERIOD.bounds_utc(tz)
    first_us = int(start.timestamp()) * 1_000_000
    hours = int((end - start).total_seconds()) // 3600
    starts = first_us + np.arange(hours, dtype=np.int64) * HOUR_US
    offset_hours = int(ZoneInfo(tz).utcoffset(start.replace(tzinfo=None)).total_seconds()) // 3600
    local_hour = (starts // HOUR_US + offset_hours) % 24
    accounts = []
    total_area = D(0)
    for p in range(1, flats + 1):
        area = D(30 + (b * 7 + p * 13) % 60) + (D("0.5") if p % 2 else D(0))
        total_area += area
        expired = p % 97 == 3
        if p % 5 == 0:
            micro = 150_000 + ((local_hour + p) % 7) * 50_000
            electricity = MeterPeriod(MeterStatus.VALID, hourly=HourlySeries.from_micro(starts, micro))
        else:
            registers = {"T1": D(150 + p % 50) + D("0.25") * (p % 3), "T2": D(60 + p % 30)}
            electricity = MeterPeriod(MeterStatus.VALID, zone_volumes=zone_volumes_from_registers(registers))
        services = [ServiceConsumer(Service.ELECTRICITY, electricity, NORMATIVES[Service.ELECTRICITY])]
        for service, base in ((Service.COLD_WATER, D(4)), (Service.HOT_WATER, D("2.5"))):
            if p % 20 == 7:
                meter = None
            elif expired:
                meter = MeterPeriod(MeterStatus.FAILED)
            else:
                step = p % 5 if service is Service.COLD_WATER else p % 4
                meter = MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.SINGLE: base + D("0.5") * step})
            services.append(ServiceConsumer(service, meter, NORMATIVES[service]))
        services.append(ServiceConsumer(Service.WASTEWATER, None, NORMATIVES[Service.WASTEWATER]))
        services.append(ServiceConsumer(Service.MAINTENANCE))
        accounts.append(
            AccountInput(
                f"C{b:04d}-{p}",
                area,
                residential=p % 50 != 0,
                residents=D(1 + p % 4),
                owners=1,
                services=tuple(services),
            )
        )
    return BuildingInput(
        f"C{b:04d}",
        tz,
        total_area,
        (total_area * D("0.15")).quantize(D("0.01")),
        tuple(accounts),
        TARIFFS,
        common_property=(
            CommonPropertyInput(Service.ELECTRICITY, D("1.2"), house_volume=D(flats * 245)),
            CommonPropertyInput(Service.COLD_WATER, D("0.03"), house_volume=D("7.5") * flats),
            CommonPropertyInput(Service.HOT_WATER, D("0.02"), method=CommonPropertyMethod.NORMATIVE),
        ),
    )


def _cpu(fn, buildings: list[BuildingInput], repeat: int, collector: bool) -> tuple[float, list]:
    """The least CPU time [s] of ``repeat`` runs over all buildings (shared machine), and the results;
    ``collector``: the cyclic garbage collector on, or paused as the close pauses it for the engine."""
    best = float("inf")
    results: list = []
    for _ in range(repeat):
        results = []
        gc.collect()
        if not collector:
            gc.disable()
        started = time.process_time()
        for building in buildings:
            results.append(fn(building))
        best = min(best, time.process_time() - started)
        gc.enable()
    return best, results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--buildings", type=int, default=20)
    ap.add_argument("--flats", type=int, default=350)
    ap.add_argument("--repeat", type=int, default=3, help="runs per path; the least CPU time counts")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    buildings = [synthetic_building(b, args.flats) for b in range(1, args.buildings + 1)]

    def reference(building: BuildingInput):
        return compute_building_charges(building, PERIOD, fast=False)

    def fast(building: BuildingInput):
        return compute_building_charges(building, PERIOD, fast=True)

    if args.profile:
        for name, fn in (("reference", reference), ("fast", fast)):
            profiler = cProfile.Profile()
            profiler.runcall(lambda fn=fn: [fn(b) for b in buildings[:3]])
            print(f"--- cProfile, {name} path, 3 buildings")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    n = len(buildings)
    accounts = sum(len(b.accounts) for b in buildings)
    fast(buildings[0])  # warm caches (zone offsets, tariff schedules) for both paths alike
    reference(buildings[0])
    rows = []
    mismatches = 0
    lines = 0
    for collector in (False, True):
        load_before = os.getloadavg()[0]
        ref_s, ref_results = _cpu(reference, buildings, args.repeat, collector)
        fast_s, fast_results = _cpu(fast, buildings, args.repeat, collector)
        load_after = os.getloadavg()[0]
        mismatches += sum(
            1 for a, b in zip(ref_results, fast_results, strict=True) if a != b or repr(a) != repr(b)
        )
        lines = sum(len(r.lines) for r in ref_results)
        rows.append((collector, ref_s, fast_s, load_before, load_after))
        del ref_results, fast_results
    digest_load = os.getloadavg()[0]
    digest_s, _ = _cpu(input_digest, buildings, args.repeat, True)
    print(
        f"{n} buildings × {args.flats} flats = {accounts:,} accounts, {lines:,} lines (period {PERIOD}); "
        f"CPU per building, least of {args.repeat} runs"
    )
    for collector, ref_s, fast_s, load_before, load_after in rows:
        label = "collector on" if collector else "collector paused (as the close runs the engine)"
        print(f"{label}; load average {load_before:.2f} → {load_after:.2f}")
        print(f"  reference path : {1000 * ref_s / n:6.1f} ms ({1e6 * ref_s / lines:.1f} µs/line)")
        print(f"  fast path      : {1000 * fast_s / n:6.1f} ms ({1e6 * fast_s / lines:.1f} µs/line)")
        print(f"  ratio          : {ref_s / fast_s:6.2f}× (reference / fast)")
    print(f"input digest     : {1000 * digest_s / n:6.1f} ms (load average {digest_load:.2f})")
    print(f"results equal    : {2 * n - mismatches} of {2 * n} building results (== and repr)")
    if mismatches:
        raise SystemExit("fast path differs from the reference path")


if __name__ == "__main__":
    main()
