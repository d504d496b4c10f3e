"""A real local SMTP server for the API tests: aiosmtpd on a fixed loopback port that can be stopped and
started again (an SMTP server that is down and comes back), refuse chosen recipients, delay or hold
letters; it keeps every letter it accepted. The ``mail`` fixture of tests/api/conftest.py runs one
per module."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_string, policy


class MailServer:
    """aiosmtpd on a fixed loopback port that can be stopped and started again; keeps every letter."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.letters: list[tuple[list[str], str]] = []
        self.refuse: set[str] = set()
        self.delay = 0.0
        self.wait_for_sessions = 0  # hold every letter until this many SMTP sessions have sent a RCPT
        self.sessions: set[int] = set()
        self._lock = threading.Lock()
        self._controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        self.sessions.add(id(session))
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for _ in range(1000):  # at most 10 s
            if len(self.sessions) >= self.wait_for_sessions:
                break
            await asyncio.sleep(0.01)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.letters.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def read(self, index: int = -1) -> tuple[list[str], str, str]:
        """(recipients, subject, text) of a letter."""
        to, raw = self.letters[index]
        message = message_from_string(raw, policy=policy.default)
        return to, str(message["Subject"]), message.get_body().get_content()
