"""Heating in the period close on the small building (close_data.py: premises 1/2/3 of 50/60/40 m²,
S_об = 150 m², accounts LS-1/2/3): a house heat meter and an ИПУ in premise 2, season payment; a failed
house meter averaged; then even payment with the yearly correction booked as a recalculation line.
Tariff 2 845.17 ₽/Гкал. Expected amounts are computed by hand in the comments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from meterhub.billing.close.heating.yearly import run_yearly_correction
from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.imports import import_file
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, window_times, write_reading
from tests.billing.receipts.receipt_data import add_payee

pytestmark = pytest.mark.db

FINAL = CloseOptions(final=True)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def heated(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("heating")
    with connect(db_url) as conn:
        load_small_building(conn)
        for table in ("readings", "hourly_consumption"):
            conn.execute(
                "SELECT meterhub_ensure_partitions(%s, %s, %s)",
                (table, datetime(2024, 12, 1, tzinfo=MOSCOW), datetime(2025, 12, 1, tzinfo=MOSCOW)),
            )
        import_file(
            conn,
            "tariffs",
            _write(
                folder,
                "t.csv",
                "service,applies_to,valid_from,scheme,basis,price_single\n"
                "heat,*,2025-07-01,single_rate,per_unit,2845.17\n",
            ),
        )
        import_file(
            conn,
            "meters",
            _write(
                folder,
                "m.csv",
                "meter_id,valid_from,valid_to,building,premise,service,manufacturer,serial,verification_due,registers\n"
                "H-HOUSE,2020-01-01,,B1,,heat,KAM,1,2030-01-01,heat_gcal\n"
                "H-2,2020-01-01,,B1,2,heat,KAM,2,2030-01-01,heat_gcal\n",
            ),
        )
        import_file(
            conn,
            "heating_configs",
            _write(
                folder,
                "c.csv",
                "building,valid_from,payment_mode,has_odpu,normative_gcal_m2\n"
                "B1,2025-07-01,even_year,yes,0.0198\n"
                "B1,2026-01-01,season,yes,0.0198\n",
            ),
        )
        import_file(
            conn,
            "heating_seasons",
            _write(
                folder,
                "s.csv",
                "building,starts_on,ends_on\nB1,2025-10-01,2026-05-01\nB1,2026-10-01,2027-05-01\n",
            ),
        )
        # even payment from July 2025 (other services' tariffs start then); premise 2 has no ИПУ then
        # (radiators) — formula 3 for the whole house; its meter counts from 2026
        import_file(
            conn,
            "premise_heating_devices",
            _write(
                folder,
                "d.csv",
                "building,premise,valid_from,devices\nB1,2,2025-01-01,radiators\nB1,2,2026-01-01,ipu\n",
            ),
        )
        years = _write(folder, "y.csv", "building,year,gcal\nB1,2024,1560\n")
        import_file(conn, "heating_house_years", years)
        w_start, w_end = window_times(2026, 1)
        write_reading(conn, "H-HOUSE", "heat_gcal", w_start, 100.0)
        write_reading(conn, "H-HOUSE", "heat_gcal", w_end, 112.5)
        write_reading(conn, "H-2", "heat_gcal", w_start, 10.0)
        write_reading(conn, "H-2", "heat_gcal", w_end, 12.0)
        for month, value in ((8, 1100.0), (9, 1180.0)):
            start, end = window_times(2025, month)
            if month == 8:
                write_reading(conn, "H-HOUSE", "heat_gcal", start, 1000.0)
            write_reading(conn, "H-HOUSE", "heat_gcal", end, value)
        add_payee(conn)
        conn.commit()
    return db_url


def _heat(conn, period: str) -> dict[str, tuple[D, D]]:
    rows = conn.execute(
        "SELECT account_no, volume, amount FROM charge_lines WHERE building_id = 'B1' AND period = %s "
        "AND service = 'heat'",
        (period,),
    ).fetchall()
    return {a: (v, am) for a, v, am in rows}


def test_season_house_meter_with_one_ipu(heated: str) -> None:
    with connect(heated) as conn:
        result = close_building(conn, "B1", BillingPeriod(2026, 1), FINAL)
        lines = _heat(conn, "2026-01")
        # house 112.5 − 100 = 12.5 Гкал; ИПУ premise 2: 12 − 10 = 2.0 Гкал on 60 m² → 1/30 Гкал/m²
        # unmetered (avg-specific rule): premise 1 50/30, premise 3 40/30; Σ own = 2 + 90/30 = 5
        # common 12.5 − 5 = 7.5 → 7.5/150 = 0.05 Гкал/m²
        # LS-1: 50/30 + 2.5 = 25/6 Гкал × 2845.17 = 11854.875 → 11854.88 (half-up)
        # LS-2: 2 + 3 = 5 Гкал × 2845.17 = 14225.85
        # LS-3: 40/30 + 2 = 10/3 Гкал × 2845.17 = 9483.90
        assert {a: am for a, (_, am) in lines.items()} == {
            "LS-1": D("11854.88"),
            "LS-2": D("14225.85"),
            "LS-3": D("9483.90"),
        }
        assert lines["LS-2"][0] == 5
        heating = result.report["heating"]
        assert heating["method"] == "odpu_partial_ipu" and heating["house_source"] == "meter"
        assert abs(D(str(heating["common_gcal"])) - D("7.5")) < D("1e-90")  # 1/30 repeats
        assert set(heating["accounts"]) == {"LS-1", "LS-2", "LS-3"}
        for parts in heating["accounts"].values():
            assert all("Гкал" in p["explained"] and "2845.17" in p["explained"] for p in parts)
        assert "ИПУ 2" in heating["accounts"]["LS-2"][0]["explained"]
        stored = conn.execute(
            "SELECT report->'heating'->>'amount' FROM close_reports "
            "WHERE building_id = 'B1' AND period = '2026-01'"
        ).fetchone()[0]
        assert D(stored) == D("35564.63")  # 11854.88 + 14225.85 + 9483.90
        electricity_total = conn.execute(
            "SELECT sum(amount) FROM charge_lines WHERE building_id = 'B1' AND period = '2026-01' "
            "AND service <> 'heat'"
        ).fetchone()[0]
        assert result.total == electricity_total + D("35564.63")


def test_receipt_shows_the_heating_line_and_the_house_heat(heated: str) -> None:
    from meterhub.billing.money.payment_qr import parse_payment_payload
    from meterhub.billing.receipts import render_receipt_pdf
    from tests.billing.receipts.receipt_data import ISSUED, decode_page_qr, page_texts

    with connect(heated) as conn:
        pdf = render_receipt_pdf(conn, "LS-1", "2026-01", issued_on=ISSUED)
    (text,) = page_texts(pdf)
    # Раздел 3: 25/6 = 4.16666… Гкал shown with 4 decimals, the house's method, tariff, money
    assert "Отопление Гкал 4,1667 — ОДПУ и ИПУ 2 845,17 11 854,88 0,00 11 854,88" in text
    # Раздел 4: house meter 12.5 Гкал, premises' own 5 Гкал, common property 7.5 Гкал; the meter's readings
    assert "Отопление Гкал — — 12,500 5,000 7,500" in text
    assert "H-HOUSE Отопление ОДПУ общий 100,000 112,500 12,500" in text
    # LS-1 January 2026: the small building's lines 4 045.00 (tests/billing/receipts/test_receipt_pdf.py)
    # + heating 25/6 Гкал × 2 845.17 = 11 854.88 → 15 899.88 → QR Sum=1589988
    assert "ИТОГО К ОПЛАТЕ: 15 899,88 руб." in text
    assert parse_payment_payload(decode_page_qr(pdf)).as_dict()["Sum"] == "1589988"


def test_failed_house_meter_is_averaged_per_heating_day(heated: str) -> None:
    with connect(heated) as conn:
        result = close_building(conn, "B1", BillingPeriod(2026, 2), FINAL)
        # no readings in February: house average 12.5 Гкал / 31 days × 28 days = 350/31 Гкал;
        # the ИПУ has one measured month (< 3): premise 2 is billed as without ИПУ → formula 3 by area
        # LS-1: 350/31 × 50/150 = 350/93 Гкал × 2845.17 = 995809.5/93 = 10707.629… → 10707.63
        # LS-2: 350/31 × 60/150 = 140/31 × 2845.17 = 398323.8/31 = 12849.154… → 12849.15
        # LS-3: 350/31 × 40/150 = 280/93 × 2845.17 = 796647.6/93 = 8566.103… → 8566.10
        lines = _heat(conn, "2026-02")
        assert {a: am for a, (_, am) in lines.items()} == {
            "LS-1": D("10707.63"),
            "LS-2": D("12849.15"),
            "LS-3": D("8566.10"),
        }
        heating = result.report["heating"]
        assert heating["house_source"] == "average" and heating["method"] == "odpu_no_ipu"
        assert any("premise 2" in w for w in heating["warnings"])


def test_house_heat_chart_per_m2_from_the_close(heated: str) -> None:
    from datetime import date

    from meterhub.billing.residents.building_chart_inputs import building_charts

    with connect(heated) as conn:
        _, area, charts = building_charts(conn, "B1", 2026, date(2026, 3, 15), services=["heat"])
    (chart,) = charts
    assert chart.unit == "Gcal" and area == 150
    january, february = chart.months[0], chart.months[1]
    # January: house meter 12.5 Гкал / 150 m² = 0.083333… → 0.0833; common property 7.5 / 150 = 0.05
    assert (january.volume, january.source, january.per_m2) == (D("12.5"), "close", D("0.0833"))
    assert january.common_per_m2 == D("0.050000")
    # February: the close's average 350/31 = 11.290322… Гкал / 150 = 0.075268… → 0.0753
    assert february.source == "close" and february.per_m2 == D("0.0753")


def test_outside_the_season_no_heating_lines(heated: str) -> None:
    with connect(heated) as conn:
        result = close_building(conn, "B1", BillingPeriod(2026, 6))
        assert _heat(conn, "2026-06") == {}
        assert "heating" not in result.report


def test_even_payment_and_the_yearly_correction(heated: str) -> None:
    with connect(heated) as conn:
        for month in (8, 9):
            result = close_building(conn, "B1", BillingPeriod(2025, month), FINAL)
            assert result.report["heating"]["house_source"] == "even"
            # V_T = 1560 (heating_house_years 2024) / 12 = 130 Гкал; LS-1 130 × 50/150 × 2845.17 = 123290.70;
            # LS-2 52 × 2845.17 = 147948.84; LS-3 130 × 40/150 × 2845.17 = 98632.56
            assert {a: am for a, (_, am) in _heat(conn, f"2025-0{month}").items()} == {
                "LS-1": D("123290.70"),
                "LS-2": D("147948.84"),
                "LS-3": D("98632.56"),
            }
        conn.commit()
        report = run_yearly_correction(conn, "B1", 2025)
        conn.commit()
        # actual: August 1100 − 1000 = 100 Гкал, September 1180 − 1100 = 80 Гкал → 180 Гкал
        # LS-1: 180 × 50/150 = 60 Гкал × 2845.17 = 170710.20; billed 2 × 123290.70 = 246581.40 → −75871.20
        # LS-2: 72 × 2845.17 = 204852.24 − 295897.68 = −91045.44
        # LS-3: 48 × 2845.17 = 136568.16 − 197265.12 = −60696.96
        assert report.problems == [] and report.months == ["2025-08", "2025-09"]
        # January 2026 (correction month 1) and February are closed already: the first open period
        assert report.booked_period == "2026-03"
        assert {a: v["amount"] for a, v in report.accounts.items()} == {
            "LS-1": D("-75871.20"),
            "LS-2": D("-91045.44"),
            "LS-3": D("-60696.96"),
        }
        assert report.amount == D("-227613.60")
        result = close_building(conn, "B1", BillingPeriod(2026, 3))
        rows = conn.execute(
            "SELECT account_no, amount, corrects_period, reason FROM recalculation_lines "
            "WHERE building_id = 'B1' AND period = '2026-03' AND service = 'heat' ORDER BY account_no"
        ).fetchall()
        assert [(a, am, c) for a, am, c, _ in rows] == [
            ("LS-1", D("-75871.20"), "2025-12"),
            ("LS-2", D("-91045.44"), "2025-12"),
            ("LS-3", D("-60696.96"), "2025-12"),
        ]
        assert rows[0][3] == "Корректировка размера платы за отопление за 2025 г."
        assert D(str(result.report["heating"]["corrections"]["amount"])) == D("-227613.60")
        # the correction on the receipt: Раздел 5 with its reason and sign; the QR sum is the printed total
        import re

        from meterhub.billing.money.payment_qr import parse_payment_payload
        from meterhub.billing.receipts import render_receipt_pdf
        from tests.billing.receipts.receipt_data import ISSUED, decode_page_qr, page_texts

        pdf = render_receipt_pdf(conn, "LS-1", "2026-03", issued_on=ISSUED)
        (text,) = page_texts(pdf)
        assert "Корректировка размера платы за отопление за 2025 г." in text
        assert "-75 871,20" in text or "−75 871,20" in text
        total = re.search(r"ИТОГО К ОПЛАТЕ: ([\d ]+,\d\d) руб\.", text)
        assert total is not None
        kopecks = int(total.group(1).replace(" ", "").replace(",", ""))
        assert parse_payment_payload(decode_page_qr(pdf)).as_dict()["Sum"] == str(kopecks)


def test_heating_correction_command_reports_per_building(heated: str, tmp_path: Path) -> None:
    from tests.cli.meterhub_cli import run_cli

    done = run_cli(heated, tmp_path, "heating-correction", "--year", "2025", "--building", "B1")
    assert done.returncode == 0, done.stderr
    # the same arithmetic as above: LS-1 60 Гкал → 170710.20 − 246581.40 = −75871.20
    expected = "B1 2025: months 2025-08, 2025-09; 3 account(s), correction -227613.60 ₽ booked in 2026-03"
    assert expected in done.stdout
    assert "LS-1: actual 170710.20 ₽" in done.stdout and "= -75871.20 ₽" in done.stdout
    # once the period it is booked in is closed, the correction is never booked again
    with connect(heated) as conn:
        close_building(conn, "B1", BillingPeriod(2026, 3), FINAL)
    again = run_cli(heated, tmp_path, "heating-correction", "--year", "2025", "--building", "B1")
    assert again.returncode == 1 and "already booked in the closed period 2026-03" in again.stderr
    nothing = run_cli(heated, tmp_path, "heating-correction", "--year", "2024", "--building", "B1")
    assert nothing.returncode == 1
    assert "nothing to correct" in nothing.stderr
