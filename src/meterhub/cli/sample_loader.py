"""Loading a generated sample building into the time-series store (demo, tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import psycopg

from meterhub.simulators.sample_data import SampleBuilding, SampleMeter
from meterhub.timeseries.ingest import ReadingWriter, WriteResult
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, record_replacement, register_meter


def meter_info(m: SampleMeter, building_id: str) -> MeterInfo:
    return MeterInfo(
        kind=m.kind,
        manufacturer=m.manufacturer,
        serial=m.serial,
        model=m.model,
        building_id=building_id,
        is_house_meter=m.is_house_meter,
        multiplier=Decimal(m.multiplier),
        register_digits=m.register_digits,
        installed_on=m.installed_on,
        removed_on=m.removed_on,
        verification_due=m.verification_due,
        registers=tuple(
            RegisterInfo(r, max_per_hour=(None if not m.is_house_meter else 1e6)) for r in m.registers
        ),
    )


def register_sample_meters(conn: psycopg.Connection, b: SampleBuilding) -> None:
    """Register every meter of the sample and record its replacement acts."""
    replaced = {e.new_meter_id for e in b.events}
    by_id = {m.meter_id: m for m in b.meters}
    for m in b.meters:
        if m.meter_id not in replaced:
            register_meter(conn, meter_info(m, b.building_id))
    for e in b.events:
        record_replacement(
            conn,
            e.old_meter_id,
            meter_info(by_id[e.new_meter_id], b.building_id),
            e.ts,
            final_values=e.final_values,
            initial_values=e.initial_values,
        )
    conn.commit()


@dataclass
class LoadReport:
    result: WriteResult
    batches: int


def load_sample_readings(
    conn: psycopg.Connection,
    b: SampleBuilding,
    *,
    batch_size: int = 20_000,
    writer: ReadingWriter | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LoadReport:
    """Write the sample's readings in time order, in batches, as gateways would deliver them."""
    w = writer or ReadingWriter(conn)
    readings = b.readings_in_time_order()
    total = WriteResult()
    batches = 0
    for i in range(0, len(readings), batch_size):
        total.add(w.write(readings[i : i + batch_size]))
        conn.commit()
        batches += 1
        if progress:
            progress(min(i + batch_size, len(readings)), len(readings))
    return LoadReport(total, batches)
