"""E-mail intake (приём обращений по электронной почте): poll the inbound mailbox over IMAP and turn each
unseen message into a request (channel ``email``).

The account is the one written in the message («л/с 12345») when the sender is a user linked to it or the
account is simply known, else the single account linked to the sender's cabinet login. A message whose
account cannot be recognised is kept in ``sd_inbound_mail`` with the reason for the operator (never
dropped); a message seen before (same Message-ID) is skipped. Messages are marked \\Seen only after the
database commit, so a crash re-reads them and the Message-ID makes that harmless.
"""

from __future__ import annotations

import hashlib
import imaplib
from dataclasses import dataclass
from datetime import datetime

import psycopg

from meterhub.servicedesk.mail_parse import ParsedMail, parse_request_mail
from meterhub.servicedesk.requests_store import NewRequest, RequestError, log_event, register_request

__all__ = ["SEEN_BEFORE", "IntakeResult", "MailboxConfig", "poll_mailbox", "take_message"]

SEEN_BEFORE = "seen before"


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int = 993
    username: str = ""
    password: str = ""
    ssl: bool = True
    mailbox: str = "INBOX"


@dataclass
class IntakeResult:
    requests: list[int]
    kept: list[str]  # Message-IDs kept for the operator (problem recorded)
    skipped: int = 0  # seen before


def _account_for(conn: psycopg.Connection, mail: ParsedMail) -> tuple[str | None, str]:
    linked = [
        a
        for (a,) in conn.execute(
            "SELECT ua.account_no FROM api_users u JOIN api_user_accounts ua USING (user_id)"
            # only a confirmed address identifies its user (docs/api.md, "E-mail addresses are confirmed")
            " WHERE lower(u.email) = %s AND u.email_confirmed_at IS NOT NULL AND u.active"
            " ORDER BY ua.account_no",
            (mail.sender,),
        )
    ]
    if mail.account_no is not None:
        known = conn.execute("SELECT 1 FROM accounts WHERE account_no = %s", (mail.account_no,)).fetchone()
        if known:
            return mail.account_no, ""
        return None, f"лицевой счёт {mail.account_no} не найден"
    if len(linked) == 1:
        return linked[0], ""
    if linked:
        return None, f"у отправителя несколько лицевых счетов ({', '.join(linked)}), в письме счёт не указан"
    return None, "отправитель не связан с лицевым счётом и в письме нет номера счёта (л/с)"


def take_message(conn: psycopg.Connection, raw: bytes, now: datetime) -> tuple[int | None, str]:
    """Store one message: returns (request number or None, problem; :data:`SEEN_BEFORE` for a repeat).
    Idempotent by Message-ID; the caller commits."""
    try:
        mail = parse_request_mail(raw)
    except ValueError as exc:
        key = f"<sha256-{hashlib.sha256(raw).hexdigest()}@meterhub>"
        conn.execute(
            "INSERT INTO sd_inbound_mail (message_id, sender, problem, raw, received_at)"
            " VALUES (%s, '', %s, %s, %s) ON CONFLICT (message_id) DO NOTHING",
            (key, f"письмо не прочитано: {exc}", raw, now),
        )
        return None, str(exc)
    seen = conn.execute(
        "SELECT request_id, problem FROM sd_inbound_mail WHERE message_id = %s", (mail.message_id,)
    ).fetchone()
    if seen is not None:
        return seen[0], SEEN_BEFORE
    account, problem = _account_for(conn, mail)
    request_id = None
    if account is not None:
        try:
            text = f"{mail.subject}\n\n{mail.text}".strip() if mail.subject else mail.text
            new = NewRequest(
                "email", mail.category, text, account_no=account, contact=mail.sender, applicant=mail.sender
            )
            request_id = register_request(conn, new, now)
        except RequestError as exc:
            problem = str(exc)
    conn.execute(
        "INSERT INTO sd_inbound_mail (message_id, sender, subject, received_at, request_id, problem, raw)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (mail.message_id, mail.sender, mail.subject, now, request_id, problem, raw),
    )
    if request_id is not None:
        files = [("message.eml", "message/rfc822", raw)] + [
            (a.filename, a.content_type, a.data) for a in mail.attachments
        ]
        for name, kind, data in files:
            conn.execute(
                "INSERT INTO sd_attachments (request_id, filename, content_type, size_bytes, sha256, data)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (request_id, name, kind, len(data), hashlib.sha256(data).hexdigest(), data),
            )
        log_event(conn, request_id, "attachment", f"письмо от {mail.sender}: {len(files)} файл(ов)", at=now)
    return request_id, problem


def poll_mailbox(conn: psycopg.Connection, config: MailboxConfig, now: datetime) -> IntakeResult:
    """Take every unseen message of the mailbox; each is committed before it is marked \\Seen."""
    result = IntakeResult([], [])
    client_class = imaplib.IMAP4_SSL if config.ssl else imaplib.IMAP4
    with client_class(config.host, config.port) as imap:
        imap.login(config.username, config.password)
        status, _ = imap.select(config.mailbox)
        if status != "OK":
            raise RuntimeError(f"IMAP mailbox {config.mailbox!r} cannot be selected on {config.host}")
        status, data = imap.uid("SEARCH", None, "UNSEEN")
        if status != "OK":
            raise RuntimeError(f"IMAP search failed on {config.host}: {data!r}")
        for uid in (data[0] or b"").split():
            status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None) if status == "OK" else None
            if raw is None:
                continue  # vanished meanwhile: the next poll sees what is there
            request_id, problem = take_message(conn, raw, now)
            conn.commit()
            if problem == SEEN_BEFORE:
                result.skipped += 1
            elif request_id is not None:
                result.requests.append(request_id)
            else:
                result.kept.append(problem)
            imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        imap.logout()
    return result
