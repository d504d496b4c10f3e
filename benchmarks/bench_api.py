"""Resident API under load: a year of hourly data for one meter, and 200 residents browsing at once.

    .venv/bin/python benchmarks/bench_api.py [--residents 200] [--requests 200] [--duration 30]
        [--workers N] [--think-ms 1000]

Setup (timed separately, in SQL): one building (Europe/Moscow), ``--residents`` flats each with an
account, a resident user with a bearer token and an electricity meter with a full year of hourly
consumption (2025-11-01 … 2026-10-31 local, 8,760 hours at 1 Wh resolution like a household meter's
register, a day/evening profile with an estimated hour each day),
a two-zone tariff and a three-zone tariff option.

Part 1 — one meter's year at hourly resolution (8,760 points), ``--requests`` sequential GETs of
``/api/v1/accounts/{acc}/meters/{meter}/consumption?resolution=hour`` over loopback HTTP against
``meterhub serve`` (uvicorn, one process), in volume and in ₽, p50/p95; the baseline in the same run is the
bare SQL query of the same rows (``SELECT hour, volume_micro, quality … ORDER BY hour`` through psycopg,
fetchall) — the floor any API answer pays — and the stages of the API path in-process.

Part 2 — ``--residents`` concurrent simulated residents (asyncio + httpx, one connection each) browsing
for ``--duration`` seconds against the same server: each loops over a weighted mix of the cabinet's calls
(meters list, a day hourly, a month daily, a year monthly, a month in ₽ with last year, building charts,
tariff advice) with no think time (a saturation test: 200 requests always in flight, so the mean latency
is 200 ÷ requests/s by Little's law) or, with ``--think-ms``, pausing 0.5–1.5 × that between clicks like a
resident reading the page; requests/s, p50/p95/p99 and errors per call. ``--workers`` sets the server
processes of ``meterhub serve`` (default one per core, at least 2). The load generator shares the
machine's 2 cores with the server and PostgreSQL, so requests/s is a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import httpx
import psycopg
from fastapi import Request

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, server_version, table

from meterhub.api.passwords import hash_password
from meterhub.api.sessions import issue_bearer
from meterhub.billing.residents.consumption_series import Resolution, Unit
from meterhub.billing.residents.loaders import account_context, account_meters, consumption_chart
from meterhub.timeseries.database import connect
from meterhub.timeseries.queries import consumption_series
from meterhub.timeseries.resident_queries import hourly_with_quality

TZ = ZoneInfo("Europe/Moscow")
YEAR_START, YEAR_END = date(2025, 11, 1), date(2026, 11, 1)

SETUP_SQL = [
    """INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method)
       VALUES ('BENCH', 'г. Бенчмарк, д. 1', 'Europe/Moscow', 1, 0, 'management_company')""",
    """INSERT INTO premises (building_id, premise_no, area)
       SELECT 'BENCH', p::text, 40 + p %% 30 FROM generate_series(1, %(n)s) p""",
    """UPDATE buildings SET total_area = (SELECT sum(area) FROM premises), common_area = 100
       WHERE building_id = 'BENCH'""",
    """INSERT INTO accounts (account_no, building_id, premise_no, owner_name, opened_on)
       SELECT 'B-' || premise_no, 'BENCH', premise_no, 'resident', DATE '2020-01-01' FROM premises""",
    """INSERT INTO resident_counts (account_no, valid_from, registered)
       SELECT account_no, DATE '2020-01-01', 1 + premise_no::int % 3 FROM accounts""",
    """INSERT INTO building_services (building_id, service, common_property_method)
       VALUES ('BENCH', 'electricity', 'actual_capped')""",
    """INSERT INTO normatives (service, applies_to, kind, valid_from, value) VALUES
       ('electricity', '*', 'per_person', '2020-01-01', 100),
       ('electricity', '*', 'common_per_m2', '2020-01-01', 1)""",
    """INSERT INTO tariffs (service, applies_to, valid_from, scheme, basis,
                          price_single, price_day, price_night)
       VALUES ('electricity', '*', '2024-01-01', 'two_zone', 'per_unit', 6.43, 7.85, 3.47)""",
    """INSERT INTO tariff_options (service, applies_to, scheme, valid_from,
                                 price_peak, price_semi_peak, price_night)
       VALUES ('electricity', '*', 'three_zone', '2024-01-01', 8.95, 7.46, 3.47)""",
    """INSERT INTO meters (meter_id, kind, manufacturer, serial, building_id, verification_due)
       SELECT 'EB-' || premise_no, 'electricity', 'EB', premise_no, 'BENCH', DATE '2032-01-01'
       FROM premises""",
    """INSERT INTO meter_registers (meter_id, register, unit, cumulative)
       SELECT meter_id, 'energy_import_kwh', 'kWh', true FROM meters WHERE building_id = 'BENCH'""",
    """INSERT INTO meter_links (meter_id, valid_from, building_id, premise_no, service)
       SELECT meter_id, DATE '2020-01-01', 'BENCH', serial, 'electricity'
       FROM meters WHERE building_id = 'BENCH'""",
    """SELECT meterhub_ensure_partitions('hourly_consumption', '2025-10-01', '2026-12-01')""",
    # a year of hours per meter: more in the evening, a few estimated hours each day
    """INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality)
       SELECT mr.series_id, h,
              (200000
               + 150000 * (extract(hour FROM h AT TIME ZONE 'Europe/Moscow')::int BETWEEN 17 AND 22)::int
               + 1000 * ((mr.series_id * 7919 + extract(epoch FROM h)::bigint / 3600) % 90))::bigint,
              CASE WHEN extract(hour FROM h)::int = 3 THEN 2 ELSE 0 END
       FROM meter_registers mr
       CROSS JOIN generate_series(TIMESTAMPTZ '2025-10-31 21:00Z', TIMESTAMPTZ '2026-10-31 20:00Z',
                                  interval '1 hour') h
       WHERE mr.meter_id LIKE 'EB-%%'""",
    "ANALYZE",
]


def setup(url: str, residents: int) -> list[tuple[str, str, str]]:
    """Create the building and users; return (account, meter, token) per resident."""
    with connect(url) as conn:
        for sql in SETUP_SQL:
            conn.execute(sql, {"n": residents} if "%(n)s" in sql else None)
        conn.commit()
        password_hash = hash_password("bench-password-123")
        out = []
        for i in range(1, residents + 1):
            (uid,) = conn.execute(
                "INSERT INTO api_users (username, password_hash, role) VALUES (%s, %s, 'resident') "
                "RETURNING user_id",
                (f"resident{i}", password_hash),
            ).fetchone()
            conn.execute(
                "INSERT INTO api_user_accounts (user_id, account_no, linked_by) VALUES (%s, %s, 'admin')",
                (uid, f"B-{i}"),
            )
            token = issue_bearer(conn, uid, timedelta(days=1), "bench").token
            out.append((f"B-{i}", f"EB-{i}", token))
        conn.commit()
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def serve_with_async_conn(port: int) -> None:
    """``meterhub serve``'s app with ``deps.get_conn`` replaced by an async dependency that waits for a free
    pooled connection on the event loop (an ``asyncio.Semaphore`` of the pool size) instead of in a worker
    thread — the change proposed to the API's owner. Settings from the environment, like ``serve``."""
    import uvicorn

    from meterhub.api import deps
    from meterhub.api.app import create_app
    from meterhub.core.settings import get_settings

    app = create_app(get_settings())
    semaphore: asyncio.Semaphore | None = None

    async def get_conn_async(request: Request) -> AsyncIterator[psycopg.Connection]:
        nonlocal semaphore
        pool = request.app.state.pool
        if semaphore is None:
            semaphore = asyncio.Semaphore(pool.max_size)
        async with semaphore:  # a connection is free when it is acquired: getconn does not wait for one
            conn = pool.getconn()
            try:
                yield conn
            finally:
                pool.putconn(conn)

    app.dependency_overrides[deps.get_conn] = get_conn_async
    threads = int(os.environ.get("BENCH_API_THREADS", "0"))
    if threads:  # fewer worker threads than anyio's 40: less GIL contention with the event loop
        original = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def lifespan(a):  # type: ignore[no-untyped-def]
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
            async with original(a) as state:
                yield state

        app.router.lifespan_context = lifespan
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start_server(
    url: str, port: int, pool: int, conn_dependency: str = "app", threads: int = 0, workers: int = 0
) -> subprocess.Popen:
    env = dict(
        os.environ,
        BENCH_API_THREADS=str(threads),
        METERHUB_DATABASE_URL=url,
        METERHUB_LOG_LEVEL="WARNING",
        METERHUB_DB_POOL_MAX_SIZE=str(pool),
    )
    command = (
        [sys.executable, "-m", "meterhub.cli", "serve", "--port", str(port), "--no-migrate"]
        + (["--workers", str(workers)] if workers else [])
        if conn_dependency == "app"
        else [sys.executable, __file__, "--serve-async-conn", "--port", str(port)]
    )
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(f"meterhub serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
    proc.kill()
    raise RuntimeError("meterhub serve did not answer within 60 s")


def part1(url: str, base: str, account: str, meter: str, token: str, n: int) -> None:
    params = {"start": YEAR_START.isoformat(), "end": YEAR_END.isoformat(), "resolution": "hour"}
    path = f"{base}/api/v1/accounts/{account}/meters/{meter}/consumption"
    headers = {"Authorization": f"Bearer {token}"}
    rows = []
    with connect(url, autocommit=True) as conn:
        (sid,) = conn.execute(
            "SELECT series_id FROM meter_registers WHERE meter_id = %s", (meter,)
        ).fetchone()
        start = datetime.combine(YEAR_START, datetime.min.time(), TZ)
        end = datetime.combine(YEAR_END, datetime.min.time(), TZ)
        sql = (
            "SELECT hour, volume_micro, quality FROM hourly_consumption "
            "WHERE series_id = %s AND hour >= %s AND hour < %s ORDER BY hour"
        )
        times = []
        for _ in range(n):
            t = time.perf_counter()
            got = conn.execute(sql, (sid, start, end)).fetchall()
            times.append(time.perf_counter() - t)
        assert len(got) == 8760, len(got)
        baseline = statistics.median(times)
        rows.append(
            ("bare SQL query (psycopg fetchall, 8,760 rows)", ms(baseline), ms(pct(times, 95)), "1.00")
        )
        times = []
        for _ in range(n):
            t = time.perf_counter()
            series = consumption_series(
                conn, meter, "energy_import_kwh", start, end, resolution="hour", tz="Europe/Moscow"
            )
            times.append(time.perf_counter() - t)
        assert len(series) == 8760
        existing = statistics.median(times)
        rows.append(
            (
                "timeseries.queries.consumption_series (date_bin, Decimal points)",
                ms(existing),
                ms(pct(times, 95)),
                f"{existing / baseline:.2f}",
            )
        )
        # the API path's stages, in-process
        ctx = account_context(conn, account)
        (m,) = account_meters(conn, account, meter_id=meter)
        stages = {"resident query (one bytea → numpy)": [], "chart build (zones, ₽)": [], "JSON text": []}
        for _ in range(n):
            t0 = time.perf_counter()
            hourly_with_quality(conn, m.chart_series, start, end)
            t1 = time.perf_counter()
            chart = consumption_chart(conn, ctx, m, YEAR_START, YEAR_END, Resolution.HOUR, Unit.RUB)
            t2 = time.perf_counter()
            chart.rows_json()
            t3 = time.perf_counter()
            stages["resident query (one bytea → numpy)"].append(t1 - t0)
            stages["chart build (zones, ₽)"].append(t2 - t1 - (t1 - t0))
            stages["JSON text"].append(t3 - t2)
        for name, values in stages.items():
            rows.append((f"  stage: {name}", ms(statistics.median(values)), ms(pct(values, 95)), ""))
    with httpx.Client(headers=headers, timeout=30) as client:
        for unit in ("volume", "rub"):
            client.get(path, params={**params, "unit": unit}).raise_for_status()  # warm up
            times = []
            size = 0
            for _ in range(n):
                t = time.perf_counter()
                r = client.get(path, params={**params, "unit": unit})
                times.append(time.perf_counter() - t)
                size = len(r.content)
                assert r.status_code == 200 and len(r.json()["points"]) == 8760
            p50, p95 = statistics.median(times), pct(times, 95)
            verdict = "meets" if p95 < 0.050 else "MISSES"
            rows.append(
                (
                    f"API over HTTP, unit={unit} ({size / 1024:.0f} KiB) — {verdict} p95 < 50 ms",
                    ms(p50),
                    ms(p95),
                    f"{p50 / baseline:.2f}",
                )
            )
    print(f"\nPart 1: one meter, a year of hourly data (8,760 points), {n} requests each\n")
    print(table(rows, ("what", "p50 ms", "p95 ms", "p50 / bare SQL")))


CALLS = [  # (name, weight, path template, params)
    ("meters", 20, "/api/v1/accounts/{a}/meters", {}),
    (
        "day hourly",
        30,
        "/api/v1/accounts/{a}/meters/{m}/consumption",
        {"start": "2026-10-15", "end": "2026-10-16", "resolution": "hour"},
    ),
    (
        "month daily",
        20,
        "/api/v1/accounts/{a}/meters/{m}/consumption",
        {"start": "2026-10-01", "end": "2026-11-01", "resolution": "day"},
    ),
    (
        "year monthly",
        15,
        "/api/v1/accounts/{a}/meters/{m}/consumption",
        {"start": "2025-11-01", "end": "2026-11-01", "resolution": "month"},
    ),
    (
        "month ₽ + last year",
        8,
        "/api/v1/accounts/{a}/meters/{m}/consumption",
        {
            "start": "2026-10-01",
            "end": "2026-11-01",
            "resolution": "day",
            "unit": "rub",
            "compare": "last_year",
        },
    ),
    ("building charts", 4, "/api/v1/buildings/BENCH/charts", {"year": "2026"}),
    ("tariff advice", 3, "/api/v1/accounts/{a}/tariff-advice", {}),
]


async def resident(
    base: str, account: str, meter: str, token: str, stop: float, results: dict, think: float = 0.0
) -> None:
    rng = random.Random(account)
    weights = [c[1] for c in CALLS]
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as c:
        while time.perf_counter() < stop:
            name, _, path, params = rng.choices(CALLS, weights)[0]
            t = time.perf_counter()
            try:
                r = await c.get(path.format(a=account, m=meter), params=params)
                outcome = str(r.status_code)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            results.setdefault(name, []).append((time.perf_counter() - t, outcome))
            if think:  # a resident reads the page before the next click: 0.5–1.5 × the think time
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def part2(
    base: str, users: list[tuple[str, str, str]], duration: float, processes: str = "", think: float = 0.0
) -> None:
    results: dict[str, list[tuple[float, str]]] = {}
    stop = time.perf_counter() + duration
    t0 = time.perf_counter()
    await asyncio.gather(*(resident(base, a, m, tok, stop, results, think) for a, m, tok in users))
    elapsed = time.perf_counter() - t0
    rows = []
    every: list[float] = []
    errors = 0
    failures: dict[str, int] = {}
    for name, *_ in CALLS:
        got = results.get(name, [])
        times = [t for t, _ in got]
        err = sum(1 for _, outcome in got if outcome != "200")
        for _, outcome in got:
            if outcome != "200":
                failures[outcome] = failures.get(outcome, 0) + 1
        errors += err
        every += times
        if times:
            rows.append(
                (
                    name,
                    len(times),
                    f"{len(times) / elapsed:.1f}",
                    ms(statistics.median(times)),
                    ms(pct(times, 95)),
                    ms(pct(times, 99)),
                    err,
                )
            )
    rows.append(
        (
            "all",
            len(every),
            f"{len(every) / elapsed:.1f}",
            ms(statistics.median(every)),
            ms(pct(every, 95)),
            ms(pct(every, 99)),
            errors,
        )
    )
    print(
        f"\nPart 2: {len(users)} concurrent residents browsing for {elapsed:.0f} s "
        + (f"with {think * 1000:.0f} ms think time " if think else "with no think time ")
        + f"(loopback, {processes or 'one uvicorn process'}; load average before: "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())})\n"
    )
    print(table(rows, ("call", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")))
    if failures:
        print(f"errors by status/exception: {failures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--pool",
        type=int,
        default=40,
        help="METERHUB_DB_POOL_MAX_SIZE of the server; below the 40 worker threads of FastAPI's threadpool "
        "the sync generator dependency get_conn can stall under load (its teardown waits for a thread)",
    )
    parser.add_argument("--part", choices=["1", "2", "both"], default="both")
    parser.add_argument(
        "--conn-dependency",
        choices=["app", "async"],
        default="app",
        help="app: meterhub serve as shipped; async: the same app with get_conn replaced by an async "
        "dependency waiting for a connection on the event loop (the proposed fix of the stall)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="with --conn-dependency async: worker threads (default anyio's 40)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="server processes of meterhub serve (0: serve's default, one per core, at least 2)",
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="pause of a resident between clicks (0.5–1.5 × this; 0: none, a saturation test)",
    )
    parser.add_argument("--serve-async-conn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_async_conn:
        serve_with_async_conn(args.port)
        return
    with bench_database() as url:
        print(f"PostgreSQL {server_version(url)}; Python {sys.version.split()[0]}; {os.cpu_count()} CPU(s)")
        t = time.perf_counter()
        users = setup(url, args.residents)
        print(f"setup: {args.residents} residents × 8,760 hours in {time.perf_counter() - t:.1f} s")
        server = start_server(url, args.port, args.pool, args.conn_dependency, args.threads, args.workers)
        processes = f"{args.workers or 'default'} server processes"
        print(
            f"server: pool {args.pool} per process, get_conn {args.conn_dependency}, threads "
            f"{args.threads or 40}, {processes}"
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            account, meter, token = users[0]
            if args.part in ("1", "both"):
                part1(url, base, account, meter, token, args.requests)
            if args.part in ("2", "both"):
                asyncio.run(part2(base, users, args.duration, processes, args.think_ms / 1000))
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
