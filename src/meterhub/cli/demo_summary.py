"""The pipeline demo's closing summary: what this run stored, per building, in an 80-column terminal.

Every figure is limited to the run: readings and hours of the demo's meters inside the run's
simulated window, dead letters and ingest messages committed since the run started (wall clock), so
a ``--continue`` run does not count the previous one. Times are shown in the buildings' zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.table import Table

from meterhub.core.readings import HourQuality

HOUR_LEGEND = (
    "hours: measured = the hour lies between reads at most 75 min apart; interpolated = between reads "
    "further apart (up to 72 h), the volume split linearly; estimated = a longer gap; suspect = from "
    "readings that failed validation (kept, never billed)."
)


@dataclass(frozen=True)
class RunWindow:
    """The run's simulated interval [start, end] and the wall-clock instant it started."""

    start: datetime
    end: datetime
    wall_start: datetime
    zone: ZoneInfo
    speed: float


@dataclass
class BuildingReport:
    building_id: str
    gateway_id: str
    faults: list[str] = field(default_factory=list)
    state_at_stop: str | None = None  # the gateway's state as the demo stopped it


def _span(delta_seconds: float) -> str:
    days, rest = divmod(int(delta_seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


def _short(error: str, limit: int = 48) -> str:
    return error if len(error) <= limit else error[: limit - 1].rstrip() + "…"


def print_summary(
    console: Console,
    conn,
    buildings: Sequence[BuildingReport],
    window: RunWindow,
    warnings: Sequence[str] = (),
) -> None:
    z = window.zone
    start, end = window.start.astimezone(z), window.end.astimezone(z)
    console.print(
        f"\n[bold]summary of this run[/]: simulated {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} "
        f"{start:%Z} ({z.key}), {_span((end - start).total_seconds())} at ×{window.speed:g}"
    )
    data = Table(title="data stored", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for col in ("building", "meters", "readings", "hours", "measured", "interp.", "estim.", "suspect"):
        data.add_column(col, justify="left" if col == "building" else "right", no_wrap=True)
    devices = Table(title="gateways and devices", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    devices.add_column("building", no_wrap=True)
    devices.add_column("gateway", no_wrap=True)
    devices.add_column("devices ok", justify="right", no_wrap=True)
    devices.add_column("failing devices (last error)", overflow="fold")
    for b in buildings:
        meters, readings = conn.execute(
            "SELECT count(DISTINCT m.meter_id), count(r.*) FROM meters m "
            "JOIN meter_registers mr USING (meter_id) LEFT JOIN readings r "
            "ON r.series_id = mr.series_id AND r.ts BETWEEN %s AND %s WHERE m.building_id = %s",
            (window.start, window.end, b.building_id),
        ).fetchone()
        by_quality = dict(
            conn.execute(
                "SELECT h.quality, count(*) FROM hourly_consumption h "
                "JOIN meter_registers mr USING (series_id) JOIN meters m USING (meter_id) "
                "WHERE m.building_id = %s AND h.hour >= %s AND h.hour < %s GROUP BY 1",
                (b.building_id, window.start, window.end),
            ).fetchall()
        )
        hours = sum(by_quality.values())

        def pct(q: HourQuality, counts: dict[int, int] = by_quality, total: int = hours) -> str:
            return f"{100 * counts.get(int(q), 0) / total:.0f} %" if total else "-"

        suspect_readings = conn.execute(
            "SELECT count(*) FROM reading_flags f JOIN meter_registers mr USING (series_id) "
            "JOIN meters m USING (meter_id) WHERE m.building_id = %s AND f.ts BETWEEN %s AND %s",
            (b.building_id, window.start, window.end),
        ).fetchone()[0]
        data.add_row(
            b.building_id,
            str(meters),
            f"{readings:,}",
            f"{hours:,}",
            pct(HourQuality.MEASURED),
            pct(HourQuality.INTERPOLATED),
            pct(HourQuality.ESTIMATED),
            f"{suspect_readings} rd." if suspect_readings else "0",
        )
        gw = conn.execute("SELECT devices FROM gateways WHERE gateway_id = %s", (b.gateway_id,)).fetchone()
        device_list = gw[0] if gw else []
        failing = [
            f"{d['device']}: {_short(d.get('last_error') or 'down')}" for d in device_list if not d["online"]
        ]
        state = b.state_at_stop or "never seen"
        devices.add_row(
            b.building_id,
            f"{b.gateway_id} ({state})",
            f"{sum(bool(d['online']) for d in device_list)}/{len(device_list)}",
            "; ".join(failing) or "-",
        )
    console.print(data)
    console.print(HOUR_LEGEND, style="dim")
    series, reads = conn.execute(
        "SELECT count(DISTINCT r.series_id), count(*) FROM readings r "
        "JOIN meter_registers mr USING (series_id) JOIN meters m USING (meter_id) "
        "WHERE m.building_id = ANY(%s) AND r.ts BETWEEN %s AND %s",
        ([b.building_id for b in buildings], window.start, window.end),
    ).fetchone()
    if reads:
        every = (window.end - window.start).total_seconds() / 60 / (reads / series)
        real = 15 * 60 / window.speed
        console.print(
            f"each register was read every {every:.0f} simulated minutes on average (gateways poll "
            f"every 15 min; at ×{window.speed:g} a poll cycle must finish in {real:.2g} s of real time, "
            "and on a busy machine it falls behind, so more hours are interpolated: a lower --speed "
            "reads on time).",
            style="dim",
        )
    console.print(devices)
    console.print(
        "gateway state is the one reported just before the demo stopped the gateways "
        "(each then reports 'offline', as on any shutdown).",
        style="dim",
    )
    dead = conn.execute(
        "SELECT reason, count(*) FROM dead_letters WHERE received_at >= %s GROUP BY 1 ORDER BY 2 DESC",
        (window.wall_start,),
    ).fetchall()
    console.print("dead letters: " + (", ".join(f"{r} ×{n}" for r, n in dead) or "none"))
    gaps = conn.execute(
        "SELECT count(*) FROM (SELECT hour - lag(hour) OVER (PARTITION BY series_id ORDER BY hour) AS d "
        "FROM hourly_consumption h JOIN meter_registers mr USING (series_id) JOIN meters m USING (meter_id) "
        "WHERE m.building_id = ANY(%s) AND h.hour >= %s AND h.hour < %s) x WHERE d > interval '1 hour'",
        ([b.building_id for b in buildings], window.start, window.end),
    ).fetchone()[0]
    console.print(f"gaps in hourly series: {gaps}")
    messages = conn.execute(
        "SELECT count(*), coalesce(sum(readings), 0) FROM ingest_log WHERE committed_at >= %s",
        (window.wall_start,),
    ).fetchone()
    console.print(f"ingest: {messages[0]:,} MQTT messages with {messages[1]:,} readings committed")
    for b in buildings:
        for f in b.faults:
            console.print(f"fault injected: {f}")
    if warnings:
        console.print("[bold]warnings logged during the run[/]:")
        for line in warnings:
            console.print(f"  {line}", overflow="fold")
