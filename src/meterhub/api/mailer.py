"""Sending the cabinet's e-mails (a password-reset link) through the configured SMTP server.

Plain :mod:`smtplib`: STARTTLS when ``smtp_starttls``, login when a username is set. The message is
UTF-8 text (Russian) with a From, To, Subject, Date and Message-ID.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from meterhub.core.settings import Settings

__all__ = ["MailNotConfigured", "send_mail"]


class MailNotConfigured(RuntimeError):
    pass


def send_mail(settings: Settings, to: str, subject: str, body: str, *, timeout: float = 20) -> None:
    if not settings.smtp_host:
        raise MailNotConfigured("METERHUB_SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)
