"""The full-pipeline demo: simulated meters → gateways → MQTT broker → ingest → PostgreSQL.

Everything runs on this machine with no setup: the embedded PostgreSQL (or METERHUB_DATABASE_URL),
a private broker (mosquitto on a free port, else the embedded amqtt broker), per building a Modbus/TCP
simulator (apartment electricity meters, pulse counters for water, a house meter) and an M-Bus line
behind a TCP converter (heat meters), one real gateway per building with its SQLite outbox, and the
ingest worker with the hourly rollup. Simulated time runs ``speed`` times faster than the wall
clock, starting ``days_back`` days ago, so a month of data takes minutes; the demo stops when the
simulated clock reaches the present, after ``duration`` seconds, or on Ctrl-C, and prints a summary
of that run alone. The demo works in a database of its own (see ``demo_database``), recreated at
start unless ``keep`` (``--continue``) asks to go on from the previous run's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.live import Live
from rich.table import Table

from meterhub.cli.demo_console import logs_above_live
from meterhub.cli.demo_database import demo_database, demo_dir, remove_outboxes
from meterhub.cli.demo_summary import RunWindow, print_summary
from meterhub.cli.local_broker import LocalBroker, local_broker
from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.profiles import get_profile
from meterhub.core.readings import make_meter_id
from meterhub.core.registers import MeterKind
from meterhub.core.settings import Settings
from meterhub.gateway.clock import ScaledClock
from meterhub.gateway.config import GatewayConfig
from meterhub.gateway.runner import Gateway
from meterhub.simulators.mbus_meters import demo_meters
from meterhub.simulators.mbus_sim import MbusLine, TcpMbusServer
from meterhub.simulators.modbus_meters import SimulatedModbusMeter
from meterhub.simulators.modbus_sim import ModbusSimulator
from meterhub.timeseries.database import connect
from meterhub.timeseries.gateway_registry import register_gateways
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.migrate import migrate
from meterhub.timeseries.mqtt_ingest import IngestOptions, IngestService
from meterhub.timeseries.rollup import process_dirty

TZ = "Europe/Moscow"
PULSE_CHANNELS = 12  # ADAM-6051: 12 counter inputs → 6 apartments (cold + hot) per module


@dataclass
class DemoBuilding:
    building_id: str
    gateway_id: str
    apartments: int
    modbus: list[SimulatedModbusMeter] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    meters: list[MeterInfo] = field(default_factory=list)
    mbus_ids: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    rs485_units: set[int] = field(default_factory=set)  # units on the RS-485 line behind a converter
    state_at_stop: str | None = None

    def line_meters(self, rs485: bool) -> list[SimulatedModbusMeter]:
        """The simulated meters on the LAN (Modbus/TCP) or on the RS-485 line (RTU over TCP)."""
        return [m for m in self.modbus if (m.unit_id in self.rs485_units) == rs485]


def _registers(profile: ModbusProfile, channel: int, house: bool) -> tuple[RegisterInfo, ...]:
    names = sorted({r.name for r in profile.registers if r.channel == channel})
    return tuple(RegisterInfo(n, max_per_hour=1e6 if house else None) for n in names)


def _profile(profile_id: str) -> ModbusProfile:
    p = get_profile(profile_id)
    assert isinstance(p, ModbusProfile)
    return p


def plan_building(index: int, apartments: int) -> DemoBuilding:
    """Meters, simulated devices and gateway devices of one demo building."""
    b = DemoBuilding(f"DEMO-{index + 1}", f"gw-{index + 1}", apartments)
    sdm120, iem, sdm630, adam = (
        _profile(p) for p in ("eastron-sdm120", "schneider-iem3255", "eastron-sdm630", "advantech-adam6051")
    )

    house_water: set[str] = set()

    def modbus_device(
        profile: ModbusProfile,
        unit: int,
        serial: str,
        *,
        house: bool = False,
        channels: dict[int, tuple[str, MeterKind]] | None = None,
    ) -> SimulatedModbusMeter:
        sim = SimulatedModbusMeter(
            profile,
            unit_id=unit,
            serial=int(serial),
            seed=index * 1000 + unit,
            timezone=TZ,
            channel_kinds={c: k for c, (_, k) in (channels or {}).items()},
        )
        b.modbus.append(sim)
        # loopback answers in well under a millisecond; a short timeout keeps a dead device from
        # costing simulated minutes at high --speed
        dev: dict[str, Any] = {
            "bus": "rs485" if unit in b.rs485_units else "lan",
            "address": unit,
            "profile": profile.profile.id,
            "timeout": "0.15s",
            "retries": 1,
        }
        if channels:
            dev["serial"] = serial
            dev["channels"] = {str(c): {"serial": s, "manufacturer": "VLT"} for c, (s, _) in channels.items()}
            for s, kind in channels.values():
                on_house = s in house_water
                b.meters.append(
                    MeterInfo(
                        kind,
                        "VLT",
                        s,
                        model="pulse water meter 10 l/imp",
                        building_id=b.building_id,
                        is_house_meter=on_house,
                        registers=(RegisterInfo("water_m3", max_per_hour=1e6 if on_house else None),),
                    )
                )
        else:
            dev["serial"] = serial
            b.meters.append(
                MeterInfo(
                    profile.profile.kind,
                    profile.profile.manufacturer,
                    serial,
                    model=profile.profile.model,
                    building_id=b.building_id,
                    is_house_meter=house,
                    registers=_registers(profile, 0, house),
                )
            )
        b.devices.append(dev)
        return sim

    base = (index + 1) * 100_000
    if index == 1:  # building 2: up to five apartment meters on an RS-485 line behind an RTU/TCP converter
        b.rs485_units = set(range(2, 2 + min(5, apartments)))
    modbus_device(sdm630, 1, str(base + 1), house=True)  # house electricity meter (ОДПУ)
    for apt in range(1, apartments + 1):  # apartment electricity: every 5th a three-tariff meter
        modbus_device(iem if apt % 5 == 0 else sdm120, 1 + apt, str(base + 10 + apt))
    water: list[tuple[str, MeterKind]] = []
    for apt in range(1, apartments + 1):
        water += [
            (str(base + 5000 + apt * 2), MeterKind.COLD_WATER),
            (str(base + 5001 + apt * 2), MeterKind.HOT_WATER),
        ]
    water += [
        (str(base + 9001), MeterKind.COLD_WATER),
        (str(base + 9002), MeterKind.HOT_WATER),
    ]  # house water
    house_water.update({str(base + 9001), str(base + 9002)})
    for m, first in enumerate(range(0, len(water), PULSE_CHANNELS)):
        chunk = water[first : first + PULSE_CHANNELS]
        modbus_device(adam, 200 + m, str(base + 8000 + m), channels={c + 1: w for c, w in enumerate(chunk)})
    # faults: a dead apartment meter in building 1, CRC errors on one in building 2 (an RTU line:
    # Modbus/TCP frames carry no CRC)
    if index == 0 and apartments >= 3:
        b.modbus[3].faults.no_answer = True
        b.faults.append(f"{b.building_id}: apartment meter lan/4 never answers (dead device → timeout)")
    if index == 1 and b.rs485_units:
        unit = max(b.rs485_units)
        next(m for m in b.modbus if m.unit_id == unit).faults.crc_error = True
        b.faults.append(f"{b.building_id}: apartment meter rs485/{unit} answers with a corrupted CRC (→ crc)")
    return b


def _gateway_config(
    b: DemoBuilding,
    broker: LocalBroker,
    modbus_port: int,
    rs485_port: int | None,
    mbus: TcpMbusServer,
    outbox: Path,
) -> GatewayConfig:
    mbus_devices = [{"bus": "mbus", "address": a} for a in range(1, len(b.mbus_ids) + 1)]
    rs485 = (
        [{"name": "rs485", "type": "modbus-rtu-over-tcp", "host": "127.0.0.1", "port": rs485_port}]
        if rs485_port is not None
        else []
    )
    return GatewayConfig.model_validate(
        {
            "gateway": {"id": b.gateway_id, "building": b.building_id, "timezone": TZ},
            "schedule": {"interval": "15m", "max_jitter": "20s", "read_on_start": True},
            "mqtt": {"url": broker.url, "status_interval": "1h"},
            "outbox": {"path": str(outbox), "batch_size": 500, "batch_time": "1s"},
            "buses": [
                {"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": modbus_port},
                *rs485,
                {"name": "mbus", "type": "mbus", "port": mbus.url, "extra_timeout": "0.2s", "retries": 1},
            ],
            "devices": b.devices + mbus_devices,
        }
    )


class _LoopThread:
    """An asyncio event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class DemoClock(ScaledClock):
    """The simulated clock, which the demo stops at the moment it decides to end: readings taken while
    the gateways shut down carry that instant, never a time ahead of the summary's end."""

    def __init__(self, start: datetime, speed: float) -> None:
        super().__init__(start, speed)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        return self._frozen if self._frozen is not None else super().now()

    def freeze(self, at_most: datetime | None = None) -> datetime:
        now = self.now()
        self._frozen = min(now, at_most) if at_most is not None else now
        return self._frozen


