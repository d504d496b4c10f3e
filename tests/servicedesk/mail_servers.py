"""A local mail system for the tests: a real SMTP server (aiosmtpd) delivering into mailboxes, and a small
real IMAP4rev1 server over TCP serving those mailboxes to Python's imaplib — the commands the intake uses
(CAPABILITY, LOGIN, SELECT, UID SEARCH, UID FETCH, UID STORE, NOOP, LOGOUT), nothing more. No IMAP server
package is installed on this machine (Dovecot would need a system service), so it is written here; the
client side under test is the production code over a real socket."""

from __future__ import annotations

import re
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy


@dataclass
class Stored:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class MailSystem:
    smtp_port: int = 0
    imap_port: int = 0
    user: str = "desk"
    password: str = "s3cret"
    mailboxes: dict[str, list[Stored]] = field(default_factory=dict)  # by recipient address
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver(self, rcpt: str, raw: bytes) -> None:
        with self.lock:
            box = self.mailboxes.setdefault(rcpt.lower(), [])
            box.append(Stored(len(box) + 1, raw))

    def messages_to(self, rcpt: str):
        with self.lock:
            return [
                message_from_bytes(m.raw, policy=default_policy) for m in self.mailboxes.get(rcpt.lower(), [])
            ]


class _SmtpHandler:
    def __init__(self, system: MailSystem) -> None:
        self.system = system

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            self.system.deliver(rcpt, envelope.original_content or envelope.content)
        return "250 OK"


_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')


class _ImapHandler(socketserver.StreamRequestHandler):
    system: MailSystem
    mailbox_address: str

    def _send(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def handle(self) -> None:
        self._send(b"* OK [CAPABILITY IMAP4rev1] local test IMAP ready\r\n")
        box: list[Stored] | None = None
        authed = False
        while line := self.rfile.readline():
            parts = [
                m.group(1) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(line.strip())
            ]
            if len(parts) < 2:
                self._send(b"* BAD empty command\r\n")
                continue
            tag, cmd, args = parts[0], parts[1].upper(), parts[2:]
            if cmd == b"UID" and args:
                cmd, args = b"UID " + args[0].upper(), args[1:]
            if cmd == b"CAPABILITY":
                self._send(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
            elif cmd == b"NOOP":
                self._send(tag + b" OK done\r\n")
            elif cmd == b"LOGOUT":
                self._send(b"* BYE\r\n" + tag + b" OK bye\r\n")
                return
            elif cmd == b"LOGIN":
                authed = args[:2] == [self.system.user.encode(), self.system.password.encode()]
                self._send(tag + (b" OK logged in\r\n" if authed else b" NO wrong user or password\r\n"))
            elif not authed:
                self._send(tag + b" BAD log in first\r\n")
            elif cmd in (b"SELECT", b"EXAMINE"):
                with self.system.lock:
                    box = self.system.mailboxes.setdefault(self.mailbox_address, [])
                    self._send(
                        b"* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] ok\r\n"
                        b"%s OK [READ-WRITE] selected\r\n" % (len(box), tag)
                    )
            elif box is None:
                self._send(tag + b" BAD select a mailbox first\r\n")
            elif cmd == b"UID SEARCH":
                with self.system.lock:
                    unseen_only = b"UNSEEN" in [a.upper() for a in args]
                    found = [m.uid for m in box if not unseen_only or "\\Seen" not in m.flags]
                self._send(
                    b"* SEARCH" + b"".join(b" %d" % u for u in found) + b"\r\n" + tag + b" OK done\r\n"
                )
            elif cmd in (b"UID FETCH", b"UID STORE"):
                uid = int(args[0])
                with self.system.lock:
                    hit = [(i + 1, m) for i, m in enumerate(box) if m.uid == uid]
                    if hit and cmd == b"UID STORE" and b"+FLAGS" in args[1].upper():
                        hit[0][1].flags.update(f.decode() for f in re.findall(rb"\\\w+", b" ".join(args[2:])))
                out = b""
                for seq, m in hit:
                    if cmd == b"UID FETCH":
                        out += b"* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n" % (seq, m.uid, len(m.raw), m.raw)
                    else:
                        out += b"* %d FETCH (UID %d FLAGS (%s))\r\n" % (
                            seq,
                            m.uid,
                            " ".join(sorted(m.flags)).encode(),
                        )
                self._send(out + tag + b" OK done\r\n")
            else:
                self._send(tag + b" BAD unknown command\r\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_mail_system(desk_address: str) -> Iterator[MailSystem]:
    """SMTP and IMAP on free loopback ports; the IMAP user reads the mailbox of ``desk_address``."""
    from aiosmtpd.controller import Controller

    system = MailSystem(smtp_port=_free_port())
    controller = Controller(_SmtpHandler(system), hostname="127.0.0.1", port=system.smtp_port)
    handler = type("Handler", (_ImapHandler,), {"system": system, "mailbox_address": desk_address.lower()})
    imap = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    imap.daemon_threads = True
    system.imap_port = imap.server_address[1]
    thread = threading.Thread(target=imap.serve_forever, daemon=True)
    controller.start()
    thread.start()
    try:
        yield system
    finally:
        imap.shutdown()
        imap.server_close()
        controller.stop()
