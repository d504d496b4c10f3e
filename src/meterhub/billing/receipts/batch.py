"""Batch generation of a period's receipts: one PDF per building, a ZIP of them, an XLSX register.

``generate_batch(url, period, out_dir, ...)``:

1. records a ``receipt_batches`` row (status ``running``);
2. renders every building into ``<out>/<period>_<building>.pdf`` — in worker processes when
   ``workers > 1`` (one building at a time per worker, each with its own connection) — streaming receipts
   from :func:`~meterhub.billing.receipts.loader.iter_receipts` into the PDF;
3. as each building finishes: its rows go to ``receipt_register`` and to the XLSX register (openpyxl
   write-only mode streams rows to disk), and ``progress`` is called;
4. writes ``<out>/receipts_<period>.zip`` (the PDFs, stored — they are compressed already — and the
   register) and marks the batch ``done`` (``failed`` with the reason when a building fails: the other
   buildings are still rendered; the ZIP is not written).

Memory is bounded by the largest building (reportlab keeps a document's compressed pages until it is
saved), not by the batch.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg

from meterhub.billing.money.payment_qr import QrCharset
from meterhub.billing.receipts.loader import iter_receipts
from meterhub.billing.receipts.model import Receipt, ReceiptDataError
from meterhub.billing.receipts.pdf import write_receipts
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["BatchProgress", "BatchResult", "RegisterEntry", "generate_batch"]


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One line of the batch register (реестр ЕПД)."""

    building_id: str
    account_no: str
    payer: str
    address: str
    period: str
    document_id: str
    charged: Decimal
    to_pay: Decimal
    file_name: str
    page: int


@dataclass(frozen=True, slots=True)
class BatchProgress:
    building: str
    receipts: int
    """Receipts of this building."""
    buildings_done: int
    buildings_total: int
    error: str | None = None


@dataclass
class BatchResult:
    batch_id: int
    period: str
    out_dir: Path
    pdf_files: list[Path] = field(default_factory=list)
    zip_path: Path | None = None
    register_path: Path | None = None
    receipts: int = 0
    to_pay_total: Decimal = Decimal("0.00")
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0  # wall-clock timing [s], not money


def _render_building(
    conn: psycopg.Connection,
    building: str,
    period: BillingPeriod,
    path: Path,
    account_nos: Sequence[str] | None,
    issued_on: date,
    link_secret: str | None,
    charset: QrCharset,
) -> list[RegisterEntry]:
    entries: list[RegisterEntry] = []

    def record(receipt: Receipt, page: int) -> None:
        entries.append(
            RegisterEntry(
                building, receipt.payer.account_no, receipt.payer.name, receipt.payer.address,
                str(period), receipt.document_id, receipt.totals.charged, receipt.totals.qr_amount,
                path.name, page,
            )
        )  # fmt: skip

    receipts = iter_receipts(
        conn, building, period, account_nos=account_nos, issued_on=issued_on, link_secret=link_secret,
        charset=charset,
    )  # fmt: skip
    tmp = path.with_suffix(".pdf.part")
    with tmp.open("wb") as out:
        write_receipts(out, receipts, title=f"ЕПД {building} {period}", on_receipt=record)
    if entries:
        tmp.replace(path)
    else:
        tmp.unlink()
    return entries


_WORKER_CONN: psycopg.Connection | None = None


def _worker_render(
    url: str, building: str, period: str, path: str, account_nos: Sequence[str] | None, issued_on: date,
    link_secret: str | None, charset: int,
) -> list[RegisterEntry] | str:  # fmt: skip
    global _WORKER_CONN
    from meterhub.timeseries.database import connect

    try:
        if _WORKER_CONN is None or _WORKER_CONN.closed:
            _WORKER_CONN = connect(url, autocommit=True)
        return _render_building(
            _WORKER_CONN, building, BillingPeriod.parse(period), Path(path), account_nos, issued_on,
            link_secret, QrCharset(charset),
        )  # fmt: skip
    except Exception as exc:  # reported per building; the batch goes on
        if _WORKER_CONN is not None and _WORKER_CONN.broken:
            _WORKER_CONN = None
        return f"{type(exc).__name__}: {exc}"


