"""Validity-dated configuration through import and the close, on the small building (close_data.py):
tariff plans per account and meter (weekday/holiday schedules), meter states, acts of technical
impossibility per service, and a common-property method change that never re-bills a closed month
(billing-rules.md decision 11). Expected amounts are computed by hand in the comments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from meterhub.billing.close.loader import load_building_input
from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.imports import ImportFileError, import_file
from meterhub.billing.residents.consumption_series import build_consumption_chart
from meterhub.billing.residents.loaders import service_tariffs
from meterhub.billing.rules.common_property import CommonPropertyMethod
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.volumes import MeterStatus
from meterhub.timeseries.database import connect
from tests.billing.close_data import (
    load_small_building,
    month_bounds,
    window_times,
    write_hourly,
    write_reading,
)

pytestmark = pytest.mark.db

JAN = BillingPeriod(2026, 1)
FEB = BillingPeriod(2026, 2)


@pytest.fixture(scope="module")
def small(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
    return db_url


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _lines(conn, account: str, service: str, period: BillingPeriod = JAN) -> dict[str, tuple[D, str]]:
    rows = conn.execute(
        "SELECT zone, amount, method FROM charge_lines WHERE building_id = 'B1' AND period = %s "
        "AND account_no = %s AND service = %s AND kind = 'individual'",
        (str(period), account, service),
    ).fetchall()
    return {z: (a, m) for z, a, m in rows}


def test_account_and_meter_plans_with_a_weekday_schedule(small: str, tmp_path: Path) -> None:
    with connect(small) as conn:
        # the regional order prices three zones as well; the building default stays two-zone
        import_file(
            conn,
            "tariffs",
            _write(
                tmp_path,
                "tariffs.csv",
                "service,applies_to,valid_from,scheme,basis,price_single,price_peak,price_semi_peak,price_night\n"
                "electricity,*,2025-07-01,three_zone,per_unit,5.00,7.00,5.50,2.50\n",
            ),
        )
        import_file(
            conn,
            "tariff_plans",
            _write(
                tmp_path, "plans.csv", "building,account,valid_from,scheme\nB1,LS-1,2026-01-01,three_zone\n"
            ),
        )
        close_building(conn, "B1", JAN)
        # LS-1 (E-1, 0.5 kWh every hour, Moscow): peak 07–10 + 17–21 = 7 h × 31 d = 217 h → 108.5 kWh × 7.00
        # = 759.50; semi-peak 10–17 + 21–23 = 9 h × 31 = 279 h → 139.5 × 5.50 = 767.25; night 8 h × 31 =
        # 248 h → 124 × 2.50 = 310.00
        assert _lines(conn, "LS-1", "electricity") == {
            "peak": (D("759.50"), "meter"),
            "semi_peak": (D("767.25"), "meter"),
            "night": (D("310.00"), "meter"),
        }
        # LS-2 keeps the building's two-zone plan: T1 150.5 × 6.00 = 903.00, T2 80 × 3.00 = 240.00
        assert _lines(conn, "LS-2", "electricity") == {
            "day": (D("903.00"), "meter"),
            "night": (D("240.00"), "meter"),
        }

        # a meter plan beats the account plan: E-1 on a two-zone schedule where weekends and the New Year
        # holidays (1–8 January 2026) are night all day
        import_file(
            conn,
            "holidays",
            _write(
                tmp_path,
                "holidays.csv",
                "calendar,day,name\n"
                + "".join(f"RU,2026-01-0{d},Новогодние каникулы\n" for d in range(1, 9)),
            ),
        )
        import_file(
            conn,
            "zone_schedules",
            _write(
                tmp_path,
                "zone_schedules.csv",
                "schedule,scheme,workday,saturday,calendar\nweekend-night,two_zone,day=7-23;night=23-7,night=0-24,RU\n",
            ),
        )
        import_file(
            conn,
            "tariff_plans",
            _write(
                tmp_path,
                "meter_plans.csv",
                "building,meter,valid_from,scheme,zone_schedule\nB1,E-1,2026-01-01,two_zone,weekend-night\n",
            ),
        )
        close_building(conn, "B1", JAN)
        # working days of January 2026: 31 − 8 holidays − 7 weekend days (10, 11, 17, 18, 24, 25, 31) = 16;
        # day 16 × 16 h × 0.5 = 128 kWh × 6.00 = 768.00;
        # night 16 × 8 × 0.5 + 15 × 24 × 0.5 = 244 kWh × 3.00 = 732.00
        assert _lines(conn, "LS-1", "electricity") == {
            "day": (D("768.00"), "meter"),
            "night": (D("732.00"), "meter"),
        }
        # the cabinet's zone chart of LS-1 follows the same plan and calendar (day resolution):
        # 1 January (holiday) all night 24 × 0.5 = 12 kWh; Friday 9 January day 8 + night 4
        tariffs = service_tariffs(conn, "B1", "electricity", date(2026, 1, 1), date(2026, 2, 1), "LS-1")
        assert {t.schedule.name for t in tariffs} == {"weekend-night"}
        start, end = month_bounds(2026, 1)
        hours = [int((start + timedelta(hours=h)).timestamp()) * 1_000_000 for h in range(744)]
        chart = build_consumption_chart(
            hours,
            [500_000] * 744,
            [0] * 744,
            start=start,
            end=end,
            tz="Europe/Moscow",
            resolution="day",
            tariffs=tariffs,
        )
        assert chart.zones == ("day", "night")
        assert chart.zone_values[0].tolist() == [0, 12_000_000]
        assert chart.zone_values[8].tolist() == [8_000_000, 4_000_000]
        conn.execute("DELETE FROM tariff_plans")
        conn.execute("DELETE FROM tariffs WHERE scheme = 'three_zone'")
        conn.commit()


def test_plan_import_errors_are_clear(small: str, tmp_path: Path) -> None:
    with connect(small) as conn:
        path = _write(
            tmp_path,
            "bad_plans.csv",
            "building,account,meter,valid_from,scheme,zone_schedule\n"
            "B1,LS-1,E-1,2026-01-01,two_zone,\n"
            "B1,LS-9,,2026-01-01,two_zone,\n"
            "B1,LS-2,,2026-01-01,three_zone,weekend-night\n",
        )
        with pytest.raises(ImportFileError) as info:
            import_file(conn, "tariff_plans", path)
        text = str(info.value)
        assert "row 2, column meter: a plan is of an account or of a meter, not both" in text
        assert "row 3, column account: B1/LS-9 not found" in text
        assert "row 4, column scheme: weekend-night/three_zone not found" in text
        assert conn.execute("SELECT count(*) FROM tariff_plans").fetchone() == (0,)
        bad = _write(tmp_path, "bad_schedules.csv", "schedule,scheme,saturday\nx,two_zone,night=0-12\n")
        with pytest.raises(ImportFileError, match="column saturday: zone schedule 'x', saturday"):
            import_file(conn, "zone_schedules", bad)


def test_electricity_meter_failure_is_the_suppliers_duty_and_xlsx_imports(small: str, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["meter_id", "valid_from", "state"])
    sheet.append(["E-2", date(2026, 1, 3), "verification_expired"])
    book.save(tmp_path / "meter_states.xlsx")
    with connect(small) as conn:
        result = import_file(conn, "meter_states", tmp_path / "meter_states.xlsx")
        assert (result.rows, result.inserted) == (1, 1)
        loaded = load_building_input(conn, "B1", JAN)
        acc = next(a for a in loaded.input.accounts if a.account == "LS-2")
        electricity = next(s for s in acc.services if s.service is Service.ELECTRICITY)
        # since 2020 the supplier replaces household electricity meters: case «г», never ×1.5
        assert electricity.meter is not None and electricity.meter.status is MeterStatus.FAILED_SUPPLIER_DUTY
        conn.execute("DELETE FROM meter_states")
        conn.commit()


def test_meter_states_decide_the_failed_meter_case(small: str, tmp_path: Path) -> None:
    with connect(small) as conn:
        import_file(
            conn,
            "meter_states",
            _write(tmp_path, "states.csv", "meter_id,valid_from,state,note\nW-1,2026-01-10,failed,течь\n"),
        )
        loaded = load_building_input(conn, "B1", JAN)
        acc = next(a for a in loaded.input.accounts if a.account == "LS-1")
        cold = next(s for s in acc.services if s.service is Service.COLD_WATER)
        assert cold.meter is not None and cold.meter.status is MeterStatus.FAILED
        assert not cold.meter.being_replaced
        result = close_building(conn, "B1", JAN)
        # W-1 has readings (6.5 m³) but failed on 10 January: no metered history → normative with ×1.5
        # (formula 4(1)): 1 person × 5 m³ × 50.00 × 1.5 = 375.00; wastewater 5 m³ × 40.00 = 200.00 (no ×1.5)
        assert _lines(conn, "LS-1", "cold_water") == {"single": (D("375.00"), "normative_x1_5")}
        assert _lines(conn, "LS-1", "wastewater") == {"single": (D("200.00"), "normative")}
        assert result.report["meters"]["state failed"] == 1
        assert any("meter W-1 failed since 2026-01-10" in w for w in result.report["warnings"])
        # the consumer is replacing it from the 20th: no coefficient (ПП 354, п. 59 «а»; billing-rules §1.4)
        import_file(
            conn,
            "meter_states",
            _write(tmp_path, "states2.csv", "meter_id,valid_from,state\nW-1,2026-01-20,being_replaced\n"),
        )
        close_building(conn, "B1", JAN)
        assert _lines(conn, "LS-1", "cold_water") == {"single": (D("250.00"), "normative")}  # 5 × 50.00
        # repaired from the 24th, before the readings window ends (the 25th): metered again 6.5 × 50 = 325.00
        import_file(
            conn,
            "meter_states",
            _write(tmp_path, "states3.csv", "meter_id,valid_from,state\nW-1,2026-01-24,working\n"),
        )
        close_building(conn, "B1", JAN)
        assert _lines(conn, "LS-1", "cold_water") == {"single": (D("325.00"), "meter")}


def test_acts_are_per_service(small: str, tmp_path: Path) -> None:
    with connect(small) as conn:
        conn.execute("UPDATE premises SET meter_install_possible = true WHERE premise_no = '3'")
        conn.execute(
            "INSERT INTO absence_periods (account_no, departed_on, returned_on, persons) "
            "VALUES ('LS-3', '2026-01-05', '2026-01-18', 2)"
        )
        conn.commit()
        close_building(conn, "B1", JAN)
        # premise 3 without an act: cold water n × N × 1.5 = 2 × 5 × 50 × 1.5 = 750.00;
        # no absence recalculation
        assert _lines(conn, "LS-3", "cold_water") == {"single": (D("750.00"), "normative_x1_5")}
        assert _recalcs(conn) == {}
        import_file(
            conn,
            "impossibility_acts",
            _write(
                tmp_path,
                "acts.csv",
                "building,premise,service,valid_from,act_no\nB1,3,cold_water,2025-06-01,А-17\n",
            ),
        )
        close_building(conn, "B1", JAN)
        # the cold-water act removes ×1.5: 2 × 5 × 50.00 = 500.00; the absence of both residents for 12 full
        # days (6..17 January) reduces cold water: 500.00 × (2 × 12) / (2 × 31) = 193.548… → −193.55
        assert _lines(conn, "LS-3", "cold_water") == {"single": (D("500.00"), "normative")}
        # electricity (normative 2 × 100 × 5.00 = 1000.00) has no act: it is not reduced for the absence
        assert _lines(conn, "LS-3", "electricity") == {"single": (D("1000.00"), "normative")}
        recalcs = _recalcs(conn)
        assert recalcs[("LS-3", "cold_water")] == -19355
        assert ("LS-3", "electricity") not in recalcs
        # a revoking row from February: January keeps its act
        import_file(
            conn,
            "impossibility_acts",
            _write(
                tmp_path,
                "acts2.csv",
                "building,premise,service,valid_from,impossible\nB1,3,cold_water,2026-02-01,нет\n",
            ),
        )
        close_building(conn, "B1", JAN)
        assert _lines(conn, "LS-3", "cold_water") == {"single": (D("500.00"), "normative")}


def _recalcs(conn) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        "SELECT account_no, service, amount_kopecks FROM service_recalculation_lines "
        "WHERE building_id = 'B1' AND period = '2026-01' AND reason_kind = 'absence'"
    ).fetchall()
    return {(a, s): k for a, s, k in rows}


def test_changing_the_method_never_rebills_a_closed_month(small: str, tmp_path: Path) -> None:
    with connect(small) as conn:
        close_building(conn, "B1", JAN, CloseOptions(final=True))
        jan_lines = conn.execute(
            "SELECT count(*), sum(amount) FROM charge_lines WHERE period = '2026-01' "
            "AND service = 'cold_water' AND kind = 'common_property'"
        ).fetchone()
        # cold water common property, NORMATIVE: 0.1 × 30 m² = 3 m³ × 50.00 = 150.00 in all
        assert jan_lines == (3, D("150.00"))
        # a meeting decides "by fact" (ACTUAL) — imported through building_services as before
        import_file(
            conn,
            "building_services",
            _write(tmp_path, "bs.csv", "building,service,common_property_method\nB1,cold_water,actual\n"),
        )
        dated = conn.execute(
            "SELECT valid_from::text, method FROM common_property_methods ORDER BY valid_from"
        ).fetchall()
        assert dated == [("1900-01-01", "normative"), ("2026-02-01", "actual")]
        changes = conn.execute(
            "SELECT count(*) FROM billing_input_changes WHERE building_id = 'B1'"
        ).fetchone()
        assert changes[0] >= 1  # the marker saw the edit: January is rechecked
        methods = {c.service: c.method for c in load_building_input(conn, "B1", JAN).input.common_property}
        assert methods[Service.COLD_WATER] is CommonPropertyMethod.NORMATIVE
        # February: a cold-water house meter reading gives the fact
        feb = {c.service: c.method for c in load_building_input(conn, "B1", FEB).input.common_property}
        assert feb[Service.COLD_WATER] is CommonPropertyMethod.ACTUAL
        write_reading(conn, "E-HOUSE", "energy_import_kwh", window_times(2026, 2)[1], 2000.0)
        write_hourly(conn, "E-1", "energy_import_kwh", *month_bounds(2026, 2), 500_000)
        conn.commit()
        result = close_building(conn, "B1", FEB)
        assert result.report["recalculations"]["lines"] == 0  # January is not re-billed
        assert "2026-01" in result.report["recalculations"]["rechecked"]
        assert conn.execute("SELECT count(*) FROM recalculation_lines").fetchone() == (0,)
        # the same by plain SQL (not through the import): the trigger of migration 0135 dates it too
        conn.execute(
            "UPDATE building_services SET common_property_method = 'actual' "
            "WHERE building_id = 'B1' AND service = 'electricity'"
        )
        conn.commit()
        dated = conn.execute(
            "SELECT valid_from::text, method FROM common_property_methods WHERE service = 'electricity' "
            "ORDER BY valid_from"
        ).fetchall()
        assert dated == [("1900-01-01", "actual_capped"), ("2026-02-01", "actual")]


@pytest.mark.parametrize(
    ("sql", "building"),
    [
        (
            "INSERT INTO meter_states (meter_id, valid_from, state) VALUES ('E-2', '2026-03-01', 'failed')",
            "B1",
        ),
        (
            "INSERT INTO tariff_plans (building_id, valid_from, scheme) "
            "VALUES ('B1', '2026-03-01', 'two_zone')",
            "B1",
        ),
        (
            "INSERT INTO technical_impossibility_acts (building_id, premise_no, service, valid_from) "
            "VALUES ('B1', '1', 'hot_water', '2026-03-01')",
            "B1",
        ),
        (
            "INSERT INTO common_property_methods (building_id, service, valid_from, method) "
            "VALUES ('B1', 'electricity', '2026-03-01', 'actual')",
            "B1",
        ),
        ("INSERT INTO holiday_calendars (calendar, day) VALUES ('RU', '2026-03-09')", "*"),
        ("UPDATE zone_schedules SET saturday = NULL WHERE schedule = 'weekend-night'", "*"),
    ],
)
def test_edits_of_dated_configuration_move_the_change_marker(small: str, sql: str, building: str) -> None:
    """The recheck of closed months (input_changes) notices every edit of the new tables."""
    with connect(small) as conn:
        before = conn.execute(
            "SELECT count(*) FROM billing_input_changes WHERE building_id = %s", (building,)
        ).fetchone()[0]
        conn.execute(sql)
        conn.commit()
        after = conn.execute(
            "SELECT count(*) FROM billing_input_changes WHERE building_id = %s", (building,)
        ).fetchone()[0]
    assert after == before + 1
