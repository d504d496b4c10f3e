"""The M-Bus master (EN 13757-2 link layer procedures, EN 13757-3 clause 11 addressing).

* ``ping`` — SND_NKE, expects 0xE5;
* ``read`` — REQ_UD2 read-out by primary address with FCB toggling and multi-telegram
  continuation (DIF 0x1F "more records follow" → next REQ_UD2 with the FCB toggled);
* ``select`` / ``read_secondary`` — secondary addressing (SND_UD CI 0x52 to address 253);
* retries keep the FCB unchanged, so a slave whose answer was lost repeats it (5.7.2).

Works over any transport with ``send``, ``receive`` and ``lock`` (see ``transport.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from meterhub.collectors.mbus import frames as fr
from meterhub.collectors.mbus.addressing import SecondaryAddress, SelectionMask
from meterhub.collectors.mbus.telegram import Telegram, decode_telegram

log = logging.getLogger(__name__)


class Transport(Protocol):
    lock: object

    def send(self, data: bytes) -> None: ...

    def receive(self, request_len: int = 0, check_trailing: bool = False) -> bytes: ...


class MbusError(RuntimeError):
    """A device did not answer usefully; the message names the address and what to check.

    ``kind``: ``timeout`` (no answer), ``frame`` (checksum, length or format error),
    ``collision`` (several slaves selected), ``no_selection`` (no slave matched).
    """

    def __init__(self, message: str, kind: str = "timeout"):
        super().__init__(message)
        self.kind = kind


class SelectOutcome(Enum):
    NONE = "no answer"
    SINGLE = "one slave selected"
    COLLISION = "collision"


@dataclass
class ReadOut:
    """Everything one read-out produced: decoded telegrams, raw frames and link statistics."""

    address: int | str
    telegrams: list[Telegram] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    wire_bytes: int = 0

    @property
    def secondary_address(self) -> SecondaryAddress | None:
        for t in self.telegrams:
            h = t.header
            if h is not None and h.identification and h.manufacturer is not None:
                return SecondaryAddress(h.identification, h.manufacturer, h.version or 0, h.medium or 0)
        return None


class MbusMaster:
    def __init__(
        self, transport: Transport, retries: int = 2, max_telegrams: int = 16, select_retries: int = 0
    ):
        self.transport = transport
        self.retries = retries
        self.select_retries = select_retries
        self.max_telegrams = max_telegrams
        self._fcb: dict[int, bool] = {}

    # --- single exchanges -----------------------------------------------------------------
    def _exchange(self, request: bytes, check_trailing: bool = False) -> bytes:
        self.transport.send(request)
        return self.transport.receive(len(request), check_trailing)

    def ping(self, address: int) -> bool:
        """SND_NKE (link reset); True when the slave acknowledged with 0xE5."""
        _check_address(address)
        with self.transport.lock:  # type: ignore[attr-defined]
            for _ in range(self.retries + 1):
                answer = self._exchange(fr.snd_nke(address))
                if answer == bytes([fr.ACK]):
                    self._fcb[address] = True  # the first FCV frame after SND_NKE carries FCB = 1
                    return True
        return False

    def read(self, address: int, reset: bool = True) -> ReadOut:
        """Read all telegrams of one slave (REQ_UD2 until no 0x1F record follows)."""
        _check_address(address)
        out = ReadOut(address)
        with self.transport.lock:  # type: ignore[attr-defined]
            if reset and not self.ping(address):
                raise MbusError(
                    f"M-Bus address {address}: no acknowledge to SND_NKE "
                    f"after {self.retries + 1} tries (check the address, wiring and baud rate)"
                )
            self._read_telegrams(address, out)
        return out

    def _read_telegrams(self, address: int, out: ReadOut, limit: int | None = None) -> None:
        fcb = self._fcb.get(address, True)
        limit = self.max_telegrams if limit is None else limit
        while len(out.telegrams) < limit:
            frame, raw = self._request_ud2(address, fcb, out)
            out.frames.append(raw)
            telegram = decode_telegram(frame.ci, frame.data)
            out.telegrams.append(telegram)
            fcb = not fcb  # the transaction succeeded: the next one toggles the FCB
            self._fcb[address] = fcb
            if not telegram.more_records_follow:
                return
        if limit == self.max_telegrams:
            log.warning("M-Bus address %s: stopped after %d telegrams", address, limit)

    def _request_ud2(self, address: int, fcb: bool, out: ReadOut) -> tuple[fr.LongFrame, bytes]:
        request = fr.req_ud2(address, fcb)
        problem, kind = "no answer", "timeout"
        for attempt in range(self.retries + 1):
            if attempt:
                out.retries += 1
            out.requests += 1
            raw = self._exchange(request)
            out.wire_bytes += len(request) + len(raw)
            if not raw:
                problem, kind = "no answer (timeout)", "timeout"
                continue
            try:
                frame = fr.decode_frame(raw)
            except fr.FrameError as exc:
                problem, kind = f"{exc} (raw {raw.hex(' ')})", "frame"
                continue
            if not fr.is_rsp_ud(frame):
                problem, kind = f"unexpected answer {raw.hex(' ')} to REQ_UD2", "frame"
                continue
            assert isinstance(frame, fr.LongFrame)
            if address <= 250 and frame.address != address:
                # A late answer to an earlier request (or another slave): never take it for this one.
                problem, kind = f"answer came from address {frame.address}", "frame"
                continue
            return frame, raw
        raise MbusError(
            f"M-Bus address {address}: REQ_UD2 failed after {self.retries + 1} tries: {problem}", kind
        )

    # --- secondary addressing -------------------------------------------------------------
    def select(self, mask: SelectionMask) -> SelectOutcome:
        """SND_UD with CI 0x52 to address 253; classify the line's answer.

        One clean 0xE5 → exactly one slave matched. Silence → none. Anything else (garbled
        bytes, a bad frame, 0xE5 followed by noise) → several slaves answered at once.
        """
        request = fr.snd_ud(fr.ADDRESS_SECONDARY, fr.CI.SELECT_SECONDARY, mask.encode())
        with self.transport.lock:  # type: ignore[attr-defined]
            answer = self._exchange(request, check_trailing=True)
            for _ in range(self.select_retries):
                if answer:
                    break
                # A lost ACK and an empty subtree look alike; noisy lines may ask again.
                answer = self._exchange(request, check_trailing=True)
        if not answer:
            return SelectOutcome.NONE
        if answer == bytes([fr.ACK]):
            self._fcb[fr.ADDRESS_SECONDARY] = True
            return SelectOutcome.SINGLE
        return SelectOutcome.COLLISION

    def read_secondary(self, mask: SelectionMask) -> ReadOut:
        """Select one slave by secondary address (wildcards allowed) and read it at address 253."""
        with self.transport.lock:  # type: ignore[attr-defined]
            outcome = self.select(mask)
            if outcome is SelectOutcome.NONE:
                raise MbusError(
                    f"M-Bus secondary address {mask}: no slave answered the selection", "no_selection"
                )
            if outcome is SelectOutcome.COLLISION:
                raise MbusError(
                    f"M-Bus secondary address {mask}: several slaves match (collision); "
                    "use a more specific address or run a scan",
                    "collision",
                )
            return self.read_selected(str(mask))

    def read_selected(self, label: str = "253", max_telegrams: int | None = None) -> ReadOut:
        """Read the slave selected by the last successful ``select`` (address 253);
        ``max_telegrams=1`` is enough to learn its secondary address."""
        out = ReadOut(label)
        with self.transport.lock:  # type: ignore[attr-defined]
            self._read_telegrams(fr.ADDRESS_SECONDARY, out, max_telegrams)
        return out


def _check_address(address: int) -> None:
    if not (0 <= address <= 250 or address in (fr.ADDRESS_SECONDARY, fr.ADDRESS_BROADCAST_REPLY)):
        raise ValueError(f"M-Bus primary address {address} is out of range 0..250 (or 253/254)")
