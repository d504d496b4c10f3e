"""Grouping the rollup's spans into literal DELETEs (pure; the SQL is exercised in test_compressed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meterhub.timeseries.hypertable_dml import span_groups

D = datetime(2026, 3, 10, tzinfo=UTC)
H = timedelta(hours=1)


def test_spans_of_the_same_days_share_one_statement_with_their_outer_bounds() -> None:
    spans = [(3, D + 2 * H, D + 5 * H), (1, D + H, D + 4 * H), (2, D + 10 * H, D + 11 * H)]
    assert span_groups(spans) == [([1, 2, 3], D + H, D + 11 * H)]


def test_spans_on_other_days_or_open_sides_get_their_own_statement() -> None:
    old = (7, D - timedelta(days=30), D - timedelta(days=30) + 3 * H)
    fresh = (8, D + H, None)  # new data after every stored reading: to the end of the series
    whole = (9, None, None)  # a rebuild
    groups = span_groups([fresh, old, whole, (10, D + 5 * H, None)])
    assert sorted(groups, key=lambda g: g[0]) == [
        ([7], old[1], old[2]),
        ([8, 10], D + H, None),
        ([9], None, None),
    ]
