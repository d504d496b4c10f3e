"""Monthly close of a synthetic city: 350,000 accounts in 1,000 buildings (January 2026).

    .venv/bin/python benchmarks/bench_close.py [--accounts 350000] [--buildings 1000] [--workers 2] [--legacy]
        [--city-template NAME]  # METERHUB_BENCH_DATABASE_URL: keep the generated city, copy it next time

``--legacy``: the city was migrated from a legacy system at the start of January (docs/migration.md):
12 months of meter history per apartment meter and zone, house history, opening debts (December for
every account, September 2025 for every third, accruing penalties from their due date) — the close reads
them in its averaging history, ledger and penalty run; compare with a run without it.

``--dated``: validity-dated configuration (docs/billing-close.md): 10 % of the flats on their own
three-zone account plan, 10 % on a two-zone meter plan with a weekend/holiday schedule (the loader prices
them with per-account tariffs; the engine splits their hourly series by local day and hour), 2 % of the
cold-water meters failed, acts per service where flats have no water meters; compare with a run without.

The city is generated inside PostgreSQL with ``generate_series`` (setup, timed separately, no Python loop
per row): buildings in five time zones, one premise and account per flat, residents, tariffs (two-zone
electricity, cold/hot water, wastewater, maintenance per m²), normatives, common property for electricity
(ACTUAL_CAPPED) and cold water (ACTUAL_CAPPED) and hot water (NORMATIVE). Meters: every flat has an
electricity meter — 20 % hourly (a full local month of ``hourly_consumption``, split into day/night by
the engine), 80 % with T1/T2 registers read monthly; 95 % of flats have cold and hot water meters read
monthly (the rest are billed by normative); ~1 % of meters have an expired verification; each building
has house electricity and cold-water meters. Monthly readings are taken on the 20th at 12:00 local
time (inside the readings window, by the 25th): December 20 and January 20 bound January.

Estimated hours (``--estimated-sample N``, default 20): the generated city has hourly rows only for its hourly
meters, but in a real database the rollup also estimates the hours between every monthly reading (quality 2,
≈ 744 rows a register and month); the real rollup writes them for the monthly registers of N buildings, whose
January is drafted with the close leaving them out (the default) and reading them (the reference) before the
first close, which includes those buildings.

Measured in one run: the full ``run_close --final`` of January (load → engine → write, one transaction
per building, worker processes), accounts/s, where the time goes (sum over buildings of load / engine /
write), peak RSS of the workers and of this process; then the next month's draft three ways: with the
default recheck (``recalc_months`` 3; the change marker says no building's January changed, so none is
reloaded), with ``recheck="all"`` (every building reloads its closed January and compares digests: the
cost before the marker, the baseline of the ratio), and after late January readings arrived through
``series_dirty_log`` for 2 % of the buildings (only those reload January and book recalculations); and —
same run, same data — a bare set-based SQL close (accounts × 6 lines, amount = round(volume × tariff, 2),
no rules) as the floor.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import psycopg
from _db import bench_database, peak_rss_mb, server_version, table, template_database

from meterhub.billing.close.loader import LoaderOptions
from meterhub.billing.close.period import CloseOptions
from meterhub.billing.close.runner import run_close
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from meterhub.timeseries.rollup import rebuild

PERIOD = BillingPeriod(2026, 1)
ZONES = "ARRAY['Europe/Moscow','Asia/Omsk','Asia/Yekaterinburg','Europe/Samara','Asia/Novosibirsk']"

SETUP_SQL = [
    # buildings and premises
    f"""INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method)
        SELECT 'C' || lpad(b::text, 4, '0'), 'г. Бенчмарк, д. ' || b, ({ZONES})[b % 5 + 1], 1, 0,
               'management_company'
        FROM generate_series(1, %(buildings)s) b""",
    """INSERT INTO premises (building_id, premise_no, residential, area, entrance, floor)
        SELECT 'C' || lpad(b::text, 4, '0'), p::text, p % 50 <> 0, 30 + (b * 7 + p * 13) % 60 + 0.5 * (p % 2),
               1 + p / 40, 1 + p % 9
        FROM generate_series(1, %(buildings)s) b, generate_series(1, %(flats)s) p""",
    """UPDATE buildings b SET total_area = s.area, common_area = round(s.area * 0.15, 2)
        FROM (SELECT building_id, sum(area) AS area FROM premises GROUP BY 1) s
        WHERE s.building_id = b.building_id""",
    """INSERT INTO accounts (account_no, building_id, premise_no, owner_name, owners, opened_on)
        SELECT building_id || '-' || premise_no, building_id, premise_no, 'owner', 1, DATE '2020-01-01'
        FROM premises""",
    """INSERT INTO resident_counts (account_no, valid_from, registered, temporary)
        SELECT account_no, DATE '2020-01-01', 1 + premise_no::int % 4, 0 FROM accounts""",
    """INSERT INTO building_services (building_id, service, common_property_method)
        SELECT building_id, s.service, s.method FROM buildings,
        (VALUES ('electricity', 'actual_capped'), ('cold_water', 'actual_capped'), ('hot_water', 'normative'),
                ('wastewater', NULL), ('maintenance', NULL)) s(service, method)""",
    """INSERT INTO tariffs (service, valid_from, scheme, basis, price_single, price_day, price_night)
        VALUES ('electricity', '2025-07-01', 'two_zone', 'per_unit', 6.43, 7.85, 3.47),
               ('cold_water', '2025-07-01', 'single_rate', 'per_unit', 52.17, NULL, NULL),
               ('hot_water', '2025-07-01', 'single_rate', 'per_unit', 243.60, NULL, NULL),
               ('wastewater', '2025-07-01', 'single_rate', 'per_unit', 38.92, NULL, NULL),
               ('maintenance', '2025-07-01', 'single_rate', 'per_m2', 31.45, NULL, NULL)""",
    """INSERT INTO normatives (service, kind, valid_from, value) VALUES
        ('electricity', 'per_person', '2020-01-01', 100), ('cold_water', 'per_person', '2020-01-01', 4.86),
        ('hot_water', 'per_person', '2020-01-01', 3.51), ('wastewater', 'per_person', '2020-01-01', 8.37),
        ('electricity', 'common_per_m2', '2020-01-01', 1.2),
        ('cold_water', 'common_per_m2', '2020-01-01', 0.03),
        ('hot_water', 'common_per_m2', '2020-01-01', 0.02)""",
    # meters: kind, id, building, premise (NULL = house), hourly?, registers
    """CREATE TEMP TABLE bench_meters AS
        SELECT 'E-' || account_no AS meter_id, 'electricity' AS kind, building_id, premise_no,
               premise_no::int % 5 = 0 AS hourly, premise_no::int AS p FROM accounts
        UNION ALL SELECT k || '-' || account_no, CASE k WHEN 'C' THEN 'cold_water' ELSE 'hot_water' END,
               building_id, premise_no, false, premise_no::int
        FROM accounts, (VALUES ('C'), ('H')) v(k) WHERE premise_no::int % 20 <> 7
        UNION ALL SELECT k || 'H-' || building_id, CASE k WHEN 'E' THEN 'electricity' ELSE 'cold_water' END,
               building_id, NULL, false, 0
        FROM buildings, (VALUES ('E'), ('C')) v(k)""",
    """INSERT INTO meters (meter_id, kind, manufacturer, serial, building_id, is_house_meter,
                           verification_due)
        SELECT meter_id, kind, 'BEN', meter_id, building_id, premise_no IS NULL,
               CASE WHEN p % 97 = 3 THEN DATE '2025-12-01' ELSE DATE '2030-01-01' END FROM bench_meters""",
    """INSERT INTO meter_registers (meter_id, register, unit, cumulative)
        SELECT meter_id, r.register, CASE WHEN kind = 'electricity' THEN 'kWh' ELSE 'm3' END, true
        FROM bench_meters m, LATERAL (SELECT unnest(CASE
            WHEN m.kind <> 'electricity' THEN ARRAY['water_m3']
            WHEN m.hourly OR m.premise_no IS NULL THEN ARRAY['energy_import_kwh']
            ELSE ARRAY['energy_import_t1_kwh', 'energy_import_t2_kwh'] END) AS register) r""",
    """INSERT INTO meter_links (meter_id, valid_from, building_id, premise_no, service)
        SELECT meter_id, DATE '2020-01-01', building_id, premise_no, kind FROM bench_meters""",
    "SELECT meterhub_ensure_partitions('readings', '2025-12-01', '2026-02-28')",
    "SELECT meterhub_ensure_partitions('hourly_consumption', '2025-12-01', '2026-02-28')",
    # register readings at the local month bounds (monthly meters and house meters)
    """INSERT INTO readings (series_id, ts, value_int, value_scale, value_float, quality, source)
        SELECT x.series_id, x.ts, (x.e).value_int, (x.e).value_scale, (x.e).value_float, 0, 1
        FROM (SELECT r.series_id, t.ts, meterhub_encode_value(t.v) AS e
        FROM bench_meters m JOIN meter_registers r USING (meter_id) JOIN buildings b USING (building_id),
        LATERAL (VALUES
            ((TIMESTAMP '2025-12-20 12:00') AT TIME ZONE b.time_zone, 1000.0 + m.p),
            ((TIMESTAMP '2026-01-20 12:00') AT TIME ZONE b.time_zone, 1000.0 + m.p + CASE
                WHEN m.premise_no IS NULL AND m.kind = 'electricity' THEN %(flats)s * 245.0
                WHEN m.premise_no IS NULL THEN %(flats)s * 7.5
                WHEN r.register = 'energy_import_t1_kwh' THEN 150 + m.p % 50 + 0.25 * (m.p % 3)
                WHEN r.register = 'energy_import_t2_kwh' THEN 60 + m.p % 30
                WHEN m.kind = 'cold_water' THEN 4 + (m.p % 5) * 0.5
                ELSE 2.5 + (m.p % 4) * 0.5 END)) t(ts, v)
        WHERE NOT m.hourly) x ORDER BY x.series_id, x.ts""",
]

LEGACY_SQL = [
    # --legacy: the city was migrated from a legacy system at the start of January (docs/migration.md):
    # 12 months of meter history per apartment meter and zone, house history, and opening debts (December
    # for every account, not yet overdue; September 2025 for every third account, accruing penalties)
    "INSERT INTO legacy_cutovers (building_id, first_period, system) SELECT building_id, '2026-01', 'bench'"
    " FROM buildings",
    """INSERT INTO legacy_meter_volumes (meter_id, period, zone, volume, method, building_id, premise_no,
                                         service)
        SELECT l.meter_id, to_char(DATE '2025-01-01' + make_interval(months => m), 'YYYY-MM'), z.zone,
               3 + m % 4, 'meter', l.building_id, l.premise_no, l.service
        FROM meter_links l
        CROSS JOIN LATERAL (SELECT unnest(CASE WHEN EXISTS (
            SELECT 1 FROM meter_registers r
             WHERE r.meter_id = l.meter_id AND r.register = 'energy_import_t1_kwh')
            THEN ARRAY['day', 'night'] ELSE ARRAY['single'] END) AS zone) z
        CROSS JOIN generate_series(0, 11) m
        WHERE l.premise_no IS NOT NULL""",
    """INSERT INTO legacy_house_volumes (building_id, service, period, house_volume, individual_total, method)
        SELECT building_id, 'cold_water', to_char(DATE '2025-01-01' + make_interval(months => m), 'YYYY-MM'),
               100 + m, 90, 'actual'
        FROM buildings CROSS JOIN generate_series(0, 11) m""",
    """INSERT INTO opening_debts (account_no, service, period, kind, amount_kopecks, due_date)
        SELECT account_no, 'cold_water', '2025-12', 'principal', 10000 + premise_no::int * 7,
               DATE '2026-01-10'
        FROM accounts
        UNION ALL
        SELECT account_no, 'electricity', '2025-09', 'principal', 50000 + premise_no::int, DATE '2025-10-10'
        FROM accounts WHERE premise_no::int % 3 = 0""",
]

HOURLY_SQL = """
    INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality)
    SELECT r.series_id, h, 150000 + ((extract(hour FROM h)::int + m.p) %% 7) * 50000, 0
    FROM bench_meters m JOIN meter_registers r USING (meter_id) JOIN buildings b USING (building_id),
    LATERAL generate_series((DATE '2026-01-01')::timestamp AT TIME ZONE b.time_zone,
                            (DATE '2026-02-01')::timestamp AT TIME ZONE b.time_zone - interval '1 hour',
                            interval '1 hour') h
    WHERE m.hourly AND m.building_id = ANY(%(buildings)s)
    ORDER BY r.series_id, h
