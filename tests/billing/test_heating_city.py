"""The generated city (tests/billing/city_data.py: buildings C1/C2/C3 in three time zones, flats k = 1..10
of 40 + 5k m², S_об = 675 m², S_ои = 60 m²) with heating in every configuration, January 2026; every heating
line equals an independent computation written here with exact fractions from the inputs below, and every
line is explained in the close report.

====  ==========================================================================================
C1    season payment, house heat meter 50 Гкал; ИПУ in flats 1–3 (1.1, 1.2, 1.3 Гкал); flat 10 without
      heating devices; unmetered flats by the average specific heat of the metered ones
C2    even payment with a house meter: V_T = 600 Гкал (2025) / 12 = 50; heat-cost distributors in flats
      4 (30 units) and 5 (10 units); flat 10 without heating devices; other flats by the normative × K
C3    season payment without a house meter (normative), the season starts on the 10th (22 of 31 days);
      ИПУ in flat 1 (1.5 Гкал); flat 10 without heating devices
====  ==========================================================================================

Tariff 2 000.00 ₽/Гкал, N_T = 0.02 Гкал/m²/month, heating period 8 months (K = 8/12).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction as F
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from meterhub.billing.close.period import close_building
from meterhub.billing.imports import import_file
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.city_data import BUILDINGS, FLATS, load_city
from tests.billing.close_data import write_reading

pytestmark = pytest.mark.db

JAN = BillingPeriod(2026, 1)
TARIFF = F(2000)
N_T = F(2, 100)
S_OB, S_OI = F(675), F(60)
AREA = {k: F(40 + 5 * k) for k in FLATS}
IPU = {"C1": {1: F(11, 10), 2: F(12, 10), 3: F(13, 10)}, "C3": {1: F(15, 10)}}


def _csv(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def city(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("heating-city")
    with connect(db_url) as conn:
        load_city(conn, folder)
        extra = tmp_path_factory.mktemp("heating-files")
        import_file(
            conn,
            "tariffs",
            _csv(
                extra,
                "tariffs",
                "service,applies_to,valid_from,scheme,basis,price_single\n"
                "heat,*,2025-07-01,single_rate,per_unit,2000.00\n",
            ),
        )
        meters = [
            "meter_id,valid_from,building,premise,service,manufacturer,serial,verification_due,registers"
        ]
        meters.append("H-C1-H,2020-01-01,C1,,heat,KAM,9001,2030-01-01,heat_gcal")
        for b, flats in IPU.items():
            meters += [
                f"H-{b}-{k},2020-01-01,{b},{k},heat,KAM,{9100 + 10 * int(b[1]) + k},2030-01-01,heat_gcal"
                for k in flats
            ]
        import_file(conn, "meters", _csv(extra, "meters", "\n".join(meters) + "\n"))
        import_file(
            conn,
            "heating_configs",
            _csv(
                extra,
                "heating_configs",
                "building,valid_from,payment_mode,has_odpu,normative_gcal_m2,season_months\n"
                "C1,2025-01-01,season,yes,0.02,8\nC2,2025-01-01,even_year,yes,0.02,8\nC3,2025-01-01,season,no,0.02,8\n",
            ),
        )
        import_file(
            conn,
            "heating_seasons",
            _csv(
                extra,
                "heating_seasons",
                "building,starts_on,ends_on\nC1,2025-10-01,2026-05-01\nC2,2025-10-01,2026-05-01\nC3,2026-01-10,2026-05-01\n",
            ),
        )
        import_file(
            conn,
            "premise_heating_devices",
            _csv(
                extra,
                "premise_heating_devices",
                "building,premise,valid_from,devices\n"
                + "".join(f"{b},10,2025-01-01,no_devices\n" for b in BUILDINGS)
                + "C2,4,2025-01-01,distributor\nC2,5,2025-01-01,distributor\n",
            ),
        )
        import_file(
            conn,
            "heat_distributor_units",
            _csv(
                extra,
                "heat_distributor_units",
                "building,premise,period,units\nC2,4,2026-01,30\nC2,5,2026-01,10\n",
            ),
        )
        years = _csv(extra, "heating_house_years", "building,year,gcal\nC2,2025,600\n")
        import_file(conn, "heating_house_years", years)
        for b, tz_name in BUILDINGS.items():
            tz = ZoneInfo(tz_name)
            w_start, w_end = datetime(2025, 12, 25, 12, tzinfo=tz), datetime(2026, 1, 25, 12, tzinfo=tz)
            if b == "C1":
                write_reading(conn, "H-C1-H", "heat_gcal", w_start, 1000.0)
                write_reading(conn, "H-C1-H", "heat_gcal", w_end, 1050.0)
            for k, gcal in IPU.get(b, {}).items():
                write_reading(conn, f"H-{b}-{k}", "heat_gcal", w_start, 10.0)
                write_reading(conn, f"H-{b}-{k}", "heat_gcal", w_end, 10.0 + float(gcal))
        conn.commit()
    return db_url


def _expected() -> dict[str, F]:
    """account → heat [Гкал] from the configuration above, independently of meterhub."""
    v: dict[str, F] = {}
    # C1: metered area 45 + 50 + 55 = 150, heat 3.6 → 0.024 Гкал/m²; unmetered flats 4–9; flat 10 own 0
    metered_area = sum(AREA[k] for k in IPU["C1"])
    specific = sum(IPU["C1"].values()) / metered_area
    own = {k: IPU["C1"].get(k, AREA[k] * specific) for k in FLATS}
    own[10] = F(0)
    common = F(50) - sum(own.values())  # 50 − 3.6 − 435 × 0.024 = 35.96
    v.update({f"C1-{k}": own[k] + common * AREA[k] / S_OB for k in FLATS})
    # C2: V_T = 50; radiators by N_T × K; distributors share the rest after the common heat
    # min(rest, N_T × K × S_ои)
    n_k = N_T * F(8, 12)
    own = {k: AREA[k] * n_k for k in FLATS if k not in (4, 5, 10)}
    own[10] = F(0)
    rest = F(50) - sum(own.values())
    common_heat = min(rest, n_k * S_OI)
    own[4], own[5] = (rest - common_heat) * F(3, 4), (rest - common_heat) * F(1, 4)
    common = F(50) - sum(own.values())
    v.update({f"C2-{k}": own[k] + common * AREA[k] / S_OB for k in FLATS})
    # C3: normative prorated 22/31; flat 1 ИПУ + normative common share; flat 10 common share only
    n_eff = N_T * F(22, 31)
    for k in FLATS:
        common_share = n_eff * S_OI * AREA[k] / S_OB
        if k == 1:
            v[f"C3-{k}"] = IPU["C3"][1] + common_share
        else:
            v[f"C3-{k}"] = common_share if k == 10 else AREA[k] * n_eff
    return v


def _money(volume: F) -> Decimal:
    exact = volume * TARIFF
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_every_heating_configuration_closes_with_every_line_explained(city: str) -> None:
    expected = _expected()
    # hand check of two lines: C1-1 = 1.1 + 35.96 × 45/675 = 1.1 + 2.397333… = 3.497333… Гкал → 6994.67 ₽;
    # C3-5 = 65 × 0.02 × 22/31 = 0.922580… Гкал → 1845.16 ₽
    assert _money(expected["C1-1"]) == Decimal("6994.67")
    assert _money(expected["C3-5"]) == Decimal("1845.16")
    methods = {"C1": "odpu_partial_ipu", "C2": "odpu_partial_ipu", "C3": "norm_no_odpu_ipu"}
    sources = {"C1": "meter", "C2": "even", "C3": "normative"}
    with connect(city) as conn:
        for b in BUILDINGS:
            result = close_building(conn, b, JAN)
            heating = result.report["heating"]
            assert (heating["method"], heating["house_source"]) == (methods[b], sources[b])
            assert heating["heating_days"] == (22 if b == "C3" else 31)
            lines = conn.execute(
                "SELECT account_no, volume, amount, note FROM charge_lines WHERE building_id = %s "
                "AND period = '2026-01' AND service = 'heat'",
                (b,),
            ).fetchall()
            assert len(lines) == 10
            for account, volume, amount, note in lines:
                want = expected[account]
                # the oracle divides in 28 digits
                assert abs(volume - Decimal(want.numerator) / Decimal(want.denominator)) < Decimal("1e-25")
                assert amount == _money(want), account
                assert note  # the arithmetic in words
                (part,) = heating["accounts"][account]
                assert f"→ {amount} ₽" in part["explained"] and " × 2000" in part["explained"]
            assert sum(a for _, _, a, _ in lines) == Decimal(str(heating["amount"]))
        # Σ of the house's heat is distributed exactly in C1 (50 Гкал) and C2 (V_T = 50 Гкал)
        for b in ("C1", "C2"):
            total = sum(expected[f"{b}-{k}"] for k in FLATS)
            assert total == 50
