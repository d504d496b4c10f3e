"""Log lines during the demo's live view: printed above it, and kept for the summary.

``logging.basicConfig`` writes to the ``sys.stderr`` it found at start-up, underneath rich's live
display, so a warning tears the redrawn table apart and is wiped by the next redraw. While the
demo runs, the root logger's handlers are replaced by a :class:`rich.logging.RichHandler` on the
demo's console (rich prints it above the live table; the first message of each kind, repeats only
with ``-v``) and a :class:`WarningLog` that keeps every warning and error, counted by kind, for the
final summary.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import Counter
from collections.abc import Iterator

from rich.console import Console
from rich.logging import RichHandler

_VARYING = re.compile(r"\b[0-9a-f]{2}\b|\d+")  # frame bytes, numbers, times


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad format string must not break the demo
        return str(record.msg)


def message_kind(record: logging.LogRecord) -> tuple[str, str]:
    """Records that differ only in numbers or frame bytes are one kind (e.g. a device's repeated
    CRC errors)."""
    return record.name, _VARYING.sub("#", _message(record))


class WarningLog(logging.Handler):
    """Keeps WARNING and above: the first message of each kind and how often the kind occurred."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.first: dict[tuple[str, str], tuple[str, str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        kind = message_kind(record)
        self.counts[kind] += 1
        self.first.setdefault(kind, (record.levelname, f"{record.name}: {_message(record)}"))

    def lines(self, limit: int = 12) -> list[str]:
        out = []
        for kind, n in self.counts.most_common(limit):
            level, text = self.first[kind]
            out.append(f"{level} ×{n} {text}" if n > 1 else f"{level} {text}")
        rest = len(self.counts) - limit
        if rest > 0:
            out.append(f"… and {rest} other messages")
        return out


class FirstOfEachKind(logging.Filter):
    """Lets through the first record of each kind; the summary counts the repeats."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        kind = message_kind(record)
        if kind in self.seen:
            return False
        self.seen.add(kind)
        return True


@contextlib.contextmanager
def logs_above_live(console: Console, *, verbose: bool = False) -> Iterator[WarningLog]:
    """Route log records through ``console`` (above a live display) and collect the warnings."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    shown = RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False)
    shown.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not verbose:
        shown.addFilter(FirstOfEachKind())
    kept = WarningLog()
    root.handlers = [shown, kept]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    try:
        yield kept
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
