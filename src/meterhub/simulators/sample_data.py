"""Realistic sample data for one apartment building (МКД): meters and their register readings.

Used by ``meterhub demo``, the tests and the benchmarks. Deterministic for a seed. Vectorised with
numpy: a month of 15-minute reads for hundreds of meters takes well under a second.

What it produces for a building with ``apartments`` flats:

* house meters (ОДПУ): electricity with T1/T2 registers behind current transformers (×40), cold
  water, hot water, heat — read every 15 minutes;
* per apartment (ИПУ): a two-tariff electricity meter (total, T1 day 07–23, T2 night) every 15
  minutes, cold and hot water pulse counters read hourly at :07 (with jitter), a heat meter read
  daily at 00:30 local time;
* load shapes: morning and evening peaks, weekends, winter heating, occasional water draws; the
  house meters see the apartments' sum plus common-property use (stair lighting, pumps) and losses;
* faults, listed in ``SampleBuilding.faults``: a meter offline for two days (gap), a 5-digit water
  counter rolling over, an electricity meter replaced mid-month (recorded as an event), a counter
  glitch going backwards, an impossible spike.

Only core types are used here: the generator stands in for real meters and must not depend on the
code it feeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from meterhub.core.readings import Reading, make_meter_id
from meterhub.core.registers import MeterKind
from meterhub.gateway.stamping import read_stamp_us

HOUR_US = 3_600_000_000
DAY_START = 7  # T1 (day) zone 07:00–23:00 local
DAY_END = 23


@dataclass(frozen=True)
class SampleMeter:
    kind: MeterKind
    manufacturer: str
    serial: str
    model: str
    registers: tuple[str, ...]
    premise: str | None  # apartment number; None for a house meter
    is_house_meter: bool = False
    multiplier: int = 1
    register_digits: int | None = None
    installed_on: date | None = None
    removed_on: date | None = None
    verification_due: date | None = None

    @property
    def meter_id(self) -> str:
        return make_meter_id(self.manufacturer, self.serial)


@dataclass
class SampleSeries:
    meter_id: str
    register: str
    ts_us: np.ndarray  # int64 µs since the Unix epoch, UTC
    values: np.ndarray  # float64 register values as the meter reports them


@dataclass(frozen=True)
class SampleEvent:
    """A counter event as an engineer would record it (e.g. the replacement act)."""

    kind: str  # 'replacement'
    ts: datetime
    old_meter_id: str
    new_meter_id: str
    final_values: dict[str, float]
    initial_values: dict[str, float]


@dataclass
class SampleBuilding:
    building_id: str
    tz: str
    address: str
    apartments: int
    meters: list[SampleMeter]
    series: list[SampleSeries]
    events: list[SampleEvent] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    @property
    def reading_count(self) -> int:
        return sum(len(s.ts_us) for s in self.series)

    def readings(self) -> Iterator[Reading]:
        """All readings as ``Reading`` objects, series after series."""
        for s in self.series:
            for t, v in zip(s.ts_us.tolist(), s.values.tolist(), strict=True):
                yield Reading(s.meter_id, s.register, datetime.fromtimestamp(t / 1e6, UTC), v)

    def readings_in_time_order(self) -> list[Reading]:
        """All readings sorted by time, as a gateway would send them."""
        return sorted(self.readings(), key=lambda r: r.ts)


# --- load shapes (per hour, local time) ------------------------------------------------------


def _electricity_shape(local_hour: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Relative apartment electricity demand by local hour: night base, morning and evening peaks."""
    h = local_hour.astype(float)
    morning = np.exp(-0.5 * ((h - 7.5) / 1.2) ** 2)
    evening = np.exp(-0.5 * ((h - 20.0) / 2.0) ** 2)
    midday = np.where(weekend, 0.6 * np.exp(-0.5 * ((h - 13.0) / 3.0) ** 2), 0.15)
    return 0.25 + 0.8 * morning + 1.4 * evening + midday


