"""E-mail intake through a local mailbox (a resident's message sent over SMTP, read over IMAP) and the
notifications sent over SMTP and to an SMS gateway's webhook on a local HTTP server."""

from __future__ import annotations

import json
import smtplib
import threading
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest

from meterhub.servicedesk.mail_intake import MailboxConfig, poll_mailbox
from meterhub.servicedesk.mail_parse import guess_category, parse_request_mail
from meterhub.servicedesk.notify import SmsWebhookConfig, SmtpConfig, deliver_pending
from meterhub.servicedesk.requests_store import escalate_overdue, respond
from tests.billing.money_data import add_building
from tests.servicedesk.mail_servers import local_mail_system

MSK = ZoneInfo("Europe/Moscow")
DESK = "zayavki@uk.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def _send(port: int, sender: str, subject: str, text: str, *, html: bool = False, photo: bool = False,
          message_id: str | None = None) -> None:  # fmt: skip
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Жилец <{sender}>", DESK, subject
    if message_id:
        msg["Message-ID"] = message_id
    if html:
        msg.set_content(f"<html><body><p>{text}</p></body></html>", subtype="html")
    else:
        msg.set_content(text)
    if photo:
        msg.add_attachment(PNG, maintype="image", subtype="png", filename="счёт.png")
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(msg)


def test_parsing_finds_the_account_and_a_category() -> None:
    raw = (
        "From: =?utf-8?b?0JjQstCw0L3QvtCy?= <Ivanov@Mail.test>\r\nSubject: =?utf-8?b?"
        "0J/QtdGA0LXRgNCw0YHRh9GR0YI=?=\r\nMessage-ID: <a1@mail.test>\r\nContent-Type: text/plain; "
        "charset=utf-8\r\n\r\nПрошу проверить, лицевой счёт № 40017.\r\n"
    ).encode()
    mail = parse_request_mail(raw)
    assert (mail.sender, mail.subject, mail.account_no, mail.category) == (
        "ivanov@mail.test", "Перерасчёт", "40017", "billing_claim",
    )  # fmt: skip
    assert guess_category("", "в подвале прорыв трубы") == "emergency"
    assert guess_category("вопрос", "когда собрание?") == "other"
    with pytest.raises(ValueError, match="sender"):
        parse_request_mail(b"Subject: x\r\n\r\nbody")


