"""Helpers for the M-Bus tests that read telegrams from ``tests/data/mbus`` (see its README)."""

from __future__ import annotations

from pathlib import Path

from meterhub.collectors.mbus import Function, decode_frame, decode_telegram
from meterhub.collectors.mbus.frames import LongFrame
from meterhub.collectors.mbus.telegram import Telegram

DATA = Path(__file__).resolve().parents[1] / "data" / "mbus"


def frame_bytes(name: str) -> bytes:
    """The frame of ``tests/data/mbus/<name>.hex`` (``damaged/<name>`` for the broken ones)."""
    return bytes.fromhex((DATA / f"{name}.hex").read_text())


def telegram(name: str) -> Telegram:
    frame = decode_frame(frame_bytes(name))
    assert isinstance(frame, LongFrame)
    return decode_telegram(frame.ci, frame.data)


def find(
    t: Telegram, quantity: str, *, storage=0, tariff=0, subunit=0, function=Function.INSTANTANEOUS, vife=()
):
    """The one record of ``quantity`` at these coordinates with exactly these VIFE texts."""
    hits = [
        r
        for r in t.data_records
        if r.quantity == quantity
        and r.storage == storage
        and r.tariff == tariff
        and r.subunit == subunit
        and r.function == function
        and r.vife == tuple(vife)
    ]
    assert len(hits) == 1, (quantity, hits)
    return hits[0]


def manufacturer(*phase: int) -> tuple[str, ...]:
    """The VIFE texts of a record behind VIFE 0x7F/0xFF followed by manufacturer VIFEs."""
    return ("manufacturer specific VIFE follows", *(f"manufacturer VIFE 0x{p:02X}" for p in phase))
