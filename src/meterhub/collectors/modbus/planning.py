"""Request planning: merge a device's registers into the fewest reads. Pure, no I/O.

Registers of one function (holding or input) are sorted by address and merged greedily into reads
of at most ``max_registers_per_read`` registers (Modbus allows 125), reading across gaps of up to
``max_gap`` unused registers — one longer read is cheaper on a slow line than two short ones.
A gap is never read across an address the device rejects (``forbidden``).

When a device answers a read with exception 02 (illegal data address), :func:`after_rejection`
learns from it: the unused addresses inside the rejected read become forbidden (devices reject
holes in their map); a rejected read without holes isolates its registers (each read alone next
time); a register rejected when read alone is reported as unreadable. Re-planning with the new
:class:`PlanState` converges in a few rounds.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from meterhub.collectors.modbus.profile import MAX_REGISTERS_PER_READ, Function


@dataclass(frozen=True, slots=True)
class Span:
    """One value to read: ``count`` registers from ``address`` with ``function``; ``key`` names it."""

    key: Hashable
    function: Function
    address: int
    count: int

    @property
    def end(self) -> int:
        """Last address (inclusive)."""
        return self.address + self.count - 1


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One Modbus read (function code 3 or 4) and the spans it covers."""

    function: Function
    address: int
    count: int
    spans: tuple[Span, ...]

    @property
    def end(self) -> int:
        return self.address + self.count - 1


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """Per-device reading quirks (configuration, not code)."""

    max_registers_per_read: int = MAX_REGISTERS_PER_READ
    max_gap: int = 16
    one_register_per_request: bool = False


@dataclass(frozen=True, slots=True)
class PlanState:
    """What the planner has learnt about a device.

    ``forbidden``: address ranges never read across (a span inside one is only read alone);
    ``isolated``: spans read alone; ``rejected``: spans the device refused even alone (unreadable).
    """

    forbidden: frozenset[tuple[Function, int, int]] = frozenset()
    isolated: frozenset[Hashable] = frozenset()
    rejected: frozenset[Hashable] = frozenset()

    def is_forbidden(self, function: Function, start: int, end: int) -> bool:
        """Whether any address in ``start..end`` (inclusive) is forbidden for ``function``."""
        return any(f is function and a <= end and b >= start for f, a, b in self.forbidden)

    def with_forbidden(self, function: Function, ranges: Iterable[tuple[int, int]]) -> PlanState:
        added = {(function, a, b) for a, b in ranges}
        return replace(self, forbidden=self.forbidden | added)


@dataclass(frozen=True, slots=True)
class Plan:
    """The reads for one poll, and the spans the device refuses (exception 02 even when read alone)."""

    requests: tuple[ReadRequest, ...]
    unreadable: tuple[Span, ...] = field(default=())

    @property
    def register_count(self) -> int:
        """Registers transferred in total (including gaps read across)."""
        return sum(r.count for r in self.requests)


def plan_reads(
    spans: Sequence[Span], options: PlanOptions = PlanOptions(), state: PlanState = PlanState()
) -> Plan:
    """Merge spans into the fewest reads that respect the limits and what the device rejects."""
    limit = options.max_registers_per_read
    requests: list[ReadRequest] = []
    unreadable: list[Span] = []
    for function in (Function.HOLDING, Function.INPUT):
        ordered = sorted((s for s in spans if s.function is function), key=lambda s: (s.address, s.count))
        current: list[Span] = []
        start = end = 0
        for span in ordered:
            if span.count > limit:
                raise ValueError(f"{span.key!r} needs {span.count} registers, above the read limit {limit}")
            if span.key in state.rejected:
                unreadable.append(span)
                continue
            if current and _can_join(current, start, end, span, options, state):
                end = max(end, span.end)
                current.append(span)
                continue
            if current:
                requests.append(ReadRequest(function, start, end - start + 1, tuple(current)))
            current, start, end = [span], span.address, span.end
        if current:
            requests.append(ReadRequest(function, start, end - start + 1, tuple(current)))
    return Plan(tuple(requests), tuple(unreadable))


def _can_join(
    current: list[Span], start: int, end: int, span: Span, options: PlanOptions, state: PlanState
) -> bool:
    if options.one_register_per_request or _alone(span, state):
        # identical spans (same address and size) may still share one read
        return all(s.address == span.address and s.count == span.count for s in current)
    if any(_alone(s, state) for s in current):
        return False
    new_end = max(end, span.end)
    if new_end - start + 1 > options.max_registers_per_read:
        return False
    gap = span.address - end - 1
    if gap > options.max_gap:
        return False
    return gap <= 0 or not state.is_forbidden(span.function, end + 1, span.address - 1)


def _alone(span: Span, state: PlanState) -> bool:
    """Whether a span must be read on its own (isolated, or touching a forbidden range)."""
    return span.key in state.isolated or state.is_forbidden(span.function, span.address, span.end)


def unused_ranges(request: ReadRequest) -> list[tuple[int, int]]:
    """Addresses inside a read that no span uses, as inclusive ranges."""
    used = sorted((s.address, s.end) for s in request.spans)
    holes: list[tuple[int, int]] = []
    cursor = request.address
    for a, b in used:
        if a > cursor:
            holes.append((cursor, a - 1))
        cursor = max(cursor, b + 1)
    if cursor <= request.end:
        holes.append((cursor, request.end))
    return holes


def after_rejection(state: PlanState, request: ReadRequest) -> PlanState:
    """Learn from an exception-02 answer (illegal data address) to ``request``.

    * holes in the read → forbid them (the device's map has gaps there);
    * several spans, no holes → isolate those spans (read each alone);
    * one span (or identical spans) read alone → it is unreadable.
    """
    holes = unused_ranges(request)
    if holes:
        return state.with_forbidden(request.function, holes)
    distinct = {(s.address, s.count) for s in request.spans}
    if len(distinct) > 1:
        return replace(state, isolated=state.isolated | {s.key for s in request.spans})
    return replace(state, rejected=state.rejected | {s.key for s in request.spans})


def wire_request_count(spans: Sequence[Span]) -> int:
    """Reads needed with one read per span (the naive baseline the planner is compared against)."""
    return len({(s.function, s.address, s.count) for s in spans})
