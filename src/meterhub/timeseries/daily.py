"""The daily series ``daily_consumption``: the hourly series summed per local calendar day.

One row per series and local day of the meter's building (``buildings.time_zone``; UTC for a meter
whose building is not registered). The rollup keeps it: whenever it replaces the hours ``[e0, e1)`` of
a series it also recomputes, from ``hourly_consumption``, every local day that touches that span
(``refresh_daily``). The zone a series' days were cut in is kept in ``daily_series_zone``; a series
whose building's zone is different now (registered or changed after the data) or not built yet is
rebuilt whole (``refresh_stale_zones``, run by ``process_dirty``).

Days are whole local days of a zone with a whole-hour UTC offset (all Russian zones): an hour belongs
to the local day its start falls in. A plain table on both storage paths: a continuous aggregate
buckets every row in one zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg
from psycopg import sql

Span = tuple[int, datetime | None, datetime | None]  # series id, first hour, end (exclusive); None: open

_STALE_BATCH = 2000


def _zone_sql(conn: psycopg.Connection) -> sql.Composable:
    """The time-zone expression of a series (aliases ``m`` meters), joining ``buildings`` if it exists."""
    row = conn.execute("SELECT to_regclass('buildings') IS NOT NULL").fetchone()
    if row and row[0]:
        return sql.SQL(
            "coalesce((SELECT b.time_zone FROM buildings b WHERE b.building_id = m.building_id), 'UTC')"
        )
    return sql.SQL("'UTC'")


def refresh_daily(conn: psycopg.Connection, spans: Sequence[Span]) -> int:
    """Recompute the daily rows of every local day that touches each span's hours, inside the caller's
    transaction; returns the number of daily rows written.

    Must run after the hours of the spans were written. A series' days are cut in its building's zone
    now, which is recorded in ``daily_series_zone``.
    """
    merged: dict[int, tuple[datetime | None, datetime | None]] = {}
    for sid, lo, hi in spans:
        if sid in merged:
            lo0, hi0 = merged[sid]
            lo = None if lo is None or lo0 is None else min(lo, lo0)
            hi = None if hi is None or hi0 is None else max(hi, hi0)
        merged[sid] = (lo, hi)
    if not merged:
        return 0
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS daily_win (series_id integer PRIMARY KEY, lo timestamptz, "
        "hi timestamptz, tz text, d0 date, d1 date, from_ts timestamptz, to_ts timestamptz) "
        "ON COMMIT DELETE ROWS"
    )
    conn.execute("TRUNCATE daily_win")
    with conn.cursor() as cur, cur.copy("COPY daily_win (series_id, lo, hi) FROM STDIN") as copy:
        for sid, (lo, hi) in merged.items():
            copy.write_row((sid, lo, hi))
    # the local days the spans touch, and the UTC instants where they begin and end
    conn.execute(
        sql.SQL(
            """
            UPDATE daily_win w SET tz = z.tz FROM (
                SELECT mr.series_id, {zone} AS tz
                FROM meter_registers mr JOIN meters m USING (meter_id)
            ) z WHERE z.series_id = w.series_id
            """
        ).format(zone=_zone_sql(conn))
    )
    conn.execute(
        """
        UPDATE daily_win SET tz = coalesce(tz, 'UTC'),
               d0 = (lo AT TIME ZONE coalesce(tz, 'UTC'))::date,
               d1 = ((hi - interval '1 microsecond') AT TIME ZONE coalesce(tz, 'UTC'))::date
        """
    )
    conn.execute(
        """
        UPDATE daily_win SET from_ts = d0::timestamp AT TIME ZONE tz,
                             to_ts = (d1 + 1)::timestamp AT TIME ZONE tz
        """
    )
    conn.execute(
        """
        DELETE FROM daily_consumption d USING daily_win w
        WHERE d.series_id = w.series_id
          AND d.day >= coalesce(w.d0, '-infinity'::date) AND d.day <= coalesce(w.d1, 'infinity'::date)
        """
    )
    # literal series and bounds as well as the join: chunk exclusion / partition pruning on hourly
    bounds = conn.execute(
        "SELECT bool_or(from_ts IS NULL), min(from_ts), bool_or(to_ts IS NULL), max(to_ts) FROM daily_win"
    ).fetchone()
    assert bounds is not None
    cond = [
        sql.SQL("h.series_id = ANY({}::integer[])").format(
            sql.Literal("{" + ",".join(map(str, sorted(merged))) + "}")
        )
    ]
    if not bounds[0]:
        cond.append(sql.SQL("h.hour >= {}").format(sql.Literal(bounds[1])))
    if not bounds[2]:
        cond.append(sql.SQL("h.hour < {}").format(sql.Literal(bounds[3])))
    cur = conn.execute(
        sql.SQL(
            """
            INSERT INTO daily_consumption (series_id, day, volume_micro, suspect_micro, measured_hours,
                                           interpolated_hours, estimated_hours, suspect_hours)
            SELECT h.series_id, (h.hour AT TIME ZONE w.tz)::date,
                   coalesce(sum(h.volume_micro) FILTER (WHERE h.quality < 3), 0),
                   coalesce(sum(h.volume_micro) FILTER (WHERE h.quality = 3), 0),
                   count(*) FILTER (WHERE h.quality = 0), count(*) FILTER (WHERE h.quality = 1),
                   count(*) FILTER (WHERE h.quality = 2), count(*) FILTER (WHERE h.quality = 3)
            FROM hourly_consumption h JOIN daily_win w ON w.series_id = h.series_id
            WHERE h.hour >= coalesce(w.from_ts, '-infinity') AND h.hour < coalesce(w.to_ts, 'infinity')
              AND {cond}
            GROUP BY 1, 2
            """
        ).format(cond=sql.SQL(" AND ").join(cond))
    )
    written = cur.rowcount
    conn.execute(
        """
        INSERT INTO daily_series_zone (series_id, time_zone)
        SELECT series_id, tz FROM daily_win
        ON CONFLICT (series_id) DO UPDATE SET time_zone = EXCLUDED.time_zone
        WHERE daily_series_zone.time_zone IS DISTINCT FROM EXCLUDED.time_zone
        """
    )
    return written


def stale_zone_series(conn: psycopg.Connection, limit: int | None = None) -> list[int]:
    """Series whose daily rows were cut in another zone than their building's now, or not built yet."""
    rows = conn.execute(
        sql.SQL(
            """
            SELECT z.series_id FROM daily_series_zone z
            JOIN meter_registers mr USING (series_id) JOIN meters m USING (meter_id)
            WHERE z.time_zone IS DISTINCT FROM {zone}
            ORDER BY 1 {limit}
            """
        ).format(
            zone=_zone_sql(conn),
            limit=sql.SQL("") if limit is None else sql.SQL("LIMIT {}").format(sql.Literal(limit)),
        )
    ).fetchall()
    return [r[0] for r in rows]


def refresh_stale_zones(conn: psycopg.Connection, *, batch: int = _STALE_BATCH) -> int:
    """Rebuild the daily rows of series cut in another zone (or never built), committing per batch of
    series; returns the number of daily rows written."""
    written = 0
    while True:
        with conn.transaction():
            sids = stale_zone_series(conn, batch)
            if not sids:
                return written
            written += refresh_daily(conn, [(sid, None, None) for sid in sids])


def rebuild_daily(conn: psycopg.Connection, series_ids: Sequence[int] | None = None) -> int:
    """Recompute the whole daily series of the given (default: all cumulative) series from their hours,
    in the caller's transaction; returns the daily rows written."""
    if series_ids is None:
        series_ids = [r[0] for r in conn.execute("SELECT series_id FROM meter_registers WHERE cumulative")]
    return refresh_daily(conn, [(sid, None, None) for sid in series_ids])
