"""A generated city for the close: three buildings in three time zones, every input of the dated
configuration (docs/billing-close.md "Dated configuration"), imported from CSV files like a УК would.

Each building B (``C1`` Europe/Moscow, ``C2`` Asia/Yekaterinburg, ``C3`` Asia/Novosibirsk) has ten
residential premises k = 1..10, area 40 + 5k m² (S_об = 675 m², S_ои = 60 m²), one account ``B-k`` with
1 + k mod 3 residents. Electricity is priced single-rate 5.00, two-zone 6.00/3.00 and three-zone
7.00/5.50/2.50 (so the implicit plan is single-rate), cold water 50.00, wastewater 40.00, maintenance
30.00 ₽/m². Electricity meters of flats 1..7 are read hourly (flat 5's meter is replaced on the 16th: the
old one until then, the new one after); cold-water meters of flats 1..7 are
read monthly on the 25th, 3 + 0.5k m³ a month (electricity: k × 0.025 × (1 + local hour mod 4) kWh
in each hour, so the local time zone decides every zone volume); the house electricity meter reads
4000 kWh a month.

The configuration differs per flat:

====  =====================================================================================
flat  what it exercises
====  =====================================================================================
1     a **meter** plan: three-zone on its electricity meter
2     an **account** plan: two-zone on the "weekend-night" schedule (weekends and holidays all night)
3     cold-water meter **failed** from the 10th (no history → normative × 1.5)
4     cold-water meter **being replaced** by the consumer from the 5th (normative, no × 1.5)
5     electricity meter **replaced** on the 16th (hourly meters, billed by meter together)
6-7   ordinary flats
8     no cold-water and no electricity meter, **act for cold water** only; 2 of 3 residents away
      5th → 18th (cold water and wastewater reduced, electricity not)
9     no cold-water and no electricity meter, **no act** (cold water × 1.5)
10    no meters, **acts for cold water and electricity**; 1 of 2 residents away 5th → 18th
====  =====================================================================================

and a building-wide 30-hour cold-water interruption from the 20th 08:00 local time. The city comes from a
legacy system: cutover in January 2026 with opening debts (``write_migration_files``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from meterhub.billing.imports import import_directory
from tests.billing.close_data import ensure_partitions, series_id, write_reading

BUILDINGS = {"C1": "Europe/Moscow", "C2": "Asia/Yekaterinburg", "C3": "Asia/Novosibirsk"}
FLATS = range(1, 11)
HOUSE_KWH = 4000
NEW_YEAR = [date(2026, 1, d) for d in range(1, 9)]


@dataclass(frozen=True)
class Flat:
    building: str
    k: int

    @property
    def account(self) -> str:
        return f"{self.building}-{self.k}"

    @property
    def area(self) -> int:
        return 40 + 5 * self.k

    @property
    def residents(self) -> int:
        return 1 + self.k % 3

    @property
    def base_micro(self) -> int:
        """Electricity in the local hour h = base × (1 + h mod 4) [µkWh]; base = k × 0.025 kWh."""
        return self.k * 25_000

    @property
    def has_electricity_meter(self) -> bool:
        return self.k <= 7

    @property
    def has_cold_meter(self) -> bool:
        return self.k <= 7

    @property
    def cold_m3(self) -> str:
        return str(3 + self.k / 2)


def flats() -> list[Flat]:
    return [Flat(b, k) for b in BUILDINGS for k in FLATS]


def _csv(folder: Path, name: str, header: str, rows: list[str]) -> None:
    (folder / f"{name}.csv").write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_city_files(folder: Path) -> None:
    """The city's import files (one folder, imported in dependency order by ``import_directory``)."""
    b = BUILDINGS
    _csv(
        folder,
        "buildings",
        "building,address,time_zone,total_area,common_area",
        [f"{x},г. Город ул. {x} д. 1,{tz},675,60" for x, tz in b.items()],
    )
    _csv(folder, "premises", "building,premise,area", [f"{f.building},{f.k},{f.area}" for f in flats()])
    _csv(
        folder,
        "accounts",
        "account,building,premise,opened_on",
        [f"{f.account},{f.building},{f.k},2020-01-01" for f in flats()],
    )
    _csv(
        folder,
        "residents",
        "account,valid_from,registered",
        [f"{f.account},2020-01-01,{f.residents}" for f in flats()],
    )
    _csv(
        folder,
        "building_services",
        "building,service,common_property_method",
        [
            row
            for x in b
            for row in (
                f"{x},electricity,actual_capped",
                f"{x},cold_water,normative",
                f"{x},wastewater,",
                f"{x},maintenance,",
            )
        ],
    )
    meters = []
    for x in b:
        meters.append(f"E-{x}-H,2020-01-01,,{x},,electricity,EH,{x}H,energy_import_kwh")
        for f in flats():
            if f.building != x:
                continue
            if f.has_electricity_meter:
                until = "2026-01-16" if f.k == 5 else ""
                meters.append(
                    f"E-{f.account},2020-01-01,{until},{x},{f.k},electricity,EA,{f.account},energy_import_kwh"
                )
                if f.k == 5:
                    meters.append(
                        f"E-{f.account}N,2026-01-16,,{x},{f.k},electricity,EA,{f.account}N,energy_import_kwh"
                    )
            if f.has_cold_meter:
                meters.append(f"W-{f.account},2020-01-01,,{x},{f.k},cold_water,WA,{f.account},water_m3")
    _csv(
        folder,
        "meters",
        "meter_id,valid_from,valid_to,building,premise,service,manufacturer,serial,registers",
        meters,
    )
    _csv(
        folder,
        "tariffs",
        "service,valid_from,scheme,basis,price_single,price_day,price_night,price_peak,price_semi_peak",
        [
            "electricity,2025-07-01,single_rate,per_unit,5.00,,,,",
            "electricity,2025-07-01,two_zone,per_unit,5.00,6.00,3.00,,",
            "electricity,2025-07-01,three_zone,per_unit,5.00,,2.50,7.00,5.50",
            "cold_water,2025-07-01,single_rate,per_unit,50.00,,,,",
            "wastewater,2025-07-01,single_rate,per_unit,40.00,,,,",
            "maintenance,2025-07-01,single_rate,per_m2,30.00,,,,",
        ],
    )
    _csv(
        folder,
        "normatives",
        "service,kind,valid_from,value",
        [
            "electricity,per_person,2020-01-01,100",
            "cold_water,per_person,2020-01-01,5",
            "wastewater,per_person,2020-01-01,10",
            "electricity,common_per_m2,2020-01-01,1.0",
            "cold_water,common_per_m2,2020-01-01,0.1",
        ],
    )
    _csv(folder, "holidays", "calendar,day,name", [f"RU,{d},Новогодние каникулы" for d in NEW_YEAR])
    _csv(
        folder,
        "zone_schedules",
        "schedule,scheme,workday,saturday,calendar",
        ["weekend-night,two_zone,day=7-23;night=23-7,night=0-24,RU"],
    )
    _csv(
        folder,
        "tariff_plans",
        "building,account,meter,valid_from,scheme,zone_schedule",
        [
            row
            for x in b
            for row in (
                f"{x},,E-{x}-1,2025-01-01,three_zone,",
                f"{x},{x}-2,,2025-01-01,two_zone,weekend-night",
            )
        ],
    )
    _csv(
        folder,
        "meter_states",
        "meter_id,valid_from,state,note",
        [
            row
            for x in b
            for row in (
                f"W-{x}-3,2026-01-10,failed,не вращается",
                f"W-{x}-4,2026-01-05,being_replaced,замена",
            )
        ],
    )
    _csv(
        folder,
        "impossibility_acts",
        "building,premise,service,valid_from,act_no",
        [
            row
            for x in b
            for row in (
                f"{x},8,cold_water,2024-01-01,А-8",
                f"{x},10,cold_water,2024-01-01,А-10в",
                f"{x},10,electricity,2024-01-01,А-10э",
            )
        ],
    )


