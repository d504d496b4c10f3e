"""The close's bulk reads (one index scan over many registers) give what the per-register references give.

On random registers — hourly rows of every quality with gaps around the span's bounds, series with
only estimated or only suspect hours, register readings of every quality, flagged readings, readings
without a value — ``period_hourly_bulk`` is compared with ``queries.period_totals`` (the per-meter
aggregate of the cabinet's queries) and with the billable rows selected one by one, and
``register_values_at`` with the lateral "latest reading at or before the instant" query the close used
before (written out here). The registers asked for (``series_of``) are totalled from their rows on the
client and the others by the server's aggregates, so every comparison runs with and without them asked;
by hand: a sum past 2**63, a span starting at half past the hour, quality codes outside 0–3, and the read
of compressed chunks on TimescaleDB.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterhub.timeseries.bulk_reads import (
    RegisterValue,
    hourly_series_bulk,
    meter_registers_of,
    period_hourly_bulk,
    period_totals_bulk,
    register_values_at,
)
from meterhub.timeseries.database import connect
from meterhub.timeseries.pgbinary import PG_EPOCH_US
from meterhub.timeseries.queries import period_totals

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
START, END = T0 + timedelta(hours=5), T0 + timedelta(hours=29)
METERS = ("BR-1", "BR-2", "BR-3", "BR-4")
REGISTERS = ("energy_import_kwh", "energy_import_t1_kwh")

hourly_rows = st.lists(
    st.tuples(
        st.integers(0, len(METERS) * len(REGISTERS) - 1),  # register
        st.integers(0, 35),  # hour after T0 (the span is hours 5..28)
        st.integers(0, 3_000_000),  # volume [micro-units]
        st.integers(0, 3),  # quality: measured, interpolated, estimated, suspect
    ),
    max_size=60,
    unique_by=lambda r: (r[0], r[1]),
)
readings = st.lists(
    st.tuples(
        st.integers(0, len(METERS) * len(REGISTERS) - 1),
        st.integers(0, 40 * 24),  # reading time [hours after T0 - 10 days]
        st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False).map(lambda v: round(v, 3))),
        st.integers(0, 2),  # quality (2 = marked bad by the device)
        st.booleans(),  # flagged by VEE
    ),
    max_size=40,
    unique_by=lambda r: (r[0], r[1]),
)


@pytest.fixture(scope="module")
def registers_db(db_url: str) -> str:
    with connect(db_url) as conn:
        conn.execute("SELECT meterhub_ensure_partitions('readings', '2025-12-01', '2026-03-01')")
        conn.execute("SELECT meterhub_ensure_partitions('hourly_consumption', '2025-12-01', '2026-03-01')")
        for m in METERS:
            conn.execute(
                "INSERT INTO meters (meter_id, kind, manufacturer, serial) "
                "VALUES (%s, 'electricity', 'BR', %s)",
                (m, m),
            )
            for r in REGISTERS:
                conn.execute(
                    "INSERT INTO meter_registers (meter_id, register, unit, cumulative) "
                    "VALUES (%s, %s, 'kWh', %s)",
                    (m, r, m != "BR-4"),  # BR-4's registers are not cumulative: no register values
                )
        conn.commit()
    return db_url


def _series(conn) -> list[tuple[int, str, str]]:
    return conn.execute(
        "SELECT series_id, meter_id, register FROM meter_registers WHERE meter_id LIKE 'BR-%' "
        "ORDER BY meter_id, register"
    ).fetchall()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=hourly_rows, asked=st.sets(st.integers(0, len(METERS) * len(REGISTERS) - 1)))
def test_hourly_totals_and_series_equal_the_references(
    registers_db: str, rows: list[tuple[int, int, int, int]], asked: set[int]
) -> None:
    with connect(registers_db) as conn:
        series = _series(conn)
        for i, hour, volume, quality in rows:
            conn.execute(
                "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) "
                "VALUES (%s, %s, %s, %s)",
                (series[i][0], T0 + timedelta(hours=hour), volume, quality),
            )
        keys = {(series[i][1], series[i][2]) for i in asked}
        read = period_hourly_bulk(conn, METERS, START, END, series_of=keys)

        assert read.totals == period_totals(conn, START, END, meter_ids=list(METERS))
        assert period_totals_bulk(conn, METERS, START, END) == read.totals
        expected = {}
        for sid, meter, register in series:
            if (meter, register) not in keys:
                continue
            billable = conn.execute(
                "SELECT hour, volume_micro FROM hourly_consumption WHERE series_id = %s AND hour >= %s "
                "AND hour < %s AND quality < 3 ORDER BY hour",
                (sid, START, END),
            ).fetchall()
            if billable:
                expected[(meter, register)] = (
                    [
                        int((h - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
                        for h, _ in billable
                    ],
                    [v for _, v in billable],
                )
        got = {k: (a.hour_starts_us.tolist(), a.volume_micro.tolist()) for k, a in read.series.items()}
        assert got == expected
        alone = hourly_series_bulk(conn, sorted(keys), START, END)
        assert {k: (a.hour_starts_us.tolist(), a.volume_micro.tolist()) for k, a in alone.items()} == expected
        conn.rollback()


_REFERENCE_VALUES = """
    SELECT mr.meter_id, mr.register, b.i, r.value, r.ts
    FROM meter_registers mr
    CROSS JOIN unnest(%s::timestamptz[]) WITH ORDINALITY AS b(at, i)
    LEFT JOIN LATERAL (
        SELECT rd.value, rd.ts FROM reading_values rd
        WHERE rd.series_id = mr.series_id AND rd.ts <= b.at AND rd.ts > b.at - %s::interval
          AND rd.quality < 2
          AND NOT EXISTS (SELECT 1 FROM reading_flags f WHERE f.series_id = rd.series_id AND f.ts = rd.ts)
        ORDER BY rd.ts DESC LIMIT 1
    ) r ON true
    WHERE mr.meter_id = ANY(%s) AND mr.cumulative
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=readings,
    instants=st.lists(st.integers(0, 40 * 24), min_size=1, max_size=3),
    max_age_hours=st.integers(1, 30 * 24),
    meters=st.sets(st.sampled_from(METERS), min_size=1),
)
def test_register_values_equal_the_lateral_reference(
    registers_db: str,
    rows: list[tuple[int, int, float | None, int, bool]],
    instants: list[int],
    max_age_hours: int,
    meters: set[str],
) -> None:
    base = T0 - timedelta(days=10)
    at = [base + timedelta(hours=h) for h in instants]
    max_age = timedelta(hours=max_age_hours)
    with connect(registers_db) as conn:
        series = _series(conn)
        for i, hour, value, quality, flagged in rows:
            ts = base + timedelta(hours=hour)
            conn.execute(
                "INSERT INTO readings (series_id, ts, value_int, value_scale, value_float, quality, source) "
                "SELECT %s, %s, e.value_int, e.value_scale, e.value_float, %s, 1 "
                "FROM meterhub_encode_value(%s) e",
                (series[i][0], ts, quality, value),
            )
            if flagged:
                conn.execute(
                    "INSERT INTO reading_flags (series_id, ts, reason, detail) VALUES (%s, %s, 'spike', '')",
                    (series[i][0], ts),
                )
        expected: dict[tuple[str, str], list[RegisterValue | None]] = {}
        for meter, register, i, value, ts in conn.execute(
            _REFERENCE_VALUES, (at, max_age, sorted(meters))
        ).fetchall():
            values = expected.setdefault((meter, register), [None] * len(at))
            if value is not None:
                values[i - 1] = RegisterValue(float(value), ts.astimezone(UTC))
        assert register_values_at(conn, sorted(meters), at, max_age=max_age) == expected
        everything = meter_registers_of(conn, list(METERS))
        assert register_values_at(conn, sorted(meters), at, max_age=max_age, registers=everything) == expected
        conn.rollback()


