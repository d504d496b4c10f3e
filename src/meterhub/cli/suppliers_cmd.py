"""``meterhub suppliers …``: commissions, transfers and balances per supplier (docs/suppliers.md).

Thin wiring over meterhub.billing.rules.suppliers.
"""

from __future__ import annotations

from pathlib import Path

import typer

from meterhub.core.settings import get_settings

app = typer.Typer(help="Suppliers (РСО) and payees: commissions, transfers, balances.", no_args_is_help=True)


def _rubles(kopecks: int) -> str:
    sign = "-" if kopecks < 0 else ""
    return f"{sign}{abs(kopecks) // 100}.{abs(kopecks) % 100:02d}"


def _period(text: str) -> str:
    from meterhub.billing.rules.periods import BillingPeriod

    try:
        return str(BillingPeriod.parse(text))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("commissions")
def commissions() -> None:
    """Record the bank / agent commission of every posted payment that has none yet (by its contract)."""
    from meterhub.billing.money.suppliers.store import record_commissions
    from meterhub.timeseries.database import connect, database_url

    with database_url(get_settings()) as url, connect(url) as conn:
        count = record_commissions(conn)
        conn.commit()
    typer.echo(f"{count} commission(s) recorded")


@app.command("import-transfers")
def import_transfers(path: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:  # noqa: B008
    """Import a bank statement of transfers to suppliers (CSV: supplier, period, transferred_on,
    document_no, amount, purpose). A statement is imported once; a bad row refuses the whole file."""
    from meterhub.billing.money.suppliers.transfers import TransferStatementError, import_transfer_statement
    from meterhub.timeseries.database import connect, database_url

    with database_url(get_settings()) as url, connect(url) as conn:
        try:
            count = import_transfer_statement(conn, path.read_bytes(), path.name)
        except TransferStatementError as exc:
            for problem in exc.problems:
                typer.echo(f"{path}: {problem}", err=True)
            raise typer.Exit(1) from None
        conn.commit()
    typer.echo(f"{path}: {count} transfer(s) imported")


@app.command("balance")
def balance(
    period: str = typer.Option(..., "--period", "-p", help="YYYY-MM"),
    out: Path | None = typer.Option(None, "--out", help="write the register as CSV here"),  # noqa: B008
) -> None:
    """The balance per supplier for a period: charged, paid by consumers, withheld by banks, due,
    transferred, owed (records missing commissions first)."""
    from meterhub.billing.money.suppliers.store import record_commissions, supplier_balances
    from meterhub.billing.money.suppliers.transfers import transfer_register
    from meterhub.timeseries.database import connect, database_url

    text = _period(period)
    with database_url(get_settings()) as url, connect(url) as conn:
        record_commissions(conn)
        conn.commit()
        if out is not None:
            out.write_text(transfer_register(conn, text), encoding="utf-8")
            typer.echo(f"{out}: register of {text} written")
            return
        header = ("supplier", "charged", "paid", "withheld", "transferred", "owed")
        typer.echo("  ".join(f"{h:>14}" for h in header))
        for b in supplier_balances(conn, text):
            values = (b.charged, b.paid, b.withheld, b.transferred, b.owed)
            typer.echo(f"{b.supplier_id:>14}  " + "  ".join(f"{_rubles(v):>14}" for v in values))


@app.command("export")
def export(
    supplier: str = typer.Option(..., "--supplier", "-s", help="supplier id (РСО)"),
    period: str = typer.Option(..., "--period", "-p", help="YYYY-MM"),
    out: Path = typer.Option(..., "--out", help=".xlsx (three sheets) or .csv (three files)"),  # noqa: B008
) -> None:
    """Charges, payments and meter readings of a supplier's services for a period (docs/suppliers.md)."""
    from meterhub.exchange.suppliers import supplier_export
    from meterhub.timeseries.database import connect, database_url

    text = _period(period)
    with database_url(get_settings()) as url, connect(url) as conn:
        result = supplier_export(conn, supplier, text)
    for path in result.write(out):
        typer.echo(f"{path}: written")
    typer.echo(
        f"{len(result.charges)} charge row(s), {len(result.payments)} payment part(s), "
        f"{len(result.readings)} reading(s)"
    )
