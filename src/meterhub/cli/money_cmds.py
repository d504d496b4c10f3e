"""Money commands: ``meterhub payments import|suspense|resolve``, ``meterhub export charges``,
``meterhub debtors``, ``meterhub absences import``, ``meterhub interruptions import``.

Thin wiring over meterhub.billing (payments_posting, agent_export, debtors, service_recalculations).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from meterhub.core.settings import get_settings

payments_app = typer.Typer(help="Payment registries: import, suspense list.", no_args_is_help=True)
export_app = typer.Typer(help="Exports for payment agents.", no_args_is_help=True)
absences_app = typer.Typer(help="Temporary absence of residents (перерасчёт).", no_args_is_help=True)
interruptions_app = typer.Typer(
    help="Service interruptions and poor quality (перерасчёт).", no_args_is_help=True
)


def _rubles(kopecks: int) -> str:
    sign = "-" if kopecks < 0 else ""
    return f"{sign}{abs(kopecks) // 100}.{abs(kopecks) % 100:02d}"


def _period(text: str):  # -> BillingPeriod
    from meterhub.billing.rules.periods import BillingPeriod

    try:
        return BillingPeriod.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    from meterhub.billing.money.payment_registry import parse_day

    try:
        return parse_day(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: {exc}") from None


@payments_app.command("import")
def payments_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="registry CSV"),  # noqa: B008
    source: str = typer.Option(
        None, "--source", "-s", help="bank / agent name (default: the file name's stem)"
    ),
    encoding: str = typer.Option(
        None, "--encoding", help="force a codec (default: UTF-8, else windows-1251)"
    ),
) -> None:
    """Import a payment registry once: post good rows, send bad ones to the suspense list."""
    from meterhub.billing.money.posting import AlreadyImportedError, RegistryFileError, import_registry
    from meterhub.timeseries.database import connect, database_url

    with database_url(get_settings()) as url, connect(url) as conn:
        try:
            r = import_registry(
                conn, file.read_bytes(), file_name=file.name, source=source or file.stem, encoding=encoding
            )
        except AlreadyImportedError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        except RegistryFileError as exc:
            for error in exc.errors:
                typer.echo(str(error), err=True)
            typer.echo("nothing of that file was imported; fix it and import again", err=True)
            raise typer.Exit(1) from None
    typer.echo(
        f"{r.file} ({r.source}): {r.posted} posted ({_rubles(r.posted_kopecks)} ₽), "
        f"{r.suspense} to suspense, {r.duplicates} already posted"
    )


@payments_app.command("suspense")
def payments_suspense() -> None:
    """List the unresolved suspense rows (неразнесённые платежи)."""
    from meterhub.billing.money.posting import open_suspense
    from meterhub.timeseries.database import connect, database_url

    with database_url(get_settings()) as url, connect(url) as conn:
        rows = open_suspense(conn)
    for s in rows:
        typer.echo(f"#{s.suspense_id} {s.file_name or s.source} line {s.line}: {s.reason}\n    {s.raw_row}")
    typer.echo(f"{len(rows)} unresolved row(s)")


@payments_app.command("resolve")
def payments_resolve(
    suspense_id: int = typer.Argument(..., help="suspense row number (from `payments suspense`)"),
    account: str = typer.Option(None, "--account", help="post the payment to this account"),
    paid_on: str = typer.Option(None, "--date", help="payment date (YYYY-MM-DD or DD.MM.YYYY)"),
    amount: str = typer.Option(None, "--amount", help="amount in rubles (default: the row's)"),
    write_off: str = typer.Option(
        None, "--write-off", help="close the row without posting, with this reason"
    ),
) -> None:
    """Resolve a suspense row: post it to an account, or write it off."""
    from decimal import Decimal, InvalidOperation

    from meterhub.billing.money.posting import resolve_suspense
    from meterhub.timeseries.database import connect, database_url

    kopecks = None
    if amount is not None:
        try:
            kopecks = int(Decimal(amount.replace(",", ".")).scaleb(2))
        except InvalidOperation:
            raise typer.BadParameter(f"amount {amount!r} is not a number") from None
    with database_url(get_settings()) as url, connect(url) as conn:
        try:
            pk = resolve_suspense(
                conn,
                suspense_id,
                account_no=account,
                amount_kopecks=kopecks,
                paid_on=_day(paid_on),
                write_off=write_off,
            )
        except (LookupError, ValueError) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    typer.echo(f"suspense #{suspense_id}: " + ("written off" if pk is None else f"posted to {account}"))


@export_app.command("charges")
def export_charges_cmd(
    period: str = typer.Option(..., "--period", "-p", help="billing period YYYY-MM"),
    building: str = typer.Option(None, "--building", "-b", help="one building (default: all)"),
    output: Path = typer.Option(None, "--output", "-o", help="file (default: stdout)"),  # noqa: B008
    encoding: str = typer.Option("cp1251", "--encoding", help="cp1251 (default) or utf-8"),
) -> None:
    """Export what every account has to pay for a period, in the payment-registry CSV format."""
    import sys

    from meterhub.billing.money.agent_export import export_charges
    from meterhub.timeseries.database import connect, database_url

    billing_period = _period(period)
    with database_url(get_settings()) as url, connect(url) as conn:
        export = export_charges(conn, billing_period, building_id=building, encoding=encoding)
    if output is None:
        sys.stdout.buffer.write(export.data)
        sys.stdout.flush()
    else:
        output.write_bytes(export.data)
    typer.echo(f"{export.rows} account(s), total {_rubles(export.total_kopecks)} ₽", err=True)


def debtors_cmd(
    min_months: int = typer.Option(1, "--min-months", help="at least this many overdue periods"),
    building: str = typer.Option(None, "--building", "-b", help="one building (default: all)"),
    as_of: str = typer.Option(None, "--as-of", help="date (default: today)"),
    accrued: bool = typer.Option(
        False, "--accrued", help="also the penalties accrued to the date, billed or not (slower)"
    ),
) -> None:
    """List debtors: overdue amount, months in debt, unpaid penalties billed (and accrued to the date)."""
    from meterhub.billing.money.debtors import debtors
    from meterhub.timeseries.database import connect, database_url

    day = _day(as_of) or date.today()
    with database_url(get_settings()) as url, connect(url) as conn:
        rows = debtors(conn, day, building_id=building, min_months=min_months, accrued_to_date=accrued)
    extra = "\tpenalty to date ₽" if accrued else ""
    typer.echo(f"account\tbuilding\tpremise\tdebt ₽\tmonths\tsince\tpenalty ₽{extra}\towner")
    for d in rows:
        to_date = f"\t{_rubles(d.penalty_to_date or 0)}" if accrued else ""
        typer.echo(
            f"{d.account_no}\t{d.building_id}\t{d.premise_no}\t{_rubles(d.amount)}\t{d.months}\t{d.oldest}\t"
            f"{_rubles(d.penalty)}{to_date}\t{d.owner_name}"
        )
    typer.echo(f"{len(rows)} debtor(s), total {_rubles(sum(d.amount for d in rows))} ₽ on {day}", err=True)


def _import_events(kind: str, file: Path) -> None:
    from meterhub.billing.imports.service_events import EventFileError, import_absences, import_service_events
    from meterhub.timeseries.database import connect, database_url

    load = import_absences if kind == "absences" else import_service_events
    with database_url(get_settings()) as url, connect(url) as conn:
        try:
            count = load(conn, file.read_bytes(), file.name)
        except EventFileError as exc:
            for problem in exc.problems:
                typer.echo(problem, err=True)
            typer.echo("nothing of that file was imported", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"{file.name}: {count} {kind} stored; recalculated at the next close of their period")


@absences_app.command("import")
def absences_import(
    file: Path = typer.Argument(  # noqa: B008
        ..., exists=True, dir_okay=False, help="CSV: account;departed_on;returned_on"
    ),
) -> None:
    """Import temporary absences (optional columns: persons, document)."""
    _import_events("absences", file)


@interruptions_app.command("import")
def interruptions_import(
    file: Path = typer.Argument(  # noqa: B008
        ..., exists=True, dir_okay=False, help="CSV: building;service;kind;started_at;ended_at[;premise]"
    ),
) -> None:
    """Import service interruptions / poor-quality events."""
    _import_events("interruptions", file)


def register(app: typer.Typer) -> None:
    """Add the money commands to the root ``meterhub`` app."""
    app.add_typer(payments_app, name="payments")
    app.add_typer(export_app, name="export")
    app.add_typer(absences_app, name="absences")
    app.add_typer(interruptions_app, name="interruptions")
    app.command("debtors")(debtors_cmd)
