"""M-Bus slave simulator: several meters on one line, over a pseudo-terminal or TCP.

``MbusLine`` is the line itself (pure logic, no I/O): it takes one master request and returns
what the master would see — nothing, one slave's answer, or the garbled superposition of
several answers (a collision). ``PtyMbusServer`` and ``TcpMbusServer`` put a line on a real tty
(``os.openpty``) or a TCP socket and pace the bytes at the configured baud rate (11 bits per
character: start, 8 data, even parity, stop — EN 13757-2, 5.3).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from meterhub.simulators import mbus_encoding as enc
from meterhub.simulators.mbus_meters import SimulatedMeter

SND_NKE, SND_UD, REQ_UD2 = 0x40, 0x43, 0x4B
ADDR_SECONDARY, ADDR_ALL_REPLY, ADDR_BROADCAST = 0xFD, 0xFE, 0xFF
BITS_PER_CHAR = 11


@dataclass(frozen=True, slots=True)
class LineAnswer:
    """Bytes on the line after a request and the extra delay before they start [s]."""

    data: bytes
    extra_delay_s: float = 0.0
    collision: bool = False


def _uart_bits(data: bytes) -> list[int]:
    bits: list[int] = []
    for byte in data:
        payload = [(byte >> i) & 1 for i in range(8)]
        bits += [0, *payload, sum(payload) & 1, 1]
    return bits


def _uart_bytes(bits: list[int]) -> bytes:
    """What a UART (8E1) reads from a bit stream: every start bit begins a character."""
    out = bytearray()
    i = 0
    while i < len(bits):
        if bits[i] == 1:
            i += 1
            continue
        char = bits[i + 1 : i + 9] + [1] * max(0, 8 - len(bits[i + 1 : i + 9]))
        out.append(sum(bit << n for n, bit in enumerate(char)))
        i += BITS_PER_CHAR
    return bytes(out)


def superpose(answers: list[bytes], skew_bits: int = 3) -> bytes:
    """Several slaves answering at once: the M-Bus master sees the wired-AND of their bit streams
    (a space — logical 0 — is the higher current and dominates). The slaves' answer delays
    differ, so each stream is shifted by ``skew_bits`` more than the previous one."""
    streams = [[1] * (k * skew_bits) + _uart_bits(a) for k, a in enumerate(answers)]
    length = max(len(s) for s in streams)
    wire = [min(s[i] if i < len(s) else 1 for s in streams) for i in range(length)]
    return _uart_bytes(wire)


class MbusLine:
    """The meters on one M-Bus line and their answers to one request at a time."""

    def __init__(self, meters: list[SimulatedMeter], clock: Callable[[], datetime] | None = None):
        self.meters = meters
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock = threading.Lock()
        self.requests = 0
        self.collisions = 0
        self.history: deque[enc.Request] = deque(maxlen=1000)  # requests seen, newest last

    def handle(self, raw: bytes) -> LineAnswer | None:
        """Process one request frame; None if no slave answers (or the frame was corrupt)."""
        req = enc.parse_request(raw)
        if req is None:
            return None
        with self.lock:
            self.requests += 1
            self.history.append(req)
            now = self.clock()
            for meter in self.meters:
                meter.apply_schedule(now)
            answers: list[tuple[SimulatedMeter, bytes]] = []
            if req.function == SND_NKE:
                for m in self._addressed(req.address):
                    m.reset_link()
                    if req.address == ADDR_SECONDARY:
                        m.selected = False
                    answers.append((m, enc.E5))
            elif req.function == SND_UD and req.ci == 0x52 and req.address == ADDR_SECONDARY:
                for m in self.meters:
                    m.selected = len(req.data) >= 8 and m.matches(req.data[:8])
                    if m.selected:
                        m.reset_link()
                        answers.append((m, enc.E5))
            elif req.function == SND_UD:
                answers = [(m, enc.E5) for m in self._addressed(req.address)]
            elif req.function == REQ_UD2:
                answers = [(m, m.answer_req_ud2(req.fcb, req.fcv, now)) for m in self._addressed(req.address)]
            if req.address == ADDR_BROADCAST:
                return None
            return self._line_answer(answers)

    def _addressed(self, address: int) -> list[SimulatedMeter]:
        if address == ADDR_SECONDARY:
            return [m for m in self.meters if m.selected]
        if address in (ADDR_ALL_REPLY, ADDR_BROADCAST):
            return list(self.meters)
        return [m for m in self.meters if m.primary_address == address]

    def _line_answer(self, answers: list[tuple[SimulatedMeter, bytes]]) -> LineAnswer | None:
        sent: list[bytes] = []
        delay = 0.0
        for meter, data in answers:
            f = meter.faults
            if f.no_answer > 0:
                f.no_answer -= 1
                continue
            if f.late_answer > 0:
                f.late_answer -= 1
                delay = max(delay, f.late_delay_s)
            if len(data) > 1 and f.bad_checksum > 0:
                f.bad_checksum -= 1
                data = data[:-2] + bytes(((data[-2] + 1) & 0xFF,)) + data[-1:]
            elif len(data) > 6 and f.wrong_length > 0:
                f.wrong_length -= 1
                data = data[:-3] + data[-2:]  # one data byte lost, L field unchanged
            sent.append(data)
        if not sent:
            return None
        if len(sent) == 1:
            return LineAnswer(sent[0], delay)
        self.collisions += 1
        return LineAnswer(superpose(sent), delay, collision=True)


class _Server:
    """Common request framing and paced answering for the pty and TCP servers."""

    def __init__(self, line: MbusLine, baudrate: int | None, answer_delay_s: float):
        self.line = line
        self.baudrate = baudrate
        self.answer_delay_s = answer_delay_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def char_time(self) -> float:
        return BITS_PER_CHAR / self.baudrate if self.baudrate else 0.0

    def _serve(self, read: Callable[[float], bytes], write: Callable[[bytes], None]) -> None:
        buf = bytearray()
        last = time.monotonic()
        while not self._stop.is_set():
            chunk = read(0.05)
            now = time.monotonic()
            if chunk is None:  # type: ignore[comparison-overlap]
                return
            if not chunk:
                if buf and now - last > max(0.05, 20 * self.char_time):
                    buf.clear()  # incomplete request: the slave UARTs time out and discard it
                continue
            if not buf:
                # A pty or socket delivers the request at once; on a real line it would take
                # len × 11 bit times from here, so the answer is scheduled after that.
                first_byte_at = now
            buf += chunk
            last = now
            while buf:
                need = enc.request_length(bytes(buf[:2]))
                if need == -1:
                    del buf[0]
                    continue
                if need is None or len(buf) < need:
                    break
                request = bytes(buf[:need])
                del buf[:need]
                self._answer(request, first_byte_at, write)
                first_byte_at = time.monotonic()

    def _answer(self, request: bytes, first_byte_at: float, write: Callable[[bytes], None]) -> None:
        answer = self.line.handle(request)
        if answer is None:
            return
        # The request occupies the wire for len × 11 bit times; the slave answers after it.
        start = first_byte_at + len(request) * self.char_time + self.answer_delay_s + answer.extra_delay_s
        _sleep_until(start)
        if not self.char_time:
            write(answer.data)
            return
        # Each chunk is handed over when its last character would have been received.
        step = max(1, int(0.01 / self.char_time))
        t0 = time.monotonic()
        for i in range(0, len(answer.data), step):
            chunk = answer.data[i : i + step]
            _sleep_until(t0 + (i + len(chunk)) * self.char_time)
            write(chunk)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="mbus-sim")
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        time.sleep(delay)


class PtyMbusServer(_Server):
    """The line on a pseudo-terminal: open ``server.device`` with pyserial like a real port."""

    def __init__(self, line: MbusLine, baudrate: int | None = 2400, answer_delay_s: float = 0.01):
        super().__init__(line, baudrate, answer_delay_s)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.device = os.ttyname(self._slave)
        self._spawn(self._serve, self._read, self._write)

    def _read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self._master, 4096)
        except OSError:
            return b""

    def _write(self, data: bytes) -> None:
        os.write(self._master, data)

    def stop(self) -> None:
        super().stop()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class TcpMbusServer(_Server):
    """The line behind a serial-to-Ethernet converter: ``socket://host:port`` for pyserial."""

    def __init__(
        self,
        line: MbusLine,
        host: str = "127.0.0.1",
        port: int = 0,
        baudrate: int | None = None,
        answer_delay_s: float = 0.0,
    ):
        super().__init__(line, baudrate, answer_delay_s)
        self._sock = socket.create_server((host, port))
        self._sock.settimeout(0.1)
        self.host, self.port = self._sock.getsockname()[:2]
        self._spawn(self._accept)

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._serve_conn, conn)
        self._sock.close()

    def _serve_conn(self, conn: socket.socket) -> None:
        def read(timeout: float) -> bytes | None:
            ready, _, _ = select.select([conn], [], [], timeout)
            if not ready:
                return b""
            try:
                data = conn.recv(4096)
            except OSError:
                return None
            return data if data else None

        with conn:
            self._serve(read, conn.sendall)  # type: ignore[arg-type]