def _water_shape(local_hour: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    h = local_hour.astype(float)
    morning = np.exp(-0.5 * ((h - 7.0 - weekend * 2.0) / 1.0) ** 2)  # weekends start two hours later
    evening = np.exp(-0.5 * ((h - 21.0) / 1.5) ** 2)
    night = np.where((h >= 1) & (h <= 5), 0.02, 0.1)
    return night + 1.2 * morning + 1.0 * evening


def _heating_factor(day_of_year: np.ndarray) -> np.ndarray:
    """1.0 in mid-winter, 0 in summer (no heating from mid-May to mid-September)."""
    season = 0.5 * (1 + np.cos(2 * np.pi * (day_of_year - 15) / 365.0))
    return np.clip((season - 0.25) / 0.75, 0.0, 1.0)


# --- generation ------------------------------------------------------------------------------


def _read_times(
    start_us: int, end_us: int, every_us: int, offset_us: int, jitter_us: int, rng: np.random.Generator
) -> np.ndarray:
    """Read instants [µs since the Unix epoch], stamped at whole seconds as the gateway stamps them
    (``gateway.stamping.read_stamp_us``: the floor of the read's moment)."""
    t = np.arange(start_us + offset_us, end_us + 1, every_us, dtype=np.int64)
    if jitter_us:
        t = t + rng.integers(0, jitter_us, size=len(t))
    return np.unique(read_stamp_us(t))


def _counter_at(read_us: np.ndarray, hour_us: np.ndarray, hourly: np.ndarray) -> np.ndarray:
    """Cumulative consumption at read times, linear within each hour."""
    cum = np.concatenate(([0.0], np.cumsum(hourly)))
    edges = np.concatenate((hour_us, [hour_us[-1] + HOUR_US])).astype(float)
    return np.interp(read_us.astype(float), edges, cum)


def generate_building(
    building_id: str = "B-001",
    *,
    apartments: int = 80,
    start: date = date(2026, 1, 1),
    days: int = 31,
    tz: str = "Europe/Moscow",
    seed: int = 7,
    faults: bool = True,
    serial_base: int | None = None,
) -> SampleBuilding:
    """A building with house and apartment meters and ``days`` of readings from local ``start``."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(tz)
    t0 = datetime.combine(start, time(), zone).astimezone(UTC)
    start_us = int(t0.timestamp()) * 1_000_000
    end_us = start_us + days * 24 * HOUR_US
    hour_us = np.arange(start_us, end_us, HOUR_US, dtype=np.int64)
    offset_h = int(zone.utcoffset(datetime.combine(start, time())).total_seconds() // 3600)  # type: ignore[union-attr]
    local_hour = ((hour_us // HOUR_US) + offset_h) % 24
    local_day = (hour_us // HOUR_US + offset_h) // 24
    weekend = ((local_day + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    day_of_year = np.array(
        [(start + timedelta(days=int(d - local_day[0]))).timetuple().tm_yday for d in local_day], dtype=float
    )
    heating = _heating_factor(day_of_year)
    night = (local_hour < DAY_START) | (local_hour >= DAY_END)
    base_serial = serial_base if serial_base is not None else 10_000_000 + seed * 100_000

    meters: list[SampleMeter] = []
    series: list[SampleSeries] = []
    q15 = _read_times(start_us, end_us, HOUR_US // 4, 0, 0, rng)
    house_el = np.zeros(len(hour_us))
    house_cw = np.zeros(len(hour_us))
    house_hw = np.zeros(len(hour_us))
    house_heat = np.zeros(len(hour_us))
    verification = start + timedelta(days=365 * 3)

    def add(
        meter: SampleMeter,
        register: str,
        times: np.ndarray,
        hourly: np.ndarray,
        initial: float,
        decimals: int,
    ) -> SampleSeries:
        counter = initial + _counter_at(times, hour_us, hourly) / meter.multiplier
        if meter.register_digits:
            counter = np.mod(counter, 10.0**meter.register_digits)
        s = SampleSeries(meter.meter_id, register, times, np.round(counter, decimals))
        series.append(s)
        return s

    el_shape = _electricity_shape(local_hour, weekend)
    w_shape = _water_shape(local_hour, weekend)
    for apt in range(1, apartments + 1):
        size = rng.uniform(0.6, 1.6)  # household size/consumption factor
        serial = base_serial + apt * 10
        # electricity: two-tariff meter, kWh with 2 decimals
        el = SampleMeter(
            MeterKind.ELECTRICITY,
            "EKF",
            str(serial),
            "two-tariff 5(60) A",
            ("energy_import_kwh", "energy_import_t1_kwh", "energy_import_t2_kwh"),
            str(apt),
            verification_due=verification,
        )
        hourly_el = el_shape * size * rng.lognormal(-1.0, 0.35, len(hour_us))
        init = float(rng.uniform(1000, 20000))
        split = float(rng.uniform(0.6, 0.8))
        add(el, "energy_import_kwh", q15, hourly_el, init, 2)
        add(el, "energy_import_t1_kwh", q15, np.where(night, 0, hourly_el), init * split, 2)
        add(el, "energy_import_t2_kwh", q15, np.where(night, hourly_el, 0), init * (1 - split), 2)
        meters.append(el)
        house_el += hourly_el
        # water: hourly reads at :07 with up to 2 minutes jitter, m³ with 3 decimals
        for kind, man, share, house in (
            (MeterKind.COLD_WATER, "PUL", 0.6, house_cw),
            (MeterKind.HOT_WATER, "PUL", 0.4, house_hw),
        ):
            wm = SampleMeter(
                kind,
                man,
                str(serial + (1 if kind is MeterKind.COLD_WATER else 2)),
                "pulse counter 10 l/imp",
                ("water_m3",),
                str(apt),
                register_digits=5,
                verification_due=verification,
            )
            draws = rng.random(len(hour_us)) < 0.55
            hourly_w = w_shape * draws * size * share * rng.lognormal(-2.6, 0.5, len(hour_us))
            times = _read_times(start_us, end_us, HOUR_US, 7 * 60_000_000, 120_000_000, rng)
            add(wm, "water_m3", times, hourly_w, float(rng.uniform(10, 900)), 3)
            meters.append(wm)
            house += hourly_w
        # heat: daily read at 00:30 local, Gcal with 4 decimals
        hm = SampleMeter(
            MeterKind.HEAT,
            "SEN",
            str(serial + 3),
            "M-Bus heat meter",
            ("heat_gcal",),
            str(apt),
            verification_due=verification,
        )
        hourly_heat = heating * size * 0.0018 * rng.lognormal(0, 0.1, len(hour_us))
        daily = _read_times(start_us, end_us, 24 * HOUR_US, 30 * 60_000_000, 0, rng)
        add(hm, "heat_gcal", daily, hourly_heat, float(rng.uniform(1, 40)), 4)
        meters.append(hm)
        house_heat += hourly_heat

    # house meters (ОДПУ): apartments + common property + losses
    common_light = np.where(night, 0.02 * apartments, 0.005 * apartments)
    h_el = SampleMeter(
        MeterKind.ELECTRICITY,
        "EKF",
        str(base_serial + 1),
        "house meter CT 200/5",
        ("energy_import_kwh", "energy_import_t1_kwh", "energy_import_t2_kwh"),
        None,
        is_house_meter=True,
        multiplier=40,
        verification_due=verification,
    )
    house_total = house_el * 1.03 + common_light
    add(h_el, "energy_import_kwh", q15, house_total, 1500.0, 2)
    add(h_el, "energy_import_t1_kwh", q15, np.where(night, 0, house_total), 1000.0, 2)
    add(h_el, "energy_import_t2_kwh", q15, np.where(night, house_total, 0), 500.0, 2)
    meters.append(h_el)
    for kind, house, serial_off in ((MeterKind.COLD_WATER, house_cw, 2), (MeterKind.HOT_WATER, house_hw, 3)):
        hw = SampleMeter(
            kind,
            "VZL",
            str(base_serial + serial_off),
            "house water meter DN50",
            ("water_m3",),
            None,
            is_house_meter=True,
            verification_due=verification,
        )
        add(hw, "water_m3", q15, house * 1.04 + 0.01, float(rng.uniform(1000, 5000)), 3)
        meters.append(hw)
    h_heat = SampleMeter(
        MeterKind.HEAT,
        "SEN",
        str(base_serial + 4),
        "house heat meter",
        ("heat_gcal",),
        None,
        is_house_meter=True,
        verification_due=verification,
    )
    add(h_heat, "heat_gcal", q15, house_heat * 1.08, 2000.0, 4)
    meters.append(h_heat)

    building = SampleBuilding(building_id, tz, f"ул. Примерная, д. {seed}", apartments, meters, series)
    if faults and apartments >= 5:
        _inject_faults(building, rng, start_us, end_us)
    return building


def _find(b: SampleBuilding, meter_id: str, register: str) -> SampleSeries:
    return next(s for s in b.series if s.meter_id == meter_id and s.register == register)


def _inject_faults(b: SampleBuilding, rng: np.random.Generator, start_us: int, end_us: int) -> None:
    apt_meters = [m for m in b.meters if not m.is_house_meter]
    water = [m for m in apt_meters if m.kind is MeterKind.COLD_WATER]
    elec = [m for m in apt_meters if m.kind is MeterKind.ELECTRICITY]
    mid = start_us + (end_us - start_us) // 2

    # 1. gap: an electricity meter offline for two days
    gap_meter = elec[1]
    for reg in gap_meter.registers:
        s = _find(b, gap_meter.meter_id, reg)
        keep = (s.ts_us < mid) | (s.ts_us >= mid + 48 * HOUR_US)
        s.ts_us, s.values = s.ts_us[keep], s.values[keep]
    b.faults.append(f"gap: {gap_meter.meter_id} sends nothing for 48 h from the middle of the period")

    # 2. rollover: a 5-digit cold water counter starting just below 100000 m³
    roll = _find(b, water[2].meter_id, "water_m3")
    roll.values = np.round(np.mod(roll.values - roll.values[0] + 99_999.5, 100_000.0), 3)
    b.faults.append(f"rollover: {water[2].meter_id} wraps from 99999.x to 0 (5 digits)")

    # 3. backwards glitch: one reading far below its neighbours
    back = _find(b, water[3].meter_id, "water_m3")
    i = len(back.values) // 3
    back.values = back.values.copy()
    back.values[i] = round(back.values[i] * 0.5, 3)
    b.faults.append(f"backwards: {water[3].meter_id} reports half its counter once")

    # 4. spike: an impossible jump on an electricity register, once
    spike_m = elec[3]
    sp = _find(b, spike_m.meter_id, "energy_import_kwh")
    j = len(sp.values) // 4
    sp.values = sp.values.copy()
    sp.values[j] += 5_000.0
    b.faults.append(f"spike: {spike_m.meter_id} jumps by 5000 kWh for one reading")

    # 5. replacement: an electricity meter replaced in the middle of the period
    old = elec[4]
    new = SampleMeter(
        old.kind,
        old.manufacturer,
        str(int(old.serial) + 5),
        old.model,
        old.registers,
        old.premise,
        installed_on=datetime.fromtimestamp(mid / 1e6, UTC).date(),
        verification_due=old.verification_due,
    )
    ts_replace = mid + 37 * 60_000_000  # 00:37 after the middle hour
    finals: dict[str, float] = {}
    initials: dict[str, float] = {}
    for reg in old.registers:
        s = _find(b, old.meter_id, reg)
        before = s.ts_us < ts_replace
        last = float(s.values[before][-1])
        # consumption after the last read before the replacement, up to the replacement time
        finals[reg] = round(last, 2)
        initials[reg] = 0.0
        new_vals = np.round(s.values[~before] - last, 2)
        b.series.append(SampleSeries(new.meter_id, reg, s.ts_us[~before], new_vals))
        s.ts_us, s.values = s.ts_us[before], s.values[before]
    b.meters.append(new)
    b.events.append(
        SampleEvent(
            "replacement",
            datetime.fromtimestamp(ts_replace / 1e6, UTC),
            old.meter_id,
            new.meter_id,
            finals,
            initials,
        )
    )
    b.faults.append(f"replacement: {old.meter_id} replaced by {new.meter_id} (new serial, counter from 0)")