def test_hour_starts_are_microseconds_since_1970(registers_db: str) -> None:
    """Hand arithmetic: 2026-01-01 10:00 UTC is 20,454 days and 10 hours after 1970-01-01."""
    with connect(registers_db) as conn:
        sid = _series(conn)[0][0]
        conn.execute(
            "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) "
            "VALUES (%s, '2026-01-01 10:00+00', 1500000, 0)",
            (sid,),
        )
        read = period_hourly_bulk(conn, ["BR-1"], START, END, series_of={("BR-1", "energy_import_kwh")})
        arrays = read.series[("BR-1", "energy_import_kwh")]
        assert arrays.hour_starts_us.tolist() == [(20_454 * 24 + 10) * 3_600_000_000]
        assert arrays.hour_starts_us[0] - PG_EPOCH_US == (9_497 * 24 + 10) * 3_600_000_000  # after 2000-01-01
        assert read.totals[("BR-1", "energy_import_kwh")].volume == 1.5
        conn.rollback()


def _billable_reference(conn, sid: int, start: datetime, end: datetime) -> tuple[list[int], list[int]]:
    rows = conn.execute(
        "SELECT hour, volume_micro FROM hourly_consumption WHERE series_id = %s AND hour >= %s AND hour < %s "
        "AND quality < 3 ORDER BY hour",
        (sid, start, end),
    ).fetchall()
    return (
        [int((h - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) for h, _ in rows],
        [v for _, v in rows],
    )


def test_sums_past_int64_and_a_span_off_the_whole_hour(registers_db: str) -> None:
    """Volumes whose sum passes 2**63 (PostgreSQL sums ``bigint`` as ``numeric``; the read must not wrap
    around as an int64 sum would) and a span starting at half past (a +05:30 zone's local midnight):
    both compared with ``queries.period_totals``, and the sum with hand arithmetic."""
    big = 2**62 + 7
    with connect(registers_db) as conn:
        series = _series(conn)
        sid, meter, register = series[0]
        for hour, volume, quality in ((4, big, 0), (5, big, 1), (6, -3, 2), (7, big, 3), (9, 11, 0)):
            conn.execute(
                "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) "
                "VALUES (%s, %s, %s, %s)",
                (sid, T0 + timedelta(hours=hour), volume, quality),
            )
        start, end = T0 + timedelta(hours=3, minutes=30), T0 + timedelta(hours=9, minutes=30)
        for asked in (set(), {(meter, register)}):  # the totals statement, and the rows read whole
            read = period_hourly_bulk(conn, [meter], start, end, series_of=asked)
            assert read.totals == period_totals(conn, start, end, meter_ids=[meter])
            total = read.totals[(meter, register)]
            assert total.volume * 1_000_000 == 2 * big - 3 + 11  # hours 4, 5, 6 and 9; 7 is suspect
            assert (total.hours_expected, total.hours_present, total.suspect_hours) == (6, 4, 1)
            got = {k: (a.hour_starts_us.tolist(), a.volume_micro.tolist()) for k, a in read.series.items()}
            assert got == ({(meter, register): _billable_reference(conn, sid, start, end)} if asked else {})
        conn.rollback()


COMPRESSED_T0 = datetime(2025, 6, 1, tzinfo=UTC)


def test_hourly_read_of_compressed_chunks(registers_db: str) -> None:
    """On TimescaleDB the month being closed may already be compressed (after 45 days): the hourly read
    gives what the references give on compressed chunks, and on plain PostgreSQL on partitions. Series:
    complete, with gaps and every quality, suspect only (a total, no series), and none in the span."""
    meters = ("BC-1", "BC-2", "BC-3")
    with connect(registers_db) as conn:
        conn.execute("SELECT meterhub_ensure_partitions('hourly_consumption', '2025-05-01', '2025-08-01')")
        for m in meters:
            conn.execute(
                "INSERT INTO meters (meter_id, kind, manufacturer, serial) "
                "VALUES (%s, 'electricity', 'BC', %s)",
                (m, m),
            )
            for r in REGISTERS:
                conn.execute(
                    "INSERT INTO meter_registers (meter_id, register, unit, cumulative) "
                    "VALUES (%s, %s, 'kWh', true)",
                    (m, r),
                )
        sids = dict(
            (
                ((m, r), s)
                for s, m, r in conn.execute(
                    "SELECT series_id, meter_id, register FROM meter_registers WHERE meter_id LIKE 'BC-%'"
                ).fetchall()
            )
        )
        rows = []
        for h in range(-24, 24 * 31 + 24):  # complete, a day beyond the span on both sides
            rows.append((sids[("BC-1", REGISTERS[0])], h, 1_000 + h, 0))
        for h in range(0, 24 * 31, 5):  # gaps, every quality
            rows.append((sids[("BC-1", REGISTERS[1])], h, 7 * h, h % 4))
        for h in (3, 4, 100):  # suspect only
            rows.append((sids[("BC-2", REGISTERS[0])], h, 500, 3))
        rows.append((sids[("BC-3", REGISTERS[0])], 24 * 40, 9, 0))  # after the span only
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) "
                "VALUES (%s, %s, %s, %s)",
                [(s, COMPRESSED_T0 + timedelta(hours=h), v, q) for s, h, v, q in rows],
            )
        conn.commit()
        timescaledb = conn.execute(
            "SELECT to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL"
        ).fetchone()[0]
        if timescaledb:
            compressed = conn.execute(
                "SELECT count(compress_chunk(c)) FROM show_chunks('hourly_consumption', older_than => %s, "
                "newer_than => %s) c",
                (COMPRESSED_T0 + timedelta(days=45), COMPRESSED_T0 - timedelta(days=45)),
            ).fetchone()[0]
            assert compressed >= 1
            conn.commit()
        start, end = COMPRESSED_T0, COMPRESSED_T0 + timedelta(days=31)
        for asked in (set(), set(sids), {("BC-1", REGISTERS[1]), ("BC-2", REGISTERS[0])}):
            read = period_hourly_bulk(conn, meters, start, end, series_of=asked)
            assert read.totals == period_totals(conn, start, end, meter_ids=list(meters))
            assert set(read.totals) == {
                ("BC-1", REGISTERS[0]),
                ("BC-1", REGISTERS[1]),
                ("BC-2", REGISTERS[0]),
            }
            complete = read.totals[("BC-1", REGISTERS[0])]
            assert complete.volume * 1_000_000 == sum(1_000 + h for h in range(24 * 31))  # hand arithmetic
            assert complete.complete
            expected = {
                k: _billable_reference(conn, sids[k], start, end)
                for k in asked
                if k in {("BC-1", REGISTERS[0]), ("BC-1", REGISTERS[1])}
            }
            got = {k: (a.hour_starts_us.tolist(), a.volume_micro.tolist()) for k, a in read.series.items()}
            assert got == expected