"""

FLOOR_SQL = """
    CREATE UNLOGGED TABLE floor_lines AS
    WITH deltas AS (
        SELECT mr.meter_id, (max(rd.value) - min(rd.value))::numeric AS v
        FROM reading_values rd JOIN meter_registers mr USING (series_id) GROUP BY mr.meter_id
    ), hourly AS (
        SELECT mr.meter_id, sum(h.volume_micro) / 1e6 AS v
        FROM hourly_consumption h JOIN meter_registers mr USING (series_id) GROUP BY mr.meter_id
    ), vol AS (
        SELECT l.premise_no, l.building_id, l.service, coalesce(d.v, h.v, 0) AS v
        FROM meter_links l LEFT JOIN deltas d USING (meter_id) LEFT JOIN hourly h USING (meter_id)
        WHERE l.premise_no IS NOT NULL
    ), price AS (SELECT service, coalesce(price_single, 0) AS t FROM tariffs)
    SELECT a.account_no, v.service, v.v AS volume, round(v.v * p.t, 2) AS amount
    FROM accounts a JOIN vol v USING (building_id, premise_no) JOIN price p USING (service)
    UNION ALL
    SELECT a.account_no, 'wastewater', 0, 0 FROM accounts a
    UNION ALL
    SELECT a.account_no, 'maintenance', pr.area, round(pr.area * 31.45, 2)
    FROM accounts a JOIN premises pr USING (building_id, premise_no)
    UNION ALL
    SELECT a.account_no, 'common_property', pr.area / b.total_area,
           round(pr.area / b.total_area * b.common_area * 1.2 * 6.43, 2)
    FROM accounts a JOIN premises pr USING (building_id, premise_no) JOIN buildings b USING (building_id)
