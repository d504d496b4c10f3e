"""ЕПД receipts of a synthetic city: 10,000 accounts in 50 buildings (January 2026) → PDFs, ZIP, XLSX.

    .venv/bin/python benchmarks/bench_receipts.py [--accounts 10000] [--buildings 50] [--workers 2]

Setup (timed separately, SQL ``generate_series``, no close): per account 8 charge lines of January
(maintenance, electricity day/night and common property, cold water and its common property, hot water,
wastewater — the shape the close writes), a December charge, a payment for two accounts in three
(ledger tables), per flat an electricity meter with T1/T2 registers and a cold-water meter, per building
house electricity and cold-water meters, readings at the month bounds, house common-property totals and
one payee.

Measured in one run, each configuration in a fresh child process (its own peak RSS):

* the batch (``generate_batch``: load per building → model → PDF → register → ZIP/XLSX) with 1 worker
  on 1/10 of the buildings and on all of them — receipts/s, peak RSS (flat if memory does not grow with
  the batch), bytes per receipt;
* the same batch with ``--workers`` processes (one building each at a time);
* baselines with the same library in the same run: a minimal one-page PDF (one line of Cyrillic text in
  the bundled font, a document per page) and the payment QR code alone (segno, the receipt's payloads).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, server_version, table

from meterhub.timeseries.database import connect

PERIOD = "2026-01"

SETUP_SQL = [
    """INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method)
        SELECT 'R' || lpad(b::text, 3, '0'), 'г. Бенчмарк, ул. Квитанционная, д. ' || b, 'Europe/Moscow',
               1, 1, 'management_company'
        FROM generate_series(1, %(buildings)s) b""",
    """INSERT INTO premises (building_id, premise_no, area)
        SELECT 'R' || lpad(b::text, 3, '0'), p::text, 30 + (b * 7 + p * 13) % 60 + 0.5 * (p % 2)
        FROM generate_series(1, %(buildings)s) b, generate_series(1, %(flats)s) p""",
    """UPDATE buildings b SET total_area = s.area, common_area = round(s.area * 0.15, 2)
        FROM (SELECT building_id, sum(area) AS area FROM premises GROUP BY 1) s
        WHERE s.building_id = b.building_id""",
    """INSERT INTO accounts (account_no, building_id, premise_no, owner_name, owners, opened_on)
        SELECT building_id || '-' || premise_no, building_id, premise_no,
               (ARRAY['Иванов И. И.','Петрова А. С.','Сидоров П. П.'])[premise_no::int % 3 + 1], 1,
               '2020-01-01'
        FROM premises""",
    """INSERT INTO resident_counts (account_no, valid_from, registered)
        SELECT account_no, '2020-01-01', 1 + premise_no::int % 4 FROM accounts""",
    """INSERT INTO normatives (service, kind, valid_from, value) VALUES
        ('electricity', 'per_person', '2020-01-01', 100), ('cold_water', 'per_person', '2020-01-01', 4.86),
        ('hot_water', 'per_person', '2020-01-01', 3.51), ('wastewater', 'per_person', '2020-01-01', 8.37),
        ('electricity', 'common_per_m2', '2020-01-01', 1.2),
        ('cold_water', 'common_per_m2', '2020-01-01', 0.03)""",
    """INSERT INTO receipt_payees (applies_to, name, inn, kpp, address, phone, email, website, bank_name, bic,
                                   settlement_account, correspondent_account)
        VALUES ('*', 'ООО «УК Бенчмарк»', '7701234567', '770101001', 'г. Бенчмарк, ул. Мира, д. 5',
                '+7 000 000-00-00', 'uk@example.ru', 'uk.example.ru', 'ПАО СБЕРБАНК', '044525225',
                '40702810900000000001', '30101810400000000225')""",
    """INSERT INTO billing_periods (building_id, period, status, computed_at, closed_at)
        SELECT building_id, p, 'closed', now(), now()
        FROM buildings, unnest(ARRAY['2025-12', '2026-01']) p""",
    # January charge lines: (service, kind, zone, volume expression, unit, tariff, method)
    """INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start, part_end,
                                 volume, unit, tariff, coefficient, method, formula, amount_exact, amount,
                                 excess)
        SELECT a.building_id, '2026-01', a.account_no, l.service, l.kind, l.zone, '2026-01-01', '2026-02-01',
               l.volume, l.unit, l.tariff, 1, l.method, 'bench', l.volume * l.tariff,
               round(l.volume * l.tariff, 2), 0
        FROM accounts a JOIN premises p USING (building_id, premise_no),
        LATERAL (VALUES
            ('maintenance', 'individual', 'single', p.area, 'm2', 31.45, 'area'),
            ('electricity', 'individual', 'day', 120 + p.area, 'kWh', 7.85, 'meter'),
            ('electricity', 'individual', 'night', 40 + p.area / 2, 'kWh', 3.47, 'meter'),
            ('electricity', 'common_property', 'single', round(p.area * 0.18, 4), 'kWh', 6.43,
             'actual_capped'),
            ('cold_water', 'individual', 'single', 3.5 + p.area / 40, 'm3', 52.17, 'meter'),
            ('cold_water', 'common_property', 'single', round(p.area * 0.0045, 4), 'm3', 52.17,
             'actual_capped'),
            ('hot_water', 'individual', 'single', 2.1 + p.area / 60, 'm3', 243.60, 'meter'),
            ('wastewater', 'individual', 'single', 5.6 + p.area / 40 + p.area / 60, 'm3', 38.92, 'meter')
        ) l(service, kind, zone, volume, unit, tariff, method)""",
    """INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start, part_end,
                                 volume, unit, tariff, coefficient, method, formula, amount_exact, amount,
                                 excess)
        SELECT building_id, '2025-12', account_no, 'maintenance', 'individual', 'single', '2025-12-01',
               '2026-01-01', 50, 'm2', 31.45, 1, 'area', 'bench', 1572.5, 1572.50, 0 FROM accounts""",
    """INSERT INTO period_common_property (building_id, period, service, method_requested, method, formula,
                                           house_volume, individual_total, difference, normative_volume,
                                           distributed, excess, excess_cost, negative)
        SELECT b.building_id, '2026-01', s, 'actual_capped', 'actual_capped', 'bench', 1000, 900, 100, 100,
               100, 0, 0, false FROM buildings b, unnest(ARRAY['electricity', 'cold_water']) s""",
    # payments: two accounts in three paid December in full on 2026-01-12
    """WITH p AS (
           INSERT INTO payments (source, payment_id, account_no, amount_kopecks, paid_on, period_named)
           SELECT 'bench', 'P-' || account_no, account_no, 157250, '2026-01-12', '2025-12' FROM accounts
           WHERE premise_no::int % 3 <> 0 RETURNING payment_pk, account_no)
       INSERT INTO payment_allocations (payment_pk, account_no, booked_period, paid_on, debt_period, service,
                                        kind, amount_kopecks, rule)
       SELECT payment_pk, account_no, '2026-01', '2026-01-12', '2025-12', 'maintenance', 'principal', 157250,
              'named_period' FROM p""",
    # meters: per flat electricity T1/T2 and cold water; per building house electricity and cold water
    """CREATE TEMP TABLE bench_meters AS
        SELECT 'E-' || account_no AS meter_id, 'electricity' AS kind, building_id, premise_no FROM accounts
        UNION ALL SELECT 'W-' || account_no, 'cold_water', building_id, premise_no FROM accounts
        UNION ALL SELECT 'EH-' || building_id, 'electricity', building_id, NULL FROM buildings
        UNION ALL SELECT 'WH-' || building_id, 'cold_water', building_id, NULL FROM buildings""",
    """INSERT INTO meters (meter_id, kind, manufacturer, serial, building_id, is_house_meter,
                           verification_due)
        SELECT meter_id, kind, 'BENCH', meter_id, building_id, premise_no IS NULL, '2030-01-01'
        FROM bench_meters""",
    """INSERT INTO meter_registers (meter_id, register, unit, cumulative)
        SELECT meter_id, r, CASE WHEN kind = 'electricity' THEN 'kWh' ELSE 'm3' END, true FROM bench_meters,
        LATERAL unnest(CASE WHEN kind = 'cold_water' THEN ARRAY['water_m3']
                            WHEN premise_no IS NULL THEN ARRAY['energy_import_kwh']
                            ELSE ARRAY['energy_import_t1_kwh', 'energy_import_t2_kwh'] END) r""",
    """INSERT INTO meter_links (meter_id, valid_from, building_id, premise_no, service)
        SELECT meter_id, '2020-01-01', building_id, premise_no, kind FROM bench_meters""",
    "SELECT meterhub_ensure_partitions('readings', '2025-12-01', '2026-02-28')",
    """INSERT INTO readings (series_id, ts, value_int, value_scale)
        SELECT r.series_id, t.ts, (1000 + r.series_id % 997 + t.step * (50 + r.series_id % 150)) * 1000, 3
        FROM meter_registers r,
        (VALUES (timestamptz '2025-12-31 21:00:00+00', 0),
                (timestamptz '2026-01-31 21:00:00+00', 1)) t(ts, step)""",
    "ANALYZE",
]


def setup(url: str, accounts: int, buildings: int) -> float:
    t = time.perf_counter()
    with connect(url) as conn:
        for sql in SETUP_SQL:
            if "%(" in sql:  # parameters: the modulo operator must be written %%
                sql = re.sub(r"%(?!\()", "%%", sql)
                conn.execute(sql, {"buildings": buildings, "flats": accounts // buildings})
            else:
                conn.execute(sql)
        conn.commit()
    return time.perf_counter() - t


def child(args: argparse.Namespace) -> None:
    """One configuration in this (fresh) process; prints a JSON line with its numbers."""
    from meterhub.billing.receipts import generate_batch

    buildings = [f"R{b:03d}" for b in range(1, args.child_buildings + 1)]
    with tempfile.TemporaryDirectory(prefix="meterhub-bench-receipts-") as out:
        result = generate_batch(
            args.child_url, PERIOD, out, building_ids=buildings, workers=args.child_workers,
            link_secret="bench-secret",
        )  # fmt: skip
        pdf_bytes = sum(p.stat().st_size for p in result.pdf_files)
        zip_bytes = result.zip_path.stat().st_size if result.zip_path else 0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "receipts": result.receipts,
                "seconds": result.seconds,
                "failures": result.failures,
                "pdf_bytes": pdf_bytes,
                "zip_bytes": zip_bytes,
                "rss_mb": own,
                "workers_rss_mb": kids,
            }
        )
    )


def run_child(url: str, buildings: int, workers: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child-url", url, "--child-buildings", str(buildings),
         "--child-workers", str(workers)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def baselines(url: str, n_pdf: int, n_qr: int) -> tuple[float, float]:
    """(minimal one-page PDFs per second, QR codes per second) with the same libraries and font."""
    import segno
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from meterhub.billing.receipts.drawing import REGULAR, register_fonts

    register_fonts()
    t = time.perf_counter()
    for i in range(n_pdf):
        c = Canvas(io.BytesIO(), pagesize=A4, pageCompression=1, invariant=1)
        c.setFont(REGULAR, 10)
        c.drawString(40, 800, f"Квитанция № {i}: к оплате 1 234,56 руб.")
        c.showPage()
        c.save()
    pdf_rate = n_pdf / (time.perf_counter() - t)
    with connect(url) as conn:
        from datetime import date

        from meterhub.billing.receipts import iter_receipts
        from meterhub.billing.rules.periods import BillingPeriod

        payloads = [
            r.qr_payload
            for r in iter_receipts(conn, "R001", BillingPeriod(2026, 1), issued_on=date(2026, 2, 3))
        ]
    t = time.perf_counter()
    for i in range(n_qr):
        segno.make_qr(payloads[i % len(payloads)], error="m", mode="byte", boost_error=False)
    return pdf_rate, n_qr / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--buildings", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child-url", help=argparse.SUPPRESS)
    ap.add_argument("--child-buildings", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-workers", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_url:
        child(args)
        return
    with bench_database() as url:
        print(f"PostgreSQL {server_version(url)}; {args.accounts} accounts in {args.buildings} buildings")
        seconds = setup(url, args.accounts, args.buildings)
        print(f"setup: {seconds:.1f} s")
        pdf_rate, qr_rate = baselines(url, 1000, 300)
        small = run_child(url, max(1, args.buildings // 10), 1)
        full = run_child(url, args.buildings, 1)
        parallel = run_child(url, args.buildings, args.workers)
    rows = []
    for label, r in (
        (f"batch, 1 worker, {small['receipts']} receipts", small),
        (f"batch, 1 worker, {full['receipts']} receipts", full),
        (f"batch, {args.workers} workers, {parallel['receipts']} receipts", parallel),
    ):
        assert not r["failures"], r["failures"]
        rate = r["receipts"] / r["seconds"]
        rows.append(
            (
                label,
                f"{r['seconds']:.1f}",
                f"{rate:.1f}",
                f"{r['rss_mb']:.0f}",
                f"{r['workers_rss_mb']:.0f}" if r["workers_rss_mb"] else "—",
                f"{r['pdf_bytes'] / r['receipts'] / 1024:.1f}",
                f"{r['zip_bytes'] / 2**20:.1f}",
            )
        )
    rows.append(
        ("baseline: minimal 1-page PDF (reportlab, same font)", "", f"{pdf_rate:.1f}", "", "", "", "")
    )
    rows.append(("baseline: payment QR alone (segno, level M)", "", f"{qr_rate:.1f}", "", "", "", ""))
    print(
        table(
            rows,
            ("run", "s", "receipts/s", "peak RSS MB", "workers RSS MB", "KB/receipt", "ZIP MB"),
        )
    )
    full_rate = full["receipts"] / full["seconds"]
    par_rate = parallel["receipts"] / parallel["seconds"]
    print(
        f"ratio: 1 worker {full_rate:.1f}/s = {full_rate / pdf_rate:.2f} × the minimal PDF and "
        f"{full_rate / qr_rate:.2f} × the QR alone (the QR is {full_rate / qr_rate * 100:.0f} % of a "
        f"receipt's time); {args.workers} workers {par_rate:.1f}/s = {par_rate / full_rate:.2f} × 1 worker; "
        f"peak RSS {small['rss_mb']:.0f} MB at {small['receipts']} receipts vs {full['rss_mb']:.0f} MB at "
        f"{full['receipts']}"
    )


if __name__ == "__main__":
    main()
