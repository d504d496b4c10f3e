"""The close's money step in a city where nobody pays: K unpaid months closed one after another.

    .venv/bin/python benchmarks/bench_penalties.py [--accounts 35000] [--buildings 100] [--months 8]

Setup (inside PostgreSQL with ``generate_series``): buildings, one account per flat, and for every month
from 2025-06 four charge lines per account (electricity, cold and hot water, maintenance); nobody pays.
Then month after month (2025-10 … ) the previous month is closed, the month's charges written and the
money step of its close (``close_money``: recalculations, benefits, penalties of every open debt,
advances) run for every building, one transaction per building. Printed per month: open debts, the money
step's wall time, this process's CPU time and the database backend's CPU time (read from
``/proc/<backend pid>/stat`` when the server runs on this machine; less sensitive to other load than the
wall time), the physical penalty rows the month wrote (in whichever
table the code under test stores them), the penalty tables' size, Σ penalties the month added and the
load average. The same script measures any version of the code (``PYTHONPATH=<tree>/src``), so the old
per-debt rows and the new per-account-service rows are compared on the same machine and data.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, peak_rss_mb, server_version, table

from meterhub.billing.money.penalty_run import close_money
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect

SETUP = """
INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method)
SELECT 'B' || b, 'ул. Бенчмарк, ' || b, 'Europe/Moscow', 10000, 1000, 'management_company'
  FROM generate_series(1, %(buildings)s) b;
INSERT INTO premises (building_id, premise_no, area)
SELECT 'B' || (1 + a %% %(buildings)s), a::text, 50 FROM generate_series(1, %(accounts)s) a;
INSERT INTO accounts (account_no, building_id, premise_no, opened_on)
SELECT 'LS' || a, 'B' || (1 + a %% %(buildings)s), a::text, '2020-01-01'
  FROM generate_series(1, %(accounts)s) a
"""
CHARGES = """
INSERT INTO billing_periods (building_id, period, status, computed_at, closed_at)
SELECT 'B' || b, %(p)s, 'closed', now(), now() FROM generate_series(1, %(buildings)s) b
    ON CONFLICT (building_id, period) DO UPDATE SET status = 'closed', closed_at = now();
INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start, part_end, volume,
    unit, tariff, coefficient, method, formula, amount_exact, amount, amount_without_coefficient, excess)
SELECT 'B' || (1 + a %% %(buildings)s), %(p)s, 'LS' || a, s, 'individual', 'single', (%(p)s || '-01')::date,
       ((%(p)s || '-01')::date + interval '1 month')::date, 1, 'u', 1, 1, 'meter', 'bench',
       round((500 + (a * 7 + length(s) * 13) %% 3000)::numeric + 0.37, 2),
       round((500 + (a * 7 + length(s) * 13) %% 3000)::numeric + 0.37, 2), NULL, 0
  FROM generate_series(1, %(accounts)s) a,
       unnest(ARRAY['electricity', 'cold_water', 'hot_water', 'maintenance']) s
"""
# physical tables that may hold penalty rows (old scheme: penalty_lines is the table; new: a view over
# penalty_accruals and the pre-upgrade rows)
_TABLES = ("penalty_lines", "penalty_lines_v1", "penalty_accruals")


def _physical(conn) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname = ANY(%s)",
            (list(_TABLES),),
        )
    ]


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of the server process ``pid``, or ``None`` when it is not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=35000)
    parser.add_argument("--buildings", type=int, default=100)
    parser.add_argument("--months", type=int, default=8)
    args = parser.parse_args()
    params = {"accounts": args.accounts, "buildings": args.buildings}
    with bench_database() as url, connect(url) as conn:
        t = time.perf_counter()
        for statement in SETUP.split(";\n"):
            conn.execute(statement, params)
        for p in ("2025-06", "2025-07"):
            for statement in CHARGES.split(";\n"):
                conn.execute(statement, {**params, "p": p})
        conn.commit()
        setup = time.perf_counter() - t
        tables = _physical(conn)
        (backend,) = conn.execute("SELECT pg_backend_pid()").fetchone()
        rows = []
        period = BillingPeriod(2025, 9)
        for _ in range(args.months):
            previous = BillingPeriod(period.year - (period.month == 1), (period.month - 2) % 12 + 1)
            for statement in CHARGES.split(";\n"):
                conn.execute(statement, {**params, "p": str(previous)})
            conn.execute(
                "INSERT INTO billing_periods (building_id, period, status, computed_at)"
                " SELECT 'B' || b, %s, 'draft', now() FROM generate_series(1, %s) b",
                (str(period), args.buildings),
            )
            conn.commit()
            before = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
            cpu, wall, server = time.process_time(), time.perf_counter(), _backend_cpu(backend)
            added = 0
            for b in range(1, args.buildings + 1):
                added += close_money(conn, f"B{b}", period).penalties.added_kopecks
                conn.commit()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            server_after = _backend_cpu(backend)
            server_text = f"{server_after - server:.1f}" if server is not None and server_after else "n/a"
            after = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
            size = sum(conn.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] for t in tables)
            (debts,) = conn.execute(
                "SELECT count(DISTINCT (account_no, period)) FROM charge_lines WHERE period < %s",
                (str(period),),
            ).fetchone()
            load = os.getloadavg()[0]
            rows.append(
                (
                    str(period),
                    f"{debts:,}",
                    f"{wall:.1f}",
                    f"{cpu:.1f}",
                    server_text,
                    f"{after - before:,}",
                    f"{size / 2**20:.0f}",
                    f"{added / 100:,.2f}",
                    f"{load:.1f}",
                )
            )
            print(*rows[-1], flush=True)
            period = BillingPeriod(period.year + period.month // 12, period.month % 12 + 1)
        version = server_version(url)
    print(
        f"PostgreSQL {version}; {args.accounts:,} accounts in {args.buildings} buildings, 4 services,"
        f" nobody pays; setup {setup:.1f} s; tables {', '.join(tables)}"
    )
    header = (
        "closing",
        "open debts",
        "wall s",
        "CPU s",
        "server CPU s",
        "rows written",
        "MB",
        "added ₽",
        "load 1m",
    )
    print(table(rows, header))
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
