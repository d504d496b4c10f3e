"""meterhub import: row-level errors name file, row and column; a file with errors imports nothing;
re-importing is idempotent (upsert by natural key); XLSX works like CSV; meters are registered."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import Workbook

from meterhub.billing.close.repository import tariffs_in_period
from meterhub.billing.imports import ImportFileError, import_directory, import_file
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.zones import Zone
from meterhub.timeseries.database import connect
from tests.billing.close_data import SMALL

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def base(db_url: str) -> str:
    with connect(db_url) as conn:
        import_file(conn, "buildings", SMALL / "buildings.csv")
    return db_url


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_errors_name_file_row_and_column_and_nothing_is_imported(base: str, tmp_path: Path) -> None:
    path = tmp_path / "premises.csv"
    path.write_text(
        "building,premise,area,residential,floor\n"
        "B1,10,45.5,yes,2\n"  # row 2: fine
        "B1,11,-,yes,2\n"  # row 3: area not a number
        "NOPE,12,30,yes,1\n"  # row 4: unknown building
        "B1,13,30,maybe,x\n"  # row 5: two errors
        "B1,,30,yes,1\n",  # row 6: missing premise
        encoding="utf-8",
    )
    with connect(base) as conn, pytest.raises(ImportFileError) as info:
        import_file(conn, "premises", path)
    problems = [(p.row, p.column) for p in info.value.problems]
    assert problems == [(3, "area"), (4, "building"), (5, "residential"), (5, "floor"), (6, "premise")]
    assert all(p.file == str(path) for p in info.value.problems)
    assert "row 3, column area: '-' is not a number" in str(info.value)
    with connect(base) as conn:
        assert _count(conn, "premises") == 0
    assert "row 4, column building: NOPE not found; import buildings first" in str(info.value)


def test_header_problems_and_duplicate_keys(base: str, tmp_path: Path) -> None:
    path = tmp_path / "premises.csv"
    path.write_text("building,premise,squre\nB1,1,10\n", encoding="utf-8")
    with connect(base) as conn, pytest.raises(ImportFileError) as info:
        import_file(conn, "premises", path)
    assert [(p.row, p.column) for p in info.value.problems] == [(1, "squre"), (1, "area")]
    path.write_text("building,premise,area\nB1,1,10\nB1,1,11\n", encoding="utf-8")
    with connect(base) as conn, pytest.raises(ImportFileError, match=r"row 3, column premise: duplicate key"):
        import_file(conn, "premises", path)


def test_tariff_rows_are_checked_by_the_engine(base: str, tmp_path: Path) -> None:
    path = tmp_path / "tariffs.csv"
    path.write_text(
        "service,valid_from,scheme,price_day,price_night,zone_schedule\n"
        "electricity,2026-01-01,two_zone,6.00,,\n"  # row 2: no night price
        "electricity,2026-02-01,two_zone,6.00,3.00,day=7-22;night=23-7\n",  # row 3: 22:00 in no zone
        encoding="utf-8",
    )
    with connect(base) as conn, pytest.raises(ImportFileError) as info:
        import_file(conn, "tariffs", path)
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "price_night"), (3, "zone_schedule")]
    assert "22:00 belong to no zone" in str(info.value)


def test_reimport_is_idempotent(base: str) -> None:
    with connect(base) as conn:
        results = import_directory(conn, SMALL)
        counts = {
            t: _count(conn, t)
            for t in (
                "premises",
                "accounts",
                "resident_counts",
                "meter_links",
                "meters",
                "tariffs",
                "normatives",
                "building_services",
            )
        }
        again = import_directory(conn, SMALL)
        counts_again = {t: _count(conn, t) for t in counts}
    assert counts == counts_again
    assert counts["premises"] == 3 and counts["meter_links"] == 5 and counts["meters"] == 5
    assert sum(r.inserted for r in again) == 0
    assert [r.updated for r in again] == [r.rows for r in again]
    assert {r.entity: r.inserted for r in results}["accounts"] == 3


def test_xlsx_import_with_dates_numbers_and_russian_booleans(base: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "service",
            "applies_to",
            "valid_from",
            "valid_to",
            "scheme",
            "price_single",
            "price_day",
            "price_night",
        ]
    )
    sheet.append(["electricity", "B1", date(2026, 3, 1), None, "two_zone", 5.55, 6.17, 3.09])
    path = tmp_path / "tariffs.xlsx"
    book.save(path)
    with connect(base) as conn:
        result = import_file(conn, "tariffs", path)
        tariffs = [
            t for t in tariffs_in_period(conn, "B1", BillingPeriod(2026, 3)) if t.service == "electricity"
        ]
    assert result.inserted == 1
    assert len(tariffs) == 1  # the building's own tariff replaces the '*' one
    assert tariffs[0].price(Zone.DAY) == D("6.17") and tariffs[0].price(Zone.NIGHT) == D("3.09")
    assert tariffs[0].price(Zone.SINGLE) == D("5.55")


def test_unregistered_meter_needs_manufacturer_and_serial(base: str, tmp_path: Path) -> None:
    path = tmp_path / "meters.csv"
    path.write_text("meter_id,valid_from,building,premise,service\nX-1,2026-01-01,B1,1,cold_water\n")
    with (
        connect(base) as conn,
        pytest.raises(ImportFileError, match="row 2, column meter_id: meter X-1 is not"),
    ):
        import_file(conn, "meters", path)


def test_buildings_prepares_hot_water_column(base: str, tmp_path: Path) -> None:
    head = "building,address,time_zone,total_area,common_area"
    row = 'HW1,"г. Омск, ул. Мира, д. 7",Asia/Omsk,1000.00,200.00'
    with_column = tmp_path / "with" / "buildings.csv"
    without_column = tmp_path / "without" / "buildings.csv"
    for path, text in (
        (with_column, f"{head},prepares_hot_water\n{row},да\n"),
        (without_column, f"{head}\n{row}\n"),
    ):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")

    def stored(conn) -> bool:
        sql = "SELECT prepares_hot_water FROM buildings WHERE building_id = 'HW1'"
        return conn.execute(sql).fetchone()[0]

    with connect(base) as conn:
        assert import_file(conn, "buildings", with_column).inserted == 1
        assert stored(conn) is True
        # an older file without the column leaves the stored flag as it is
        assert import_file(conn, "buildings", without_column).updated == 1
        assert stored(conn) is True
        with_column.write_text(f"{head},prepares_hot_water\n{row},false\n", encoding="utf-8")
        import_file(conn, "buildings", with_column)
        assert stored(conn) is False
        with_column.write_text(f"{head},prepares_hot_water\n{row},иногда\n", encoding="utf-8")
        with pytest.raises(ImportFileError) as info:
            import_file(conn, "buildings", with_column)
        assert "row 2, column prepares_hot_water: 'иногда' is not yes/no" in str(info.value)
        conn.execute("DELETE FROM buildings WHERE building_id = 'HW1'")
        conn.commit()
    # a new building from a file without the column takes the default (false)
    with connect(base) as conn:
        import_file(conn, "buildings", without_column)
        assert stored(conn) is False
        conn.execute("DELETE FROM buildings WHERE building_id = 'HW1'")
        conn.commit()
