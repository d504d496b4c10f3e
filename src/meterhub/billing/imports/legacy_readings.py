"""The readings of ``meter_history.csv``: the register value a legacy month was billed with, kept as a
reading of the meter (source ``import``), so meterhub's first period of a meter read monthly has its
start reading (docs/migration.md).

A row's zone names the register: ``single`` the service's total register (``water_m3``,
``energy_import_kwh``), ``day``/``night`` the T1/T2 registers of a two-tariff meter and
``peak``/``night``/``semi_peak`` T1/T2/T3 of a three-tariff one (billing/rules/zones.py). The reading is taken
at 12:00 local time on ``read_on`` (default: the readings window day of the period, the 25th). Readings
are stored once: a re-import of the same value is a duplicate the store ignores; another value at the
same instant is refused (a stored reading is never rewritten).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from meterhub.billing.close.loader import LoaderOptions
from meterhub.billing.imports.run import ImportProblem
from meterhub.billing.rules.meter_data import SERVICE_REGISTERS
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.zones import THREE_REGISTER_ZONES, TWO_REGISTER_ZONES
from meterhub.core.readings import Reading, ReadingSource

__all__ = ["planned_readings", "write_planned_readings"]

Rows = list[tuple[int, dict[str, Any]]]
_NOON = time(12)


def _register(service: str, zone: str, zones: set[str]) -> str | None:
    registers = SERVICE_REGISTERS.get(service)
    if registers is None:
        return None
    if zone == "single":
        return registers.total
    mapping = THREE_REGISTER_ZONES if zones & {"peak", "semi_peak"} else TWO_REGISTER_ZONES
    label = next((label for label, z in mapping.items() if z.value == zone), None)
    return registers.tariff.get(label) if label else None


def _read_on(row: dict[str, Any]) -> date:
    if row.get("read_on") is not None:
        return row["read_on"]
    period = BillingPeriod.parse(row["period"])
    day = min(LoaderOptions().readings_window_day or 25, period.days)
    return date(period.year, period.month, day)


def planned_readings(
    conn: psycopg.Connection, name: str, rows: Rows
) -> tuple[list[Reading], list[ImportProblem]]:
    """The readings the rows with a ``reading`` give, and the problems that stop them."""
    with_reading = [(n, r) for n, r in rows if r.get("reading") is not None]
    if not with_reading:
        return [], []
    meters = sorted({r["meter_id"] for _, r in with_reading})
    link = {
        m: (service, tz)
        for m, service, tz in conn.execute(
            "SELECT DISTINCT ON (l.meter_id) l.meter_id, l.service, b.time_zone FROM meter_links l"
            " JOIN buildings b USING (building_id) WHERE l.meter_id = ANY(%s) AND l.premise_no IS NOT NULL"
            " ORDER BY l.meter_id, l.valid_from",
            (meters,),
        )
    }
    units = {
        (m, reg): unit
        for m, reg, unit in conn.execute(
            "SELECT meter_id, register, unit FROM meter_registers WHERE meter_id = ANY(%s)", (meters,)
        )
    }
    zones: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _, row in rows:
        zones[(row["meter_id"], row["period"])].add(row["zone"])
    readings: list[Reading] = []
    problems: list[ImportProblem] = []
    for number, row in with_reading:
        meter = row["meter_id"]
        service, tz = link[meter]
        register = _register(service, row["zone"], zones[(meter, row["period"])])
        if register is None or (meter, register) not in units:
            have = ", ".join(sorted(reg for m, reg in units if m == meter)) or "none"
            problems.append(
                ImportProblem(
                    name,
                    number,
                    "zone",
                    f"meter {meter} ({service}) has no register for zone {row['zone']} "
                    f"(its registers: {have}); give the reading's zone as the meter counts it",
                )
            )
            continue
        at = datetime.combine(_read_on(row), _NOON, ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))
        value = row["reading"]
        readings.append(
            Reading(meter, register, at, float(value), units[(meter, register)], source=ReadingSource.IMPORT)
        )
        stored = conn.execute(
            "SELECT r.value FROM reading_values r JOIN meter_registers m USING (series_id)"
            " WHERE m.meter_id = %s AND m.register = %s AND r.ts = %s",
            (meter, register, at),
        ).fetchone()
        if stored is not None and Decimal(repr(stored[0])) != value:
            problems.append(
                ImportProblem(
                    name,
                    number,
                    "reading",
                    f"meter {meter} already has {register} = {stored[0]} at {at.isoformat()}; a stored "
                    "reading is not rewritten — correct it as a replacement or leave this reading out",
                )
            )
    return readings, problems


def write_planned_readings(conn: psycopg.Connection, readings: list[Reading]) -> int:
    """Store the readings through the ingest's writer (in the caller's transaction); the number new."""
    if not readings:
        return 0
    from meterhub.timeseries.ingest import ReadingWriter

    result = ReadingWriter(conn, source_name="migration").write(readings)
    if result.rejected:
        raise ValueError(
            f"the reading store refused {result.rejected} legacy reading(s): {dict(result.reasons)}"
        )
    return result.inserted
