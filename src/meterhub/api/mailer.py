"""Sending the cabinet's e-mails (a password-reset link, notifications) through the configured SMTP server
(``METERHUB_SMTP_*``), with the service desk's sender (:mod:`meterhub.servicedesk.notify`: ``send_email``,
``build_message``, ``open_smtp``): STARTTLS when ``smtp_starttls``, login when a username is set; UTF-8
text (Russian) with a From, To, Subject, Date and Message-ID. :class:`SmtpSession` keeps one connection
for a batch of letters (the notification outbox) and reconnects once when the server dropped it.
"""

from __future__ import annotations

import smtplib
from types import TracebackType

from meterhub.core.settings import Settings
from meterhub.servicedesk.notify import SmtpConfig, build_message, open_smtp, send_email

__all__ = ["MailNotConfigured", "SmtpSession", "send_mail"]


class MailNotConfigured(RuntimeError):
    pass


def _config(settings: Settings) -> SmtpConfig:
    config = SmtpConfig.from_settings(settings)
    if config is None:
        raise MailNotConfigured("METERHUB_SMTP_HOST is not set")
    return config


def send_mail(settings: Settings, to: str, subject: str, body: str, *, timeout: float = 20) -> None:
    send_email(_config(settings), to, subject, body, timeout=timeout)


class SmtpSession:
    """One SMTP connection for several letters, opened on the first one. A connection the server closed
    meanwhile (idle timeout) is reopened once; any other error propagates to the caller."""

    def __init__(self, settings: Settings, *, timeout: float = 20) -> None:
        self._config = _config(settings)
        self._timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def send(self, to: str, subject: str, body: str) -> None:
        message = build_message(self._config, to, subject, body)
        if self._smtp is not None:
            try:
                self._smtp.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                self.close()
        self._smtp = open_smtp(self._config, timeout=self._timeout)
        try:
            self._smtp.send_message(message)
        except (OSError, smtplib.SMTPServerDisconnected):
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
