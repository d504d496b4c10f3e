"""Outgoing correspondence (исходящая корреспонденция): an answer to a resident registered with a number
that restarts each year («ИСХ-2026-00001») and a date, tied to the request and its account, printed as an
A4 PDF with the bundled DejaVu fonts (the receipts' fonts, complete Cyrillic, embedded as a subset)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from meterhub.billing.receipts.drawing import BOLD, REGULAR, register_fonts
from meterhub.servicedesk.requests_store import RequestError, log_event

__all__ = ["Letter", "letter_pdf", "load_letter", "register_letter"]

MARGIN = 56.0


@dataclass(frozen=True)
class Letter:
    letter_id: int
    letter_no: str
    registered_on: date
    request_id: int | None
    account_no: str | None
    addressee: str
    address: str
    subject: str
    body: str
    signed_by: str


_COLUMNS = (
    "letter_id, letter_no, registered_on, request_id, account_no, addressee, address, subject, body,"
    " signed_by"
)


def register_letter(
    conn: psycopg.Connection,
    *,
    request_id: int,
    subject: str,
    body: str,
    signed_by: str,
    on: date,
    now: datetime,
    addressee: str = "",
    actor: int | None = None,
) -> Letter:
    """Register the answer to a request with the next number of the year; the addressee and address
    default to the applicant and the request's premise. The caller commits."""
    row = conn.execute(
        "SELECT r.account_no, r.applicant, COALESCE(b.address, '') ||"
        " CASE WHEN a.premise_no IS NOT NULL THEN ', кв. ' || a.premise_no ELSE '' END"
        " FROM api_requests r LEFT JOIN accounts a ON a.account_no = r.account_no"
        " LEFT JOIN buildings b ON b.building_id = r.building_id WHERE r.request_id = %s",
        (request_id,),
    ).fetchone()
    if row is None:
        raise RequestError(f"request {request_id} not found")
    if not subject.strip() or not body.strip():
        raise RequestError("a letter needs a subject and a text")
    account, applicant, address = row
    conn.execute("LOCK TABLE sd_letters IN SHARE ROW EXCLUSIVE MODE")  # numbers without gaps or repeats
    (seq,) = conn.execute(
        "SELECT COALESCE(max(seq), 0) + 1 FROM sd_letters WHERE year = %s", (on.year,)
    ).fetchone()
    number = f"ИСХ-{on.year}-{seq:05d}"
    (letter_id,) = conn.execute(
        "INSERT INTO sd_letters (year, seq, letter_no, registered_on, request_id, account_no, addressee,"
        " address, subject, body, signed_by, created_by, created_at) VALUES"
        " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING letter_id",
        (
            on.year,
            seq,
            number,
            on,
            request_id,
            account,
            addressee.strip() or applicant or "Заявителю",
            address,
            subject.strip(),
            body.strip(),
            signed_by.strip(),
            actor,
            now,
        ),
    ).fetchone()
    log_event(
        conn, request_id, "letter", f"{number} от {on:%d.%m.%Y}: {subject.strip()}", actor=actor, at=now
    )
    letter = load_letter(conn, letter_id)
    assert letter is not None
    return letter


def load_letter(conn: psycopg.Connection, letter_id: int) -> Letter | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM sd_letters WHERE letter_id = %s", (letter_id,)).fetchone()
    return Letter(*row) if row else None


def letter_pdf(letter: Letter, company: str = "", company_contacts: str = "") -> bytes:
    """The letter on A4: the company's header, number and date, addressee, subject, text, signature."""
    register_fonts()
    buffer = io.BytesIO()
    width, height = A4
    c = Canvas(buffer, pagesize=A4)
    c.setTitle(f"{letter.letter_no} — {letter.subject}")
    y = height - MARGIN

    def lines(text: str, font: str, size: float, x: float = MARGIN, w: float = width - 2 * MARGIN) -> None:
        nonlocal y
        for paragraph in text.split("\n"):
            for line in simpleSplit(paragraph, font, size, w) or [""]:
                if y < MARGIN + size:
                    c.showPage()
                    y = height - MARGIN
                c.setFont(font, size)
                c.drawString(x, y - size, line)
                y -= size * 1.4

    if company:
        lines(company, BOLD, 11)
    if company_contacts:
        lines(company_contacts, REGULAR, 8.5)
    y -= 10
    lines(f"Исх. № {letter.letter_no} от {letter.registered_on:%d.%m.%Y}", REGULAR, 10)
    if letter.request_id:
        lines(f"На обращение № {letter.request_id}", REGULAR, 10)
    y -= 6
    half = width / 2
    lines(letter.addressee, REGULAR, 10.5, half, width / 2 - MARGIN)
    if letter.address:
        lines(letter.address, REGULAR, 10.5, half, width / 2 - MARGIN)
    if letter.account_no:
        lines(f"Лицевой счёт {letter.account_no}", REGULAR, 10.5, half, width / 2 - MARGIN)
    y -= 14
    lines(letter.subject, BOLD, 11.5)
    y -= 6
    lines(letter.body, REGULAR, 11)
    y -= 24
    if letter.signed_by:
        lines(letter.signed_by, REGULAR, 11)
    c.showPage()
    c.save()
    return buffer.getvalue()
