"""Reading a resident's e-mail into a request (pure: bytes in, a dataclass out).

The sender's address, the subject and the plain text (HTML-only messages are reduced to text), the
attachments, an account number written as «л/с 12345» / «лицевой счёт № 12345» / «account 12345», and
a deadline category guessed from words of the subject and text (an operator re-categorises if wrong).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.utils import parseaddr

__all__ = ["MailAttachment", "ParsedMail", "guess_category", "parse_request_mail"]

_ACCOUNT = re.compile(
    r"(?:л\s*/\s*с|лицев\w*\s+сч[её]т\w*|account)\s*(?:№|N|#|no\.?)?\s*[:.]?\s*([0-9A-Za-z-]{3,20})", re.I
)
_CATEGORY_WORDS = (
    ("emergency", ("авари", "затоп", "прорыв", "заливает", "искрит", "запах газа")),
    ("blockage", ("засор",)),
    (
        "undersupply",
        ("нет воды", "нет горячей", "нет холодной", "нет света", "нет отопления", "холодные батаре"),
    ),
    ("billing_claim", ("перерасч", "начисл", "квитанц", "переплат")),
    ("meter_service", ("счётчик", "счетчик", "поверк", "прибор учёта", "прибор учета")),
    ("information", ("справк", "информаци", "сообщите", "прошу предоставить")),
)


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str
    subject: str
    text: str
    account_no: str | None
    category: str
    attachments: tuple[MailAttachment, ...] = field(default=())


def guess_category(subject: str, text: str) -> str:
    words = f"{subject}\n{text}".lower()
    for category, stems in _CATEGORY_WORDS:
        if any(stem in words for stem in stems):
            return category
    return "other"


def _html_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style).*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def parse_request_mail(raw: bytes) -> ParsedMail:
    """Parse one message; ValueError when it has no sender address."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sender = parseaddr(str(msg.get("From", "")))[1].lower()
    if "@" not in sender:
        raise ValueError("the message has no sender address (From:)")
    subject = str(msg.get("Subject", "")).strip()
    body = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        text = body.get_content()
        if body.get_content_type() == "text/html":
            text = _html_text(text)
    text = re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n")).strip()
    attachments = tuple(
        MailAttachment(
            part.get_filename() or "attachment", part.get_content_type(), part.get_payload(decode=True)
        )
        for part in msg.iter_attachments()
        if part.get_payload(decode=True)
    )
    found = _ACCOUNT.search(f"{subject}\n{text}")
    message_id = (
        str(msg.get("Message-ID", "")).strip() or f"<sha256-{hashlib.sha256(raw).hexdigest()}@meterhub>"
    )
    return ParsedMail(
        message_id=message_id,
        sender=sender,
        subject=subject,
        text=text or subject,
        account_no=found.group(1) if found else None,
        category=guess_category(subject, text),
        attachments=attachments,
    )
