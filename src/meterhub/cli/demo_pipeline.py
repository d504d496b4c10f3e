"""The full-pipeline demo: simulated meters → gateways → MQTT broker → ingest → PostgreSQL.

Everything runs on this machine with no setup: the embedded PostgreSQL (or METERHUB_DATABASE_URL),
a private broker (mosquitto on a free port, else the embedded amqtt broker), per building a Modbus/TCP
simulator (apartment electricity meters, pulse counters for water, a house meter) and an M-Bus line
behind a TCP converter (heat meters), one real gateway per building with its SQLite outbox, and the
ingest worker with the hourly rollup. Simulated time runs ``speed`` times faster than the wall
clock, starting ``days_back`` days ago, so a month of data takes minutes; the demo stops when the
simulated clock reaches the present, after ``duration`` seconds, or on Ctrl-C, and prints a summary.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from meterhub.timeseries.database import connect, database_url
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
            "bus": "lan",
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
    # faults: a dead apartment meter in building 1, CRC errors on one in building 2
    if index == 0:
        b.modbus[3].faults.no_answer = True
        b.faults.append(f"{b.building_id}: apartment meter unit 4 never answers (dead device)")
    if index == 1:
        b.modbus[5].faults.crc_error = True
        b.faults.append(f"{b.building_id}: apartment meter unit 6 answers with CRC errors")
    return b


def _gateway_config(
    b: DemoBuilding, broker: LocalBroker, modbus_port: int, mbus: TcpMbusServer, outbox: Path
) -> GatewayConfig:
    mbus_devices = [{"bus": "mbus", "address": a} for a in range(1, len(b.mbus_ids) + 1)]
    return GatewayConfig.model_validate(
        {
            "gateway": {"id": b.gateway_id, "building": b.building_id, "timezone": TZ},
            "schedule": {"interval": "15m", "max_jitter": "20s", "read_on_start": True},
            "mqtt": {"url": broker.url, "status_interval": "1h"},
            "outbox": {"path": str(outbox), "batch_size": 500, "batch_time": "1s"},
            "buses": [
                {"name": "lan", "type": "modbus-tcp", "host": "127.0.0.1", "port": modbus_port},
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


def run_pipeline_demo(
    settings: Settings,
    *,
    buildings: int = 3,
    apartments: int = 200,
    speed: float = 1440.0,
    days_back: int = 10,
    duration: float | None = None,
    console: Console | None = None,
) -> None:
    console = console or Console()
    zone = ZoneInfo(TZ)
    start = datetime.combine(datetime.now(zone).date() - timedelta(days=days_back), dtime(), zone)
    per = [apartments // buildings + (1 if i < apartments % buildings else 0) for i in range(buildings)]
    plans = [plan_building(i, n) for i, n in enumerate(per)]
    clock = ScaledClock(start, speed)
    demo_dir = settings.data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)

    with database_url(settings) as url, local_broker() as broker, contextlib.ExitStack() as stack:
        with connect(url) as conn:
            migrate(conn, MIGRATION_SOURCES)
        sims = _LoopThread()
        stack.callback(sims.close)
        configs = []
        for i, b in enumerate(plans):
            heat = demo_meters(3, 0, start, first_id=(i + 1) * 1_000_000 + 1, multi_telegram=False)
            b.mbus_ids = [make_meter_id("KAM", m.identification) for m in heat]
            mbus = TcpMbusServer(MbusLine(heat, clock=clock.now))
            stack.callback(mbus.stop)
            sim = ModbusSimulator(b.modbus, clock)  # type: ignore[arg-type]  # any object with now()
            port = sims.run(sim.start_tcp())
            stack.callback(lambda s=sim: sims.run(s.stop()))
            outbox = demo_dir / f"{b.gateway_id}.outbox.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{outbox}{suffix}").unlink(missing_ok=True)
            configs.append(_gateway_config(b, broker, port, mbus, outbox))
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
            meters = conn.execute("SELECT count(*) FROM meters WHERE building_id LIKE 'DEMO-%'").fetchone()[0]
            conn.commit()

        ingest = IngestService(
            url,
            IngestOptions(broker_url=broker.url, client_id="demo-ingest", max_delay=0.3, rollup_every=5.0),
        )
        ingest_thread = threading.Thread(target=ingest.run, daemon=True)
        ingest_thread.start()
        gw_loop = _LoopThread()
        gateways = [Gateway(c, clock=clock) for c in configs]
        futures = [asyncio.run_coroutine_threadsafe(g.run(), gw_loop.loop) for g in gateways]
        console.print(
            f"[bold]meterhub demo[/]: {buildings} buildings, {sum(per)} apartments, {meters} meters; broker "
            f"{broker.kind} on {broker.url}; simulated time from {start:%Y-%m-%d %H:%M %Z} at ×{speed:g}. "
            "Ctrl-C stops."
        )
        t0 = time.monotonic()
        try:
            with Live(console=console, refresh_per_second=2) as live, connect(url, autocommit=True) as watch:
                while True:
                    now_sim = clock.now()
                    if now_sim >= datetime.now(UTC) - timedelta(minutes=20):
                        break  # caught up with the present: readings from the future would be refused
                    if duration is not None and time.monotonic() - t0 >= duration:
                        break
                    live.update(_progress_table(watch, now_sim, zone, ingest))
                    time.sleep(1)
        except KeyboardInterrupt:
            console.print("stopping …")
        for g in gateways:
            gw_loop.loop.call_soon_threadsafe(g.stop)
        for g, f in zip(gateways, futures, strict=True):
            try:
                f.result(30)
            except Exception as exc:  # report, then go on stopping the rest
                console.print(f"[red]gateway {g.config.gateway.id} did not stop cleanly: {exc!r}[/]")
        gw_loop.close()
        _wait_drained(url)
        ingest.stop()
        ingest_thread.join(30)
        with connect(url) as conn:
            process_dirty(conn)
            conn.commit()
            _summary(console, conn, plans, start, clock.now())


def _wait_drained(url: str, quiet: float = 2.0, limit: float = 30.0) -> None:
    """Wait until the ingest has committed nothing new for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    last, since = -1, time.monotonic()
    with connect(url, autocommit=True) as c:
        while time.monotonic() < deadline:
            n = c.execute("SELECT count(*) FROM ingest_log").fetchone()[0]
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.2)


