"""The collection check of tests/conftest.py: a test module touching the migrations or the storage must have
tests marked ``pg_versions``, or CI's PostgreSQL 15 pass (tasks.py, ``-m "db and pg_versions"``) would skip
it silently (docs/testing.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.conftest import modules_missing_pg_versions


@dataclass
class FakeItem:
    nodeid: str
    marks: set[str] = field(default_factory=set)
    fixturenames: tuple[str, ...] = ()

    def get_closest_marker(self, name: str):
        return name if name in self.marks else None


def test_a_storage_module_without_the_marker_is_named() -> None:
    items = [
        FakeItem("tests/billing/test_a.py::test_x", {"db", "storage"}),
        FakeItem("tests/timeseries/test_b.py::test_y", {"db"}),
        FakeItem("tests/deploy/test_c.py::test_z", {"db"}, ("empty_db_url",)),
    ]
    assert modules_missing_pg_versions(items) == [
        "tests/billing/test_a.py",
        "tests/deploy/test_c.py",
        "tests/timeseries/test_b.py",
    ]


def test_one_marked_test_of_the_module_is_enough_and_others_are_not_judged() -> None:
    items = [
        FakeItem("tests/timeseries/test_b.py::test_broker_only", {"db"}),
        FakeItem("tests/timeseries/test_b.py::test_partitions", {"db", "pg_versions"}),
        FakeItem("tests/timeseries/test_pure.py::test_math"),  # no database: not a storage test
        FakeItem("tests/api/test_pages.py::test_page", {"db"}),  # a database, but not the storage
        FakeItem("tests/timeseries/test_hyper.py::test_chunks", {"db", "storage", "timescaledb_only"}),
    ]
    assert modules_missing_pg_versions(items) == []
