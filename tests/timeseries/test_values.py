"""Register values stored as scaled integers (migration 0012, ``timeseries/values.py``): every value
reads back as the very double that was written, through every write path and after the upgrade of a
database whose rows were written before 0012."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.core import MeterKind, Reading
from meterhub.timeseries.batch_decoder import decode_batch
from meterhub.timeseries.database import connect
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.migrate import migrate
from meterhub.timeseries.reencode import reencode_readings
from meterhub.timeseries.rollup import rebuild
from meterhub.timeseries.values import decode_value, encode_value, encode_values

pytestmark = pytest.mark.pg_versions  # runs on CI's PostgreSQL 15 too (docs/testing.md)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 1, tzinfo=UTC)

# values as meters and collectors deliver them, and the awkward ones
HARD = [
    123.456,  # litres of m³
    0.1,
    100.0,
    12345.68,  # a float32 kWh register as the collector prints it (shortest_float32)
    1.23456,  # more decimals than the register's 3
    12345.677734375,  # a float32 printed in full: 9 decimals
    1 / 3,  # no decimal form: kept as a double
    0.1 + 0.2,  # 0.30000000000000004
    -5.25,
    0.0,
    9_007_199.254740993,  # beyond 2^53 at 9 decimals
    1e300,
    5e-324,
]


def test_hand_examples() -> None:
    assert encode_value(123.456, 3) == (123456, 3, None)
    assert encode_value(0.1, 3) == (100, 3, None)
    assert encode_value(1.23456, 3) == (123456, 5, None)  # the fewest decimals above the register's
    assert encode_value(12345.677734375, 3) == (12345677734375, 9, None)
    assert encode_value(1 / 3, 3) == (None, 3, 1 / 3)
    assert encode_value(0.30000000000000004, 3) == (None, 3, 0.30000000000000004)
    assert encode_value(7.0, 0) == (7, 0, None)


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(0, 9))
def test_every_finite_value_reads_back_exactly(v: float, floor: int) -> None:
    m, d, f = encode_value(v, floor)
    assert decode_value(m, d, f) == v
    assert (m is None) != (f is None) and floor <= d <= 9
    if m is not None:
        assert abs(m) < 2**53


@given(
    st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(HARD)), max_size=50)
)
def test_the_vectorised_encoding_is_the_scalar_one(values: list[float]) -> None:
    floors = np.array([i % 4 + 1 for i in range(len(values))], dtype=np.int16)
    m, d, exact = encode_values(np.array(values, dtype=np.float64), floors)
    for i, v in enumerate(values):
        want = encode_value(v, int(floors[i]))
        if want[0] is None:
            assert not exact[i] and d[i] == floors[i]
        else:
            assert exact[i] and (int(m[i]), int(d[i])) == want[:2]


# --- through the database -------------------------------------------------------------------------


def _meter(conn, serial: str, *, building: str | None = None) -> str:
    m = MeterInfo(
        MeterKind.ELECTRICITY,
        "VAL",
        serial,
        building_id=building,
        registers=(RegisterInfo("energy_import_kwh"),),
    )
    register_meter(conn, m)
    return m.meter_id


def _stored(conn, meter_id: str) -> list[tuple[datetime, float]]:
    return conn.execute(
        "SELECT ts, value FROM reading_values JOIN meter_registers USING (series_id) WHERE meter_id = %s "
        "ORDER BY ts",
        (meter_id,),
    ).fetchall()


@pytest.mark.db
@pytest.mark.storage
def test_values_written_read_back_exactly(conn) -> None:
    meter = _meter(conn, "1")
    conn.commit()
    values = [v for v in HARD if v >= 0]
    w = ReadingWriter(conn, clock=lambda: NOW)
    readings = [Reading(meter, "energy_import_kwh", T0 + timedelta(hours=i), v) for i, v in enumerate(values)]
    assert w.write(readings).inserted == len(values)
    assert [v for _, v in _stored(conn, meter)] == values
    # the stored form: integers where the value has one, the double where not
    forms = conn.execute(
        "SELECT r.value_int, r.value_scale, r.value_float FROM readings r "
        "JOIN meter_registers USING (series_id) WHERE meter_id = %s ORDER BY ts",
        (meter,),
    ).fetchall()
    assert forms[0] == (123456, 3, None) and forms[5] == (12345677734375, 9, None)
    assert forms[6] == (None, 3, 1 / 3)
    # SQL writers encode with meterhub_encode_value: the same decoded values
    for v in values:
        assert (
            conn.execute(
                "SELECT meterhub_reading_value(e.value_int, e.value_scale, e.value_float) "
                "FROM meterhub_encode_value(%s) e",
                (v,),
            ).fetchone()[0]
            == v
        )
    # the same batch again: duplicates (the stored value compared decoded), a changed one refused
    again = w.write(readings)
    assert (again.inserted, again.duplicates, again.rejected) == (0, len(values), 0)
    changed = w.write([Reading(meter, "energy_import_kwh", T0, 123.457)])
    assert changed.reasons == {"conflicting_value": 1}
    conn.commit()


@pytest.mark.db
@pytest.mark.storage
def test_decoded_messages_take_the_column_path_or_the_slow_one(conn) -> None:
    """MQTT messages: values exact at ≤ 9 decimals go as binary rows, a message with any other value is
    written reading by reading; both read back exactly."""
    conn.execute("DELETE FROM meters WHERE meter_id LIKE 'VAL-%'")
    meter = _meter(conn, "2", building="B-V")
    conn.commit()
    w = ReadingWriter(conn, clock=lambda: NOW)

    def message(values: list[float], start: int) -> bytes:
        return json.dumps(
            {
                "schema_version": 1,
                "batch_id": f"b-{start}",
                "gateway_id": "gw-1",
                "building_id": "B-V",
                "sent_at": NOW.isoformat(),
                "readings": [
                    {
                        "meter_id": meter,
                        "register": "energy_import_kwh",
                        "ts": (T0 + timedelta(hours=start + i)).isoformat(),
                        "value": v,
                    }
                    for i, v in enumerate(values)
                ],
            }
        ).encode()

    exact = [1000.5, 1000.625, 1001.123456789]
    cb = decode_batch(message(exact, 0))
    assert cb is not None
    prepared = w.prepare_columns(cb, "B-V")
    assert prepared is not None  # every value has an integer form
    assert w.write_many([(prepared, None)])[0].inserted == 3
    odd = [1002.0, 1 / 7]
    cb2 = decode_batch(message(odd, 3))
    assert cb2 is not None and w.prepare_columns(cb2, "B-V") is None
    assert w.write(cb2.readings()).inserted == 2
    conn.commit()
    assert [v for _, v in _stored(conn, meter)] == [*exact, *odd]


@pytest.mark.db
@pytest.mark.storage
def test_an_upgraded_database_reads_its_old_rows_the_same(empty_db_url: str) -> None:
    """A database written before 0012 (value double precision), compressed on TimescaleDB, then
    upgraded: every old value reads back the same, the rollup works over old and new rows together,
    and new rows are stored as integers."""
    with connect(empty_db_url) as conn:
        migrate(conn, MIGRATION_SOURCES, until=11)
        conn.autocommit = False
        register_meter(
            conn, MeterInfo(MeterKind.COLD_WATER, "OLD", "1", registers=(RegisterInfo("water_m3"),))
        )
        sid = conn.execute("SELECT series_id FROM meter_registers WHERE meter_id = 'OLD-1'").fetchone()[0]
        old = [(T0 + timedelta(hours=h), round(100 + h * 0.013, 3)) for h in range(24 * 20)]
        old[5] = (old[5][0], 100.0650000001)  # 10 decimals: no integer form at up to 9
        conn.execute("SELECT meterhub_ensure_partitions('readings', %s, %s)", (T0, T0 + timedelta(days=21)))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO readings (series_id, ts, value) VALUES (%s, %s, %s)",
                [(sid, t, v) for t, v in old],
            )
        conn.commit()
        timescaledb = conn.execute(
            "SELECT to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL"
        ).fetchone()[0]
        if timescaledb:
            conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks('readings') c")
        conn.commit()
        migrate(conn, MIGRATION_SOURCES)
        conn.autocommit = False
        assert (
            conn.execute(
                "SELECT ts, value FROM reading_values WHERE series_id = %s ORDER BY ts", (sid,)
            ).fetchall()
            == old
        )
        named = conn.execute(
            "SELECT value FROM readings_named WHERE series_id = %s ORDER BY ts", (sid,)
        ).fetchall()
        assert [r[0] for r in named] == [v for _, v in old]
        # new readings after the upgrade: stored as litres
        new = [
            Reading("OLD-1", "water_m3", t, round(100 + h * 0.013, 3))
            for h, t in ((h, T0 + timedelta(hours=h)) for h in range(24 * 20, 24 * 21))
        ]
        assert ReadingWriter(conn, clock=lambda: NOW).write(new).inserted == 24
        assert (
            conn.execute(
                "SELECT count(*) FROM readings "
                "WHERE series_id = %s AND value_int IS NOT NULL AND value_scale = 3",
                (sid,),
            ).fetchone()[0]
            == 24
        )
        # TimescaleDB: the old chunks rewritten as integers (compressed again), the values the same
        stats = reencode_readings(conn)
        if timescaledb:
            assert (stats.rows, stats.kept_as_doubles) == (len(old) - 1, 1) and stats.chunks >= 2
            assert (
                conn.execute(
                    "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'readings' "
                    "AND NOT is_compressed AND range_end <= %s",
                    (T0 + timedelta(days=20),),
                ).fetchone()[0]
                == 0
            )
        else:
            assert stats.chunks == 0  # plain PostgreSQL: nothing to gain
        assert (
            conn.execute(
                "SELECT ts, value FROM reading_values WHERE series_id = %s AND ts < %s ORDER BY ts",
                (sid, T0 + timedelta(days=20)),
            ).fetchall()
            == old
        )
        rebuild(conn)  # the old rows were written without the ingest's dirty log
        # hours 0 … 503: 0.013 m³ an hour from the first reading to the last = 6.539 m³
        total = conn.execute(
            "SELECT sum(volume_micro) FROM hourly_consumption WHERE series_id = %s", (sid,)
        ).fetchone()[0]
        assert total == 13_000 * (24 * 21 - 1)
