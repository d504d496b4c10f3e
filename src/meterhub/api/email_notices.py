"""Cabinet notifications by e-mail: each user's consent per kind, the outbox and its sender.

- **Consent** (``api_email_optins``): a user chooses in the profile which kinds of notice also come by
  e-mail — a new receipt, an answer to a request or a reading accepted, a user linked to one's account,
  security (password changed, a link revoked). No consent, no letter; letters go to the login's e-mail,
  and only once it is confirmed (:mod:`meterhub.api.email_confirm`): letters queued while it is not wait
  in the outbox ("held") and are sent after the confirmation.
- **Outbox** (``api_email_outbox``): :func:`meterhub.api.notifications.notify` writes a letter for every
  new notification of a consenting user in the same transaction, so a notice is never lost between the
  cabinet and the mail server.
- **Sending** (:func:`send_due`, ``meterhub notify send``): each letter is claimed with
  ``SELECT … FOR UPDATE SKIP LOCKED`` and marked sent in the same transaction after the SMTP server
  accepted it, so two senders running at once never send one letter twice (a sender that dies between
  the server's "250 OK" and the commit sends that one letter again on the next run — at least once,
  never lost). A failure is retried later with a growing delay (1, 2, 4 … minutes, at most 6 hours);
  after ``max_attempts`` or a permanent refusal (5xx for the recipient) the letter is marked failed with
  the server's answer. When the server cannot be reached the run stops at the first letter and the rest
  wait for the next run.
- **Letters to a fixed address** (:func:`queue_fixed_letter`, ``fixed_recipient``): the notice to the
  old address when a confirmed e-mail is changed or cleared goes to that address whatever the user's
  address is by then, needs no consent and is never held; it is retried and recorded like the others.
  :func:`send_letter` tries one such letter at once, after the change committed.
- **Receipts** are notified when the user looks (``notify_new_receipts``); :func:`collect_receipts`
  does the same for every user who wants receipts by e-mail, so the sender finds a closed period's
  letters without the resident opening the cabinet.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from meterhub.api.mailer import MailNotConfigured, SmtpSession
from meterhub.core.settings import Settings

__all__ = [
    "EMAIL_KINDS",
    "MAX_ATTEMPTS",
    "SendResult",
    "collect_receipts",
    "email_kinds",
    "queue_email",
    "queue_fixed_letter",
    "retry_delay",
    "send_due",
    "send_letter",
    "set_email_kinds",
]

# The kinds a user may get by e-mail, with the profile's wording and the letter's subject.
EMAIL_KINDS: dict[str, tuple[str, str]] = {
    "receipt": ("Новая квитанция", "Новая квитанция"),
    "request_answer": ("Ответы на заявки и приём показаний", "Ответ управляющей компании"),
    "account_linked": (
        "Подключение другого пользователя к моему лицевому счёту",
        "Подключение к лицевому счёту",
    ),
    "security": ("Безопасность: смена пароля, отключение от лицевого счёта", "Безопасность личного кабинета"),
}
MAX_ATTEMPTS = 10
_MAX_DELAY = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: 1, 2, 4 … minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 16)), _MAX_DELAY)


def email_kinds(conn: psycopg.Connection, user_id: int) -> set[str]:
    return {r[0] for r in conn.execute("SELECT kind FROM api_email_optins WHERE user_id = %s", (user_id,))}


def set_email_kinds(conn: psycopg.Connection, user_id: int, kinds: Iterable[str]) -> None:
    """Replace the user's consent; letters waiting for a kind withdrawn are cancelled."""
    wanted = sorted(set(kinds))
    unknown = [k for k in wanted if k not in EMAIL_KINDS]
    if unknown:
        raise ValueError(f"unknown notification kinds {unknown}")
    conn.execute("DELETE FROM api_email_optins WHERE user_id = %s AND NOT kind = ANY(%s)", (user_id, wanted))
    for kind in wanted:
        conn.execute(
            "INSERT INTO api_email_optins (user_id, kind) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (user_id, kind),
        )
    conn.execute(
        "UPDATE api_email_outbox SET status = 'cancelled', last_error = 'e-mail of this kind turned off'"
        " WHERE user_id = %s AND status = 'pending' AND NOT kind = ANY(%s) AND NOT fixed_recipient",
        (user_id, wanted),
    )


