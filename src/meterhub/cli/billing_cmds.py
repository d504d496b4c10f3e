"""``meterhub import`` and ``meterhub close``: billing domain data in, period close out."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer

from meterhub.core.settings import get_settings

log = logging.getLogger(__name__)


def import_data(
    paths: list[Path] = typer.Argument(  # noqa: B008 - typer declares arguments in defaults
        ..., help="CSV/XLSX files, or folders with <entity>.csv files"
    ),
    entity: str | None = typer.Option(
        None, "--entity", "-e", help="entity of the files (default: from the file name, e.g. premises.csv)"
    ),
    report: Path | None = typer.Option(  # noqa: B008 - typer declares options in defaults
        None, "--report", help="write the migration's reconciliation report to this CSV file"
    ),
) -> None:
    """Import buildings, premises, accounts, residents, meters, tariffs, normatives from CSV/XLSX, and a
    migration's opening balances and history (docs/migration.md), then print its reconciliation."""
    from meterhub.billing.imports import ENTITY_ORDER, ImportFileError, import_directory, import_file
    from meterhub.billing.imports.legacy import LEGACY_ORDER
    from meterhub.timeseries.database import connect, database_url

    known = (*ENTITY_ORDER, *LEGACY_ORDER)
    migrated = False

    with database_url(get_settings()) as url, connect(url) as conn:
        for path in paths:
            try:
                if path.is_dir():
                    results = import_directory(conn, path)
                else:
                    name = entity or next((e for e in known if path.stem.lower().startswith(e)), None)
                    if name is None:
                        typer.echo(f"{path}: cannot tell the entity from the name; pass --entity", err=True)
                        raise typer.Exit(2)
                    results = [import_file(conn, name, path)]
            except ImportFileError as exc:
                for problem in exc.problems:
                    typer.echo(str(problem), err=True)
                typer.echo(f"{len(exc.problems)} problem(s); nothing of that file was imported", err=True)
                raise typer.Exit(1) from None
            for r in results:
                removed = f", {r.deleted} removed" if getattr(r, "deleted", 0) else ""
                typer.echo(
                    f"{r.file}: {r.entity}: {r.rows} rows ({r.inserted} new, {r.updated} updated{removed})"
                )
                migrated = migrated or r.entity in LEGACY_ORDER
        if migrated or report is not None:
            _print_reconciliation(conn, None, report)


def _print_reconciliation(conn: object, building: str | None, out: Path | None) -> bool:
    """Print (and with ``out`` write) the migration's reconciliation; ``True`` when every total agrees."""
    from meterhub.billing.imports.migration_report import format_report, reconcile, write_report_csv

    lines = reconcile(conn, building)  # type: ignore[arg-type]
    typer.echo("reconciliation with the legacy system's totals:")
    typer.echo(format_report(lines))
    if out is not None:
        write_report_csv(lines, out)
        typer.echo(f"report written to {out}")
    return all(line.ok for line in lines)


def reconcile_migration(
    building: str | None = typer.Option(None, "--building", "-b", help="one building (default all)"),
    out: Path | None = typer.Option(  # noqa: B008 - typer declares options in defaults
        None, "--out", "-o", help="also write the report to this CSV file"
    ),
) -> None:
    """Reconcile imported opening balances and history with the legacy totals (exit 1 if any differs)."""
    from meterhub.timeseries.database import connect, database_url

    with database_url(get_settings()) as url, connect(url) as conn:
        if not _print_reconciliation(conn, building, out):
            raise typer.Exit(1)


def close(
    period: str = typer.Option(..., "--period", "-p", help="billing period YYYY-MM"),
    building: list[str] = typer.Option(  # noqa: B008 - typer declares options in defaults
        [], "--building", "-b", help="building id (repeatable; default all)"
    ),
    final: bool = typer.Option(False, "--final", help="close the period (immutable); default writes a draft"),
    workers: int = typer.Option(min(os.cpu_count() or 1, 8), "--workers", "-w", help="worker processes"),
    recalc_months: int = typer.Option(3, "--recalc-months", help="closed periods checked for recalculations"),
    recheck_all: bool = typer.Option(
        False,
        "--recheck-all",
        help=(
            "reload every closed period of --recalc-months for recalculations, not only those whose inputs "
            "changed (after a repair that bypassed ingest, e.g. a direct SQL edit of readings)"
        ),
    ),
) -> None:
    """Compute all accounts of a period per building (draft by default; --final closes it)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from meterhub.billing.close.period import CloseOptions
    from meterhub.billing.close.repository import building_ids
    from meterhub.billing.close.runner import BuildingFailure, run_close
    from meterhub.billing.rules.periods import BillingPeriod
    from meterhub.timeseries.database import connect, database_url

    try:
        billing_period = BillingPeriod.parse(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console = Console(stderr=True)
    with database_url(get_settings()) as url:
        with connect(url) as conn:
            targets = building or building_ids(conn)
        if not targets:
            typer.echo("no buildings to close; import buildings first", err=True)
            raise typer.Exit(1)
        options = CloseOptions(
            final=final, recalc_months=recalc_months, recheck="all" if recheck_all else "changed"
        )
        tty = sys.stderr.isatty()
        with Progress(
            TextColumn("close {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not tty,
        ) as bar:
            task = bar.add_task(str(billing_period), total=len(targets))

            def progress(outcome: object) -> None:
                bar.advance(task)
                if isinstance(outcome, BuildingFailure):
                    log.error("building %s failed: %s", outcome.building, outcome.reason)
                elif not tty:
                    log.info("building %s closed: %s accounts", outcome.building, outcome.accounts)  # type: ignore[attr-defined]

            run = run_close(url, billing_period, targets, options, workers=workers, progress=progress)
    for r in sorted(run.results, key=lambda r: r.building):
        warnings = r.report["warnings"]  # a count (run_close keeps the full report in close_reports)
        typer.echo(
            f"{r.building} {r.period} {r.status}: {r.accounts} accounts, {r.lines} lines, total {r.total} ₽, "
            f"{r.recalculations} recalculation line(s), {warnings} warning(s)"
            + (f", rechecked closed {', '.join(r.rechecked)}" if r.rechecked else "")
        )
    for f in run.failures:
        typer.echo(f"{f.building} FAILED: {f.reason}", err=True)
    rate = run.accounts / run.seconds if run.seconds else 0.0
    typer.echo(
        f"period {billing_period}: {len(run.results)} building(s) done, {len(run.failures)} failed, "
        f"{run.accounts} accounts in {run.seconds:.1f} s ({rate:,.0f} accounts/s)"
    )
    if run.failures:
        raise typer.Exit(1)
