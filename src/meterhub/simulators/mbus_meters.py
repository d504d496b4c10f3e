"""Simulated M-Bus heat and water meters: counters that advance with simulated time, the
telegrams they answer with, their link-layer state (FCB, selection, multi-telegram position)
and injectable faults.

Telegram layouts follow real meters so the shipped profiles apply unchanged:

* heat — like a Kamstrup MULTICAL 601 (records 0C 78, 04 06, 04 14, 04 22, 04 59, 04 5D,
  04 61, 04 2D, 04 3B, 04 6D; storage 1: 44 06, 44 14, 42 6C);
* water — like an Engelmann WaterStar M (04 78, 04 6D, volume in litres, storage 1: 44 13,
  42 6C, error flags 01 FD 17); the volume is sent as 8-digit BCD (0C 13) so it rolls over
  at 100 000 m³ like the meter's display.

With ``multi_telegram`` the current values end with DIF 0x1F and the storage values come in a
second telegram (requested with a toggled FCB).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from meterhub.core.registers import MeterKind
from meterhub.simulators import load_profiles
from meterhub.simulators import mbus_encoding as enc

#: Consumption between two instants [kWh for heat, m³ for water]; pluggable (load profiles).
ConsumptionModel = Callable[[datetime, datetime], float]

KWH_PER_GCAL = 1163.0  # 1 Gcal (IT) = 4.1868 GJ = 1.163 MWh


def load_profile_consumption(kind: Literal["heat", "water"], medium: int, seed: int) -> ConsumptionModel:
    """Consumption from the shared load profiles: heat [Gcal → kWh], water [m³]."""
    if kind == "heat":
        return lambda a, b: load_profiles.consumption(MeterKind.HEAT, a, b, seed) * KWH_PER_GCAL
    water = MeterKind.HOT_WATER if medium in (0x06, 0x15) else MeterKind.COLD_WATER
    return lambda a, b: load_profiles.consumption(water, a, b, seed)


@dataclass
class MeterFaults:
    """Faults injected into the next answers of one meter (counts are decremented per answer)."""

    no_answer: int = 0
    late_answer: int = 0
    late_delay_s: float = 1.0
    bad_checksum: int = 0
    wrong_length: int = 0
    application_error: int = 0  # answer REQ_UD2 with CI 0x70 (report of an application error)
    application_error_code: int = 8  # 8: application too busy for handling readout request
    # a telegram whose record area ends inside its last record, checksum right (a firmware that cuts
    # its buffer): records after the cut, a "more records follow" DIF 0x1F included, are lost
    damaged_telegram: int = 0
    clock_drift_s: float = 0.0
    replace_after_s: float = 0.0  # simulated seconds after start: swap in a new meter (0 = never)
    rollover_after_s: float = 0.0  # simulated seconds after start: counter jumps just below its limit


@dataclass
class SimulatedMeter:
    """One slave on the simulated line."""

    kind: Literal["heat", "water"]
    identification: str
    primary_address: int
    start: datetime
    manufacturer: str = ""
    version: int = 0
    medium: int = -1
    start_value: float = 0.0  # [kWh] heat energy or [m³] water volume at ``start``
    consumption: ConsumptionModel | None = None
    multi_telegram: bool = False
    faults: MeterFaults = field(default_factory=MeterFaults)
    status: int = 0
    # link-layer state
    selected: bool = False
    last_fcb: bool | None = None
    telegram_index: int = 0
    cycle: list[bytes] = field(default_factory=list)
    last_answer: bytes | None = None
    access_number: int = 0
    # running integral of the consumption (simulated time only moves forward)
    _acc_time: datetime | None = None
    _acc_value: float = 0.0
    _month_end_value: float | None = None
    _created: datetime | None = None

    def __post_init__(self) -> None:
        if not self.manufacturer:
            self.manufacturer = "KAM" if self.kind == "heat" else "EFE"
        if self.medium < 0:
            self.medium = 0x04 if self.kind == "heat" else 0x07
        if self.consumption is None:
            seed = zlib.crc32(self.identification.encode())
            self.consumption = load_profile_consumption(self.kind, self.medium, seed)
        self._acc_time = self.start
        self._created = self.start

    # --- counters -------------------------------------------------------------------------
    def counter(self, now: datetime) -> float:
        """Cumulative register at ``now`` [kWh | m³]; remembers the value at each month end."""
        assert self.consumption is not None and self._acc_time is not None
        while now > self._acc_time:
            boundary = _next_month_start(self._acc_time)
            stop = min(now, boundary)
            self._acc_value += self.consumption(self._acc_time, stop)
            self._acc_time = stop
            if stop == boundary:
                self._month_end_value = self.start_value + self._acc_value
        return self.start_value + self._acc_value

    def replace(self, identification: str, now: datetime) -> None:
        """Meter replacement: a new device with a new identification number starting at 0."""
        self.identification = identification
        self.start, self.start_value, self._acc_time, self._acc_value = now, 0.0, now, 0.0
        self._month_end_value = None
        self.last_fcb, self.cycle, self.last_answer, self.telegram_index = None, [], None, 0

    def force_rollover(self, now: datetime, margin: float) -> None:
        """Counter rollover: set the register ``margin`` below its limit so it wraps soon
        (water: 8 BCD digits of litres = 100 000 m³; heat: int32 kWh)."""
        self.counter(now)
        limit = 10**8 / 1000 if self.kind == "water" else float(2**31 - 1)
        self.start_value = limit - margin - self._acc_value

    def apply_schedule(self, now: datetime) -> None:
        """Scheduled faults: meter replacement (identification + 50 000 000) and counter rollover."""
        f = self.faults
        if f.replace_after_s and now >= self._created + timedelta(seconds=f.replace_after_s):
            f.replace_after_s = 0.0
            self.replace(f"{(int(self.identification) + 50_000_000) % 10**8:08d}", now)
        if f.rollover_after_s and now >= self._created + timedelta(seconds=f.rollover_after_s):
            f.rollover_after_s = 0.0
            self.force_rollover(now, margin=0.001 if self.kind == "water" else 1.0)

    # --- telegrams ------------------------------------------------------------------------
    def telegrams(self, now: datetime) -> list[bytes]:
        """User data (after CI 0x72) of one read-out cycle: one or two telegrams."""
        meter_time = (now + timedelta(seconds=self.faults.clock_drift_s)).replace(second=0, microsecond=0)
        value = self.counter(now)
        month_end = date(now.year, now.month, 1) - timedelta(days=1)
        stored = self._month_end_value if self._month_end_value is not None else self.start_value
        if self.kind == "heat":
            current, storage = self._heat(value, stored, meter_time, now, month_end)
        else:
            current, storage = self._water(value, stored, meter_time, month_end)
        if self.multi_telegram:
            return [current + enc.MORE_RECORDS_FOLLOW, storage]
        return [current + storage]

    def header(self) -> bytes:
        self.access_number = (self.access_number + 1) % 256
        return enc.long_header(
            self.identification, self.manufacturer, self.version, self.medium, self.access_number, self.status
        )

    def _heat(self, kwh: float, stored_kwh: float, meter_time: datetime, now: datetime, month_end: date):
        hours = int(max(0.0, (now - self.start).total_seconds()) // 3600)
        assert self.consumption is not None
        power_kw = self.consumption(now - timedelta(minutes=1), now) * 60
        dt_k = 20.0 + 5.0 * math.sin(now.timestamp() / 3600)
        flow_m3h = power_kw / (1.163 * dt_k) if dt_k else 0.0
        energy = int(kwh) & 0x7FFFFFFF
        volume = int(kwh / (1.163 * 20.0) * 100) & 0x7FFFFFFF  # carrier volume [0.01 m³]
        current = b"".join(
            (
                enc.bcd_record(b"\x78", int(self.identification), 8),
                enc.int_record(b"\x06", energy),  # energy [kWh] = 10^3 Wh
                enc.int_record(b"\x14", volume),  # volume [0.01 m³]
                enc.int_record(b"\x22", hours),  # on time [h]
                enc.int_record(b"\x59", round((70.0 + dt_k / 2) * 100)),  # flow temp [0.01 °C]
                enc.int_record(b"\x5d", round((70.0 - dt_k / 2) * 100)),  # return temp [0.01 °C]
                enc.int_record(b"\x61", round(dt_k * 100)),  # temperature difference [0.01 K]
                enc.int_record(b"\x2d", round(power_kw * 10)),  # power [10^2 W]
                enc.int_record(b"\x3b", round(flow_m3h * 1000)),  # flow [l/h]
                enc.datetime_record(meter_time),
            )
        )
        storage = b"".join(
            (
                enc.int_record(b"\x06", int(stored_kwh) & 0x7FFFFFFF, storage=1),
                enc.int_record(b"\x14", int(stored_kwh / (1.163 * 20.0) * 100) & 0x7FFFFFFF, storage=1),
                enc.date_record(month_end, storage=1),
            )
        )
        return current, storage

    def _water(self, m3: float, stored_m3: float, meter_time: datetime, month_end: date):
        litres = int(m3 * 1000) % 10**8
        current = b"".join(
            (
                enc.int_record(b"\x78", int(self.identification)),
                enc.datetime_record(meter_time),
                enc.bcd_record(b"\x13", litres, 8),  # volume [l] = 10^-3 m³
                enc.dib(0x1) + b"\xfd\x17" + bytes((self.status & 0xFF,)),  # error flags
            )
        )
        storage = b"".join(
            (
                enc.bcd_record(b"\x13", int(stored_m3 * 1000) % 10**8, 8, storage=1),
                enc.date_record(month_end, storage=1),
            )
        )
        return current, storage

    # --- link layer -----------------------------------------------------------------------
    def reset_link(self) -> None:
        """SND_NKE: the next REQ_UD2 starts a new cycle whatever its FCB."""
        self.last_fcb, self.telegram_index, self.cycle, self.last_answer = None, 0, [], None

    def answer_req_ud2(self, fcb: bool, fcv: bool, now: datetime) -> bytes:
        """RSP_UD frame for a REQ_UD2 (EN 13757-2 5.7.2: an unchanged FCB repeats the last answer)."""
        if fcv and self.last_answer is not None and self.last_fcb == fcb:
            return self.last_answer
        if self.faults.application_error > 0:  # the Modbus "exception response" of M-Bus
            self.faults.application_error -= 1
            code = bytes((self.faults.application_error_code & 0xFF,))
            self.last_answer = enc.long_frame(0x08, self.primary_address, 0x70, code)
            self.last_fcb = fcb if fcv else None
            return self.last_answer
        more = self.cycle and self.telegram_index + 1 < len(self.cycle)
        if more:
            self.telegram_index += 1
        else:
            self.cycle, self.telegram_index = self.telegrams(now), 0
        body = self.cycle[self.telegram_index]
        if self.faults.damaged_telegram > 0:
            self.faults.damaged_telegram -= 1
            body = body.removesuffix(enc.MORE_RECORDS_FOLLOW)[:-1]
        data = self.header() + body
        self.last_answer = enc.long_frame(0x08, self.primary_address, 0x72, data)
        self.last_fcb = fcb if fcv else None
        return self.last_answer

    def matches(self, mask: bytes) -> bool:
        """Does the 8-byte selection mask (CI 0x52) select this meter? 0xF nibbles are wildcards."""
        own = bytes.fromhex(self.identification.rjust(8, "0"))[::-1]
        for want, have in zip(mask[:4], own, strict=True):
            for shift in (0, 4):
                w = (want >> shift) & 0xF
                if w != 0xF and w != (have >> shift) & 0xF:
                    return False
        man = int.from_bytes(mask[4:6], "little")
        if man != 0xFFFF and man != enc.manufacturer_id(self.manufacturer):
            return False
        if mask[6] != 0xFF and mask[6] != self.version:
            return False
        return not (mask[7] != 0xFF and mask[7] != self.medium)


def _next_month_start(t: datetime) -> datetime:
    first = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def demo_meters(
    heat: int, water: int, start: datetime, first_id: int = 10_000_001, multi_telegram: bool = True
) -> list[SimulatedMeter]:
    """A line of ``heat`` heat meters then ``water`` water meters at primary addresses 1, 2, …

    Identification numbers count up from ``first_id``, so neighbours share their leading digits
    and a secondary scan meets collisions as on a real staircase riser.
    """
    meters: list[SimulatedMeter] = []
    for i in range(heat + water):
        kind: Literal["heat", "water"] = "heat" if i < heat else "water"
        start_value = 1000.0 + 37.0 * i if kind == "heat" else 10.0 + 1.3 * i
        meters.append(
            SimulatedMeter(
                kind,
                f"{first_id + i:08d}",
                i + 1,
                start,
                start_value=start_value,
                multi_telegram=multi_telegram and kind == "heat",
                medium=-1 if kind == "heat" or i % 2 else 0x06,
            )
        )
    return meters
