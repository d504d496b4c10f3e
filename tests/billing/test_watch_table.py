"""billing_watch_table (migration 0163): the one definition of the recalculation marker's triggers on an
input table of the close (0103), which 0103, 0134, 0150 and registry 0400 had each written out.

The watched tables are listed here by hand from those four migrations: 12 in 0103, 6 in 0134, 5 in 0150
and 2 in registry 0400, each with an INSERT, an UPDATE and a DELETE trigger.
"""

from __future__ import annotations

import pytest

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.timeseries import migrate as migrate_module
from meterhub.timeseries.database import connect
from meterhub.timeseries.migrate import migrate

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

WATCHED = {
    # 0103
    "buildings", "premises", "accounts", "resident_counts", "meter_links", "building_services", "tariffs",
    "normatives", "meters", "meter_registers", "register_events", "vee_limits",
    # 0134
    "common_property_methods", "holiday_calendars", "zone_schedules", "tariff_plans", "meter_states",
    "technical_impossibility_acts",
    # 0150
    "heating_configs", "heating_seasons", "premise_heating_devices", "heat_distributor_units",
    "heating_house_years",
    # registry 0400
    "registry_events", "registry_buildings",
}  # fmt: skip

_TRIGGERS = """
SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname LIKE 'billing\\_input\\_changes\\_%' AND NOT t.tgisinternal
 ORDER BY 1, 2
"""


def _triggers(conn) -> list[tuple[str, str, str]]:
    return conn.execute(_TRIGGERS).fetchall()


def _check_watched(triggers: list[tuple[str, str, str]]) -> None:
    assert {table for table, _, _ in triggers} == WATCHED
    assert len(triggers) == 3 * len(WATCHED)
    for table, name, definition in triggers:
        event = name.removeprefix("billing_input_changes_").upper()
        assert event in ("INSERT", "UPDATE", "DELETE")
        assert definition.startswith(f"CREATE TRIGGER {name} AFTER {event} ON public.{table} REFERENCING ")
        assert "FOR EACH STATEMENT EXECUTE FUNCTION billing_note_domain_changes('SELECT " in definition


@pytest.mark.storage
def test_an_installed_database_keeps_its_triggers_when_0163_comes(empty_db_url, monkeypatch) -> None:
    """A database migrated before 0163 (with registry 0400 and later applied) gets 0163 on its own; every
    watched table then has the same three triggers as before, now made by billing_watch_table."""
    real_discover = migrate_module.discover

    def without_0163(sources, path):
        return [m for m in real_discover(sources, path) if m.version != 163]

    with connect(empty_db_url) as conn:
        monkeypatch.setattr(migrate_module, "discover", without_0163)
        migrate(conn, MIGRATION_SOURCES)
        before = _triggers(conn)
        assert conn.execute("SELECT to_regproc('billing_watch_table')").fetchone() == (None,)
        monkeypatch.undo()

        applied = migrate(conn, MIGRATION_SOURCES)
        assert [m.version for m in applied] == [163]
        after = _triggers(conn)
        assert after == before
        _check_watched(after)

        # the function replaces what it made: the same call leaves the same definitions
        query = "SELECT t.building_id FROM %1$s"
        conn.execute("SELECT billing_watch_table('heating_configs', %s)", (query,))
        assert _triggers(conn) == before


@pytest.mark.storage
def test_a_table_watched_by_the_function_marks_the_buildings_it_touches(empty_db_url) -> None:
    with connect(empty_db_url, autocommit=True) as conn:
        migrate(conn, MIGRATION_SOURCES)
        conn.execute("DELETE FROM billing_input_changes")
        conn.execute("CREATE TABLE watch_probe (building_id text, note text)")
        conn.execute("SELECT billing_watch_table('watch_probe', 'SELECT t.building_id FROM %1$s')")

        def marked() -> list[tuple]:
            rows = conn.execute(
                "SELECT building_id, from_ts = '-infinity', to_ts = 'infinity' FROM billing_input_changes "
                "ORDER BY building_id"
            ).fetchall()
            conn.execute("DELETE FROM billing_input_changes")
            return rows

        conn.execute("INSERT INTO watch_probe VALUES ('B1', 'a'), ('B2', 'b'), (NULL, 'c')")
        assert marked() == [("B1", True, True), ("B2", True, True)]  # NULL building: nobody
        conn.execute("UPDATE watch_probe SET note = 'x' WHERE building_id = 'B2'")
        assert marked() == [("B2", True, True)]
        conn.execute("UPDATE watch_probe SET note = note")  # no row differs: nothing to mark
        assert marked() == []
        conn.execute("DELETE FROM watch_probe WHERE building_id = 'B1'")
        assert marked() == [("B1", True, True)]

        # watching again with another query replaces the triggers: a change now marks every building
        conn.execute("SELECT billing_watch_table('watch_probe', 'SELECT ''*'' FROM %1$s')")
        names = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'watch_probe'::regclass ORDER BY tgname"
        ).fetchall()
        assert names == [
            ("billing_input_changes_delete",),
            ("billing_input_changes_insert",),
            ("billing_input_changes_update",),
        ]
        conn.execute("INSERT INTO watch_probe VALUES ('B3', 'd')")
        assert marked() == [("*", True, True)]
        conn.execute("DROP TABLE watch_probe")


def test_a_new_database_watches_the_same_tables(db_url) -> None:
    """On a new database 0163 runs before registry 0400, which still writes its own loop."""
    with connect(db_url) as conn:
        _check_watched(_triggers(conn))
