"""``meterhub servicedesk``: the service desk's periodic jobs — take requests from the inbound mailbox,
escalate late requests, send notifications (docs/requests.md). Run them from cron or a systemd timer."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from meterhub.cli.common import migrated_connection
from meterhub.core.settings import get_settings

app = typer.Typer(help="Requests (обращения): mail intake, escalation, notifications.", no_args_is_help=True)


@app.command("poll-mail")
def poll_mail() -> None:
    """Turn the unseen messages of the inbound mailbox (METERHUB_SERVICEDESK_IMAP_*) into requests."""
    from meterhub.servicedesk.mail_intake import MailboxConfig, poll_mailbox

    s = get_settings()
    if not s.servicedesk_imap_host:
        typer.echo("METERHUB_SERVICEDESK_IMAP_HOST is not set: no mailbox to poll", err=True)
        raise typer.Exit(2)
    config = MailboxConfig(
        s.servicedesk_imap_host,
        s.servicedesk_imap_port,
        s.servicedesk_imap_username,
        s.servicedesk_imap_password,
        s.servicedesk_imap_ssl,
        s.servicedesk_imap_mailbox,
    )
    with migrated_connection() as conn:
        result = poll_mailbox(conn, config, datetime.now(UTC))
    typer.echo(
        f"requests: {len(result.requests)} {result.requests}; kept for the operator: {len(result.kept)};"
        f" seen before: {result.skipped}"
    )


@app.command()
def escalate() -> None:
    """Raise the escalation level of late requests (and notify their executors)."""
    from meterhub.servicedesk.requests_store import escalate_overdue

    with migrated_connection() as conn:
        raised = escalate_overdue(conn, datetime.now(UTC))
        conn.commit()
    typer.echo(f"escalated: {len(raised)}" + "".join(f"\n  № {r} → level {lvl}" for r, lvl in raised))


@app.command()
def notify() -> None:
    """Send waiting notifications: e-mail through METERHUB_SMTP_*, SMS through the webhook."""
    from meterhub.servicedesk.notify import SmsWebhookConfig, SmtpConfig, deliver_pending

    s = get_settings()
    smtp = SmtpConfig.from_settings(s)
    sms = (
        SmsWebhookConfig(s.servicedesk_sms_webhook_url, s.servicedesk_sms_webhook_token)
        if s.servicedesk_sms_webhook_url
        else None
    )
    with migrated_connection() as conn:
        sent, failed = deliver_pending(conn, datetime.now(UTC), smtp=smtp, sms=sms)
    typer.echo(f"sent: {sent}; failed (retried next run): {failed}")


@app.command()
def executor(
    name: str = typer.Argument(..., help="«ООО Аквасервис», «АДС», «Абонентский отдел»"),
    kind: str = typer.Option("contractor", help="department, contractor or emergency_service"),
    email: str = typer.Option("", help="where assignments and escalations are e-mailed"),
    phone: str = typer.Option("", help="where they are sent by SMS"),
) -> None:
    """Add an executor (or update its kind and contacts)."""
    if kind not in ("department", "contractor", "emergency_service"):
        typer.echo("--kind must be department, contractor or emergency_service", err=True)
        raise typer.Exit(2)
    with migrated_connection() as conn:
        (executor_id,) = conn.execute(
            "INSERT INTO sd_executors (name, kind, email, phone) VALUES (%s, %s, %s, %s) ON CONFLICT (name)"
            " DO UPDATE SET kind = EXCLUDED.kind, email = EXCLUDED.email, phone = EXCLUDED.phone"
            " RETURNING executor_id",
            (name, kind, email, phone),
        ).fetchone()
        conn.commit()
    typer.echo(f"executor {executor_id}: {name} ({kind})")


def _executor_id(conn, name: str) -> int:
    row = conn.execute("SELECT executor_id FROM sd_executors WHERE name = %s", (name,)).fetchone()
    if row is None:
        typer.echo(f"no executor {name!r}; add it with `meterhub servicedesk executor`", err=True)
        raise typer.Exit(1)
    return row[0]


@app.command()
def route(
    category: str = typer.Argument(..., help="a category (sd_categories): emergency, fault, …"),
    executor_name: str = typer.Argument(..., metavar="EXECUTOR"),
    building: str | None = typer.Option(None, help="only this building (wins over the general route)"),
) -> None:
    """Route a category (in one building, or everywhere) to an executor."""
    import psycopg

    with migrated_connection() as conn:
        executor_id = _executor_id(conn, executor_name)
        try:
            conn.execute(
                "INSERT INTO sd_routes (category, building_id, executor_id) VALUES (%s, %s, %s)"
                " ON CONFLICT (category, building_id) DO UPDATE SET executor_id = EXCLUDED.executor_id",
                (category, building, executor_id),
            )
        except psycopg.errors.ForeignKeyViolation:
            typer.echo(f"unknown category {category!r} or building {building!r}", err=True)
            raise typer.Exit(1) from None
        conn.commit()
    typer.echo(f"{category}{f' in {building}' if building else ''} → {executor_name}")


@app.command()
def link(
    username: str = typer.Argument(..., help="a login with the contractor role"),
    executor_name: str = typer.Argument(..., metavar="EXECUTOR"),
) -> None:
    """Let a contractor login see and answer its executor's queue."""
    with migrated_connection() as conn:
        executor_id = _executor_id(conn, executor_name)
        row = conn.execute("SELECT user_id, role FROM api_users WHERE username = %s", (username,)).fetchone()
        if row is None or row[1] != "contractor":
            typer.echo(f"{username!r} is not a contractor login (users add … --role contractor)", err=True)
            raise typer.Exit(1)
        conn.execute(
            "INSERT INTO sd_executor_users (user_id, executor_id) VALUES (%s, %s)"
            " ON CONFLICT (user_id) DO UPDATE SET executor_id = EXCLUDED.executor_id",
            (row[0], executor_id),
        )
        conn.commit()
    typer.echo(f"{username} → {executor_name}")
