"""``meterhub heating-correction``: the yearly correction of heating paid evenly (billing-rules.md §9.3)."""

from __future__ import annotations

import json

import typer

from meterhub.core.settings import get_settings


def heating_correction(
    year: int = typer.Option(..., "--year", "-y", help="the billing year to correct (e.g. 2025)"),
    building: list[str] = typer.Option(  # noqa: B008 - typer declares options in defaults
        [], "--building", "-b", help="building id (repeatable; default every building with heating)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the reports as JSON"),
) -> None:
    """Compute each account's yearly heating correction and book it in the correction month's period
    (January of the next year by default, or the first open period after it); the next close of that
    period writes the recalculation lines. Prints a report per building."""
    from meterhub.billing.close.heating.yearly import run_yearly_correction
    from meterhub.timeseries.database import connect, database_url

    failed = False
    reports = []
    with database_url(get_settings()) as url, connect(url) as conn:
        targets = building or [
            r[0] for r in conn.execute("SELECT DISTINCT building_id FROM heating_configs ORDER BY 1")
        ]
        for b in targets:
            with conn.transaction():
                report = run_yearly_correction(conn, b, year)
            reports.append(report)
            failed = failed or bool(report.problems)
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in reports], ensure_ascii=False, default=str, indent=1))
    else:
        for r in reports:
            if r.problems:
                typer.echo(f"{r.building} {year}: not corrected — {'; '.join(r.problems)}", err=True)
                continue
            typer.echo(
                f"{r.building} {year}: months {', '.join(r.months)}; {len(r.accounts)} account(s), "
                f"correction {r.amount} ₽ booked in {r.booked_period}"
            )
            for account, v in sorted(r.accounts.items()):
                typer.echo(
                    f"  {account}: actual {v['actual']} ₽ ({v['actual_gcal']} Гкал) − billed {v['billed']} ₽ "
                    f"({v['billed_gcal']} Гкал) = {v['amount']} ₽"
                )
    if failed:
        raise typer.Exit(1)