class _Register:
    """The XLSX register, streamed (openpyxl write-only)."""

    HEADER = (
        "№", "Дом", "Лицевой счёт", "Плательщик", "Адрес", "Период", "Идентификатор документа",
        "Начислено, руб.", "К оплате, руб.", "Файл", "Страница",
    )  # fmt: skip

    def __init__(self, period: str) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self._cell = WriteOnlyCell
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(f"Реестр {period}")
        self.summary = self.book.create_sheet("Итоги по домам")
        self.sheet.freeze_panes = "A2"
        self.sheet.column_dimensions["D"].width = 28
        self.sheet.column_dimensions["E"].width = 40
        self.sheet.column_dimensions["G"].width = 22
        bold = Font(bold=True)
        self._bold = bold
        self.sheet.append([self._styled(h, bold) for h in self.HEADER])
        self.summary.append(
            [self._styled(h, bold) for h in ("Дом", "Файл", "Квитанций", "Начислено, руб.", "К оплате, руб.")]
        )
        self.count = 0
        self.charged = Decimal("0.00")
        self.to_pay = Decimal("0.00")

    def _styled(self, value: object, font: object = None, number_format: str | None = None) -> object:
        cell = self._cell(self.sheet, value=value)
        if font is not None:
            cell.font = font
        if number_format:
            cell.number_format = number_format
        return cell

    def add(self, building: str, entries: Sequence[RegisterEntry]) -> None:
        money = "#,##0.00"
        for e in entries:
            self.count += 1
            self.sheet.append(
                [self.count, e.building_id, e.account_no, e.payer, e.address, e.period, e.document_id,
                 self._styled(e.charged, number_format=money), self._styled(e.to_pay, number_format=money),
                 e.file_name, e.page]
            )  # fmt: skip
        charged = sum((e.charged for e in entries), Decimal("0.00"))
        to_pay = sum((e.to_pay for e in entries), Decimal("0.00"))
        self.charged += charged
        self.to_pay += to_pay
        file_name = entries[0].file_name if entries else ""
        self.summary.append(
            [building, file_name, len(entries), self._styled(charged, number_format=money),
             self._styled(to_pay, number_format=money)]
        )  # fmt: skip

    def save(self, path: Path) -> None:
        money = "#,##0.00"
        self.sheet.append(
            [None, self._styled("Итого", self._bold), None, None, None, None, None,
             self._styled(self.charged, self._bold, money), self._styled(self.to_pay, self._bold, money)]
        )  # fmt: skip
        self.summary.append(
            [self._styled("Итого", self._bold), None, self.count,
             self._styled(self.charged, self._bold, money), self._styled(self.to_pay, self._bold, money)]
        )  # fmt: skip
        self.book.save(path)


def _record(conn: psycopg.Connection, batch_id: int, entries: Sequence[RegisterEntry]) -> None:
    with conn.cursor().copy(
        "COPY receipt_register (batch_id, account_no, period, building_id, document_id, charged_kopecks, "
        "to_pay_kopecks, file_name, page) FROM STDIN"
    ) as copy:
        for e in entries:
            copy.write_row(
                (batch_id, e.account_no, e.period, e.building_id, e.document_id, int(e.charged * 100),
                 int(e.to_pay * 100), e.file_name, e.page)
            )  # fmt: skip


def _buildings(conn: psycopg.Connection, period: BillingPeriod, wanted: Sequence[str] | None) -> list[str]:
    computed = [
        r[0]
        for r in conn.execute(
            "SELECT building_id FROM billing_periods WHERE period = %s ORDER BY building_id", (str(period),)
        )
    ]
    if not wanted:
        if not computed:
            raise ReceiptDataError(f"no building has period {period} computed; run `meterhub close` first")
        return computed
    missing = [b for b in wanted if b not in computed]
    if missing:
        raise ReceiptDataError(
            f"period {period} is not computed for building(s) {', '.join(missing)}; run "
            f"`meterhub close --period {period}` for them first (or check the building id)"
        )
    return list(wanted)