def _continue_from(url: str) -> datetime | None:
    """Where the previous run's simulated time ended (``demo_runs``, kept in the demo's database)."""
    with connect(url) as conn:
        conn.execute(_DEMO_RUNS)
        row = conn.execute("SELECT max(simulated_end) FROM demo_runs").fetchone()
        conn.commit()
    return row[0] if row and row[0] else None


def _record_run(url: str, start: datetime, end: datetime, wall_start: datetime) -> None:
    with connect(url) as conn:
        conn.execute(_DEMO_RUNS)
        conn.execute(
            "INSERT INTO demo_runs (simulated_start, simulated_end, started_at) VALUES (%s, %s, %s)",
            (start, end, wall_start),
        )
        conn.commit()


_DEMO_RUNS = (
    "CREATE TABLE IF NOT EXISTS demo_runs (simulated_start timestamptz NOT NULL, "
    "simulated_end timestamptz NOT NULL, started_at timestamptz NOT NULL)"
)


def run_pipeline_demo(
    settings: Settings,
    *,
    buildings: int = 3,
    apartments: int = 200,
    speed: float = 1440.0,
    days_back: int = 3,
    duration: float | None = None,
    keep: bool = False,
    console: Console | None = None,
) -> None:
    console = console or Console()
    zone = ZoneInfo(TZ)
    per = [apartments // buildings + (1 if i < apartments % buildings else 0) for i in range(buildings)]
    plans = [plan_building(i, n) for i, n in enumerate(per)]
    folder = demo_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    wall_start = datetime.now(UTC)

    with (
        demo_database(settings, "pipeline", keep=keep) as db,
        local_broker() as broker,
        contextlib.ExitStack() as stack,
    ):
        url = db.url
        if db.fresh:
            console.print(f"database: {db.where}, fresh (earlier demo data removed; --continue keeps it)")
            remove_outboxes(folder)
        else:
            console.print(f"database: {db.where} — continuing the previous demo's data")
        with connect(url) as conn:
            migrate(conn, MIGRATION_SOURCES)
        first_day = datetime.now(zone).date() - timedelta(days=days_back)
        previous_end = None if db.fresh else _continue_from(url)
        start = (previous_end or datetime.combine(first_day, dtime(), zone)).astimezone(zone)
        clock = DemoClock(start, speed)
        sims = _LoopThread()
        stack.callback(sims.close)
        configs = []
        for i, b in enumerate(plans):
            heat = demo_meters(3, 0, start, first_id=(i + 1) * 1_000_000 + 1, multi_telegram=False)
            b.mbus_ids = [make_meter_id("KAM", m.identification) for m in heat]
            mbus = TcpMbusServer(MbusLine(heat, clock=clock.now))
            stack.callback(mbus.stop)
            ports: list[int | None] = []
            for rs485 in (False, True):
                line = b.line_meters(rs485)
                if not line:
                    ports.append(None)
                    continue
                sim = ModbusSimulator(line, clock)  # type: ignore[arg-type]  # any object with now()
                ports.append(sims.run(sim.start_tcp(rtu_framing=rs485)))
                stack.callback(lambda s=sim: sims.run(s.stop()))
            outbox = folder / f"{b.gateway_id}.outbox.sqlite3"
            configs.append(_gateway_config(b, broker, ports[0] or 0, ports[1], mbus, outbox))
        heat_profile = get_profile("kamstrup-multical-601")
        heat_registers = tuple(
            RegisterInfo(r.name, max_per_hour=1e6)
            for r in heat_profile.records  # type: ignore[union-attr]
        )
        with connect(url) as conn:
            for b in plans:
                for m in b.meters:
                    register_meter(conn, m)
                for mid in b.mbus_ids:
                    man, serial = mid.split("-", 1)
                    register_meter(
                        conn,
                        MeterInfo(
                            MeterKind.HEAT,
                            man,
                            serial,
                            building_id=b.building_id,
                            is_house_meter=mid == b.mbus_ids[0],
                            multiplier=Decimal(1),
                            registers=heat_registers,
                        ),
                    )
            # the ingest accepts only registered gateways, each for its own building
            register_gateways(conn, [(b.gateway_id, b.building_id) for b in plans])
            meters = conn.execute("SELECT count(*) FROM meters WHERE building_id LIKE 'DEMO-%'").fetchone()[0]
            conn.commit()

        verbose = logging.getLogger().level <= logging.DEBUG
        console.print(
            f"[bold]meterhub demo[/]: {buildings} buildings, {sum(per)} apartments, {meters} meters; "
            f"broker {broker.kind} on {broker.url}; simulated time from {start:%Y-%m-%d %H:%M %Z} "
            f"({zone.key}) at ×{speed:g}, until the present. Ctrl-C stops."
        )
        with logs_above_live(console, verbose=verbose) as warnings:
            end = _run_live(console, url, broker, configs, plans, clock, duration, wall_start)
        _record_run(url, start, end, wall_start)
        with connect(url) as conn:
            process_dirty(conn)
            conn.commit()
            window = RunWindow(start, end, wall_start, zone, speed)
            print_summary(console, conn, plans, window, warnings.lines())


def _run_live(
    console: Console,
    url: str,
    broker: LocalBroker,
    configs: list[GatewayConfig],
    plans: list[DemoBuilding],
    clock: DemoClock,
    duration: float | None,
    wall_start: datetime,
) -> datetime:
    """Run the ingest and the gateways until the present (or ``duration``, or Ctrl-C) with a live
    progress table; stop the clock, then the gateways, let the ingest drain; return the end."""
    zone = ZoneInfo(TZ)
    ingest = IngestService(
        url,
        IngestOptions(broker_url=broker.url, client_id="demo-ingest", max_delay=0.3, rollup_every=5.0),
    )
    ingest_thread = threading.Thread(target=ingest.run, daemon=True)
    ingest_thread.start()
    gw_loop = _LoopThread()
    gateways = [Gateway(c, clock=clock) for c in configs]
    futures = [asyncio.run_coroutine_threadsafe(g.run(), gw_loop.loop) for g in gateways]
    t0 = time.monotonic()
    try:
        with Live(console=console, refresh_per_second=2) as live, connect(url, autocommit=True) as watch:
            while True:
                now_sim = clock.now()
                if now_sim >= datetime.now(UTC):
                    break  # caught up with the present
                if duration is not None and time.monotonic() - t0 >= duration:
                    break
                live.update(_progress_table(watch, now_sim, zone, clock.start, wall_start))
                # wake up when the simulated clock meets the wall clock, not up to a second later
                to_present = (datetime.now(UTC) - clock.now()).total_seconds() / max(clock.speed - 1, 1e-9)
                time.sleep(min(1.0, max(to_present, 0.0)))
    except KeyboardInterrupt:
        console.print("stopping …")
    end = clock.freeze(at_most=datetime.now(UTC))
    _record_states_at_stop(url, plans)
    for g in gateways:
        gw_loop.loop.call_soon_threadsafe(g.stop)
    for g, f in zip(gateways, futures, strict=True):
        try:
            f.result(30)
        except Exception as exc:  # report, then go on stopping the rest
            console.print(f"[red]gateway {g.config.gateway.id} did not stop cleanly: {exc!r}[/]")
    gw_loop.close()
    _wait_drained(url, wall_start)
    ingest.stop()
    ingest_thread.join(30)
    return end


def _record_states_at_stop(url: str, plans: list[DemoBuilding]) -> None:
    with connect(url) as conn:
        for b in plans:
            row = conn.execute("SELECT state FROM gateways WHERE gateway_id = %s", (b.gateway_id,)).fetchone()
            b.state_at_stop = row[0] if row else None


def _wait_drained(url: str, since: datetime, quiet: float = 2.0, limit: float = 30.0) -> None:
    """Wait until the ingest has committed nothing new for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    last, changed = -1, time.monotonic()
    with connect(url, autocommit=True) as c:
        while time.monotonic() < deadline:
            n = c.execute("SELECT count(*) FROM ingest_log WHERE committed_at >= %s", (since,)).fetchone()[0]
            if n != last:
                last, changed = n, time.monotonic()
            elif time.monotonic() - changed >= quiet:
                return
            time.sleep(0.2)


def _progress_table(conn, now_sim: datetime, zone: ZoneInfo, start: datetime, since: datetime) -> Table:
    """This run so far: what the ingest committed since ``since`` (wall clock), hours from ``start``."""
    t = Table(title=f"simulated time {now_sim.astimezone(zone):%Y-%m-%d %H:%M %Z}")
    for col in ("readings", "hours", "dead letters", "gateways online", "messages"):
        t.add_column(col, justify="right")
    messages, readings = conn.execute(
        "SELECT count(*), coalesce(sum(readings), 0) FROM ingest_log WHERE committed_at >= %s", (since,)
    ).fetchone()
    hours = conn.execute("SELECT count(*) FROM hourly_consumption WHERE hour >= %s", (start,)).fetchone()[0]
    dead = conn.execute("SELECT count(*) FROM dead_letters WHERE received_at >= %s", (since,)).fetchone()[0]
    online = conn.execute(
        "SELECT count(*) FILTER (WHERE state = 'online'), count(*) FROM gateways"
    ).fetchone()
    t.add_row(f"{readings:,}", f"{hours:,}", f"{dead:,}", f"{online[0]}/{online[1]}", f"{messages:,}")
    return t
