"""Request planning: fewest reads within 125 registers, gaps, forbidden addresses, re-planning."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from modbus_support import modbus_profile

from meterhub.collectors.modbus.device import profile_spans
from meterhub.collectors.modbus.planning import (
    PlanOptions,
    PlanState,
    Span,
    after_rejection,
    plan_reads,
    unused_ranges,
    wire_request_count,
)
from meterhub.collectors.modbus.profile import Function

H, INP = Function.HOLDING, Function.INPUT


def spans(*items: tuple[int, int], function: Function = INP) -> list[Span]:
    return [Span(f"r{a}", function, a, n) for a, n in items]


def test_contiguous_registers_become_one_read() -> None:
    plan = plan_reads(spans((0, 2), (2, 2), (4, 2)))
    assert [(r.address, r.count) for r in plan.requests] == [(0, 6)]


def test_small_gaps_are_read_across_large_ones_split() -> None:
    plan = plan_reads(spans((0, 2), (6, 2), (40, 2)), PlanOptions(max_gap=10))
    assert [(r.address, r.count) for r in plan.requests] == [(0, 8), (40, 2)]


def test_reads_never_exceed_the_limit() -> None:
    plan = plan_reads(spans(*[(a, 2) for a in range(0, 300, 2)]))
    assert [r.count for r in plan.requests] == [124, 124, 52]
    plan = plan_reads(spans(*[(a, 2) for a in range(0, 100, 2)]), PlanOptions(max_registers_per_read=80))
    assert max(r.count for r in plan.requests) <= 80


def test_functions_are_planned_separately() -> None:
    plan = plan_reads([*spans((0, 2)), *spans((0, 2), function=H)])
    assert sorted((r.function.code, r.address) for r in plan.requests) == [(3, 0), (4, 0)]


def test_one_register_per_request_option() -> None:
    plan = plan_reads(spans((0, 2), (2, 2), (4, 1)), PlanOptions(one_register_per_request=True))
    assert [(r.address, r.count) for r in plan.requests] == [(0, 2), (2, 2), (4, 1)]


def test_gap_with_forbidden_address_is_not_read_across() -> None:
    state = PlanState().with_forbidden(INP, [(3, 3)])
    plan = plan_reads(spans((0, 2), (4, 2)), state=state)
    assert [(r.address, r.count) for r in plan.requests] == [(0, 2), (4, 2)]


def test_rejection_forbids_holes_then_isolates_then_drops() -> None:
    opts = PlanOptions()
    items = spans((0, 2), (4, 2), (6, 2))
    state = PlanState()
    first = plan_reads(items, opts, state).requests[0]
    assert (first.address, first.count) == (0, 8)
    assert unused_ranges(first) == [(2, 3)]
    state = after_rejection(state, first)  # the hole 2..3 is forbidden
    second = plan_reads(items, opts, state).requests
    assert [(r.address, r.count) for r in second] == [(0, 2), (4, 4)]
    state = after_rejection(state, second[1])  # no holes: isolate r4 and r6
    third = plan_reads(items, opts, state).requests
    assert [(r.address, r.count) for r in third] == [(0, 2), (4, 2), (6, 2)]
    state = after_rejection(state, third[2])  # a single register rejected: unreadable
    final = plan_reads(items, opts, state)
    assert [s.key for s in final.unreadable] == ["r6"]
    assert [(r.address, r.count) for r in final.requests] == [(0, 2), (4, 2)]


def test_sdm120_profile_plan_and_naive_baseline() -> None:
    profile = modbus_profile("eastron-sdm120")
    items = profile_spans(profile, read_serial=False)
    plan = plan_reads(items, PlanOptions(max_registers_per_read=80, max_gap=16))
    assert [(r.address, r.count) for r in plan.requests] == [(0, 32), (70, 6)]
    assert wire_request_count(items) == 7


@st.composite
def span_sets(draw: st.DrawFn) -> list[Span]:
    n = draw(st.integers(1, 40))
    out = []
    for i in range(n):
        function = draw(st.sampled_from([H, INP]))
        count = draw(st.sampled_from([1, 2, 4]))
        address = draw(st.integers(0, 600))
        out.append(Span(i, function, address, count))
    return out


@given(span_sets(), st.integers(1, 125), st.integers(0, 30), st.lists(st.integers(0, 620), max_size=5))
def test_plan_covers_every_span_once_within_limits(
    items: list[Span], limit: int, gap: int, forbidden: list[int]
) -> None:
    limit = max(limit, 4)
    state = PlanState().with_forbidden(INP, [(a, a) for a in forbidden])
    plan = plan_reads(items, PlanOptions(max_registers_per_read=limit, max_gap=gap), state)
    covered = [s.key for r in plan.requests for s in r.spans] + [s.key for s in plan.unreadable]
    assert sorted(covered) == sorted(s.key for s in items)
    for r in plan.requests:
        assert 1 <= r.count <= limit
        for s in r.spans:
            assert r.address <= s.address and s.end <= r.end and s.function is r.function
        if state.is_forbidden(r.function, r.address, r.end):  # only a span itself, read alone
            assert {(s.address, s.count) for s in r.spans} == {(r.address, r.count)}
    assert len(plan.requests) <= wire_request_count(items)


@given(span_sets(), st.sets(st.integers(0, 620), max_size=30), st.integers(0, 20))
def test_replanning_after_rejections_converges_to_exactly_the_readable_spans(
    items: list[Span], rejected: set[int], gap: int
) -> None:
    """A device rejecting any read that touches ``rejected`` addresses: re-planning ends, and every
    span that avoids them is read while every span that touches them is reported unreadable."""
    options = PlanOptions(max_gap=gap)
    state = PlanState()
    for _ in range(4 * len(items) + 4):
        plan = plan_reads(items, options, state)
        bad = [r for r in plan.requests if any(r.address <= a <= r.end for a in rejected)]
        if not bad:
            break
        for request in bad:
            state = after_rejection(state, request)
    else:
        raise AssertionError("re-planning did not converge")
    read = {s.key for r in plan.requests for s in r.spans}
    touching = {s.key for s in items if any(s.address <= a <= s.end for a in rejected)}
    assert read == {s.key for s in items} - touching
    assert {s.key for s in plan.unreadable} == touching


def test_profile_forbidden_ranges_seed_the_plan_for_both_tables() -> None:
    from meterhub.collectors.modbus.device import profile_plan_state
    from meterhub.collectors.modbus.profile import ModbusProfile

    profile = ModbusProfile.model_validate(
        {
            "profile": {
                "id": "p",
                "manufacturer": "T",
                "model": "T",
                "protocol": "modbus",
                "kind": "electricity",
                "source": "test",
            },
            "modbus": {"forbidden": [[2, 3]]},
            "registers": [
                {"name": "voltage_v", "address": 0, "function": "input"},
                {"name": "power_w", "address": 4, "function": "input"},
                {"name": "current_a", "address": 0, "function": "holding"},
                {"name": "frequency_hz", "address": 5, "function": "holding"},
            ],
        }
    )
    items = profile_spans(profile, read_serial=False)
    assert len(plan_reads(items).requests) == 2  # without the profile's knowledge: one read per table
    plan = plan_reads(items, state=profile_plan_state(profile))
    assert sorted((r.function.code, r.address, r.count) for r in plan.requests) == [
        (3, 0, 1),
        (3, 5, 1),
        (4, 0, 1),
        (4, 4, 1),
    ]
