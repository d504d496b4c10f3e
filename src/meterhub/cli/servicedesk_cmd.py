"""``meterhub servicedesk``: the service desk's periodic jobs — take requests from the inbound mailbox,
escalate late requests, send notifications (docs/requests.md). Run them from cron or a systemd timer."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from meterhub.core.settings import get_settings

app = typer.Typer(help="Requests (обращения): mail intake, escalation, notifications.", no_args_is_help=True)


def _connection():
    from contextlib import contextmanager

    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.schema import migrate_database

    @contextmanager
    def opened():
        with database_url(get_settings()) as url, connect(url) as conn:
            migrate_database(conn, MIGRATION_SOURCES)
            yield conn

    return opened()


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
    with _connection() as conn:
        result = poll_mailbox(conn, config, datetime.now(UTC))
    typer.echo(
        f"requests: {len(result.requests)} {result.requests}; kept for the operator: {len(result.kept)};"
        f" seen before: {result.skipped}"
    )


@app.command()
def escalate() -> None:
    """Raise the escalation level of late requests (and notify their executors)."""
    from meterhub.servicedesk.requests_store import escalate_overdue

    with _connection() as conn:
        raised = escalate_overdue(conn, datetime.now(UTC))
        conn.commit()
    typer.echo(f"escalated: {len(raised)}" + "".join(f"\n  № {r} → level {lvl}" for r, lvl in raised))


@app.command()
def notify() -> None:
    """Send waiting notifications: e-mail through METERHUB_SMTP_*, SMS through the webhook."""
    from meterhub.servicedesk.notify import SmsWebhookConfig, SmtpConfig, deliver_pending

    s = get_settings()
    smtp = (
        SmtpConfig(s.smtp_host, s.smtp_port, s.smtp_username, s.smtp_password, s.smtp_starttls, s.mail_from)
        if s.smtp_host
        else None
    )
    sms = (
        SmsWebhookConfig(s.servicedesk_sms_webhook_url, s.servicedesk_sms_webhook_token)
        if s.servicedesk_sms_webhook_url
        else None
    )
    with _connection() as conn:
        sent, failed = deliver_pending(conn, datetime.now(UTC), smtp=smtp, sms=sms)
    typer.echo(f"sent: {sent}; failed (retried next run): {failed}")
