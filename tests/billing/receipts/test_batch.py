"""Batch generation: a building's PDF (one page per account), the ZIP, the XLSX register, the database
register, progress, list_receipts after a batch, and the CLI (`meterhub receipts`, `meterhub receipts debt`).

Expected amounts (see test_receipt_pdf.py for the arithmetic): to pay LS-1 4 655.30, LS-2 4 788.00,
LS-3 3 180.00 → Σ 12 623.30; charged 4 045.00 + 4 788.00 + 3 180.00 = 12 013.00 (the close's total).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from decimal import Decimal as D
from pathlib import Path

import pytest

from meterhub.billing.money.payment_qr import parse_payment_payload
from meterhub.billing.receipts import BatchProgress, ReceiptDataError, generate_batch, list_receipts
from meterhub.timeseries.database import connect
from tests.billing.receipts.receipt_data import ISSUED, SECRET, decode_page_qr, load_receipt_world, page_texts

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def world(db_url: str) -> str:
    with connect(db_url) as conn:
        load_receipt_world(conn)
    return db_url


@pytest.fixture(scope="module")
def batch(world: str, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("receipts")
    seen: list[BatchProgress] = []
    result = generate_batch(world, "2026-01", out, issued_on=ISSUED, link_secret=SECRET, progress=seen.append)
    return result, seen, out


def test_batch_writes_one_pdf_per_building_a_zip_and_a_register(batch) -> None:
    result, seen, _ = batch
    assert result.failures == {}
    assert result.receipts == 3
    assert result.to_pay_total == D("12623.30")  # 4655.30 + 4788.00 + 3180.00
    assert [p.name for p in result.pdf_files] == ["2026-01_B1.pdf"]
    assert seen == [BatchProgress("B1", 3, 1, 1)]
    with zipfile.ZipFile(result.zip_path) as archive:
        assert sorted(archive.namelist()) == ["2026-01_B1.pdf", "receipts_2026-01.xlsx"]
        pdf = archive.read("2026-01_B1.pdf")
    texts = page_texts(pdf)
    assert len(texts) == 3
    assert [
        "Лицевой счёт: LS-1" in texts[0],
        "Лицевой счёт: LS-2" in texts[1],
        "Лицевой счёт: LS-3" in texts[2],
    ] == [
        True,
        True,
        True,
    ]
    assert parse_payment_payload(decode_page_qr(pdf, page=2)).get("Sum") == "318000"


def test_xlsx_register_lists_every_receipt_with_totals(batch) -> None:
    from openpyxl import load_workbook

    result, _, _ = batch
    with zipfile.ZipFile(result.zip_path) as archive:
        book = load_workbook(io.BytesIO(archive.read("receipts_2026-01.xlsx")), read_only=True)
    rows = list(book["Реестр 2026-01"].iter_rows(values_only=True))
    assert rows[0][:9] == (
        "№", "Дом", "Лицевой счёт", "Плательщик", "Адрес", "Период", "Идентификатор документа",
        "Начислено, руб.", "К оплате, руб.",
    )  # fmt: skip
    body = [(r[2], r[3], r[6], D(str(r[7])), D(str(r[8])), r[9], r[10]) for r in rows[1:4]]
    assert body == [
        ("LS-1", "Иванов И. И.", "LS-1-202601", D("4045.00"), D("4655.30"), "2026-01_B1.pdf", 1),
        ("LS-2", "Петров П. П.", "LS-2-202601", D("4788.00"), D("4788.00"), "2026-01_B1.pdf", 2),
        ("LS-3", "Сидорова С. С.", "LS-3-202601", D("3180.00"), D("3180.00"), "2026-01_B1.pdf", 3),
    ]
    assert (rows[4][1], D(str(rows[4][7])), D(str(rows[4][8]))) == ("Итого", D("12013.00"), D("12623.30"))
    summary = list(book["Итоги по домам"].iter_rows(values_only=True))
    assert summary[1][:3] == ("B1", "2026-01_B1.pdf", 3)


def test_batch_is_registered_in_the_database_and_listed_per_account(batch, world: str) -> None:
    result, _, _ = batch
    with connect(world) as conn:
        status = conn.execute(
            "SELECT status, receipts, to_pay_kopecks FROM receipt_batches WHERE batch_id = %s",
            (result.batch_id,),
        ).fetchone()
        register = conn.execute(
            "SELECT account_no, document_id, charged_kopecks, to_pay_kopecks, page FROM receipt_register "
            "WHERE batch_id = %s ORDER BY page",
            (result.batch_id,),
        ).fetchall()
        listed = list_receipts(conn, "LS-2")
    assert status == ("done", 3, 1262330)
    assert register[1] == ("LS-2", "LS-2-202601", 478800, 478800, 2)
    assert (listed[0].period, listed[0].batch_id) == ("2026-01", result.batch_id)
    assert listed[0].issued_at is not None


def test_batch_for_one_account_and_in_worker_processes(world: str, tmp_path: Path) -> None:
    one = generate_batch(world, "2026-01", tmp_path / "one", account_nos=["LS-3"], issued_on=ISSUED)
    assert one.receipts == 1 and one.to_pay_total == D("3180.00")
    parallel = generate_batch(world, "2026-01", tmp_path / "par", workers=2, issued_on=ISSUED)
    assert parallel.receipts == 3 and parallel.to_pay_total == D("12623.30")


def test_batch_of_an_uncomputed_period_or_unknown_building_fails_clearly(world: str, tmp_path: Path) -> None:
    with pytest.raises(ReceiptDataError, match=r"no building has period 2026-04 computed"):
        generate_batch(world, "2026-04", tmp_path)
    with pytest.raises(ReceiptDataError, match=r"period 2026-01 is not computed for building\(s\) B9"):
        generate_batch(world, "2026-01", tmp_path, building_ids=["B9"])


# the installed console script (what an operator runs)
METERHUB = [str(Path(sys.executable).with_name("meterhub"))]


def _cli(world: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "METERHUB_DATABASE_URL": world, "METERHUB_SECRET_KEY": SECRET}
    return subprocess.run([*METERHUB, *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_batch_and_debt(world: str, tmp_path: Path) -> None:
    done = _cli(world, "receipts", "--period", "2026-01", "--building", "B1", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "3 receipts in 1 file(s), to pay 12,623.30 ₽" in done.stdout
    assert (tmp_path / "receipts_2026-01.zip").exists()
    debt_pdf = tmp_path / "debt.pdf"
    debt = _cli(
        world, "receipts", "debt", "--account", "LS-1", "--as-of", "2026-02-20", "--out", str(debt_pdf)
    )
    assert debt.returncode == 0, debt.stderr
    assert "to pay 4658.51 ₽" in debt.stdout
    assert "ИТОГО К ОПЛАТЕ: 4 658,51 руб." in page_texts(debt_pdf.read_bytes())[0]
    bad = _cli(world, "receipts", "debt", "--account", "LS-1", "--as-of", "20.02.2026")
    assert bad.returncode == 2 and "must be a date YYYY-MM-DD" in bad.stderr
    missing = _cli(world, "receipts", "--period", "2026-05", "--out", str(tmp_path))
    assert missing.returncode == 1 and "no building has period 2026-05 computed" in missing.stderr


def test_cli_needs_period_and_out() -> None:
    done = subprocess.run([*METERHUB, "receipts"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "give --period YYYY-MM and --out DIR" in done.stderr


def test_a_failing_building_is_reported_and_the_batch_marked_failed(world: str, tmp_path: Path) -> None:
    # B2 has a period before the due-day table starts (2016-01): its receipts cannot name a due date
    with connect(world) as conn:
        conn.execute(
            "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area,"
            " management_method) VALUES ('B2', 'г. Омск, ул. Мира, д. 2', 'Europe/Moscow', 50, 5,"
            " 'management_company')"
        )
        conn.execute("INSERT INTO premises (building_id, premise_no, area) VALUES ('B2', '1', 50)")
        conn.execute(
            "INSERT INTO accounts (account_no, building_id, premise_no, opened_on) "
            "VALUES ('OLD-1', 'B2', '1', '2010-01-01')"
        )
        conn.execute(
            "INSERT INTO billing_periods (building_id, period, status, computed_at, closed_at) "
            "VALUES ('B2', '2015-12', 'closed', now(), now())"
        )
        conn.execute(
            "INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start,"
            " part_end, volume, unit, tariff, coefficient, method, formula, amount_exact, amount, excess)"
            " VALUES ('B2', '2015-12', 'OLD-1', 'maintenance', 'individual', 'single', '2015-12-01',"
            " '2016-01-01', 50, 'm2', 10, 1, 'area', 'test', 500, 500.00, 0)"
        )
        conn.commit()
    seen: list[BatchProgress] = []
    result = generate_batch(world, "2015-12", tmp_path, issued_on=ISSUED, progress=seen.append)
    assert list(result.failures) == ["B2"]
    assert "no due day for billing period 2015-12" in result.failures["B2"]
    assert seen[0].error == result.failures["B2"]
    assert result.zip_path is None and result.pdf_files == []
    with connect(world) as conn:
        status, error = conn.execute(
            "SELECT status, error FROM receipt_batches WHERE batch_id = %s", (result.batch_id,)
        ).fetchone()
    assert status == "failed" and error.startswith("B2: LookupError: no due day for billing period 2015-12")
