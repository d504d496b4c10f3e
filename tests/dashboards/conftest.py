"""A migrated database with the sample building, a few gateway status changes, ingest log rows and dead
letters: what the dashboards' panels query."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from psycopg.types.json import Jsonb

from meterhub.core.registers import MeterKind
from meterhub.dashboards.macros import QueryContext

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
BUILDING = "D-1"


def _devices(failing: bool) -> Jsonb:
    """The devices list of a gateway status, as docs/mqtt.md shows it."""
    return Jsonb(
        [
            {
                "device": "rs485-1/17",
                "meter_ids": ["EKF-1"],
                "online": True,
                "last_success": "2026-01-31T21:00:01Z",
                "consecutive_failures": 0,
                "last_error": None,
            },
            {
                "device": "mbus-1/secondary:12345678",
                "meter_ids": ["SEN-1", "SEN-2"],
                "online": not failing,
                "last_success": "2026-01-31T19:00:02Z",
                "consecutive_failures": 8 if failing else 0,
                "last_error": "checksum error in the long frame" if failing else None,
            },
        ]
    )


def _gateway_rows(conn) -> None:
    conn.execute(
        "INSERT INTO gateways (gateway_id, building_id, state, software_version, status_ts, last_seen,"
        " outbox_backlog, outbox_oldest, devices) VALUES"
        " ('gw-1', %(b)s, 'online', '0.1.0', %(t1)s, %(t1)s, 0, NULL, %(d)s),"
        " ('gw-2', %(b)s, 'offline', '0.1.0', %(t2)s, %(t2)s, 1200, %(t2)s, '[]')",
        {"b": BUILDING, "t1": END - timedelta(minutes=5), "t2": END - timedelta(days=2), "d": _devices(True)},
    )
    rows = [
        ("gw-1", START - timedelta(days=3), "offline", 0, Jsonb([])),
        ("gw-1", START - timedelta(days=1), "online", 0, _devices(False)),
        ("gw-1", START - timedelta(days=2), "offline", 0, Jsonb([])),
        ("gw-1", START + timedelta(days=10), "offline", 0, Jsonb([])),
        ("gw-1", START + timedelta(days=10, hours=3), "online", 350, _devices(True)),
        ("gw-1", START + timedelta(days=20), "online", 0, _devices(False)),
        ("gw-2", START + timedelta(hours=1), "online", 0, _devices(False)),
        ("gw-2", END - timedelta(days=2), "offline", 1200, Jsonb([])),
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO gateway_status_history (gateway_id, building_id, status_ts, state, outbox_backlog,"
            " devices) VALUES (%s, %s, %s, %s, %s, %s)",
            [(g, BUILDING, ts, s, backlog, devices) for g, ts, s, backlog, devices in rows],
        )
        log = []
        for i in range(0, 31 * 24 * 4):  # a message every 15 minutes per gateway
            sent = START + timedelta(minutes=15 * i)
            for gw, lag_ms in (("gw-1", 120 + i % 40), ("gw-2", 300 + i % 90)):
                log.append(
                    (
                        f"meterhub/v1/{BUILDING}/{gw}/readings",
                        gw,
                        BUILDING,
                        f"{gw}-{i}",
                        sent,
                        sent + timedelta(milliseconds=lag_ms),
                        40,
                        39 if i % 50 else 35,
                        1 if i % 50 else 5,
                        0,
                        "ingest-1",
                    )
                )
        cur.executemany(
            "INSERT INTO ingest_log (topic, gateway_id, building_id, batch_id, sent_at, committed_at,"
            " readings, inserted, duplicates, rejected, ingest_worker)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            log,
        )
        cur.executemany(
            "INSERT INTO dead_letters (received_at, source, reason, detail, payload, context)"
            " VALUES (%s, 'mqtt', %s, 'test', '\\x00', %s)",
            [
                (
                    START + timedelta(hours=7 * k),
                    ("unknown_meter", "future_timestamp")[k % 2],
                    # half of them came over this building's topic, half name no building at all
                    Jsonb({"topic": f"meterhub/v1/{BUILDING}/gw-1/readings"} if k % 4 < 2 else {}),
                )
                for k in range(20)
            ],
        )


def _power_quality_meter(conn) -> None:
    """A three-phase house meter that also reports momentary per-phase values every 15 minutes."""
    from meterhub.core.readings import Reading
    from meterhub.timeseries.ingest import write_readings
    from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter

    registers = [
        f"{q}_l{p}_{u}" for q, u in (("voltage", "v"), ("current", "a"), ("power", "w")) for p in (1, 2, 3)
    ]
    registers += [f"power_factor_l{p}" for p in (1, 2, 3)]
    info = MeterInfo(
        kind=MeterKind.ELECTRICITY,
        manufacturer="PQM",
        serial="900001",
        building_id=BUILDING,
        is_house_meter=True,
        registers=tuple(RegisterInfo(r) for r in registers),
    )
    register_meter(conn, info)
    base = {"voltage": 229.0, "current": 12.0, "power": 2700.0, "power_factor": 0.94}
    batch = []
    for i in range(31 * 96):
        ts = START + timedelta(minutes=15 * i)
        for r in registers:
            q = r.rsplit("_l", 1)[0]
            wobble = ((i * 7 + len(r)) % 23 - 11) / 11  # -1 … 1
            value = base[q] * (1 + 0.1 * wobble) if q != "power_factor" else 0.9 + 0.05 * wobble
            batch.append(Reading(info.meter_id, r, ts, value))
    write_readings(conn, batch)
    # an apartment water meter that was installed but never sent anything
    register_meter(
        conn,
        MeterInfo(
            kind=MeterKind.COLD_WATER,
            manufacturer="SIL",
            serial="1",
            building_id=BUILDING,
            registers=(RegisterInfo("water_m3"),),
        ),
    )


def _close_january(conn, b, folder) -> None:
    from meterhub.billing.close.period import close_building
    from meterhub.billing.imports import import_directory
    from meterhub.billing.rules.periods import BillingPeriod
    from tests.billing.test_close_sample import _domain_files

    _domain_files(b, folder)
    import_directory(conn, folder)
    conn.execute(
        "UPDATE premises SET entrance = 1 + (premise_no::int - 1) / 3 WHERE building_id = %s", (BUILDING,)
    )
    close_building(conn, b.building_id, BillingPeriod(2026, 1))


def _service_desk_requests(conn) -> None:
    """Three January requests of the building: one resolved in time, one late, one open and overdue."""
    from meterhub.servicedesk.requests_store import NewRequest, register_request, resolve

    at = datetime(2026, 1, 12, 10, tzinfo=UTC)
    ids = [
        register_request(conn, NewRequest(channel, category, "заявка", building_id=BUILDING), at)
        for channel, category in (("phone", "fault"), ("email", "billing_claim"), ("walk_in", "emergency"))
    ]
    resolve(conn, ids[0], "выполнено", at + timedelta(hours=3), actor=None)
    resolve(conn, ids[1], "выполнено", at + timedelta(days=14), actor=None)


@pytest.fixture(scope="module")
def sample_db(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    from meterhub.cli.sample_loader import load_sample_readings, register_sample_meters
    from meterhub.simulators.sample_data import generate_building
    from meterhub.timeseries.database import connect
    from meterhub.timeseries.rollup import process_dirty

    b = generate_building(BUILDING, apartments=6, start=date(2025, 12, 31), days=33, seed=5)
    with connect(db_url) as conn:
        register_sample_meters(conn, b)
        load_sample_readings(conn, b)
        process_dirty(conn)
        _gateway_rows(conn)
        _power_quality_meter(conn)
        conn.commit()
        _close_january(conn, b, tmp_path_factory.mktemp("domain"))
        conn.commit()
        _service_desk_requests(conn)
        conn.commit()
    return db_url


@pytest.fixture()
def month_context() -> QueryContext:
    return QueryContext(
        time_from=START,
        time_to=END,
        interval="1h",
        variables={
            "building": [BUILDING],
            "resource": ["electricity", "cold_water", "hot_water", "heat"],
            "meter": [],
        },
    )
