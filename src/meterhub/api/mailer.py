"""Sending the cabinet's e-mails (a password-reset link) through the configured SMTP server
(``METERHUB_SMTP_*``), with the service desk's sender (:func:`meterhub.servicedesk.notify.send_email`):
STARTTLS when ``smtp_starttls``, login when a username is set; UTF-8 text (Russian) with a From, To,
Subject, Date and Message-ID.
"""

from __future__ import annotations

from meterhub.core.settings import Settings
from meterhub.servicedesk.notify import SmtpConfig, send_email

__all__ = ["MailNotConfigured", "send_mail"]


class MailNotConfigured(RuntimeError):
    pass


def send_mail(settings: Settings, to: str, subject: str, body: str, *, timeout: float = 20) -> None:
    config = SmtpConfig.from_settings(settings)
    if config is None:
        raise MailNotConfigured("METERHUB_SMTP_HOST is not set")
    send_email(config, to, subject, body, timeout=timeout)
