"""The close's set-based reads give what the per-row reference gives, on random buildings.

``impossibility_acts_on`` reads the acts of technical impossibility of a whole building in one query;
the reference is the SQL function ``meter_install_impossible`` (migration 0134) asked premise by
premise and service by service, as ``service_recalculations`` still does.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterhub.billing.close.config_in_force import impossibility_acts_on
from meterhub.timeseries.database import connect

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

SERVICES = ("electricity", "cold_water", "hot_water", "wastewater")
DAY0 = date(2025, 12, 1)

acts = st.lists(
    st.tuples(
        st.integers(1, 5),  # premise
        st.sampled_from(SERVICES),
        st.integers(0, 90),  # valid_from, days after DAY0
        st.booleans(),  # impossible (false revokes)
    ),
    max_size=12,
    unique_by=lambda a: (a[0], a[1], a[2]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    possible=st.lists(st.booleans(), min_size=5, max_size=5),
    services=st.sets(st.sampled_from(SERVICES), min_size=1),
    rows=acts,
    day=st.integers(-5, 100),
)
def test_impossibility_of_a_building_equals_the_function_per_premise(
    db_url: str, possible: list[bool], services: set[str], rows: list[tuple[int, str, int, bool]], day: int
) -> None:
    on = DAY0 + timedelta(days=day)
    with connect(db_url) as conn:
        conn.execute(
            "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, "
            "management_method) VALUES ('FP', 'x', 'Europe/Moscow', 500, 50, 'management_company')"
        )
        for i, flag in enumerate(possible, start=1):
            conn.execute(
                "INSERT INTO premises (building_id, premise_no, area, meter_install_possible) "
                "VALUES ('FP', %s, 50, %s)",
                (str(i), flag),
            )
        for s in services:
            conn.execute("INSERT INTO building_services (building_id, service) VALUES ('FP', %s)", (s,))
        for premise, service, offset, impossible in rows:
            conn.execute(
                "INSERT INTO technical_impossibility_acts (building_id, premise_no, service, valid_from, "
                "impossible) VALUES ('FP', %s, %s, %s, %s)",
                (str(premise), service, DAY0 + timedelta(days=offset), impossible),
            )
        reference = {
            (str(p), s)
            for p in range(1, 6)
            for s in services
            if conn.execute("SELECT meter_install_impossible('FP', %s, %s, %s)", (str(p), s, on)).fetchone()[
                0
            ]
        }
        assert impossibility_acts_on(conn, "FP", on) == reference
        conn.rollback()


def _line(conn, building: str, period: str, account: str) -> None:
    conn.execute(
        "INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start,"
        " part_end, volume, unit, tariff, coefficient, method, formula, amount_exact, amount, excess) VALUES"
        " (%s, %s, %s, 'cold_water', 'individual', 'single', '2026-01-01', '2026-02-01', 1, 'm3', 50, 1,"
        " 'meter', 'V × T', 50, 50, 0)",
        (building, period, account),
    )
    conn.execute(
        "INSERT INTO period_volumes (building_id, period, account_no, service, zone, volume, method, formula,"
        " coefficient) VALUES (%s, %s, %s, 'cold_water', 'single', 1, 'meter', 'V', 1)",
        (building, period, account),
    )


def test_lines_need_their_period_and_go_with_it(db_url: str) -> None:
    """Migration 0170 checks the period of charge lines and volumes once per statement: the same rule,
    error class and cascade as the foreign key it replaces."""
    import psycopg

    with connect(db_url) as conn:
        conn.execute(
            "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, "
            "management_method) VALUES ('FK', 'x', 'Europe/Moscow', 500, 50, 'management_company')"
        )
        conn.execute(
            "INSERT INTO billing_periods (building_id, period, status, computed_at) "
            "VALUES ('FK', '2026-01', 'draft', now()), ('FK', '2026-02', 'draft', now())"
        )
        _line(conn, "FK", "2026-01", "A1")
        _line(conn, "FK", "2026-02", "A1")
        conn.commit()
        for table, sql in (
            (
                "charge_lines",
                "UPDATE charge_lines SET period = '2026-03' WHERE period = '2026-01' AND building_id = 'FK'",
            ),
            (
                "period_volumes",
                "UPDATE period_volumes SET period = '2026-03' "
                "WHERE period = '2026-01' AND building_id = 'FK'",
            ),
            ("billing_periods", "UPDATE billing_periods SET period = '2026-04' WHERE period = '2026-01'"),
        ):
            with pytest.raises(psycopg.errors.ForeignKeyViolation, match=table):
                conn.execute(sql)
            conn.rollback()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="2026-05"):
            _line(conn, "FK", "2026-05", "A2")
        conn.rollback()
        copy_sql = (
            "COPY period_volumes (building_id, period, account_no, service, zone, volume, method, formula, "
            "coefficient) FROM STDIN"
        )
        with (  # one check per COPY statement
            pytest.raises(psycopg.errors.ForeignKeyViolation, match="2026-06"),
            conn.cursor().copy(copy_sql) as copy,
        ):
            copy.write_row(("FK", "2026-01", "A2", "hot_water", "single", 1, "meter", "V", 1))
            copy.write_row(("FK", "2026-06", "A2", "hot_water", "single", 1, "meter", "V", 1))
        conn.rollback()
        conn.execute("UPDATE billing_periods SET status = 'draft' WHERE building_id = 'FK'")  # key unchanged
        conn.execute("DELETE FROM billing_periods WHERE building_id = 'FK' AND period = '2026-01'")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM charge_lines WHERE building_id = 'FK' AND period = '2026-01'),"
            " (SELECT count(*) FROM period_volumes WHERE building_id = 'FK' AND period = '2026-01'),"
            " (SELECT count(*) FROM charge_lines WHERE building_id = 'FK' AND period = '2026-02'),"
            " (SELECT count(*) FROM period_volumes WHERE building_id = 'FK' AND period = '2026-02')"
        ).fetchone()
        assert counts == (0, 0, 1, 1)
        conn.execute("DELETE FROM buildings WHERE building_id = 'FK'")  # cascades through billing_periods
        assert conn.execute("SELECT count(*) FROM charge_lines WHERE building_id = 'FK'").fetchone()[0] == 0
        conn.commit()
