"""``meterhub receipts``: a period's ЕПД as PDFs per building + ZIP + XLSX register; debt receipts.

meterhub receipts --period 2026-01 [--building B ...] [--account A ...] --out DIR [--workers N]
meterhub receipts debt --account A --as-of 2026-03-01 [--out FILE]
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from pathlib import Path

import typer

from meterhub.cli.wiring import plug_receipt_identifiers
from meterhub.core.settings import get_settings

log = logging.getLogger(__name__)

app = typer.Typer(
    help="ЕПД receipts: batch PDFs per building with a ZIP and an XLSX register; debt receipts.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _link_secret(print_codes: bool) -> str | None:
    """The account-link code secret (``METERHUB_SECRET_KEY``), or None when codes are not printed."""
    if not print_codes:
        return None
    settings = get_settings()
    secret = getattr(settings, "secret_key", None)
    if not secret:
        typer.echo("no secret key in the settings: receipts are printed without link codes", err=True)
        return None
    from meterhub.core import settings as settings_module

    if secret == getattr(settings_module, "DEFAULT_SECRET_KEY", None):
        typer.echo(
            "warning: link codes use the default secret key; set METERHUB_SECRET_KEY to the server's key "
            "or the cabinet will not accept them",
            err=True,
        )
    return secret


@app.callback()
def batch(
    ctx: typer.Context,
    period: str | None = typer.Option(None, "--period", "-p", help="billing period YYYY-MM"),
    building: list[str] = typer.Option(  # noqa: B008 - typer declares options in defaults
        [], "--building", "-b", help="building id (repeatable; default: every computed building)"
    ),
    account: list[str] = typer.Option(  # noqa: B008
        [], "--account", "-a", help="only these accounts (repeatable)"
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="output folder"),  # noqa: B008
    workers: int = typer.Option(
        min(os.cpu_count() or 1, 4), "--workers", "-w", help="worker processes (one building each)"
    ),
    issued_on: str | None = typer.Option(None, "--issued-on", help="print date YYYY-MM-DD (default today)"),
    link_codes: bool = typer.Option(True, "--link-codes/--no-link-codes", help="print account-link codes"),
) -> None:
    """Render a period's receipts: one PDF per building, a ZIP of them and an XLSX register."""
    if ctx.invoked_subcommand is not None:
        return
    if period is None or out is None:
        typer.echo("give --period YYYY-MM and --out DIR (or a subcommand: debt)", err=True)
        raise typer.Exit(2)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from meterhub.billing.receipts import BatchProgress, ReceiptDataError, generate_batch
    from meterhub.billing.rules.periods import BillingPeriod
    from meterhub.timeseries.database import connect, database_url

    try:
        billing_period = BillingPeriod.parse(period)
        issued = date.fromisoformat(issued_on) if issued_on else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    secret = _link_secret(link_codes)
    buildings = list(building)
    tty = sys.stderr.isatty()
    with database_url(get_settings()) as url:
        if account and not buildings:
            with connect(url) as conn:
                rows = conn.execute(
                    "SELECT account_no, building_id FROM accounts WHERE account_no = ANY(%s)",
                    (list(account),),
                ).fetchall()
            unknown = sorted(set(account) - {a for a, _ in rows})
            if unknown:
                typer.echo(f"unknown account(s): {', '.join(unknown)}", err=True)
                raise typer.Exit(1)
            buildings = sorted({b for _, b in rows})
        with Progress(
            TextColumn("receipts {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not tty,
        ) as bar:
            task = bar.add_task(str(billing_period), total=None)

            def progress(p: BatchProgress) -> None:
                bar.update(task, total=p.buildings_total, completed=p.buildings_done)
                if p.error:
                    log.error("building %s failed: %s", p.building, p.error)
                elif not tty:
                    log.info(
                        "building %s: %s receipts (%s/%s)", p.building, p.receipts, p.buildings_done,
                        p.buildings_total,
                    )  # fmt: skip

            plug_receipt_identifiers()
            try:
                result = generate_batch(
                    url, billing_period, out, building_ids=buildings or None,
                    account_nos=list(account) or None, issued_on=issued, link_secret=secret, workers=workers,
                    progress=progress,
                )  # fmt: skip
            except ReceiptDataError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(1) from None
    rate = result.receipts / result.seconds if result.seconds else 0.0
    for pdf in result.pdf_files:
        typer.echo(f"{pdf}")
    typer.echo(f"register: {result.register_path}")
    if result.zip_path:
        typer.echo(f"zip: {result.zip_path}")
    typer.echo(
        f"batch {result.batch_id}, period {result.period}: {result.receipts} receipts in "
        f"{len(result.pdf_files)} file(s), to pay {result.to_pay_total:,.2f} ₽, "
        f"{result.seconds:.1f} s ({rate:,.0f} receipts/s)"
    )
    for b, reason in result.failures.items():
        typer.echo(f"{b} FAILED: {reason}", err=True)
    if result.failures:
        raise typer.Exit(1)


@app.command("debt")
def debt(
    account: str = typer.Option(..., "--account", "-a", help="account number"),
    as_of: str = typer.Option(..., "--as-of", help="date YYYY-MM-DD"),
    out: Path | None = typer.Option(None, "--out", "-o", help="PDF file (default debt_<account>_<date>.pdf)"),  # noqa: B008
    link_codes: bool = typer.Option(True, "--link-codes/--no-link-codes", help="print the account-link code"),
) -> None:
    """Render the debt receipt of one account as of a date."""
    from meterhub.billing.receipts import ReceiptDataError, load_debt_receipt, write_debt_receipt
    from meterhub.timeseries.database import connect, database_url

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter(f"--as-of {as_of!r} must be a date YYYY-MM-DD") from None
    secret = _link_secret(link_codes)
    path = out or Path(f"debt_{account}_{day.isoformat()}.pdf")
    with database_url(get_settings()) as url, connect(url) as conn:
        try:
            receipt = load_debt_receipt(conn, account, day, link_secret=secret)
        except ReceiptDataError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    with path.open("wb") as fh:
        write_debt_receipt(fh, receipt)
    typer.echo(
        f"{path}: account {account}, debt as of {day}: principal {receipt.principal} ₽, penalties "
        f"{receipt.penalties} ₽, advance {receipt.advance} ₽, to pay {receipt.to_pay} ₽"
    )
