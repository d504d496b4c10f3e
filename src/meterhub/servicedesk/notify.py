"""Notifications of the service desk (оповещения): an outbox (``sd_notifications``) filled when a request is
assigned, escalated, answered or resolved, and delivered by e-mail (SMTP) and SMS (the SMS gateway's
webhook: a JSON POST ``{"id", "to", "text"}`` with an optional bearer token — most gateways accept or
adapt to that). Delivery retries a failed row on the next run and keeps its last error."""

from __future__ import annotations

import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import Message
from email.utils import formatdate, make_msgid

import psycopg

from meterhub.core.settings import Settings

__all__ = [
    "MAX_ATTEMPTS",
    "SmsWebhookConfig",
    "SmtpConfig",
    "build_message",
    "deliver_pending",
    "notify_applicant",
    "notify_executor",
    "open_smtp",
    "queue_notification",
    "send_email",
]

MAX_ATTEMPTS = 10
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,}$")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    mail_from: str = "meterhub@localhost"

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The server of ``METERHUB_SMTP_*`` (None: ``METERHUB_SMTP_HOST`` is not set)."""
        if not settings.smtp_host:
            return None
        return cls(
            settings.smtp_host, settings.smtp_port, settings.smtp_username, settings.smtp_password,
            settings.smtp_starttls, settings.mail_from,
        )  # fmt: skip


@dataclass(frozen=True)
class SmsWebhookConfig:
    url: str
    token: str | None = None
    timeout: float = 20


def queue_notification(
    conn: psycopg.Connection, channel: str, recipient: str, subject: str, body: str, request_id: int | None
) -> None:
    conn.execute(
        "INSERT INTO sd_notifications (channel, recipient, subject, body, request_id)"
        " VALUES (%s, %s, %s, %s, %s)",
        (channel, recipient, subject, body, request_id),
    )


def _contacts(email: str, phone: str) -> list[tuple[str, str]]:
    found = []
    if "@" in email:
        found.append(("email", email.strip()))
    if _PHONE.match(phone.strip()):
        found.append(("sms", re.sub(r"[ ()-]", "", phone.strip())))
    return found


def notify_executor(conn: psycopg.Connection, request_id: int, executor_id: int, what: str) -> None:
    """Tell the executor (its e-mail and phone as registered) about a request given to it or escalated."""
    row = conn.execute(
        "SELECT x.email, x.phone, r.text, COALESCE(c.name_ru, r.sd_category), r.resolution_due_at,"
        " COALESCE(b.address, r.building_id), r.account_no"
        " FROM sd_executors x, api_requests r LEFT JOIN sd_categories c ON c.category = r.sd_category"
        " LEFT JOIN buildings b ON b.building_id = r.building_id"
        " WHERE x.executor_id = %s AND r.request_id = %s",
        (executor_id, request_id),
    ).fetchone()
    if row is None:
        return
    email, phone, text, category, due, address, account = row
    subject = f"Заявка № {request_id}: {what}"
    due_text = due.strftime("%d.%m.%Y %H:%M UTC") if due else "—"
    body = (
        f"{what}\nКатегория: {category}\nАдрес: {address}\nЛ/с: {account or '—'}\nСрок: {due_text}\n\n{text}"
    )
    for channel, to in _contacts(email, phone):
        queue_notification(
            conn,
            channel,
            to,
            subject,
            body if channel == "email" else f"{subject}. Срок {due_text}",
            request_id,
        )


def notify_applicant(conn: psycopg.Connection, request_id: int, text: str) -> None:
    """Tell whoever filed the request outside the cabinet (the contact the operator wrote down, or the
    sender of the e-mail) about an answer; cabinet users get the cabinet's own notification."""
    row = conn.execute(
        "SELECT contact, channel FROM api_requests WHERE request_id = %s", (request_id,)
    ).fetchone()
    if row is None or row[1] == "web":
        return
    subject = f"Ваше обращение № {request_id}"
    for contact in re.split(r"[,;]\s*", row[0]):
        for channel, to in _contacts(contact, contact):
            queue_notification(conn, channel, to, subject, f"{subject}: {text}", request_id)


def build_message(config: SmtpConfig, to: str, subject: str, body: str) -> Message:
    """One UTF-8 text message with From, To, Subject, Date and Message-ID.

    The Subject is encoded with :class:`email.header.Header` (RFC 2047 words that keep their spaces):
    Python 3.11's ``EmailMessage`` folds a long Cyrillic subject between two encoded words and loses the
    space there («лицевомусчёту»)."""
    message = Message()
    message["From"] = config.mail_from
    message["To"] = to
    message["Subject"] = Header(subject, "utf-8")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config.mail_from.rpartition("@")[2] or None)
    message.set_payload(body, "utf-8")
    return message


def open_smtp(config: SmtpConfig, *, timeout: float = 20) -> smtplib.SMTP:
    """A connection to the server: STARTTLS when ``starttls``, login when a username is set."""
    smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
    try:
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.username:
            smtp.login(config.username, config.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def send_email(config: SmtpConfig, to: str, subject: str, body: str, *, timeout: float = 20) -> None:
    """Send one message (:func:`build_message`) over a new connection. Used by the notifications here and
    by the cabinet's password-reset mail (``meterhub.api.mailer``)."""
    with open_smtp(config, timeout=timeout) as smtp:
        smtp.send_message(build_message(config, to, subject, body))


def _send_sms(config: SmsWebhookConfig, notification_id: int, to: str, text: str) -> None:
    payload = json.dumps({"id": notification_id, "to": to, "text": text}, ensure_ascii=False).encode()
    request = urllib.request.Request(config.url, payload, {"Content-Type": "application/json; charset=utf-8"})
    if config.token:
        request.add_header("Authorization", f"Bearer {config.token}")
    with urllib.request.urlopen(request, timeout=config.timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"SMS gateway answered HTTP {response.status}")


def deliver_pending(
    conn: psycopg.Connection,
    now: datetime,
    *,
    smtp: SmtpConfig | None = None,
    sms: SmsWebhookConfig | None = None,
) -> tuple[int, int]:
    """Send what is waiting (each row committed as it goes); returns (sent, failed). A channel without a
    configuration is left waiting."""
    sent = failed = 0
    rows = conn.execute(
        "SELECT id, channel, recipient, subject, body FROM sd_notifications"
        " WHERE sent_at IS NULL AND attempts < %s ORDER BY id",
        (MAX_ATTEMPTS,),
    ).fetchall()
    conn.commit()
    for nid, channel, to, subject, body in rows:
        if (channel == "email" and smtp is None) or (channel == "sms" and sms is None):
            continue
        try:
            if channel == "email":
                send_email(smtp, to, subject, body)
            else:
                _send_sms(sms, nid, to, body)
        except (OSError, smtplib.SMTPException, urllib.error.URLError) as exc:
            conn.execute(
                "UPDATE sd_notifications SET attempts = attempts + 1, last_error = %s WHERE id = %s",
                (f"{type(exc).__name__}: {exc}"[:500], nid),
            )
            failed += 1
        else:
            conn.execute(
                "UPDATE sd_notifications SET attempts = attempts + 1, sent_at = %s, last_error = ''"
                " WHERE id = %s",
                (now, nid),
            )
            sent += 1
        conn.commit()
    return sent, failed
