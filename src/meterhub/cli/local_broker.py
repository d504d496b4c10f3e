"""A private MQTT broker on a free loopback port, for the demo and the tests.

Prefers the ``mosquitto`` binary (MQTT 5, shared subscriptions, persistence); without it, runs the
pure-Python ``amqtt`` broker in a child process (MQTT 3.1.1 only: no shared subscriptions, so
clients fall back to a plain subscription — see ``LocalBroker.supports_shared_subscriptions``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"MQTT broker exited with code {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"MQTT broker did not listen on 127.0.0.1:{port} within {timeout} s")


_AMQTT_MAIN = """
import asyncio, sys
from amqtt.broker import Broker
port = int(sys.argv[1])
config = {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
          "sys_interval": 0, "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
          "topic-check": {"enabled": False}}
async def main():
    broker = Broker(config)
    await broker.start()
    await asyncio.Event().wait()
asyncio.run(main())
"""


@dataclass
class LocalBroker:
    """A running broker. ``stop()``/``start()`` restart it on the same port (persistence kept)."""

    port: int
    kind: str  # "mosquitto" or "amqtt"
    workdir: Path
    proc: subprocess.Popen | None = None
    password_file: Path | None = None
    extra_config: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def supports_shared_subscriptions(self) -> bool:
        return self.kind == "mosquitto"

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.workdir / "broker.log", "ab")  # noqa: SIM115 - owned by the child process
        if self.kind == "mosquitto":
            conf = self.workdir / "mosquitto.conf"
            lines = [
                f"listener {self.port} 127.0.0.1",
                "allow_anonymous true" if self.password_file is None else "allow_anonymous false",
                "persistence true",
                f"persistence_location {self.workdir}/",
                "max_queued_messages 100000",
                "max_inflight_messages 100",
                "log_dest stderr",
                "log_type error",
                "log_type warning",
                *([f"password_file {self.password_file}"] if self.password_file else []),
                # as root, mosquitto drops to its own user before reading files in our private temp dir
                *(["user root"] if os.geteuid() == 0 and "user root" not in self.extra_config else []),
                *self.extra_config,
            ]
            conf.write_text("\n".join(lines) + "\n")
            cmd = [shutil.which("mosquitto") or "mosquitto", "-c", str(conf)]
        else:
            cmd = [sys.executable, "-c", _AMQTT_MAIN, str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
        _wait_listening(self.port, self.proc)

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def local_broker(*, prefer: str = "auto", users: dict[str, str] | None = None) -> Iterator[LocalBroker]:
    """Start a private broker on a free port; stop it and remove its files on exit.

    ``prefer`` is ``auto`` (mosquitto when installed), ``mosquitto`` or ``amqtt``. ``users`` turns on
    password authentication (mosquitto only).
    """
    kind = prefer
    if prefer == "auto":
        kind = "mosquitto" if shutil.which("mosquitto") else "amqtt"
    if kind == "mosquitto" and not shutil.which("mosquitto"):
        raise RuntimeError("the mosquitto binary is not installed (apt-get install mosquitto)")
    with tempfile.TemporaryDirectory(prefix="meterhub-broker-") as tmp:
        broker = LocalBroker(free_port(), kind, Path(tmp))
        if users:
            if kind != "mosquitto":
                raise RuntimeError("password authentication needs mosquitto")
            pw = Path(tmp) / "passwd"
            pw.write_text("")
            for user, password in users.items():
                subprocess.run(
                    [shutil.which("mosquitto_passwd") or "mosquitto_passwd", "-b", str(pw), user, password],
                    check=True,
                    capture_output=True,
                )
            broker.password_file = pw
        broker.start()
        try:
            yield broker
        finally:
            broker.stop()
