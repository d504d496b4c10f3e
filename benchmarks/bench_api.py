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

Part 2 — the cabinet's mix of calls (meters list, a day hourly, a month daily, a year monthly, a month in ₽
with last year, building charts, tariff advice) from ``--residents`` residents' tokens against the same
server (``--workers`` processes of ``meterhub serve``, default one per core, at least 2). The load comes
from ``_loadgen.py`` in its own process (pre-encoded HTTP/1.1 on uvloop, a few tens of µs of CPU per
request, its CPU printed) in one of two modes:

- ``--mode open`` (default): requests arrive at ``--rate`` per second (Poisson, or ``--arrivals
  uniform``) whatever the server does, and each latency runs from the *scheduled* arrival, so queueing
  shows instead of being hidden by a slowed-down client (coordinated omission). This is how the target
  "p95 ≤ 150 ms at ≥ 600 req/s" is measured. The baseline in the same run is ``GET /health`` at the same
  rate (the framework, the HTTP stack and one pooled ``SELECT 1``: the floor any call pays).
- ``--mode closed``: ``--residents`` clients, one connection each, each clicking again when its answer
  came, after ``--think-ms`` (0.5–1.5 × that; default 0, a saturation test in which ``residents``
  requests are always in flight, so by Little's law mean latency = residents ÷ throughput).

Before the load a cold pass (``--no-prime`` skips it) asks every resident's every call once over
``--prime-clients`` connections with empty caches, reported on its own: the cost of first visits.
After ``--warmup`` seconds (not recorded) ``--duration`` seconds are measured: per call and for all,
requests, answered per second, p50/p95/p99 latency, errors; the CPU of the server processes and of their
PostgreSQL backends over the window, and the load average before and after (2 cores are shared with
PostgreSQL and the generator; other jobs on the machine show in the load average).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psutil

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


def start_server(url: str, port: int, pool: int, workers: int = 0) -> subprocess.Popen:
    env = dict(
        os.environ,
        METERHUB_DATABASE_URL=url,
        METERHUB_LOG_LEVEL="WARNING",
        METERHUB_DB_POOL_MAX_SIZE=str(pool),
    )
    command = [sys.executable, "-m", "meterhub.cli", "serve", "--port", str(port), "--no-migrate"] + (
        ["--workers", str(workers)] if workers else []
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


HEALTH = [("GET /health (floor: framework + SELECT 1)", 1, "/api/v1/health", {})]


def _process_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _server_pids(server: subprocess.Popen) -> list[int]:
    proc = psutil.Process(server.pid)
    return [proc.pid] + [c.pid for c in proc.children(recursive=True)]


def _backend_pids(url: str) -> list[int]:
    """PostgreSQL backends of the benchmark database (the server's pooled connections stay open)."""
    with connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [r[0] for r in rows]


def generate(spec: dict, url: str, server: subprocess.Popen, sample: bool = True) -> dict:
    """Run _loadgen.py in its own process; measure the server's and PostgreSQL's CPU over the window."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "_loadgen.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(spec).encode())
    proc.stdin.close()
    if not sample:
        result = json.loads(proc.stdout.read())
        proc.wait()
        return result
    time.sleep(spec["warmup"] + 0.05)
    servers, backends = _server_pids(server), _backend_pids(url)
    cpu = (_process_cpu(servers), _process_cpu(backends), time.perf_counter())
    time.sleep(spec["duration"])
    seconds = time.perf_counter() - cpu[2]
    result = json.loads(proc.stdout.read())
    proc.wait()
    result["server_cores"] = (_process_cpu(servers) - cpu[0]) / seconds
    result["postgres_cores"] = (_process_cpu(backends) - cpu[1]) / seconds
    return result


def summarize(result: dict, calls: list) -> tuple[list[tuple], dict]:
    """Rows per call and for all calls: count, answered/s, p50/p95/p99 ms, errors; and the totals."""
    window_start, window_end = result["window"]
    records = result["records"]
    last = max((r[5] for r in records), default=window_end)
    span = max(last, window_end) - window_start
    rows = []
    per_call: dict[int, list] = {}
    for rec in records:
        per_call.setdefault(rec[0], []).append(rec)
    failures: dict[str, int] = {}
    for rec in records:
        if rec[3] != "200":
            failures[rec[3]] = failures.get(rec[3], 0) + 1

    def row(name: str, recs: list) -> tuple:
        lat = [r[5] - r[1] for r in recs]
        ok = sum(1 for r in recs if r[3] == "200")
        return (
            name,
            len(recs),
            f"{ok / span:.1f}",
            ms(statistics.median(lat)),
            ms(pct(lat, 95)),
            ms(pct(lat, 99)),
            len(recs) - ok,
        )

    for i, (name, *_) in enumerate(calls):
        if per_call.get(i):
            rows.append(row(name, per_call[i]))
    total = row("all", records) if records else ("all", 0, "0", "-", "-", "-", 0)
    lag = [r[2] - r[1] for r in records]
    totals = {
        "rate": float(total[2]),
        "p95": pct([r[5] - r[1] for r in records], 95) if records else float("inf"),
        "lag_p99": pct(lag, 99) if lag else 0.0,
        "failures": failures,
        "row": total,
    }
    return rows, totals


def part2(
    url: str,
    server: subprocess.Popen,
    port: int,
    users: list[tuple[str, str, str]],
    args: argparse.Namespace,
    processes: str,
) -> None:
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    spec = {
        "host": "127.0.0.1",
        "port": port,
        "mode": args.mode,
        "residents": users,
        "calls": CALLS,
        "warmup": args.warmup,
        "duration": args.duration,
        "rate": args.rate,
        "arrivals": args.arrivals,
        "clients": len(users),
        "think": args.think_ms / 1000,
    }
    if args.prime:
        prime = {**spec, "mode": "prime", "clients": args.prime_clients, "warmup": 0.0, "duration": 0.0}
        cold = generate(prime, url, server, sample=False)
        rows, totals = summarize(cold, CALLS)
        span = cold["window"][1] - cold["window"][0]
        print(
            f"\nCold pass: every resident's every call once ({len(cold['records'])} requests over "
            f"{args.prime_clients} connections, caches empty) in {span:.1f} s\n"
        )
        print(
            table(
                [*rows, totals["row"]],
                ("call", "requests", "answered/s", "p50 ms", "p95 ms", "p99 ms", "errors"),
            )
        )
    floor = None
    if args.mode == "open" and args.baseline:
        floor = generate({**spec, "calls": HEALTH, "warmup": 2.0}, url, server)
    mix = generate(spec, url, server)
    load_after = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, totals = summarize(mix, CALLS)
    floor_p95 = None
    if floor is not None:
        floor_rows, floor_totals = summarize(floor, HEALTH)
        floor_p95 = floor_totals["p95"]
    table_rows = [(*r, f"{pct_text(r, floor_p95)}") for r in rows]
    table_rows.append((*totals["row"], pct_text(totals["row"], floor_p95)))
    if floor is not None:
        table_rows.append((*floor_rows[0], "1.00"))
    if args.mode == "open":
        how = (
            f"open loop: {args.arrivals} arrivals at {args.rate:.0f} req/s from {len(users)} residents' "
            f"tokens, latency from the scheduled arrival"
        )
    else:
        how = f"closed loop: {len(users)} residents, one connection each, " + (
            f"think time 0.5–1.5 × {args.think_ms:.0f} ms" if args.think_ms else "no think time"
        )
    print(
        f"\nPart 2: the cabinet mix, {how}; {args.warmup:.0f} s warm-up, then {args.duration:.0f} s "
        f"measured (loopback, {processes}; load average before {load_before}, after {load_after})\n"
    )
    print(
        table(
            table_rows,
            ("call", "requests", "answered/s", "p50 ms", "p95 ms", "p99 ms", "errors", "p95 / floor p95"),
        )
    )
    if totals["failures"]:
        print(f"errors by status/exception: {totals['failures']}")
    gen_core = mix["cpu_seconds"] / mix["wall_seconds"]
    answered = totals["rate"] or 1.0
    per_request = f"{mix['server_cores'] / answered * 1000:.2f} ms"
    if floor is not None:
        per_request += f" (floor {floor['server_cores'] / (floor_totals['rate'] or 1.0) * 1000:.2f} ms)"
    print(
        f"server CPU per answered request: {per_request}; PostgreSQL CPU per request "
        f"{mix['postgres_cores'] / answered * 1000:.2f} ms"
    )
    print(
        f"CPU during the measured window (cores of 2): server processes {mix['server_cores']:.2f}, "
        f"PostgreSQL backends {mix['postgres_cores']:.2f}; load generator {gen_core:.2f} over its run "
        f"(uvloop {'on' if mix['uvloop'] else 'off'}, {mix['connections']} connections, "
        f"send lag p99 {ms(totals['lag_p99'])} ms)"
    )
    if args.mode == "open":
        meets = totals["p95"] <= 0.150 and totals["rate"] >= 0.98 * args.rate and not totals["failures"]
        print(
            f"target p95 ≤ 150 ms at ≥ 600 req/s: {'MEETS' if meets and args.rate >= 600 else 'MISSES'} "
            f"(offered {args.rate:.0f} req/s, answered {totals['rate']:.0f}/s, p95 {ms(totals['p95'])} ms)"
        )


def pct_text(row: tuple, floor_p95: float | None) -> str:
    if floor_p95 is None or row[4] == "-":
        return ""
    return f"{float(row[4]) / 1000 / floor_p95:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds of Part 2")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of Part 2 load before measuring")
    parser.add_argument(
        "--mode",
        choices=["open", "closed"],
        default="open",
        help="open: arrivals at --rate whatever the answers (the target's measure); closed: --residents "
        "clients each waiting for its answer (and --think-ms) before the next click",
    )
    parser.add_argument(
        "--no-prime",
        dest="prime",
        action="store_false",
        help="skip the cold pass (every resident's every call once) before Part 2's load",
    )
    parser.add_argument("--prime-clients", type=int, default=8, help="connections of the cold pass")
    parser.add_argument("--rate", type=float, default=600.0, help="open loop: arrivals per second")
    parser.add_argument("--arrivals", choices=["poisson", "uniform"], default="poisson")
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="open loop: skip the floor (GET /health at the same rate) measured before the mix",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--pool",
        type=int,
        default=16,
        help="METERHUB_DB_POOL_MAX_SIZE of each server process",
    )
    parser.add_argument("--part", choices=["1", "2", "both"], default="both")
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
    args = parser.parse_args()
    with bench_database() as url:
        print(f"PostgreSQL {server_version(url)}; Python {sys.version.split()[0]}; {os.cpu_count()} CPU(s)")
        t = time.perf_counter()
        users = setup(url, args.residents)
        print(f"setup: {args.residents} residents × 8,760 hours in {time.perf_counter() - t:.1f} s")
        server = start_server(url, args.port, args.pool, args.workers)
        processes = f"{args.workers or 'default'} server processes"
        print(f"server: meterhub serve, {processes}, pool {args.pool} connections per process")
        base = f"http://127.0.0.1:{args.port}"
        try:
            account, meter, token = users[0]
            if args.part in ("1", "both"):
                part1(url, base, account, meter, token, args.requests)
            if args.part in ("2", "both"):
                part2(url, server, args.port, users, args, processes)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
