"""The period close end to end on the small building (tests/billing/close_data.py): import → meter data →
close → charges computed by hand; draft idempotency, immutability, a recalculation after a late reading."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.close.results_store import ClosedPeriodError
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import MOSCOW, load_small_building, series_id

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

JAN = BillingPeriod(2026, 1)
FEB = BillingPeriod(2026, 2)


@pytest.fixture(scope="module")
def small(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
    return db_url


def _amounts(conn, period: BillingPeriod) -> dict[tuple[str, str, str, str], D]:
    rows = conn.execute(
        "SELECT account_no, service, kind, zone, amount FROM charge_lines WHERE building_id = 'B1' "
        "AND period = %s",
        (str(period),),
    ).fetchall()
    return {(a, s, k, z): amt for a, s, k, z, amt in rows}


def test_small_building_charges_by_hand(small: str) -> None:
    with connect(small) as conn:
        result = close_building(conn, "B1", JAN)
        amounts = _amounts(conn, JAN)
        methods = dict(
            conn.execute(
                "SELECT account_no || '/' || service, method FROM period_volumes "
                "WHERE period = '2026-01' AND zone IN ('single', 'day')"
            ).fetchall()
        )
        status = conn.execute("SELECT status FROM billing_periods WHERE period = '2026-01'").fetchone()
    assert status == ("draft",)
    ind, cp = "individual", "common_property"
    # LS-1 electricity, hourly meter: 0.5 kWh × 744 h; Moscow = UTC+3, day 07–23 local = 16 h × 31 days
    # = 496 h → 248 kWh × 6.00 = 1488.00; night 8 h × 31 = 248 h → 124 kWh × 3.00 = 372.00
    assert amounts[("LS-1", "electricity", ind, "day")] == D("1488.00")
    assert amounts[("LS-1", "electricity", ind, "night")] == D("372.00")
    # LS-2 electricity, T1/T2 registers read in the windows (Dec 25, Jan 25): T1 1150.5 − 1000 = 150.5 kWh
    # × 6.00 = 903.00; T2 580 − 500 = 80 kWh × 3.00 = 240.00 (the start reading is from Dec 22: any time in
    # the previous period's window, Nov 26 … Dec 25, counts)
    assert amounts[("LS-2", "electricity", ind, "day")] == D("903.00")
    assert amounts[("LS-2", "electricity", ind, "night")] == D("240.00")
    # LS-3 no electricity meter: n × N = 2 × 100 = 200 kWh × single price 5.00 = 1000.00 (formula 4)
    assert amounts[("LS-3", "electricity", ind, "single")] == D("1000.00")
    # cold water: LS-1 16.5 − 10 = 6.5 m³ × 50 = 325.00; LS-2's meter verification was due 2026-01-15
    # (case «а», no history) → 3 persons × 5 = 15 m³ × 50 × 1.5 = 1125.00 (without ×1.5: 750.00, excess
    # 375.00); LS-3 no meter and an act of impossibility → 2 × 5 = 10 m³ × 50 = 500.00
    assert amounts[("LS-1", "cold_water", ind, "single")] == D("325.00")
    assert amounts[("LS-2", "cold_water", ind, "single")] == D("1125.00")
    assert amounts[("LS-3", "cold_water", ind, "single")] == D("500.00")
    # wastewater = cold water volume × 40: 6.5 → 260.00; 15 → 600.00 (never ×1.5); 10 → 400.00
    assert [amounts[(a, "wastewater", ind, "single")] for a in ("LS-1", "LS-2", "LS-3")] == [
        D("260.00"),
        D("600.00"),
        D("400.00"),
    ]
    # maintenance 30.00 ₽/m²: 50 → 1500.00, 60 → 1800.00, 40 → 1200.00
    assert amounts[("LS-2", "maintenance", ind, "single")] == D("1800.00")
    # electricity common property, ACTUAL_CAPPED: V^Д = 1000; Σ V_u = 372 + 230.5 + 200 = 802.5;
    # ΔV = 197.5 > V^норм = 1.0 × 30 m² = 30 → 30 kWh by S_i/S_об: 10, 12, 8 kWh × 5.00 = 50, 60, 40
    assert [amounts[(a, "electricity", cp, "single")] for a in ("LS-1", "LS-2", "LS-3")] == [
        D("50.00"),
        D("60.00"),
        D("40.00"),
    ]
    # cold water common property, NORMATIVE: 0.1 × 30 = 3 m³ → 1, 1.2, 0.8 m³ × 50 = 50, 60, 40
    assert amounts[("LS-2", "cold_water", cp, "single")] == D("60.00")
    # totals: LS-1 1488+372+325+260+1500+50+50 = 4045; LS-2 903+240+1125+600+1800+60+60 = 4788;
    # LS-3 1000+500+400+1200+40+40 = 3180 → 12013.00
    assert result.total == D("12013.00")
    assert methods["LS-2/cold_water"] == "normative_x1_5"
    assert methods["LS-1/electricity"] == "meter"
    electricity = next(s for s in result.report["services"] if s["service"] == "electricity")
    assert electricity["house_volume"] == D(1000)
    assert electricity["excess_volume"] == D("167.5")  # 197.5 − 30, borne by the management company
    assert electricity["excess_cost"] == D("837.50")  # 167.5 × 5.00
    assert electricity["accounts_by_method"] == {"meter": 2, "normative": 1}
    assert result.report["meters"] == {"hourly": 1, "registers": 3, "verification_expired": 1}
    assert any("W-2: verification was due 2026-01-15" in w for w in result.report["warnings"])


def _snapshot(conn) -> list[tuple]:
    tables = ("charge_lines", "period_volumes", "period_common_property", "recalculation_lines")
    return [
        (
            table,
            conn.execute(
                f"SELECT * FROM {table} WHERE period = '2026-01' ORDER BY 1, 2, 3, 4, 5, 6"
            ).fetchall(),
        )
        for table in tables
    ]


def test_rerunning_a_draft_replaces_it_with_identical_rows(small: str) -> None:
    with connect(small) as conn:
        close_building(conn, "B1", JAN)
        first = _snapshot(conn)
        close_building(conn, "B1", JAN)
        second = _snapshot(conn)
    assert first == second
    assert len(first[0][1]) == 20  # 3 accounts: 7 + 7 + 6 lines


def _close_january(conn) -> None:
    status = conn.execute("SELECT status FROM billing_periods WHERE period = '2026-01'").fetchone()
    if status != ("closed",):
        close_building(conn, "B1", JAN, CloseOptions(final=True))


def test_closed_period_is_immutable(small: str) -> None:
    with connect(small) as conn:
        _close_january(conn)
        before = _snapshot(conn)
        with pytest.raises(ClosedPeriodError, match="closed and immutable"):
            close_building(conn, "B1", JAN)
        with pytest.raises(ClosedPeriodError):
            close_building(conn, "B1", JAN, CloseOptions(final=True))
        assert _snapshot(conn) == before


def test_reloaded_input_of_a_closed_period_has_its_stored_digest(small: str) -> None:
    from meterhub.billing.close.loader import load_building_input
    from meterhub.billing.close.results_store import stored_input_digest
    from meterhub.billing.rules.input_digest import input_digest

    with connect(small) as conn:
        _close_january(conn)
        stored = stored_input_digest(conn, "B1", JAN)
        assert stored is not None
        assert input_digest(load_building_input(conn, "B1", JAN).input) == stored


def test_only_a_closed_period_stores_its_input_digest(small: str) -> None:
    """Only a closed period's digest is ever compared (the recheck of closed periods); a draft stores none,
    and the final close that closes it computes its digest then."""
    from meterhub.billing.close.results_store import stored_input_digest

    with connect(small) as conn:
        _close_january(conn)
        close_building(conn, "B1", FEB)
        assert stored_input_digest(conn, "B1", FEB) is None
        assert stored_input_digest(conn, "B1", JAN) is not None


def test_late_reading_becomes_a_recalculation_in_the_next_period(small: str) -> None:
    with connect(small) as conn:
        _close_january(conn)
        unchanged = close_building(conn, "B1", FEB)  # January's inputs have the digest it was closed with
        assert unchanged.recalculations == 0
        # a late correction of E-1: the hour 2026-01-10 12:00 local (day zone) was 1.5 kWh, not 0.5 (the
        # late reading's batch is logged in series_dirty_log, as ingest does; the rollup rewrote the hour)
        hour = datetime(2026, 1, 10, 12, tzinfo=MOSCOW)
        sid = series_id(conn, "E-1", "energy_import_kwh")
        conn.execute(
            "UPDATE hourly_consumption SET volume_micro = 1500000 WHERE series_id = %s AND hour = %s",
            (sid, hour),
        )
        conn.execute(
            "INSERT INTO series_dirty_log (series_ids, from_ts, to_ts) VALUES (%s, %s, %s)",
            ([sid], hour, hour),
        )
        conn.commit()
        result = close_building(conn, "B1", FEB)
        rows = conn.execute(
            "SELECT account_no, service, kind, zone, volume_delta, amount, corrects_period, reason "
            "FROM recalculation_lines WHERE period = '2026-02'"
        ).fetchall()
        # the draft can be recomputed: the correction is replaced, not doubled
        close_building(conn, "B1", FEB)
        again = conn.execute("SELECT count(*), sum(amount) FROM recalculation_lines").fetchone()
        closed_lines = conn.execute(
            "SELECT sum(amount) FROM charge_lines WHERE period = '2026-01'"
        ).fetchone()
    # +1 kWh in the day zone × 6.00 = +6.00; ΔV 196.5 is still capped at 30 → common property unchanged
    assert [r[:7] for r in rows] == [
        ("LS-1", "electricity", "individual", "day", D("1"), D("6.00"), "2026-01")
    ]
    assert rows[0][7].startswith("Перерасчёт за январь 2026: ")  # the reason residents read
    assert result.report["recalculations"] == {
        "lines": 1,
        "amount": D("6.00"),
        "periods": ["2026-01"],
        "rechecked": ["2026-01"],
    }
    assert again == (1, D("6.00"))
    assert closed_lines == (D("12013.00"),)  # the closed period itself is untouched
