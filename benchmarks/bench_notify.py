"""Cabinet notifications by e-mail: letters/s the outbox sends (``meterhub notify send``'s ``send_due``)
to a real local SMTP server (aiosmtpd on loopback), one sender and two at once, next to a baseline
measured in the same run: the same letters sent over one SMTP connection with no database at all.

    .venv/bin/python benchmarks/bench_notify.py [--letters 2000]

Setup (not timed): ``--letters`` residents with an e-mail who want security notices by e-mail, one
notification each through ``notify()`` (which queues the letter in the same transaction; its rate is
printed too). Each sending pass starts from the same queue (the letters are put back to pending).
Two senders claim letters with ``FOR UPDATE SKIP LOCKED``; the run checks that the server received
every letter exactly once. Numbers are noisy on a shared 2-core machine: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from _db import bench_database

from meterhub.api.email_notices import send_due
from meterhub.api.mailer import SmtpSession
from meterhub.api.notifications import notify
from meterhub.core.settings import Settings


class Counting:
    """aiosmtpd handler: counts letters per recipient."""

    def __init__(self) -> None:
        self.got: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.got[envelope.rcpt_tos[0]] += 1
        return "250 OK"


def _setup(url: str, n: int) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO api_users (username, password_hash, role, email)"
            " SELECT 'u' || i, 'x', 'resident', 'u' || i || '@example.ru' FROM generate_series(1, %s) i",
            (n,),
        )
        conn.execute("INSERT INTO api_email_optins (user_id, kind) SELECT user_id, 'security' FROM api_users")
        ids = [r[0] for r in conn.execute("SELECT user_id FROM api_users ORDER BY user_id")]
        start = time.perf_counter()
        for uid in ids:
            with conn.transaction():
                notify(conn, [uid], "security", f"Уведомление № {uid}", subject_key=f"bench:{uid}")
        return time.perf_counter() - start


def _requeue(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_email_outbox SET status = 'pending', attempts = 0, sent_at = NULL,"
            " next_attempt_at = '2000-01-01'"
        )


def _senders(url: str, settings: Settings, count: int) -> float:
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        send_due(lambda: psycopg.connect(url, autocommit=True), settings, now=lambda: datetime.now(UTC))

    threads = [threading.Thread(target=run) for _ in range(count)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=2000)
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with bench_database() as url:
            settings = Settings(database_url=url, smtp_host="127.0.0.1", smtp_port=port)
            enqueue = _setup(url, args.letters)
            with psycopg.connect(url) as conn:
                letters = conn.execute(
                    "SELECT recipient, subject, body FROM api_email_outbox ORDER BY id"
                ).fetchall()
            start = time.perf_counter()
            with SmtpSession(settings) as smtp:
                for to, subject, body in letters:
                    smtp.send(to, subject, body)
            baseline = time.perf_counter() - start
            rows = [("SMTP only, one connection, no database (baseline)", baseline)]
            for count in (1, 2):
                _requeue(url)
                handler.got.clear()
                elapsed = _senders(url, settings, count)
                got = handler.got
                assert len(got) == args.letters and set(got.values()) == {1}, "not every letter exactly once"
                rows.append((f"outbox, {count} sender{'s' if count > 1 else ''} (send_due)", elapsed))
    finally:
        controller.stop()
    n = args.letters
    print(f"{n} letters to aiosmtpd on loopback; load average {os.getloadavg()[0]:.2f} (2 shared cores)")
    print(f"queueing through notify(): {n / enqueue:,.0f} notices/s (one transaction each)")
    print(f"{'':<52} {'s':>7} {'letters/s':>10} {'× baseline':>10}")
    for name, seconds in rows:
        print(f"{name:<52} {seconds:7.2f} {n / seconds:10,.0f} {baseline / seconds:10.2f}")


if __name__ == "__main__":
    main()
