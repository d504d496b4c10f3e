"""A simulated RS-485 line: two pseudo-terminal pairs joined by a relay that paces bytes at the baud rate.

The simulator's serial server opens :attr:`SerialWire.device_port`, the collector opens
:attr:`SerialWire.master_port` — both are real tty devices (``os.openpty``), so pyserial and pymodbus
run their real serial code. The relay delivers each chunk when its last character would have
arrived on a half-duplex line of ``baudrate`` (11 bits per character): one direction at a time,
and after each frame the line stays silent for 3.5 characters (the RTU end-of-frame interval a
device must observe before it answers), so the wire's timing is what a real 9600-baud line allows.
``baudrate=None`` relays at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty


class SerialWire:
    """Two ttys joined like the two ends of one serial line."""

    def __init__(
        self, baudrate: int | None = 9600, bits_per_character: int = 11, frame_gap_characters: float = 3.5
    ) -> None:
        self.baudrate = baudrate
        self.character_time = bits_per_character / baudrate if baudrate else 0.0
        self.frame_gap = frame_gap_characters * self.character_time
        self._fds: list[int] = []
        self._masters: tuple[int, int] | None = None
        self._paths: tuple[str, str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._free_at = 0.0
        self.bytes_to_device = 0
        self.bytes_to_master = 0

    @property
    def master_port(self) -> str:
        """The tty a Modbus master (the collector) opens."""
        assert self._paths is not None, "SerialWire.start() first"
        return self._paths[0]

    @property
    def device_port(self) -> str:
        """The tty the simulated devices (the server) open."""
        assert self._paths is not None, "SerialWire.start() first"
        return self._paths[1]

    def start(self) -> None:
        """Create the pty pairs and start relaying (needs a running event loop)."""
        self._loop = asyncio.get_running_loop()
        masters, paths = [], []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo, no line editing before pyserial configures the port
            os.set_blocking(master, False)
            self._fds += [master, slave]  # keep the slave open: no hang-up when a peer closes
            masters.append(master)
            paths.append(os.ttyname(slave))
        self._masters = (masters[0], masters[1])
        self._paths = (paths[0], paths[1])
        self._loop.add_reader(masters[0], self._relay, masters[0], masters[1])
        self._loop.add_reader(masters[1], self._relay, masters[1], masters[0])

    def _relay(self, source: int, target: int) -> None:
        try:
            data = os.read(source, 4096)
        except (BlockingIOError, OSError):
            return
        if not data:
            return
        toward_device = bool(self._masters) and source == self._masters[0]
        if toward_device:
            self.bytes_to_device += len(data)
        else:
            self.bytes_to_master += len(data)
        assert self._loop is not None
        if not self.baudrate:
            self._write(target, data)
            return
        end = max(self._loop.time(), self._free_at) + len(data) * self.character_time
        self._free_at = end + self.frame_gap
        # a device recognises the end of a request only after the 3.5-character silence
        deliver_at = end + self.frame_gap if toward_device else end
        self._loop.call_at(deliver_at, self._write, target, data)

    def inject(self, data: bytes, *, to_master: bool = True) -> None:
        """Put raw bytes on the line (noise, a stray frame) toward the master or toward the devices."""
        assert self._masters is not None, "SerialWire.start() first"
        self._write(self._masters[0] if to_master else self._masters[1], data)

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(fd, data)

    def close(self) -> None:
        if self._loop is not None and self._masters is not None:
            for fd in self._masters:
                with contextlib.suppress(Exception):
                    self._loop.remove_reader(fd)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        self._masters = None
