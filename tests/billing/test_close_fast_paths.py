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

pytestmark = pytest.mark.db

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
