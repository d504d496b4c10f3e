"""DML on the hypertables that stays within TimescaleDB's decompression limit, or lifts it on purpose.

A DELETE, UPDATE or INSERT that meets compressed rows makes TimescaleDB decompress the batches it may
touch, and ``timescaledb.max_tuples_decompressed_per_dml_transaction`` aborts a transaction that
decompresses more. TimescaleDB narrows the batches down only by constants on the segment-by column
(``series_id``) and the time column, so statements here carry literal series lists and time bounds.
On plain PostgreSQL the same statements prune partitions by the same bounds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = timedelta(days=1)
Span = tuple[int, datetime | None, datetime | None]  # series id, first hour, end (exclusive); None: open
_Group = tuple[list[int], datetime | None, datetime | None]


def span_groups(spans: Sequence[Span]) -> list[_Group]:
    """Spans as (series ids, earliest start, latest end) groups of similar spans, for literal DELETEs.

    Spans are grouped by the UTC days they start and end in (the usual rollup has one or two groups);
    ``None`` is an unbounded side.
    """
    groups: dict[tuple[int | None, int | None], list[Span]] = {}
    for sid, lo, hi in spans:
        key = (
            None if lo is None else (lo - _EPOCH) // _DAY,
            None if hi is None else -(-(hi - _EPOCH) // _DAY),
        )
        groups.setdefault(key, []).append((sid, lo, hi))
    out = []
    for (day0, day1), ss in sorted(groups.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or 0)):
        lo = None if day0 is None else min(s[1] for s in ss if s[1] is not None)
        hi = None if day1 is None else max(s[2] for s in ss if s[2] is not None)
        out.append((sorted(s[0] for s in ss), lo, hi))
    return out


def delete_hours(conn: psycopg.Connection, spans: Sequence[Span]) -> None:
    """Delete the hours ``[e0, e1)`` of each (series, e0, e1) span; the rollup's window table
    ``rollup_win`` holds the same spans.

    On TimescaleDB a DELETE decompresses the compressed batches it may touch, and it can only narrow
    them down by *constants* on the segment-by column (``series_id``) and the time column. A join with
    ``rollup_win`` alone gives it none, so it decompressed every compressed row of the table (and hit
    ``timescaledb.max_tuples_decompressed_per_dml_transaction``). Each DELETE therefore names its
    series as a literal list and its span as literal bounds (chunk exclusion and batch filtering); the
    join with ``rollup_win`` still bounds every series exactly. Plain PostgreSQL prunes partitions by
    the same bounds.
    """
    for sids, lo, hi in span_groups(spans):
        ids = sql.Literal("{" + ",".join(map(str, sids)) + "}")
        cond = [sql.SQL("h.series_id = ANY({}::integer[])").format(ids)]
        if lo is not None:
            cond.append(sql.SQL("h.hour >= {}").format(sql.Literal(lo)))
        if hi is not None:
            cond.append(sql.SQL("h.hour < {}").format(sql.Literal(hi)))
        conn.execute(
            sql.SQL(
                "DELETE FROM hourly_consumption h USING rollup_win w "
                "WHERE h.series_id = w.series_id "
                "AND h.hour >= coalesce(w.e0, '-infinity') AND h.hour < coalesce(w.e1, 'infinity') AND {}"
            ).format(sql.SQL(" AND ").join(cond))
        )


DECOMPRESSION_LIMIT = "timescaledb.max_tuples_decompressed_per_dml_transaction"


@contextlib.contextmanager
def decompression_limit_lifted(conn: psycopg.Connection) -> Iterator[bool]:
    """Inside the caller's transaction block: lift TimescaleDB's limit of rows a DML statement may
    decompress, and put it back afterwards. Yields False (and changes nothing) on plain PostgreSQL."""
    row = conn.execute("SELECT current_setting(%s, true)", (DECOMPRESSION_LIMIT,)).fetchone()
    if not row or row[0] is None:
        yield False
        return
    conn.execute("SELECT set_config(%s, '0', true)", (DECOMPRESSION_LIMIT,))
    yield True
    conn.execute("SELECT set_config(%s, %s, true)", (DECOMPRESSION_LIMIT, row[0]))