def test_quality_codes_outside_the_four_are_counted_as_the_sql_counts_them(registers_db: str) -> None:
    """Only 0–3 are written, but nothing in the schema forbids others: a code below 0 is billable
    (quality < 3) and counted in no class, one above 3 is neither; both count for the first and last hour."""
    with connect(registers_db) as conn:
        series = _series(conn)
        sid, meter, register = series[1]
        for hour, volume, quality in ((5, 10, -1), (6, 20, 0), (7, 40, 7), (8, 80, 3)):
            conn.execute(
                "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) "
                "VALUES (%s, %s, %s, %s)",
                (sid, T0 + timedelta(hours=hour), volume, quality),
            )
        read = period_hourly_bulk(conn, [meter], START, END, series_of={(meter, register)})
        assert read.totals == period_totals(conn, START, END, meter_ids=[meter])
        total = read.totals[(meter, register)]
        assert total.volume * 1_000_000 == 30  # hours 5 and 6
        assert (total.hours_present, total.measured_hours, total.suspect_hours) == (2, 1, 1)
        assert total.first_hour == T0 + timedelta(hours=5) and total.last_hour == T0 + timedelta(hours=8)
        arrays = read.series[(meter, register)]
        assert arrays.volume_micro.tolist() == [10, 20]
        conn.rollback()