"""


DATED_SQL = [
    # --dated: validity-dated configuration (docs/billing-close.md "Dated configuration"): a three-zone
    # price beside the two-zone one; every 10th flat with an hourly meter (premise ≡ 5 mod 10) on its own
    # three-zone account plan, every 10th (≡ 0 mod 10) on a two-zone meter plan with a weekend/holiday
    # schedule; every 50th cold-water meter failed on 10 January; flats without water meters (≡ 7 mod 20)
    # with acts of technical impossibility for cold and hot water
    """INSERT INTO tariffs (service, valid_from, scheme, basis, price_single, price_peak, price_semi_peak,
                           price_night)
        VALUES ('electricity', '2025-07-01', 'three_zone', 'per_unit', 6.43, 8.95, 7.46, 3.47)""",
    """INSERT INTO holiday_calendars (calendar, day)
        SELECT 'RU', DATE '2026-01-01' + d FROM generate_series(0, 7) d""",
    """INSERT INTO zone_schedules (schedule, scheme, workday, saturday, calendar)
        VALUES ('weekend-night', 'two_zone', 'day=7-23;night=23-7', 'night=0-24', 'RU')""",
    """INSERT INTO tariff_plans (building_id, account_no, valid_from, scheme)
        SELECT building_id, account_no, DATE '2025-01-01', 'three_zone' FROM accounts
        WHERE premise_no::int % 10 = 5""",
    """INSERT INTO tariff_plans (building_id, meter_id, valid_from, scheme, zone_schedule)
        SELECT building_id, 'E-' || account_no, DATE '2025-01-01', 'two_zone', 'weekend-night' FROM accounts
        WHERE premise_no::int % 10 = 0""",
    """INSERT INTO meter_states (meter_id, valid_from, state)
        SELECT 'C-' || account_no, DATE '2026-01-10', 'failed' FROM accounts
        WHERE premise_no::int % 50 = 13""",
    """INSERT INTO technical_impossibility_acts (building_id, premise_no, service, valid_from)
        SELECT building_id, premise_no, s, DATE '2024-01-01'
        FROM accounts, unnest(ARRAY['cold_water', 'hot_water']) s
        WHERE premise_no::int % 20 = 7""",
]

LATE_SQL = """
    WITH late AS (
        SELECT r.series_id, b.building_id, (TIMESTAMP '2026-01-20 18:00') AT TIME ZONE b.time_zone AS ts,
               rd.value + 1 AS value
        FROM buildings b JOIN meter_links l USING (building_id)
        JOIN meter_registers r ON r.meter_id = l.meter_id AND r.register = 'water_m3'
        JOIN reading_values rd ON rd.series_id = r.series_id
             AND rd.ts = (TIMESTAMP '2026-01-20 12:00') AT TIME ZONE b.time_zone
        WHERE b.building_id = ANY(%(buildings)s) AND l.service = 'cold_water' AND l.premise_no IS NOT NULL
    ), ins AS (
        INSERT INTO readings (series_id, ts, value_int, value_scale, value_float, quality, source)
        SELECT series_id, ts, (e).value_int, (e).value_scale, (e).value_float, 0, 1
        FROM (SELECT series_id, ts, meterhub_encode_value(value) AS e FROM late) l RETURNING series_id
    )
    INSERT INTO series_dirty_log (series_ids, from_ts, to_ts)
    SELECT array_agg(series_id), min(ts), max(ts) FROM late GROUP BY building_id
