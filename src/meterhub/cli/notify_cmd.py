"""``meterhub notify``: the cabinet's notifications by e-mail — ``send`` drains the outbox (once, or as a
worker with ``--every``), ``status`` counts the letters and shows the failed ones (docs/cabinet.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import typer

from meterhub.core.settings import get_settings

app = typer.Typer(help="Cabinet notifications by e-mail (the outbox).", no_args_is_help=True)


def _url():
    from meterhub.timeseries.database import database_url

    return database_url(get_settings())


def _migrated(url: str) -> None:
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect
    from meterhub.timeseries.schema import migrate_database

    with connect(url) as conn:
        migrate_database(conn, MIGRATION_SOURCES)


@app.command()
def send(
    every: float = typer.Option(0, help="keep running, sending what is due every SECONDS (a worker)"),
    limit: int = typer.Option(0, help="at most this many letters per run (0: all that are due)"),
    receipts: bool = typer.Option(True, help="first notify new receipts of those who want them by e-mail"),
) -> None:
    """Send the e-mails that are due; failures are retried later, a letter is sent once even when several
    senders run at once. Exit 1 when the SMTP server could not be reached."""
    from meterhub.api.email_notices import collect_receipts, send_due
    from meterhub.timeseries.database import connect

    settings = get_settings()
    if not settings.smtp_host:
        typer.echo("METERHUB_SMTP_HOST is not set: nothing can be sent", err=True)
        raise typer.Exit(2)
    with _url() as url:
        _migrated(url)
        while True:
            if receipts:
                with connect(url, autocommit=True) as conn:
                    collected = collect_receipts(conn)
                if collected:
                    typer.echo(f"new receipt notices: {collected}")
            result = send_due(
                lambda: connect(url, autocommit=True),
                settings,
                now=lambda: datetime.now(UTC),
                limit=limit or None,
            )
            typer.echo(result.line())
            if not every:
                if result.unreachable:
                    raise typer.Exit(1)
                return
            time.sleep(every)


@app.command()
def status(failed: int = typer.Option(20, help="show this many of the latest failed letters")) -> None:
    """Letters by state, and the latest failed ones with the server's answer."""
    from meterhub.cli.common import migrated_connection

    with migrated_connection() as conn:
        counts = dict(
            conn.execute("SELECT status, count(*) FROM api_email_outbox GROUP BY status").fetchall()
        )
        # held: waiting for the user to confirm the address (docs/api.md, "E-mail addresses are confirmed")
        due, held = conn.execute(
            "SELECT count(*) FILTER (WHERE x.next_attempt_at <= now() AND NOT h.held),"
            " count(*) FILTER (WHERE h.held) FROM api_email_outbox x JOIN api_users u USING (user_id),"
            " LATERAL (SELECT NOT x.fixed_recipient AND u.active AND u.email IS NOT NULL"
            " AND u.email_confirmed_at IS NULL AS held) h"
            " WHERE x.status = 'pending'"
        ).fetchone()
        rows = conn.execute(
            "SELECT id, recipient, subject, attempts, last_error FROM api_email_outbox"
            " WHERE status = 'failed' ORDER BY id DESC LIMIT %s",
            (failed,),
        ).fetchall()
    typer.echo(
        " ".join(f"{s}: {counts.get(s, 0)}" for s in ("pending", "sent", "failed", "cancelled"))
        + f"; due now: {due}; held until the address is confirmed: {held}"
    )
    for oid, to, subject, attempts, error in rows:
        typer.echo(f"  #{oid} {to} «{subject}» after {attempts} attempt(s): {error}")
