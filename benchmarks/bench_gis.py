"""ГИС ЖКХ exports of a synthetic city (the city of bench_receipts.py): 5,000 accounts in 25 buildings.

    .venv/bin/python benchmarks/bench_gis.py [--accounts 5000] [--buildings 25]

Setup (timed separately): bench_receipts.py's city (January 2026 closed: 8 charge lines per account,
December charges, payments, an electricity T1/T2 and a cold-water meter per flat, house meters, readings),
plus what ГИС ЖКХ would have returned (ФИАС GUID per building, PremisesGUID, AccountGUID, ИЖКУ, the meters'
root GUIDs — so the meters themselves are still to export) and a filled НСИ mapping.

Measured in one run, same data: every export kind over all buildings (objects/s; each message validated
against the shipped XSD and written), payment documents on 1/10 of the buildings too (per-document cost
flat if the export is linear in the city's size), and two baselines: loading the receipt model alone
(``iter_receipts``, what the ЕПД PDF is drawn from — the floor of the payment-document export) and the XSD
validation alone of the largest payment-document message (how much of the export is validation).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database, server_version, table
from bench_receipts import setup

from meterhub.timeseries.database import connect

IDS_SQL = [
    """INSERT INTO gis_identifiers (kind, local_key, value, source)
        SELECT 'house_fias_guid', building_id, gen_random_uuid()::text, 'bench' FROM buildings""",
    """INSERT INTO gis_identifiers (kind, local_key, value, source)
        SELECT 'premises_guid', building_id || '/' || premise_no, gen_random_uuid()::text, 'bench'
        FROM premises""",
    """INSERT INTO gis_identifiers (kind, local_key, value, source)
        SELECT 'account_guid', account_no, gen_random_uuid()::text, 'bench' FROM accounts""",
    """INSERT INTO gis_identifiers (kind, local_key, value, source)
        SELECT 'device_root_guid', meter_id, gen_random_uuid()::text, 'bench' FROM meters""",
    """INSERT INTO gis_identifiers (kind, local_key, value, source)
        SELECT 'account_izhku', account_no, '77АА' || lpad(row_number() OVER ()::text, 6, '0') || '-01',
               'bench' FROM accounts""",
    """UPDATE gis_nsi_refs SET code = coalesce(code, '1'), guid = gen_random_uuid()
        WHERE kind IN ('resource', 'service')""",
    "ANALYZE",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=5_000)
    ap.add_argument("--buildings", type=int, default=25)
    args = ap.parse_args()
    from lxml import etree

    from meterhub.billing.receipts import iter_receipts
    from meterhub.billing.rules.periods import BillingPeriod
    from meterhub.exchange.gis.exports import export
    from meterhub.exchange.gis.validation import service_schema

    january = BillingPeriod(2026, 1)
    now = datetime(2026, 2, 3, 9, tzinfo=UTC)
    org = uuid.uuid4()
    with bench_database() as url, tempfile.TemporaryDirectory() as tmp:
        print(f"PostgreSQL {server_version(url)}; {args.accounts} accounts in {args.buildings} buildings")
        seconds = setup(url, args.accounts, args.buildings)
        with connect(url) as conn:
            for sql in IDS_SQL:
                conn.execute(sql)
            conn.commit()
        print(f"setup: {seconds:.1f} s")
        service_schema("bills")  # compiled once per process, not part of any run
        rows, rates = [], {}
        with connect(url) as conn:
            buildings = [b for (b,) in conn.execute("SELECT building_id FROM buildings ORDER BY 1")]
            t = time.perf_counter()
            n = sum(1 for b in buildings for _ in iter_receipts(conn, b, january, issued_on=date(2026, 2, 3)))
            base = n / (time.perf_counter() - t)
            rows.append(("baseline: receipt model alone (iter_receipts)", n, "", f"{base:.0f}"))
            tenth = buildings[: max(1, len(buildings) // 10)]
            for kind, only in (
                ("payment-documents", tenth),
                ("payment-documents", None),
                ("accounts", None),
                ("devices", None),
                ("readings", None),
                ("payments", None),
                ("houses", None),
            ):
                t = time.perf_counter()
                result = export(
                    conn,
                    kind,
                    Path(tmp) / f"{kind}-{len(only or buildings)}",
                    org_ppa_guid=org,
                    now=now,
                    period=january,
                    buildings=only,
                )
                elapsed = time.perf_counter() - t
                conn.rollback()
                rate = result.items / elapsed
                rates[(kind, only is None)] = rate
                label = f"{kind}, {len(only or buildings)} buildings"
                rows.append((label, result.items, len(result.files), f"{rate:.0f}"))
                if kind == "payment-documents" and only is None:
                    largest = max(result.files, key=lambda p: p.stat().st_size)
        body = etree.parse(str(largest)).getroot()[1][0]
        docs = len(body.findall("{http://dom.gosuslugi.ru/schema/integration/bills/}PaymentDocument"))
        doc = etree.fromstring(etree.tostring(body))
        t = time.perf_counter()
        service_schema("bills").assertValid(doc)
        validation = docs / (time.perf_counter() - t)
        rows.append(("baseline: XSD validation alone (largest message)", docs, 1, f"{validation:.0f}"))
    print(table(rows, ("run", "objects", "messages", "objects/s")))
    full, small = rates[("payment-documents", True)], rates[("payment-documents", False)]
    print(
        f"ratio: payment documents {full:.0f}/s = {full / base:.2f} × the receipt model alone; validation "
        f"is {full / validation * 100:.0f} % of the export's time; all buildings vs 1/10: "
        f"{full / small:.2f} × the rate (1.0 = linear)"
    )


if __name__ == "__main__":
    main()