"""
"""Late January readings (+1 m³ on every flat's cold-water meter, Jan 20 18:00 local) for some buildings,
each building's batch logged in series_dirty_log as readings ingest does."""


def _late_readings(url: str, buildings: list[str]) -> int:
    with connect(url) as conn:
        cur = conn.execute(LATE_SQL, {"buildings": buildings})
        conn.commit()
        return cur.rowcount


def _load(
    url: str, accounts: int, buildings: int, legacy: bool = False, dated: bool = False
) -> tuple[float, int, int]:
    flats = accounts // buildings
    started = time.perf_counter()
    with connect(url) as conn:
        params = {"buildings": buildings, "flats": flats}
        for sql in SETUP_SQL + (LEGACY_SQL if legacy else []) + (DATED_SQL if dated else []):
            conn.execute(sql.replace(" % ", " %% "), params)  # type: ignore[arg-type]
        conn.commit()
        ids = [r[0] for r in conn.execute("SELECT building_id FROM buildings ORDER BY 1")]
        hourly_rows = 0
        for i in range(0, len(ids), 50):  # keep each statement's sort small
            cur = conn.execute(HOURLY_SQL, {"buildings": ids[i : i + 50]})
            hourly_rows += cur.rowcount
            conn.commit()
        conn.autocommit = True
        conn.execute("DROP TABLE bench_meters")
        conn.execute("VACUUM ANALYZE")
        readings = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
    return time.perf_counter() - started, hourly_rows, readings


def _floor(url: str) -> tuple[float, int]:
    with connect(url) as conn:
        started = time.perf_counter()
        conn.execute(FLOOR_SQL)
        conn.commit()
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM floor_lines").fetchone()[0]
    return seconds, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=350_000)
    ap.add_argument("--buildings", type=int, default=1_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-floor", action="store_true")
    ap.add_argument(
        "--closed-months",
        type=int,
        default=1,
        help="months closed finally before the next month is measured (1–3: January … March)",
    )
    ap.add_argument(
        "--legacy",
        action="store_true",
        help="the city migrated from a legacy system: opening debts and 12 months of meter and house history",
    )
    ap.add_argument(
        "--dated",
        action="store_true",
        help="dated configuration: account and meter tariff plans (weekday schedule), failed meters, acts",
    )
    ap.add_argument(
        "--estimated-sample",
        type=int,
        default=20,
        metavar="N",
        help="buildings whose registers read monthly get the rollup's estimated hours (0: none)",
    )
    ap.add_argument(
        "--city-template",
        metavar="NAME",
        help="keep the generated city as database NAME on METERHUB_BENCH_DATABASE_URL's server and "
        "start from a copy of it (CREATE DATABASE … TEMPLATE) when it was generated for the same "
        "options: the 350,000-account set-up takes ≈ 8.5 min, the copy ≈ 1 min",
    )
    args = ap.parse_args()
    template = None
    if args.city_template:
        server = os.environ.get("METERHUB_BENCH_DATABASE_URL")
        if not server:
            ap.error("--city-template needs a lasting server: set METERHUB_BENCH_DATABASE_URL")
        key = (
            f"bench_close accounts={args.accounts} buildings={args.buildings} "
            f"legacy={args.legacy} dated={args.dated}"
        )

        def generate(url: str) -> dict:
            load_s, hourly_rows, readings = _load(url, args.accounts, args.buildings, args.legacy, args.dated)
            return {"setup_s": load_s, "hourly_rows": hourly_rows, "readings": readings}

        template = args.city_template
        facts = template_database(server, template, key, generate)
    cloned = time.perf_counter()
    with bench_database(template=template) as url:
        print(f"PostgreSQL {server_version(url)}; {args.accounts:,} accounts in {args.buildings:,} buildings")
        if template is None:
            load_s, hourly_rows, readings = _load(url, args.accounts, args.buildings, args.legacy, args.dated)
            print(
                f"setup: {load_s:.1f} s ({hourly_rows:,} hourly rows, {readings:,} register readings)",
                flush=True,
            )
        else:
            hourly_rows, readings = facts["hourly_rows"], facts["readings"]
            print(
                f"setup: copy of template {template} in {time.perf_counter() - cloned:.1f} s "
                f"(generated {'now' if facts['built_now'] else 'earlier'} in {facts['setup_s']:.1f} s: "
                f"{hourly_rows:,} hourly rows, {readings:,} register readings)",
                flush=True,
            )
        if args.legacy:
            with connect(url) as conn:
                counts = conn.execute(
                    "SELECT (SELECT count(*) FROM legacy_meter_volumes), (SELECT count(*) FROM opening_debts)"
                ).fetchone()
            print(f"legacy: {counts[0]:,} meter-history rows, {counts[1]:,} opening debts (cutover 2026-01)")
        with connect(url) as conn:
            buildings = [r[0] for r in conn.execute("SELECT building_id FROM buildings ORDER BY 1")]
        estimated = _estimated_hours(url, buildings, args.estimated_sample, args.workers)
        cpu_before = _children_cpu()
        load_before = os.getloadavg()[0]
        run = run_close(
            url, PERIOD, buildings, CloseOptions(final=True), workers=args.workers, measure_cpu=_local(url)
        )
        worker_cpu = _children_cpu() - cpu_before
        load_after = os.getloadavg()[0]
        cpu = [r.report.get("cpu_seconds") for r in run.results]
        client_cpu = sum(c["client"] for c in cpu if c)
        server_cpu = sum(c["server"] for c in cpu if c) if all(cpu) and cpu else None
        children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        _progress(f"first close: {run.seconds:.1f} s, {run.accounts / run.seconds:,.0f} accounts/s")
        following = PERIOD.next()
        for _ in range(1, args.closed_months):  # more closed months (no meter data: normatives)
            run_close(url, following, buildings, CloseOptions(final=True), workers=args.workers)
            following = following.next()
        # the next month (no meter data yet: normatives, fallbacks) with the default recheck: the change
        # marker of no building moved → no closed month is reloaded
        second = run_close(url, following, buildings, CloseOptions(), workers=args.workers)
        _progress(f"{following} draft, default recheck: {second.seconds:.1f} s")
        # baseline (the cost before the marker): every building reloads its closed months, digests compared
        everything = run_close(url, following, buildings, CloseOptions(recheck="all"), workers=args.workers)
        _progress(f"{following} draft, recheck='all': {everything.seconds:.1f} s")
        # late January readings for 2 % of the buildings: only those reload January
        late_buildings = buildings[:: max(1, len(buildings) // max(1, len(buildings) // 50))]
        late_rows = _late_readings(url, late_buildings)
        late = run_close(url, following, buildings, CloseOptions(), workers=args.workers)
        _progress(f"{following} draft after late readings: {late.seconds:.1f} s")
        if run.failures:
            for f in run.failures[:5]:
                print(f"FAILED {f.building}: {f.reason}")
        load = sum(r.seconds_load for r in run.results)
        engine = sum(r.seconds_engine for r in run.results)
        write = sum(r.seconds_write for r in run.results)
        money = sum(r.seconds_money for r in run.results)
        busy = load + engine + write + money
        lines = sum(r.lines for r in run.results)
        rows = [
            ("close wall time", f"{run.seconds:.1f} s"),
            ("accounts", f"{run.accounts:,} ({len(run.failures)} building(s) failed)"),
            ("charge lines", f"{lines:,}"),
            ("accounts/s", f"{run.accounts / run.seconds:,.0f}"),
            ("load (Σ workers)", f"{load:.1f} s ({100 * load / busy:.0f} %)"),
            ("engine (Σ workers)", f"{engine:.1f} s ({100 * engine / busy:.0f} %)"),
            ("write (Σ workers)", f"{write:.1f} s ({100 * write / busy:.0f} %)"),
            ("money step: penalties, advances… (Σ workers)", f"{money:.1f} s ({100 * money / busy:.0f} %)"),
            (
                "worker CPU (user + sys, Σ workers)",
                f"{worker_cpu:.1f} s ({1000 * worker_cpu / max(1, len(buildings)):.0f} ms a building; "
                "the rest of load and write is the server's)",
            ),
            (
                "CPU a building: close in the worker / its database backend",
                "not measured (remote server)"
                if server_cpu is None
                else f"{1000 * client_cpu / max(1, len(run.results)):.0f} ms / "
                f"{1000 * server_cpu / max(1, len(run.results)):.0f} ms",
            ),
            ("load average (1 min) before / after the close", f"{load_before:.1f} / {load_after:.1f}"),
            *_next_month_rows(f"{following} (draft), default recheck (marker)", second),
            *_next_month_rows(
                f"{following} (draft), recheck='all' (baseline: reload all closed months)", everything
            ),
            (
                "  default recheck vs baseline",
                f"{second.seconds / everything.seconds:.2f}× the time "
                f"({everything.seconds - second.seconds:+.1f} s saved)",
            ),
            *_next_month_rows(
                f"next month after late January readings in {len(late_buildings)} buildings "
                f"({late_rows:,} ingest batches)",
                late,
            ),
            *estimated,
            ("peak RSS worker", f"{children_rss:.0f} MB"),
            ("peak RSS main", f"{peak_rss_mb():.0f} MB"),
        ]
        if not args.skip_floor:
            floor_s, floor_rows = _floor(url)
            rows.append(("bare SQL close (floor)", f"{floor_s:.1f} s ({floor_rows:,} lines)"))
            rows.append(("  close / floor", f"{run.seconds / floor_s:.1f}×"))
        print(table(rows, ("measure", "value")))


def _progress(text: str) -> None:
    """One line as soon as a step is measured (a long run that is stopped still shows what it got)."""
    print(f"[{time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.1f}] {text}", flush=True)


def _local(url: str) -> bool:
    """The server runs on this machine (a Unix socket or a loopback host): its backends' CPU is readable."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host = str(info.get("host") or "")
    return host == "" or host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")


def _children_cpu() -> float:
    """User + system CPU [s] of the ended child processes (the close's workers, once the pool is shut)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


ESTIMATED_SERIES_SQL = """
    SELECT DISTINCT mr.series_id FROM meter_links l JOIN meter_registers mr USING (meter_id)
    WHERE l.building_id = ANY(%(buildings)s)
      AND EXISTS (SELECT 1 FROM readings r WHERE r.series_id = mr.series_id)
"""


def _estimated_hours(url: str, buildings: list[str], sample: int, workers: int) -> list[tuple[str, str]]:
    """The rollup's estimated hours in ``sample`` buildings, and what they cost the close.

    The generated city has hourly rows only for its hourly meters; a real database also holds the hours
    the rollup estimates between the monthly readings of every other register (quality 2, ≈ 744 rows a
    register and month: ≈ 20× the telemetry rows). Generating them for the whole city would take hours,
    so the real rollup (``rebuild``) writes them, with their daily rows, for the registers read monthly
    in a sample of buildings; those buildings' January is drafted twice, the estimated hours left out
    (the default) and read (``skip_estimated_only_meters=False``, the reference). The first close below
    then includes them."""
    chosen = buildings[len(buildings) // max(1, sample) // 2 :: max(1, len(buildings) // max(1, sample))]
    chosen = chosen[:sample]
    if not chosen:
        return []
    started = time.perf_counter()
    with connect(url) as conn:
        sids = [r[0] for r in conn.execute(ESTIMATED_SERIES_SQL, {"buildings": chosen})]
        stats = rebuild(conn, sids)
        conn.commit()
        rows = conn.execute(
            "SELECT count(*) FROM hourly_consumption WHERE series_id = ANY(%s) AND quality = 2", (sids,)
        ).fetchone()[0]
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE hourly_consumption")
    seconds = time.perf_counter() - started
    _progress(
        f"estimated hours: the rollup wrote {rows:,} for {len(sids):,} registers read monthly in "
        f"{len(chosen)} buildings in {seconds:.1f} s ({stats.hours_written:,} hours)"
    )
    reference = CloseOptions(loader=LoaderOptions(skip_estimated_only_meters=False))
    skipping = run_close(url, PERIOD, chosen, CloseOptions(), workers=workers)
    full = run_close(url, PERIOD, chosen, reference, workers=workers)
    again = run_close(url, PERIOD, chosen, CloseOptions(), workers=workers)
    _progress(
        f"January drafts of those buildings: estimated hours left out {skipping.seconds:.1f} s, "
        f"read {full.seconds:.1f} s, left out again {again.seconds:.1f} s"
    )

    def per_building(run) -> str:
        n = max(1, len(run.results))
        load = 1000 * sum(r.seconds_load for r in run.results) / n
        return f"{run.seconds:.1f} s (load {load:.0f} ms a building)"

    return [
        (
            f"{len(chosen)} buildings with the rollup's estimated hours ({rows:,} rows): January draft",
            f"hours left out {per_building(skipping)}, again {per_building(again)}; "
            f"read {per_building(full)} (reference)",
        )
    ]


def _next_month_rows(title: str, run) -> list[tuple[str, str]]:
    rechecked = sum(1 for r in run.results if r.rechecked)
    return [
        (
            title,
            f"{run.seconds:.1f} s, {run.accounts / run.seconds:,.0f} accounts/s ({rechecked} building(s) "
            "reloaded closed months, "
            f"{sum(r.recalculations for r in run.results)} recalculation lines, {len(run.failures)} failed)",
        ),
        (
            "  its load / engine + recheck / write / money step (Σ workers)",
            " / ".join(
                f"{sum(getattr(r, f) for r in run.results):.1f} s"
                for f in ("seconds_load", "seconds_engine", "seconds_write", "seconds_money")
            ),
        ),
    ]


if __name__ == "__main__":
    main()