def _progress_table(conn, now_sim: datetime, zone: ZoneInfo, ingest: IngestService) -> Table:
    t = Table(title=f"simulated time {now_sim.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})")
    for col in ("readings stored", "hours computed", "dead letters", "gateways online", "messages"):
        t.add_column(col, justify="right")
    readings = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
    hours = conn.execute("SELECT count(*) FROM hourly_consumption").fetchone()[0]
    dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    online = conn.execute(
        "SELECT count(*) FILTER (WHERE state = 'online'), count(*) FROM gateways"
    ).fetchone()
    messages = conn.execute("SELECT count(*) FROM ingest_log").fetchone()[0]
    t.add_row(f"{readings:,}", f"{hours:,}", f"{dead:,}", f"{online[0]}/{online[1]}", f"{messages:,}")
    return t


def _summary(console: Console, conn, plans: list[DemoBuilding], start: datetime, end: datetime) -> None:
    console.print(f"\n[bold]summary[/] (simulated {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC)")
    t = Table(title="per building")
    for col in (
        "building",
        "meters",
        "readings",
        "hours",
        "measured %",
        "suspect readings",
        "gateway (last state)",
        "devices online",
        "failing devices",
    ):
        t.add_column(col)
    for b in plans:
        meters, readings = conn.execute(
            "SELECT count(DISTINCT m.meter_id), count(r.*) FROM meters m "
            "JOIN meter_registers mr USING (meter_id) "
            "LEFT JOIN readings r ON r.series_id = mr.series_id WHERE m.building_id = %s",
            (b.building_id,),
        ).fetchone()
        hours, measured = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE h.quality = 0) FROM hourly_consumption h "
            "JOIN meter_registers mr USING (series_id) JOIN meters m USING (meter_id) "
            "WHERE m.building_id = %s",
            (b.building_id,),
        ).fetchone()
        suspect = conn.execute(
            "SELECT count(*) FROM reading_flags f JOIN meter_registers mr USING (series_id) "
            "JOIN meters m USING (meter_id) WHERE m.building_id = %s",
            (b.building_id,),
        ).fetchone()[0]
        gw = conn.execute(
            "SELECT state, devices FROM gateways WHERE gateway_id = %s", (b.gateway_id,)
        ).fetchone()
        devices = gw[1] if gw else []
        failing = [f"{d['device']}: {d.get('last_error') or 'down'}" for d in devices if not d["online"]]
        t.add_row(
            b.building_id,
            str(meters),
            f"{readings:,}",
            f"{hours:,}",
            f"{100 * measured / hours:.1f}" if hours else "-",
            str(suspect),
            f"{b.gateway_id} ({gw[0] if gw else 'never seen'})",
            f"{sum(d['online'] for d in devices)}/{len(devices)}",
            "; ".join(failing)[:80] or "-",
        )
    console.print(t)
    dl = conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY 1 ORDER BY 2 DESC").fetchall()
    console.print("dead letters: " + (", ".join(f"{r} ×{n}" for r, n in dl) or "none"))
    gaps = conn.execute(
        "SELECT count(*) FROM (SELECT series_id, "
        "hour - lag(hour) OVER (PARTITION BY series_id ORDER BY hour) AS d "
        "FROM hourly_consumption) x WHERE d > interval '1 hour'"
    ).fetchone()[0]
    console.print(f"gaps in hourly series: {gaps}")
    # sent_at is stamped with the gateways' simulated clock, so publish→commit lag is not meaningful here
    messages = conn.execute("SELECT count(*), coalesce(sum(readings), 0) FROM ingest_log").fetchone()
    console.print(f"ingest: {messages[0]:,} MQTT messages with {messages[1]:,} readings committed")
    for b in plans:
        for f in b.faults:
            console.print(f"fault injected: {f}")
