"""Heating configuration as dated data (migration 0150): imported from CSV, read in force per day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from meterhub.billing.close.heating.store import (
    distributor_units,
    heating_config_on,
    heating_days,
    house_year_override,
    premise_devices_on,
)
from meterhub.billing.imports import ImportFileError, import_file
from meterhub.billing.rules.heating import PaymentMode, PremiseHeatKind, UnmeteredRule
from meterhub.timeseries.database import connect
from tests.billing.close_data import load_small_building

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def small(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
    return db_url


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_heating_files_import_and_apply_from_their_dates(small: str, tmp_path: Path) -> None:
    with connect(small) as conn:
        import_file(
            conn,
            "heating_configs",
            _write(
                tmp_path,
                "c.csv",
                "building;valid_from;payment_mode;has_odpu;normative_gcal_m2;unmetered_rule;season_months\n"
                "B1;2025-01-01;even_year;нет;0,0198;avg_specific_of_metered;8\n"
                "B1;2026-02-01;season;да;0,0198;normative;7\n",
            ),
        )
        import_file(
            conn,
            "heating_seasons",
            _write(
                tmp_path, "s.csv", "building,starts_on,ends_on\nB1,2025-10-15,2026-04-20\nB1,2026-10-01,\n"
            ),
        )
        import_file(
            conn,
            "premise_heating_devices",
            _write(
                tmp_path,
                "d.csv",
                "building,premise,valid_from,devices\nB1,3,2026-02-01,no_devices\nB1,2,2025-01-01,distributor\n",
            ),
        )
        import_file(
            conn,
            "heat_distributor_units",
            _write(tmp_path, "u.csv", "building,premise,period,units\nB1,2,2026-01,412.5\n"),
        )
        years = _write(tmp_path, "y.csv", "building,year,gcal\nB1,2025,1560\n")
        import_file(conn, "heating_house_years", years)

        jan = heating_config_on(conn, "B1", date(2026, 1, 31))
        assert jan is not None and jan.policy.payment_mode is PaymentMode.EVEN_YEAR
        assert not jan.policy.has_odpu and jan.normative == D("0.0198") and jan.policy.season_months == 8
        feb = heating_config_on(conn, "B1", date(2026, 2, 1))
        assert feb is not None and feb.policy.payment_mode is PaymentMode.SEASON and feb.policy.has_odpu
        assert feb.policy.unmetered_rule is UnmeteredRule.NORMATIVE
        assert heating_config_on(conn, "B1", date(2024, 12, 31)) is None

        # April 2026: 1..19 in season (ends_on exclusive) = 19 days; May: 0; October: 31
        assert heating_days(conn, "B1", date(2026, 4, 1), date(2026, 5, 1)) == 19
        assert heating_days(conn, "B1", date(2026, 5, 1), date(2026, 6, 1)) == 0
        assert heating_days(conn, "B1", date(2026, 10, 1), date(2026, 11, 1)) == 31
        # October 2025: 15..31 = 17 days
        assert heating_days(conn, "B1", date(2025, 10, 1), date(2025, 11, 1)) == 17

        assert premise_devices_on(conn, "B1", date(2026, 1, 15)) == {
            "1": PremiseHeatKind.RADIATORS,
            "2": PremiseHeatKind.DISTRIBUTOR,
            "3": PremiseHeatKind.RADIATORS,
        }
        assert premise_devices_on(conn, "B1", date(2026, 2, 1))["3"] is PremiseHeatKind.NO_DEVICES
        assert distributor_units(conn, "B1", "2026-01") == {"2": D("412.5")}
        assert house_year_override(conn, "B1", 2025) == D("1560")
        assert house_year_override(conn, "B1", 2024) is None


def test_bad_heating_rows_are_reported_with_their_columns(small: str, tmp_path: Path) -> None:
    with connect(small) as conn:
        with pytest.raises(ImportFileError) as err:
            import_file(
                conn,
                "heating_configs",
                _write(
                    tmp_path,
                    "bad.csv",
                    "building,valid_from,payment_mode,has_odpu,normative_gcal_m2,correction_month\n"
                    "B1,2026-03-01,monthly,yes,0.02,1\n"
                    "B1,2026-04-01,season,yes,0.02,5\n"
                    "NOPE,2026-03-01,season,yes,0.02,1\n",
                ),
            )
        text = str(err.value)
        assert "payment_mode" in text and "correction_month" in text and "NOPE" in text
        with pytest.raises(ImportFileError, match="period"):
            import_file(
                conn,
                "heat_distributor_units",
                _write(tmp_path, "u.csv", "building,premise,period,units\nB1,1,2026-13,1\n"),
            )
        assert heating_config_on(conn, "B1", date(2026, 3, 31)).valid_from == date(2026, 2, 1)