class _SmsGateway(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str | None, dict]]] = []
    fail = False

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).fail:
            self.send_response(500)
        else:
            type(self).received.append((self.headers.get("Authorization"), body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.db
def test_mail_becomes_a_request_and_notifications_go_out(db_url: str, conn) -> None:
    add_building(conn, "EB", {"40017": "17", "40018": "18"})
    conn.execute(
        "INSERT INTO api_users (username, password_hash, role, email) VALUES ('petrova', 'x', 'resident',"
        " 'petrova@mail.test')"
    )
    conn.execute("UPDATE api_users SET email_confirmed_at = now() WHERE username = 'petrova'")
    # a resident who typed the stranger's address and never confirmed it: it does not identify him
    conn.execute(
        "INSERT INTO api_users (username, password_hash, role, email) VALUES ('sidorov', 'x', 'resident',"
        " 'stranger@mail.test')"
    )
    conn.execute(
        "INSERT INTO api_user_accounts (user_id, account_no, linked_by) SELECT user_id, account_no, 'admin'"
        " FROM api_users, (VALUES ('petrova', '40018'), ('sidorov', '40017')) AS v (name, account_no)"
        " WHERE username = name"
    )
    (office,) = conn.execute(
        "INSERT INTO sd_executors (name, kind, email, phone) VALUES ('Расчётный отдел', 'department',"
        " 'raschet@uk.test', '+7 (900) 111-22-33') RETURNING executor_id"
    ).fetchone()
    conn.execute("INSERT INTO sd_routes (category, executor_id) VALUES ('billing_claim', %s)", (office,))
    conn.commit()
    now = datetime(2026, 12, 7, 10, tzinfo=MSK)

    with local_mail_system(DESK) as mail:
        _send(mail.smtp_port, "ivanov@mail.test", "Перерасчёт", "Лицевой счёт 40017: неверное начисление",
              photo=True, message_id="<m1@mail.test>")  # fmt: skip
        # A linked cabinet user writes without an account number: her only account is taken.
        _send(mail.smtp_port, "Petrova@mail.test", "Счётчик", "Нужна поверка счётчика ГВС", html=True)
        _send(mail.smtp_port, "stranger@mail.test", "Вопрос", "Когда будет собрание?")
        config = MailboxConfig("127.0.0.1", mail.imap_port, mail.user, mail.password, ssl=False)
        result = poll_mailbox(conn, config, now)
        assert len(result.requests) == 2 and result.skipped == 0
        assert result.kept == ["отправитель не связан с лицевым счётом и в письме нет номера счёта (л/с)"]
        rows = conn.execute(
            "SELECT account_no, channel, sd_category, contact, executor_id, status FROM api_requests"
            " WHERE request_id = ANY(%s) ORDER BY request_id",
            (result.requests,),
        ).fetchall()
        assert rows == [
            ("40017", "email", "billing_claim", "ivanov@mail.test", office, "in_progress"),
            ("40018", "email", "meter_service", "petrova@mail.test", None, "new"),
        ]
        first = result.requests[0]
        files = conn.execute(
            "SELECT filename, content_type, data FROM sd_attachments WHERE request_id = %s"
            " ORDER BY attachment_id",
            (first,),
        ).fetchall()
        assert [(f, c) for f, c, _ in files] == [("message.eml", "message/rfc822"), ("счёт.png", "image/png")]
        assert files[1][2] == PNG
        text = conn.execute("SELECT text FROM api_requests WHERE request_id = %s", (first,)).fetchone()[0]
        assert "неверное начисление" in text
        # All three are marked \Seen; a second poll finds nothing; the same message again is skipped.
        assert all("\\Seen" in m.flags for m in mail.mailboxes[DESK])
        assert poll_mailbox(conn, config, now).requests == []
        _send(mail.smtp_port, "ivanov@mail.test", "Перерасчёт", "повтор", message_id="<m1@mail.test>")
        again = poll_mailbox(conn, config, now)
        assert (again.requests, again.skipped) == ([], 1)
        kept = conn.execute(
            "SELECT sender, problem <> '' FROM sd_inbound_mail WHERE request_id IS NULL"
        ).fetchall()
        assert kept == [("stranger@mail.test", True)]

        # Notifications: the assignment (e-mail + SMS to the department), then the answer to the resident.
        with pytest.raises(Exception, match=r"LOGIN|wrong"):
            poll_mailbox(conn, MailboxConfig("127.0.0.1", mail.imap_port, "desk", "bad", ssl=False), now)
        respond(conn, first, "Перерасчёт выполнен в декабре", now, actor=None)
        conn.commit()
        gateway = ThreadingHTTPServer(("127.0.0.1", 0), _SmsGateway)
        threading.Thread(target=gateway.serve_forever, daemon=True).start()
        try:
            smtp = SmtpConfig("127.0.0.1", mail.smtp_port, mail_from="uk@uk.test")
            sms = SmsWebhookConfig(f"http://127.0.0.1:{gateway.server_address[1]}/send", token="t0k")
            _SmsGateway.fail = True
            assert deliver_pending(conn, now, smtp=smtp, sms=sms) == (2, 1)
            error = conn.execute(
                "SELECT attempts, last_error FROM sd_notifications WHERE channel = 'sms'"
            ).fetchone()
            assert error[0] == 1 and "500" in error[1]
            _SmsGateway.fail = False
            assert deliver_pending(conn, now, smtp=smtp, sms=sms) == (1, 0)
            assert deliver_pending(conn, now, smtp=smtp, sms=sms) == (0, 0)
        finally:
            gateway.shutdown()
            gateway.server_close()
        to_office = mail.messages_to("raschet@uk.test")
        assert [m["Subject"] for m in to_office] == [f"Заявка № {first}: новая заявка"]
        assert "Л/с: 40017" in to_office[0].get_content()
        assert _SmsGateway.received == [
            ("Bearer t0k", {"id": _SmsGateway.received[0][1]["id"], "to": "+79001112233",
                            "text": _SmsGateway.received[0][1]["text"]}),
        ]  # fmt: skip
        assert _SmsGateway.received[0][1]["text"].startswith(f"Заявка № {first}: новая заявка")
        answer = mail.messages_to("ivanov@mail.test")
        assert [m["Subject"] for m in answer] == [f"Ваше обращение № {first}"]
        assert "Перерасчёт выполнен в декабре" in answer[0].get_content()
    assert escalate_overdue(conn, now) == []
