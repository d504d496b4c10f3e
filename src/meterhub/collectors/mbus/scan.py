"""Secondary-address scan of a whole M-Bus line (wildcard tree search, EN 13757-3 11.4).

Start with the mask ``FFFFFFFF`` (every digit a wildcard) and select:

* no answer — no meter in this subtree;
* one clean 0xE5 — exactly one meter: read it at address 253 to learn its full address;
* a collision (garbled answer) — several meters: fix the leftmost wildcard digit to 0..9 in turn
  and select again, one level deeper.

Each meter is found after at most 8 levels; the number of selections grows with the number of
meters sharing prefixes, not with the 10^8 address space. Meters that still collide with all
8 digits fixed (same identification number, different manufacturer/version/medium) are resolved
by the medium byte of the meters seen so far and otherwise reported as unresolved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from meterhub.collectors.mbus.addressing import SecondaryAddress, SelectionMask
from meterhub.collectors.mbus.master import MbusError, MbusMaster, SelectOutcome


@dataclass
class ScanResult:
    found: list[SecondaryAddress] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    selections: int = 0
    collisions: int = 0


def scan_secondary(
    master: MbusMaster,
    start: SelectionMask | None = None,
    progress: Callable[[str, SelectOutcome], None] | None = None,
) -> ScanResult:
    """Find every meter on the line below ``start`` (default: all)."""
    result = ScanResult()
    stack = [start or SelectionMask()]
    while stack:
        mask = stack.pop()
        outcome = master.select(mask)
        result.selections += 1
        if progress:
            progress(str(mask), outcome)
        if outcome is SelectOutcome.NONE:
            continue
        if outcome is SelectOutcome.SINGLE:
            _read_selected(master, mask, result)
            continue
        result.collisions += 1
        ident = mask.identification
        pos = ident.find("F")
        if pos < 0:
            _resolve_same_id(master, mask, result)
            continue
        # Push in reverse so digits are visited 0..9 (addresses come out sorted).
        for digit in "9876543210":
            stack.append(replace(mask, identification=ident[:pos] + digit + ident[pos + 1 :]))
    return result


def _read_selected(master: MbusMaster, mask: SelectionMask, result: ScanResult) -> None:
    try:
        out = master.read_selected(str(mask), max_telegrams=1)  # the header is all we need
    except MbusError as exc:
        result.unresolved.append(f"{mask}: {exc}")
        return
    address = out.secondary_address
    if address is None:
        result.unresolved.append(f"{mask}: selected meter sent no long header")
    elif address not in result.found:
        result.found.append(address)


def _resolve_same_id(master: MbusMaster, mask: SelectionMask, result: ScanResult) -> None:
    """Several meters with one identification number: split by medium (common values)."""
    media = sorted({a.medium for a in result.found} | {0x02, 0x03, 0x04, 0x06, 0x07, 0x0C, 0x15, 0x16})
    resolved = False
    for medium in media:
        sub = replace(mask, medium=medium)
        outcome = master.select(sub)
        result.selections += 1
        if outcome is SelectOutcome.SINGLE:
            _read_selected(master, sub, result)
            resolved = True
        elif outcome is SelectOutcome.COLLISION:
            result.unresolved.append(f"{sub}: meters collide even with identification and medium fixed")
    if not resolved:
        result.unresolved.append(f"{mask}: collision with all digits fixed")
