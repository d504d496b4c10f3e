"""write_readings against a real PostgreSQL: idempotence, every rejection reason, dirty marking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from meterhub.core import MeterKind, Reading, ReadingQuality
from meterhub.timeseries.ingest import ReadingWriter, Reason, write_readings
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.rollup import fold_dirty_log

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.fixture(scope="module", autouse=True)
def meters(db_url):
    from meterhub.timeseries.database import connect

    with connect(db_url) as c:
        register_meter(
            c,
            MeterInfo(
                MeterKind.ELECTRICITY,
                "EAS",
                "100",
                building_id="B1",
                registers=(RegisterInfo("energy_import_kwh"), RegisterInfo("voltage_v")),
            ),
        )
        register_meter(
            c, MeterInfo(MeterKind.COLD_WATER, "PUL", "200", registers=(RegisterInfo("water_m3"),))
        )


def r(meter="EAS-100", register="energy_import_kwh", minutes=0, value=1.0, **kw) -> Reading:
    return Reading(meter, register, NOW - timedelta(days=1) + timedelta(minutes=minutes), value, **kw)


def count(conn, sql, *args) -> int:
    return conn.execute(sql, args).fetchone()[0]


def test_batch_lands_and_resending_changes_nothing(conn):
    batch = [r(minutes=15 * i, value=100 + i) for i in range(10)] + [
        r("PUL-200", "water_m3", minutes=15 * i, value=5 + i / 10) for i in range(10)
    ]
    first = write_readings(conn, batch, clock=clock)
    assert (first.inserted, first.duplicates, first.rejected) == (20, 0, 0)
    before = conn.execute("SELECT series_id, ts, value FROM reading_values ORDER BY 1, 2").fetchall()
    again = write_readings(conn, batch, clock=clock)
    assert (again.inserted, again.duplicates, again.rejected) == (0, 20, 0)
    assert conn.execute("SELECT series_id, ts, value FROM reading_values ORDER BY 1, 2").fetchall() == before
    # both cumulative series are marked for hourly recomputation over the batch's span
    fold_dirty_log(conn)  # the writer logs one row per batch; the rollup folds them per series
    dirty = conn.execute("SELECT count(*), min(from_ts), max(to_ts) FROM series_dirty").fetchone()
    assert dirty == (2, NOW - timedelta(days=1), NOW - timedelta(days=1) + timedelta(minutes=135))


@pytest.mark.parametrize(
    ("reading", "reason", "says"),
    [
        (r(meter="NOPE-1"), Reason.UNKNOWN_METER, "not registered"),
        (r(register="water_m3"), Reason.UNKNOWN_REGISTER, "has no register"),
        (r(value=float("nan")), Reason.NON_FINITE_VALUE, "not finite"),
        (r(value=float("inf")), Reason.NON_FINITE_VALUE, "not finite"),
        (r(value="12.5"), Reason.NOT_A_NUMBER, "not a number"),
        (
            Reading("EAS-100", "energy_import_kwh", datetime(2026, 3, 9, 12), 1.0),
            Reason.NAIVE_TIMESTAMP,
            "time zone",
        ),
        (r(minutes=3 * 24 * 60), Reason.FUTURE_TIMESTAMP, "ahead of the server clock"),
        (
            Reading("EAS-100", "energy_import_kwh", datetime(1999, 1, 1, tzinfo=UTC), 1.0),
            Reason.TOO_OLD,
            "before",
        ),
        (r(unit="Wh"), Reason.UNIT_MISMATCH, "is in kWh"),
        (r(quality=7), Reason.BAD_QUALITY_CODE, "not a known code"),
    ],
)
def test_each_rejection_reason_goes_to_dead_letter_and_the_rest_lands(conn, reading, reason, says):
    good = r(
        minutes=7 * 60 + 7, value=500.0
    )  # the same good reading each time: inserted once, then duplicate
    res = write_readings(conn, [good, reading], clock=clock, context={"batch_id": f"t-{reason}"})
    assert res.rejected == 1 and res.reasons == {reason: 1}
    assert res.inserted + res.duplicates == 1
    row = conn.execute(
        "SELECT reason, detail, payload, context FROM dead_letters WHERE context->>'batch_id' = %s",
        (f"t-{reason}",),
    ).fetchone()
    assert row[0] == reason and says in row[1]
    payload = json.loads(bytes(row[2]))
    assert payload["meter_id"] == reading.meter_id and payload["register"] == reading.register
    assert row[3] == {"batch_id": f"t-{reason}"}


def test_conflicting_value_for_a_stored_key_is_kept_out_and_reported(conn):
    key = r(minutes=999, value=42.0)
    assert write_readings(conn, [key], clock=clock).inserted == 1
    res = write_readings(conn, [r(minutes=999, value=43.0)], clock=clock)
    assert (res.inserted, res.duplicates, res.rejected) == (0, 0, 1)
    assert res.reasons == {Reason.CONFLICTING_VALUE: 1}
    sid = conn.execute(
        "SELECT series_id FROM meter_registers WHERE meter_id='EAS-100' AND register='energy_import_kwh'"
    ).fetchone()[0]
    assert (
        conn.execute(
            "SELECT value FROM reading_values WHERE series_id=%s AND ts=%s", (sid, key.ts)
        ).fetchone()[0]
        == 42.0
    )


def test_offsets_are_normalised_to_utc_and_instantaneous_series_are_not_marked(conn):
    omsk = timezone(timedelta(hours=6))
    ts = datetime(2026, 3, 9, 18, 0, tzinfo=omsk)  # = 12:00 UTC
    conn.execute("DELETE FROM series_dirty")
    conn.execute("DELETE FROM series_dirty_log")
    conn.commit()
    res = write_readings(conn, [Reading("EAS-100", "voltage_v", ts, 229.5)], clock=clock)
    assert res.inserted == 1
    got = conn.execute(
        "SELECT ts FROM readings_named WHERE meter_id='EAS-100' AND register='voltage_v'"
    ).fetchone()[0]
    assert got == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    assert count(conn, "SELECT count(*) FROM series_dirty_log") == 0


def test_bad_quality_reading_is_stored_with_its_quality(conn):
    res = write_readings(conn, [r(minutes=1300, value=7.0, quality=ReadingQuality.BAD)], clock=clock)
    assert res.inserted == 1
    assert count(conn, "SELECT count(*) FROM readings_named WHERE quality = 'bad'") == 1


def test_a_new_meter_is_found_by_a_long_lived_writer(conn):
    w = ReadingWriter(conn, clock=clock)
    assert w.write([r(meter="NEW-1", register="water_m3")]).reasons == {Reason.UNKNOWN_METER: 1}
    register_meter(conn, MeterInfo(MeterKind.COLD_WATER, "NEW", "1", registers=(RegisterInfo("water_m3"),)))
    assert w.write([r(meter="NEW-1", register="water_m3")]).inserted == 1


@pytest.mark.postgres_only  # TimescaleDB makes its own chunks
def test_partitions_are_created_per_month(conn):
    write_readings(conn, [r(minutes=-60 * 24 * 40, value=1.0)], clock=clock)  # a month earlier
    parts = {
        p
        for (p,) in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'readings'::regclass"
        ).fetchall()
    }
    assert {"readings_202601", "readings_202603"} <= parts or {"readings_202602", "readings_202603"} <= parts


def test_write_many_counts_each_batch_on_both_paths(conn):
    w = ReadingWriter(conn, clock=clock)
    new = [r(minutes=2000 + i, value=900.0 + i) for i in range(3)]
    fast = w.write_many([(new[:2], {"m": 1}), ([], None), (new[2:], {"m": 3})])
    assert [(x.inserted, x.duplicates, x.rejected) for x in fast] == [(2, 0, 0), (0, 0, 0), (1, 0, 0)]
    # staging path: batch 1 re-sends a stored key, batch 2 has a new key and a conflicting value,
    # batch 3 repeats the new key of batch 2 inside the same write
    fresh = r(minutes=2100, value=1.0)
    res = w.write_many(
        [
            ([new[0]], {"m": 1}),
            ([fresh, r(minutes=2001, value=5.0), r(meter="NOPE-9")], {"m": 2}),
            ([fresh], {"m": 3}),
        ]
    )
    assert [(x.inserted, x.duplicates, x.rejected) for x in res] == [(0, 1, 0), (1, 0, 2), (0, 1, 0)]
    assert res[1].reasons == {Reason.CONFLICTING_VALUE: 1, Reason.UNKNOWN_METER: 1}


def test_ingest_keeps_sub_second_times_of_older_gateways_unchanged(conn):
    # a gateway from before whole-second stamps: two reads within one second are two readings, stored
    # at their microseconds (truncating them here would make one key with two values: a conflict)
    at = NOW - timedelta(hours=5)
    early = Reading("EAS-100", "energy_import_kwh", at + timedelta(microseconds=250_000), 700.125)
    late = Reading("EAS-100", "energy_import_kwh", at + timedelta(microseconds=750_001), 700.126)
    res = write_readings(conn, [early, late], clock=clock)
    assert (res.inserted, res.duplicates, res.rejected) == (2, 0, 0)
    stored = conn.execute(
        "SELECT v.ts, v.value FROM reading_values v JOIN meter_registers m USING (series_id) "
        "WHERE m.meter_id = 'EAS-100' AND m.register = 'energy_import_kwh' AND v.ts >= %s AND v.ts < %s "
        "ORDER BY v.ts",
        (at, at + timedelta(seconds=1)),
    ).fetchall()
    assert stored == [(early.ts, 700.125), (late.ts, 700.126)]
    # and re-sent as they are, they are duplicates
    again = write_readings(conn, [early, late], clock=clock)
    assert (again.inserted, again.duplicates, again.rejected) == (0, 2, 0)


def test_gateway_resend_after_restart_matches_on_the_whole_second(conn, tmp_path):
    from meterhub.gateway.outbox import Outbox
    from meterhub.gateway.stamping import SecondGuard

    # the gateway reads at 11:00:07.431 and 11:15:07.902 (µs clock) and stamps whole seconds
    read_at = [
        NOW - timedelta(hours=1) + timedelta(seconds=7, microseconds=431_000),
        NOW - timedelta(minutes=45) + timedelta(seconds=7, microseconds=902_000),
    ]
    fresh, _ = SecondGuard().admit(
        [Reading("PUL-200", "water_m3", t, 12.5 + i / 1000, "m3") for i, t in enumerate(read_at)]
    )
    path = tmp_path / "outbox.sqlite3"
    box = Outbox(path)
    box.add(fresh)
    sent = box.claim(10)
    assert sent is not None
    first = write_readings(conn, _readings(sent), clock=clock)
    assert (first.inserted, first.duplicates, first.rejected) == (2, 0, 0)
    # the commit acknowledgement never arrived; the gateway restarts and sends the batch again
    box._db.close()  # killed: no checkpoint, no ack
    again = Outbox(path)
    assert again.pending_batch_ids() == [sent.batch_id]
    resent = again.load(sent.batch_id)
    assert resent is not None
    assert [r["ts"] for r in resent.readings] == ["2026-03-10T11:00:07+00:00", "2026-03-10T11:15:07+00:00"]
    res = write_readings(conn, _readings(resent), clock=clock)
    assert (res.inserted, res.duplicates, res.rejected) == (0, 2, 0)
    again.close()


def _readings(batch) -> list[Reading]:
    """A gateway batch as the ingest parses it (the v1 contract's reading model)."""
    from meterhub.core.mqtt_contract import ReadingV1

    return [ReadingV1.model_validate(r).to_reading() for r in batch.readings]
