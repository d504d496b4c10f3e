"""Money side at city scale: posting a payment registry, penalties in the close, city balances.

    .venv/bin/python benchmarks/bench_payments.py [--accounts 5000] [--buildings 50] [--payments 10000]

Setup (inside PostgreSQL with ``generate_series``, timed separately): buildings and accounts, six closed
months (July–December 2025) of four charge lines per account. Measured in one run:

* parsing the registry (``parse_payment_registry``) — pure Python, no database;
* ``import_registry`` of the whole file (lock account, insert, read the account's debts, allocate, insert
  allocations — per row, one transaction for the file), rows/s;
* the floor for the same rows: a bare ``COPY`` into ``payments`` (no allocation, no checks);
* the money step of the January 2026 close for every building (``close_money``: recalculations,
  penalties of every debt, advances), debts/s;
* ``account_balances`` of the whole city for January 2026.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, peak_rss_mb, server_version, table

from meterhub.billing.money.ledger import account_balances
from meterhub.billing.money.payment_registry import parse_payment_registry
from meterhub.billing.money.penalty_run import close_money
from meterhub.billing.money.posting import import_registry
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
  FROM generate_series(1, %(accounts)s) a;
INSERT INTO billing_periods (building_id, period, status, computed_at, closed_at)
SELECT 'B' || b, p, 'closed', now(), now()
  FROM generate_series(1, %(buildings)s) b,
       unnest(ARRAY['2025-07','2025-08','2025-09','2025-10','2025-11','2025-12']) p;
INSERT INTO billing_periods (building_id, period, status, computed_at)
SELECT 'B' || b, '2026-01', 'draft', now() FROM generate_series(1, %(buildings)s) b;
INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start, part_end, volume,
    unit, tariff, coefficient, method, formula, amount_exact, amount, amount_without_coefficient, excess)
SELECT 'B' || (1 + a %% %(buildings)s), p, 'LS' || a, s, 'individual', 'single', (p || '-01')::date,
       ((p || '-01')::date + interval '1 month')::date, 1, 'u', 1, 1, 'meter', 'bench',
       round((500 + (a * 7 + length(s) * 13) %% 3000)::numeric + 0.37, 2),
       round((500 + (a * 7 + length(s) * 13) %% 3000)::numeric + 0.37, 2), NULL, 0
  FROM generate_series(1, %(accounts)s) a,
       unnest(ARRAY['2025-07','2025-08','2025-09','2025-10','2025-11','2025-12']) p,
       unnest(ARRAY['electricity','cold_water','hot_water','maintenance']) s;
"""


def registry(accounts: int, payments: int) -> bytes:
    rng = random.Random(6)
    lines = ["Лицевой счёт;Сумма;Дата платежа;Период;Номер платежа"]
    for i in range(payments):
        account = f"LS{rng.randint(1, accounts)}" if rng.random() > 0.01 else f"XX{i}"  # 1 % unknown
        period = rng.choice(["", "", "11.2025", "12.2025"])
        lines.append(
            f"{account};{rng.randint(100, 900000) / 100:.2f}".replace(".", ",")
            + f";{rng.randint(1, 28):02d}.12.2025;{period};P{i}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--buildings", type=int, default=50)
    parser.add_argument("--payments", type=int, default=10000)
    args = parser.parse_args()
    data = registry(args.accounts, args.payments)
    with bench_database() as url, connect(url) as conn:
        t = time.perf_counter()
        for statement in SETUP.split(";\n"):
            if statement.strip():
                conn.execute(statement, {"accounts": args.accounts, "buildings": args.buildings})
        conn.commit()
        setup = time.perf_counter() - t

        t = time.perf_counter()
        parsed = parse_payment_registry(data, "bench.csv")
        parse_s = time.perf_counter() - t

        t = time.perf_counter()
        result = import_registry(conn, data, file_name="bench.csv", source="bench")
        import_s = time.perf_counter() - t

        t = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY payments (source, payment_id, account_no, amount_kopecks, paid_on) FROM STDIN"
            ) as cp,
        ):
            for r in parsed.rows:
                if r.account.startswith("LS"):
                    cp.write_row(("floor", r.payment_id, r.account, int(r.amount * 100), r.paid_on))
        conn.commit()
        copy_s = time.perf_counter() - t
        conn.execute("DELETE FROM payments WHERE source = 'floor'")
        conn.commit()

        t = time.perf_counter()
        for b in range(1, args.buildings + 1):
            close_money(conn, f"B{b}", BillingPeriod(2026, 1))
        conn.commit()
        money_s = time.perf_counter() - t
        (debts,) = conn.execute("SELECT count(*) FROM penalty_lines").fetchone()

        t = time.perf_counter()
        balances = account_balances(conn, BillingPeriod(2026, 1))
        balances_s = time.perf_counter() - t
        rows = sum(len(v) for v in balances.values())
        version = server_version(url)

    print(f"PostgreSQL {version}; {args.accounts} accounts, {args.buildings} buildings; setup {setup:.1f} s")
    n = len(parsed.rows)
    steps = [
        ("parse registry (pure)", f"{n} rows", parse_s, n / parse_s),
        ("COPY into payments (floor)", f"{n} rows", copy_s, n / copy_s),
        (
            "import_registry (post + allocate)",
            f"{result.posted} + {result.suspense} susp.",
            import_s,
            n / import_s,
        ),
        ("close_money, all buildings", f"{debts} penalty lines", money_s, debts / money_s),
        ("account_balances, whole city", f"{rows} rows", balances_s, rows / balances_s),
    ]
    print(
        table(
            [(name, size, f"{sec:.2f}", f"{rate:,.0f}/s") for name, size, sec, rate in steps],
            ("step", "size", "seconds", "rate"),
        )
    )
    print(f"import_registry / COPY floor: {import_s / copy_s:.0f}x; peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
