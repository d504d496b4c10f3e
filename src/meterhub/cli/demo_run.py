"""The sample demo: generate a building, ingest it, compute hourly consumption, print a summary."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from meterhub.cli.demo_database import demo_database
from meterhub.cli.sample_loader import load_sample_readings, register_sample_meters
from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.core.readings import Reading
from meterhub.core.settings import Settings
from meterhub.simulators.sample_data import generate_building
from meterhub.timeseries.database import connect
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.migrate import migrate
from meterhub.timeseries.queries import completeness, local_month_bounds, period_totals
from meterhub.timeseries.rollup import process_dirty


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def run_sample_demo(
    settings: Settings,
    *,
    apartments: int = 80,
    days: int = 31,
    seed: int = 7,
    start: date = date(2026, 1, 1),
) -> None:
    """Load a generated building into a fresh database of its own and print what was stored."""
    console = Console()
    building = generate_building("B-DEMO", apartments=apartments, start=start, days=days, seed=seed)
    console.print(
        f"[bold]meterhub demo[/]: building {building.building_id} ({building.address}, {building.tz}), "
        f"{apartments} apartments, {len(building.meters)} meters, {building.reading_count:,} readings "
        f"over {days} days from {start}"
    )
    with demo_database(settings, "sample") as db, connect(db.url) as conn:
        console.print(f"database: {db.where}, fresh (earlier sample data removed)")
        applied = migrate(conn, MIGRATION_SOURCES)
        conn.autocommit = False
        console.print(f"migrations applied: {len(applied)}")
        register_sample_meters(conn, building)
        t0 = time.perf_counter()
        with _progress(console) as bar:
            task = bar.add_task("ingest (write_readings)", total=building.reading_count)
            report = load_sample_readings(conn, building, progress=lambda d, n: bar.update(task, completed=d))
        t_ingest = time.perf_counter() - t0
        # a few bad inputs, as the field produces them: they end up in dead_letters, nothing else is lost
        now = datetime.now(UTC)
        bad = [
            Reading("XYZ-404", "energy_import_kwh", now - timedelta(hours=1), 1.0),
            Reading(building.meters[0].meter_id, "energy_import_kwh", now + timedelta(days=30), 1.0),
            Reading(building.meters[0].meter_id, "energy_import_kwh", now - timedelta(hours=2), float("nan")),
        ]
        bad_result = ReadingWriter(conn).write(bad, context={"demo": "bad input"})
        conn.commit()
        with _progress(console) as bar:
            task = bar.add_task("hourly series (VEE)", total=1)
            t1 = time.perf_counter()
            stats = process_dirty(conn, progress=lambda d, n: bar.update(task, completed=d, total=n))
            t_rollup = time.perf_counter() - t1
        conn.commit()
        _summary(console, conn, building, report.result, bad_result, t_ingest, stats, t_rollup, start)


def _summary(console, conn, building, result, bad_result, t_ingest, stats, t_rollup, start: date) -> None:
    r = result
    console.print(
        f"\ningest: {r.inserted:,} inserted, {r.duplicates:,} duplicates, {r.rejected:,} rejected "
        f"in {t_ingest:.1f} s ({(r.inserted + r.duplicates) / max(t_ingest, 1e-9):,.0f} readings/s)"
    )
    console.print(
        f"hourly series: {stats.series:,} series, {stats.hours_written:,} hours "
        f"from {stats.readings:,} readings "
        f"in {t_rollup:.1f} s"
    )
    q = Table(title="hours by quality")
    q.add_column("quality")
    q.add_column("hours", justify="right")
    names = {0: "measured", 1: "interpolated", 2: "estimated", 3: "suspect"}
    for code, n in conn.execute(
        "SELECT quality, count(*) FROM hourly_consumption GROUP BY 1 ORDER BY 1"
    ).fetchall():
        q.add_row(names[code], f"{n:,}")
    console.print(q)

    f = Table(title="VEE flags (readings kept, excluded from volumes)")
    for col in ("meter", "register", "time (UTC)", "reason"):
        f.add_column(col)
    for meter, reg, ts, reason in conn.execute(
        "SELECT mr.meter_id, mr.register, f.ts, f.reason FROM reading_flags f "
        "JOIN meter_registers mr USING (series_id) ORDER BY f.ts LIMIT 10"
    ).fetchall():
        f.add_row(meter, reg, ts.strftime("%Y-%m-%d %H:%M"), reason)
    console.print(f)

    dl = Table(title="dead letters")
    dl.add_column("reason")
    dl.add_column("detail")
    for reason, detail in conn.execute(
        "SELECT reason, detail FROM dead_letters ORDER BY id DESC LIMIT 5"
    ).fetchall():
        dl.add_row(reason, detail)
    console.print(dl)

    # house balance for the first local month: house meter vs the sum of apartment meters
    m_start, m_end = local_month_bounds(start.year, start.month, building.tz)
    totals = period_totals(conn, m_start, m_end, building_id=building.building_id)
    house_ids = {m.meter_id: m for m in building.meters if m.is_house_meter}
    bal = Table(title=f"house balance {start:%Y-%m} ({building.tz}): house meter vs Σ apartments")
    for col in ("resource", "register", "house", "Σ apartments", "common property", "%"):
        bal.add_column(col, justify="right" if col not in ("resource", "register") else "left")
    for hid, hm in house_ids.items():
        for reg in hm.registers:
            house = totals.get((hid, reg))
            if house is None:
                continue
            apt = sum(
                (
                    t.volume
                    for (mid, rg), t in totals.items()
                    if rg == reg and mid not in house_ids and _kind(building, mid) == hm.kind
                ),
                start=house.volume * 0,
            )
            diff = house.volume - apt
            pct = 100 * diff / house.volume if house.volume else 0
            bal.add_row(
                hm.kind.value, reg, f"{house.volume:,.3f}", f"{apt:,.3f}", f"{diff:,.3f}", f"{pct:.1f}"
            )
    console.print(bal)

    days = completeness(conn, start, start + timedelta(days=6), building.tz, building_id=building.building_id)
    low = sorted({(d.meter_id, d.register) for d in days if d.percent < 100})
    console.print(f"completeness, first week: {len(low)} series below 100 % (gaps, late daily reads)")
    console.print("\nfaults injected into the sample: " + "; ".join(building.faults))
    console.print(
        f"rejected on purpose: {bad_result.rejected} bad readings → dead_letters "
        f"({', '.join(bad_result.reasons)})"
    )


def _kind(building, meter_id: str):
    for m in building.meters:
        if m.meter_id == meter_id:
            return m.kind
    return None
