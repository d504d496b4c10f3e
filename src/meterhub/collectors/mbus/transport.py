"""Byte transport for an M-Bus line: a serial port (level converter) or a serial-to-Ethernet
converter (``socket://host:port``), both through pyserial. The only module that does I/O.

Timing follows EN 13757-2, 5.3/5.6: a slave starts its answer 11 to 330 bit times + 50 ms
after the end of the request; characters are 11 bits (start, 8 data, even parity, stop).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from meterhub.collectors.mbus.frames import FrameError, expected_length

BITS_PER_CHAR = 11
POLL_S = 0.005  # pyserial read timeout: the granularity of every wait below [s]


@dataclass(frozen=True, slots=True)
class LineSettings:
    """Serial line parameters and the master's timeouts.

    ``extra_timeout_s`` is added to the EN 13757-2 answer window for converter and OS latency;
    ``idle_s`` is how long the line must be quiet before a partial answer is given up [s];
    ``fixed_delay_s`` is the constant part of the answer window (50 ms in EN 13757-2; only a
    simulator on loopback may be given less).
    """

    baudrate: int = 2400
    parity: str = "E"
    extra_timeout_s: float = 0.05
    idle_s: float = 0.05
    fixed_delay_s: float = 0.05

    @property
    def char_time(self) -> float:
        """Time of one character on the wire [s]."""
        return BITS_PER_CHAR / self.baudrate

    @property
    def answer_timeout(self) -> float:
        """Longest wait for the first answer byte [s]: 330 bit times + 50 ms + extra."""
        return 330 / self.baudrate + self.fixed_delay_s + self.extra_timeout_s


class SerialTransport:
    """One M-Bus line. ``lock`` serialises masters that share it (one transaction at a time)."""

    def __init__(self, url: str, settings: LineSettings | None = None):
        import serial  # pyserial: gateway extra only

        self.url = url
        self.settings = settings or LineSettings()
        self.lock = threading.RLock()
        self.sent_bytes = 0
        self.received_bytes = 0
        self.exchanges = 0
        self._port = serial.serial_for_url(
            url,
            baudrate=self.settings.baudrate,
            parity=self.settings.parity,
            bytesize=8,
            stopbits=1,
            timeout=POLL_S,
        )

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> SerialTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        """Discard stale input, write the request and wait until it has left the UART."""
        self._port.reset_input_buffer()
        self._port.write(data)
        self._port.flush()
        self.sent_bytes += len(data)
        self.exchanges += 1

    def receive(self, request_len: int = 0, check_trailing: bool = False) -> bytes:
        """Read one answer: b"" if nothing came, a frame's bytes, or garbage (left to the caller).

        ``request_len`` lets the wait cover the request still on the wire (write() may return
        before the converter has sent it). With ``check_trailing`` the line is watched for
        bytes after a complete frame (several slaves answering garble the line).
        """
        answer = self._receive(request_len, check_trailing)
        self.received_bytes += len(answer)
        return answer

    def _receive(self, request_len: int, check_trailing: bool) -> bytes:
        s = self.settings
        buf = bytearray(self._read(1, time.monotonic() + s.answer_timeout + request_len * s.char_time))
        if not buf:
            return b""
        while True:
            try:
                need = expected_length(bytes(buf[:3]))
            except FrameError:
                return bytes(buf + self._drain())
            missing = (3 - len(buf)) if need is None else need - len(buf)
            if missing <= 0:
                break
            chunk = self._read(missing, time.monotonic() + missing * s.char_time + s.idle_s)
            if not chunk:
                return bytes(buf)
            buf += chunk
        if check_trailing:
            buf += self._drain()
        return bytes(buf)

    def _read(self, n: int, deadline: float) -> bytes:
        """Up to ``n`` bytes, returning early once the line has been idle for ``idle_s`` after the
        last byte, or at ``deadline``. The port keeps one short poll timeout: changing the timeout
        of an open port re-applies termios settings, which some ttys (ptys) refuse."""
        out = bytearray()
        idle_until = deadline
        while len(out) < n:
            now = time.monotonic()
            if now >= idle_until:
                break
            chunk = self._port.read(n - len(out))
            if chunk:
                out += chunk
                idle_until = max(deadline, time.monotonic() + self.settings.idle_s)
        return bytes(out)

    def _drain(self) -> bytes:
        """Read until the line has been quiet for ``idle_s``."""
        out = bytearray()
        quiet_until = time.monotonic() + self.settings.idle_s + 2 * self.settings.char_time
        while time.monotonic() < quiet_until:
            chunk = self._port.read(256)
            if chunk:
                out += chunk
                quiet_until = time.monotonic() + self.settings.idle_s + 2 * self.settings.char_time
        return bytes(out)


def wire_time(request: int, answer: int, baudrate: int, answer_delay_bits: int = 11) -> float:
    """Minimum line time of one exchange [s]: (request + answer) characters × 11 bits plus the
    slave's answer delay (EN 13757-2 minimum: 11 bit times)."""
    return ((request + answer) * BITS_PER_CHAR + answer_delay_bits) / baudrate