def write_migration_files(folder: Path) -> None:
    """The legacy system's last word (docs/migration.md): cutover to meterhub from January 2026, each
    account's unpaid December 2025 electricity (100.00 ₽ × k for flat k), the legacy totals per building."""
    _csv(folder, "cutover", "building,first_period,system", [f"{x},2026-01,СТАРТ КС" for x in BUILDINGS])
    _csv(
        folder,
        "opening_balances",
        "account,service,period,kind,amount",
        [f"{f.account},electricity,2025-12,principal,{100 * f.k}.00" for f in flats()],
    )
    debt = sum(100 * k for k in FLATS)
    _csv(folder, "legacy_totals", "building,service,debt", [f"{x},*,{debt}.00" for x in BUILDINGS])


def _hourly(conn: psycopg.Connection, meter: str, start: datetime, end: datetime, base: int, tz: str) -> None:
    """Every hour of ``[start, end)``: base × (1 + local hour mod 4) µkWh, measured."""
    conn.execute(
        "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) "
        "SELECT %s, h, %s * (1 + extract(hour FROM h AT TIME ZONE %s)::int %% 4), 0 "
        "FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') h",
        (series_id(conn, meter, "energy_import_kwh"), base, tz, start, end),
    )


def load_city(conn: psycopg.Connection, folder: Path) -> None:
    """Import the files, then January 2026's meter data, absences and the interruption."""
    write_city_files(folder)
    write_migration_files(folder)
    import_directory(conn, folder)
    ensure_partitions(conn)
    for x, tz_name in BUILDINGS.items():
        tz = ZoneInfo(tz_name)
        start, end = datetime(2026, 1, 1, tzinfo=tz), datetime(2026, 2, 1, tzinfo=tz)
        w_start, w_end = datetime(2025, 12, 25, 12, tzinfo=tz), datetime(2026, 1, 25, 12, tzinfo=tz)
        write_reading(conn, f"E-{x}-H", "energy_import_kwh", w_start, 0.0)
        write_reading(conn, f"E-{x}-H", "energy_import_kwh", w_end, float(HOUSE_KWH))
        for f in (f for f in flats() if f.building == x):
            if f.has_electricity_meter and f.k == 5:
                middle = datetime(2026, 1, 16, tzinfo=tz)
                _hourly(conn, f"E-{f.account}", start, middle, f.base_micro, tz_name)
                _hourly(conn, f"E-{f.account}N", middle, end, f.base_micro, tz_name)
            elif f.has_electricity_meter:
                _hourly(conn, f"E-{f.account}", start, end, f.base_micro, tz_name)
            if f.has_cold_meter:
                write_reading(conn, f"W-{f.account}", "water_m3", w_start, 100.0 + f.k)
                write_reading(conn, f"W-{f.account}", "water_m3", w_end, 100.0 + f.k + float(f.cold_m3))
        conn.execute(
            "INSERT INTO absence_periods (account_no, departed_on, returned_on, persons) VALUES "
            "(%s, '2026-01-05', '2026-01-18', 2), (%s, '2026-01-05', '2026-01-18', 1)",
            (f"{x}-8", f"{x}-10"),
        )
        conn.execute(
            "INSERT INTO service_events (building_id, service, kind, started_at, ended_at) "
            "VALUES (%s, 'cold_water', 'interruption', %s, %s)",
            (
                x,
                datetime(2026, 1, 20, 8, tzinfo=tz),
                datetime(2026, 1, 20, 8, tzinfo=tz) + timedelta(hours=30),
            ),
        )
    conn.commit()