def generate_batch(
    database_url: str,
    period: BillingPeriod | str,
    out_dir: Path | str,
    *,
    building_ids: Sequence[str] | None = None,
    account_nos: Sequence[str] | None = None,
    issued_on: date | None = None,
    link_secret: str | None = None,
    charset: QrCharset = QrCharset.UTF_8,
    workers: int | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
) -> BatchResult:
    """Render the receipts of ``period`` (all computed buildings, or ``building_ids``; optionally only
    ``account_nos``) into ``out_dir``; see the module docstring. Returns what was written.

    ``workers``: processes rendering buildings in parallel; None = one per CPU (rendering is CPU-bound:
    one process makes ~40 receipts/s on this machine class, two ~70/s)."""
    from meterhub.timeseries.database import connect

    if workers is None:
        workers = os.cpu_count() or 1

    if not isinstance(period, BillingPeriod):
        try:
            period = BillingPeriod.parse(period)
        except ValueError as exc:
            raise ReceiptDataError(str(exc)) from None
    issued_on = issued_on or date.today()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with connect(database_url, autocommit=True) as conn:
        buildings = _buildings(conn, period, building_ids)
        row = conn.execute(
            "INSERT INTO receipt_batches (period, building_id, account_no, status, output) "
            "VALUES (%s, %s, %s, 'running', %s) RETURNING batch_id",
            (
                str(period),
                buildings[0] if building_ids and len(buildings) == 1 else None,
                account_nos[0] if account_nos and len(account_nos) == 1 else None,
                str(out.resolve()),
            ),
        ).fetchone()
        assert row is not None
        result = BatchResult(int(row[0]), str(period), out)
        register = _Register(str(period))
        done = 0

        def finished(building: str, outcome: list[RegisterEntry] | str) -> None:
            nonlocal done
            done += 1
            if isinstance(outcome, str):
                result.failures[building] = outcome
                if progress:
                    progress(BatchProgress(building, 0, done, len(buildings), outcome))
                return
            if outcome:
                _record(conn, result.batch_id, outcome)
                register.add(building, outcome)
                result.pdf_files.append(out / outcome[0].file_name)
                result.receipts += len(outcome)
                result.to_pay_total += sum((e.to_pay for e in outcome), Decimal("0.00"))
            if progress:
                progress(BatchProgress(building, len(outcome), done, len(buildings)))

        outcome: list[RegisterEntry] | str
        try:
            jobs = [(b, str(out / f"{period}_{b}.pdf")) for b in buildings]
            if workers > 1 and len(buildings) > 1:
                with ProcessPoolExecutor(max_workers=min(workers, len(buildings))) as pool:
                    futures = [
                        (b, pool.submit(_worker_render, database_url, b, str(period), path, account_nos,
                                        issued_on, link_secret, int(charset)))
                        for b, path in jobs
                    ]  # fmt: skip
                    for building, future in futures:
                        try:
                            outcome = future.result()
                        except Exception as exc:  # a worker died (BrokenProcessPool …): report the building
                            outcome = f"{type(exc).__name__}: {exc}"
                        finished(building, outcome)
            else:
                for building, path in jobs:
                    try:
                        outcome = _render_building(
                            conn, building, period, Path(path), account_nos, issued_on, link_secret, charset
                        )
                    except Exception as exc:  # reported per building; the batch goes on
                        outcome = f"{type(exc).__name__}: {exc}"
                    finished(building, outcome)
            result.register_path = out / f"receipts_{period}.xlsx"
            register.save(result.register_path)
            if result.failures:
                reason = "; ".join(f"{b}: {why}" for b, why in result.failures.items())
                conn.execute(
                    "UPDATE receipt_batches SET status = 'failed', finished_at = now(), receipts = %s, "
                    "to_pay_kopecks = %s, error = %s WHERE batch_id = %s",
                    (result.receipts, int(result.to_pay_total * 100), reason, result.batch_id),
                )
            else:
                result.zip_path = out / f"receipts_{period}.zip"
                with zipfile.ZipFile(result.zip_path, "w", zipfile.ZIP_STORED) as archive:
                    for pdf in result.pdf_files:
                        archive.write(pdf, pdf.name)
                    archive.write(result.register_path, result.register_path.name, zipfile.ZIP_DEFLATED)
                conn.execute(
                    "UPDATE receipt_batches SET status = 'done', finished_at = now(), receipts = %s, "
                    "to_pay_kopecks = %s WHERE batch_id = %s",
                    (result.receipts, int(result.to_pay_total * 100), result.batch_id),
                )
        except BaseException as exc:  # interrupted or a database error: the batch must not stay 'running'
            conn.execute(
                "UPDATE receipt_batches SET status = 'failed', finished_at = now(), error = %s "
                "WHERE batch_id = %s",
                (f"{type(exc).__name__}: {exc}", result.batch_id),
            )
            raise
    result.seconds = time.perf_counter() - started
    return result
