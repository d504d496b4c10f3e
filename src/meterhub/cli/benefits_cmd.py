"""``meterhub benefits export``: the compensation-regime benefits of a period for social protection (ЕДК)
with the reconciliation report (docs/benefits.md). Thin wiring over meterhub.exchange.social_protection."""

from __future__ import annotations

from pathlib import Path

import typer

from meterhub.core.settings import get_settings

app = typer.Typer(help="Benefits (льготы): exports to social protection.", no_args_is_help=True)


@app.command("export")
def export(
    period: str = typer.Option(..., "--period", "-p", help="YYYY-MM (a computed period)"),
    out: Path = typer.Option(..., "--out", help="file to write: .csv or .xlsx"),  # noqa: B008
) -> None:
    """Write the export for cash compensation and print the reconciliation report."""
    from meterhub.billing.rules.periods import BillingPeriod
    from meterhub.exchange.social_protection import compensation_rows, reconciliation_report, write_export
    from meterhub.timeseries.database import connect, database_url

    try:
        text = str(BillingPeriod.parse(period))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with database_url(get_settings()) as url, connect(url) as conn:
        rows = compensation_rows(conn, text)
        write_export(rows, out)
        report = reconciliation_report(conn, rows, text)
    typer.echo(f"{out}: {len(rows)} row(s)")
    for line in report:
        typer.echo(line)
    if not report[-1].endswith("OK"):
        raise typer.Exit(1)