def queue_email(conn: psycopg.Connection, notification_id: int) -> bool:
    """Queue the letter of a new notification when its user consented to that kind and has an e-mail."""
    row = conn.execute(
        "SELECT n.user_id, n.kind, n.account_no, n.text_ru, n.link, u.email FROM api_notifications n"
        " JOIN api_users u USING (user_id)"
        " JOIN api_email_optins o ON o.user_id = n.user_id AND o.kind = n.kind"
        " WHERE n.notification_id = %s AND u.active AND u.email IS NOT NULL",
        (notification_id,),
    ).fetchone()
    if row is None:
        return False
    user_id, kind, account_no, text, link, email = row
    subject = EMAIL_KINDS[kind][1] + (f" — лицевой счёт {account_no}" if account_no else "")
    conn.execute(
        "INSERT INTO api_email_outbox (notification_id, user_id, kind, recipient, subject, body, link)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (notification_id) DO NOTHING",
        (notification_id, user_id, kind, email, subject, text, link),
    )
    return True


def collect_receipts(conn: psycopg.Connection) -> int:
    """Notify every user who wants receipts by e-mail of the final receipts closed since; how many new."""
    from meterhub.api.notifications import notify_new_receipts

    users = conn.execute(
        "SELECT o.user_id, array_agg(a.account_no ORDER BY a.account_no) FROM api_email_optins o"
        " JOIN api_users u USING (user_id) JOIN api_user_accounts a ON a.user_id = o.user_id"
        " WHERE o.kind = 'receipt' AND u.active AND u.email IS NOT NULL GROUP BY o.user_id ORDER BY o.user_id"
    ).fetchall()
    added = 0
    for user_id, accounts in users:
        with conn.transaction():
            added += notify_new_receipts(conn, user_id, accounts)
    return added


@dataclass
class SendResult:
    sent: int = 0
    retry: int = 0  # failed this time, tried again later
    failed: int = 0  # given up (permanent refusal or too many attempts)
    cancelled: int = 0  # consent withdrawn or no e-mail any more
    unreachable: str = ""  # the server could not be reached: the run stopped here

    def line(self) -> str:
        text = (
            f"sent: {self.sent}; to retry: {self.retry}; failed: {self.failed}; cancelled: {self.cancelled}"
        )
        return text + (f"; SMTP server unreachable: {self.unreachable}" if self.unreachable else "")


def _permanent(exc: Exception) -> bool:
    """The server refused this letter for good (5xx), as opposed to "try later" (4xx) or being down."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)):
        return False
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _unreachable(exc: Exception) -> bool:
    """The server is down, refused the connection or dropped it (not an answer about this letter)."""
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    if isinstance(exc, smtplib.SMTPException):
        return False
    return isinstance(exc, OSError)


def compose(settings: Settings, name: str, body: str, link: str) -> str:
    """The letter: a greeting, the notice, the cabinet link, how to turn letters off, the company's
    name, phone and emergency phone (when configured)."""
    base = settings.public_url.rstrip("/")
    lines = [f"Здравствуйте{', ' + name if name else ''}!", "", body, ""]
    if link:
        lines += [f"Подробнее в личном кабинете: {base}{link}", ""]
    lines += [
        "Это письмо отправлено, потому что в профиле личного кабинета включены уведомления по электронной "
        f"почте. Изменить или отключить их: {base}/cabinet/profile",
    ]
    footer = [settings.company_name]
    if settings.company_phone:
        footer.append(f"Телефон: {settings.company_phone}")
    if settings.emergency_phone:
        footer.append(f"Аварийно-диспетчерская служба (круглосуточно): {settings.emergency_phone}")
    footer = [line for line in footer if line]
    if footer:
        lines += ["", *footer]
    return "\n".join(lines) + "\n"


_CLAIM = (
    "SELECT x.id, x.kind, x.subject, x.body, x.link, x.attempts, x.recipient, x.fixed_recipient, u.email,"
    " u.active, COALESCE(NULLIF(u.full_name, ''), u.username), o.user_id IS NOT NULL"
    " FROM api_email_outbox x JOIN api_users u ON u.user_id = x.user_id"
    " LEFT JOIN api_email_optins o ON o.user_id = x.user_id AND o.kind = x.kind"
    " WHERE x.status = 'pending' AND x.next_attempt_at <= %s"
    # held while the address is unconfirmed; sent once it is, cancelled when cleared (a letter to a fixed
    # address is not the user's current address's business)
    " AND (x.fixed_recipient OR NOT (u.active AND u.email IS NOT NULL AND u.email_confirmed_at IS NULL))"
)


def _deliver(
    conn: psycopg.Connection,
    smtp: SmtpSession,
    settings: Settings,
    row: tuple,
    at: datetime,
    result: SendResult,
    max_attempts: int,
) -> bool:
    """Send one claimed letter and record the outcome in its row; False when the server is unreachable."""
    oid, _kind, subject, body, link, attempts, recipient, fixed, email, active, name, consented = row
    if fixed:  # the notice to an old address: that address, the whole text as queued, no consent needed
        to, text = recipient, body
    elif not (email and active and consented):
        conn.execute(
            "UPDATE api_email_outbox SET status = 'cancelled', last_error = %s WHERE id = %s",
            ("no e-mail, consent withdrawn or user deactivated", oid),
        )
        result.cancelled += 1
        return True
    else:
        to, text = email, compose(settings, name, body, link)
    try:
        smtp.send(to, subject, text)
    except (OSError, smtplib.SMTPException) as exc:
        tries = attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        give_up = _permanent(exc) or tries >= max_attempts
        conn.execute(
            "UPDATE api_email_outbox SET attempts = %s, last_error = %s, status = %s,"
            " next_attempt_at = %s, recipient = %s WHERE id = %s",
            (tries, error, "failed" if give_up else "pending", at + retry_delay(tries), to, oid),
        )
        if give_up:
            result.failed += 1
        else:
            result.retry += 1
        if _unreachable(exc):
            result.unreachable = error
            return False
        return True
    conn.execute(
        "UPDATE api_email_outbox SET status = 'sent', sent_at = %s, attempts = attempts + 1,"
        " last_error = '', recipient = %s WHERE id = %s",
        (at, to, oid),
    )
    result.sent += 1
    return True


def send_due(
    connect: Callable[[], psycopg.Connection],
    settings: Settings,
    *,
    now: Callable[[], datetime],
    limit: int | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> SendResult:
    """Send the letters that are due, one transaction per letter; safe to run in several processes."""
    if not settings.smtp_host:
        raise MailNotConfigured("METERHUB_SMTP_HOST is not set")
    result = SendResult()
    with connect() as conn, SmtpSession(settings) as smtp:
        while limit is None or result.sent + result.retry + result.failed + result.cancelled < limit:
            with conn.transaction():
                at = now()
                row = conn.execute(
                    _CLAIM + " ORDER BY x.next_attempt_at, x.id LIMIT 1 FOR UPDATE OF x SKIP LOCKED", (at,)
                ).fetchone()
                if row is None:
                    break
                if not _deliver(conn, smtp, settings, row, at, result, max_attempts):
                    break
    return result


def queue_fixed_letter(
    conn: psycopg.Connection, user_id: int, kind: str, recipient: str, subject: str, text: str
) -> int:
    """Queue a whole letter to a fixed address (not the user's current one, no consent: the notice to
    the old address of a changed e-mail); its id. Call in the transaction of the change it tells of."""
    (oid,) = conn.execute(
        "INSERT INTO api_email_outbox (user_id, kind, recipient, subject, body, fixed_recipient)"
        " VALUES (%s, %s, %s, %s, %s, true) RETURNING id",
        (user_id, kind, recipient, subject, text),
    ).fetchone()
    return oid


def send_letter(
    conn: psycopg.Connection,
    settings: Settings,
    letter_id: int,
    *,
    now: Callable[[], datetime],
    max_attempts: int = MAX_ATTEMPTS,
) -> SendResult:
    """Try one queued letter at once (after the transaction that queued it committed); a failure is
    recorded in its row and the sender (:func:`send_due`) retries it. Nothing when another sender holds
    it or it is no longer pending."""
    result = SendResult()
    with SmtpSession(settings) as smtp, conn.transaction():
        at = now()
        row = conn.execute(_CLAIM + " AND x.id = %s FOR UPDATE OF x SKIP LOCKED", (at, letter_id)).fetchone()
        if row is not None:
            _deliver(conn, smtp, settings, row, at, result, max_attempts)
    return result
