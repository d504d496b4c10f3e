"""The close's writes store exactly what a plain text COPY of the engine's values stores.

The generated city of ``city_data`` (three buildings: hourly and monthly meters, zone plans, failed and
replaced meters, acts, absences) is loaded and computed by the engine; its results are written by
``replace_draft_results`` (COPY with the column types set) and, as the reference, by a text COPY of
the engine's fields listed out here (the way the close wrote them before). Every stored row, as
PostgreSQL prints it (``row::text``: digits and scale of each numeric, dates, NULLs), must be the
same. Recalculation lines are added by hand with the awkward values: many decimals, negative amounts,
a half-kopeck rounded by the ``numeric(14,2)`` column, NULL methods.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterhub.billing.close.loader import load_building_input
from meterhub.billing.close.results_store import replace_draft_results
from meterhub.billing.rules.building import BuildingCharges, compute_building_charges
from meterhub.billing.rules.charges import AccountCharges, ChargeKind, ChargeLine
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.recalculation import RecalculationLine
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.volumes import IndividualVolume, VolumeMethod
from meterhub.billing.rules.zones import Zone
from meterhub.timeseries.database import connect
from tests.billing.city_data import BUILDINGS, load_city

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

JAN = BillingPeriod(2026, 1)
DEC = BillingPeriod(2025, 12)

_TABLES = {
    "charge_lines": "account_no, service, kind, zone, part_start",
    "period_volumes": "account_no, service, zone",
    "recalculation_lines": "corrects_period, account_no, service, kind, zone, part_start, source",
}


def _stored(conn, building: str) -> dict[str, list[str]]:
    return {
        table: [
            r[0]
            for r in conn.execute(
                f"SELECT t::text FROM {table} t WHERE building_id = %s AND period = %s ORDER BY {key}",
                (building, str(JAN)),
            )
        ]
        for table, key in _TABLES.items()
    }


def _recalculations(building: str) -> list[RecalculationLine]:
    account = f"{building}-1"
    common = dict(account=account, period=JAN, corrects_period=DEC, kind=ChargeKind.INDIVIDUAL)
    return [
        RecalculationLine(
            **common,
            service=Service.COLD_WATER,
            zone=Zone.SINGLE,
            part_start=date(2025, 12, 1),
            volume_delta=Decimal("-0.7312500000000000000000000001"),
            amount_exact_delta=Decimal("-36.5625"),
            amount=Decimal("-36.56"),
            method_before="average",
            method_after="meter",
            reason="перерасчёт «по факту»",
            source="true_up",
        ),
        RecalculationLine(
            **common,
            service=Service.ELECTRICITY,
            zone=Zone.NIGHT,
            part_start=date(2025, 12, 16),
            volume_delta=Decimal("1E+2"),
            amount_exact_delta=Decimal("347.0050"),
            amount=Decimal("1.005"),  # 1.01: rounded by numeric(14,2) on the server, as from text
            method_before=None,
            method_after=None,
            reason="reverses an earlier correction",
        ),
    ]


def _write_text_reference(conn, charges: BuildingCharges, recalculations: list[RecalculationLine]) -> None:
    """The previous write: text COPY of the same fields."""
    building, period = charges.building, str(charges.period)
    for table in _TABLES:
        conn.execute(f"DELETE FROM {table} WHERE building_id = %s AND period = %s", (building, period))
    with conn.cursor().copy(
        "COPY charge_lines (building_id, period, account_no, service, kind, zone, part_start, part_end, "
        "volume, unit, tariff, coefficient, method, formula, amount_exact, amount, "
        "amount_without_coefficient, excess, note) FROM STDIN"
    ) as copy:
        for x in charges.lines:
            copy.write_row(
                (
                    building,
                    str(x.period),
                    x.account,
                    x.service.value,
                    x.kind.value,
                    x.zone.value,
                    x.part_start,
                    x.part_end,
                    x.volume,
                    x.unit,
                    x.tariff,
                    x.coefficient,
                    x.method,
                    x.formula,
                    x.amount_exact,
                    x.amount,
                    x.amount_without_coefficient,
                    x.excess,
                    x.note,
                )
            )
    with conn.cursor().copy(
        "COPY period_volumes (building_id, period, account_no, service, zone, volume, method, formula, "
        "persons, normative, coefficient, average_months, note) FROM STDIN"
    ) as copy:
        for acc in charges.accounts:
            for v in acc.volumes.values():
                for zone, volume in v.zone_volumes.items():
                    copy.write_row(
                        (
                            building,
                            period,
                            acc.account,
                            v.service.value,
                            zone.value,
                            volume,
                            v.method.value,
                            v.formula,
                            v.persons,
                            v.normative,
                            v.coefficient,
                            v.average_months,
                            v.note,
                        )
                    )
    with conn.cursor().copy(
        "COPY recalculation_lines (building_id, period, corrects_period, account_no, service, kind, zone, "
        "part_start, volume_delta, amount_exact_delta, amount, method_before, method_after, reason, source) "
        "FROM STDIN"
    ) as copy:
        for r in recalculations:
            copy.write_row(
                (
                    building,
                    period,
                    str(r.corrects_period),
                    r.account,
                    r.service.value,
                    r.kind.value,
                    r.zone.value,
                    r.part_start,
                    r.volume_delta,
                    r.amount_exact_delta,
                    r.amount,
                    r.method_before,
                    r.method_after,
                    r.reason,
                    r.source,
                )
            )


def test_writes_equal_a_text_copy_of_the_same_results(db_url: str, tmp_path: Path) -> None:
    with connect(db_url) as conn:
        load_city(conn, tmp_path)
        conn.commit()
        for building in BUILDINGS:
            charges = compute_building_charges(load_building_input(conn, building, JAN).input, JAN)
            recalculations = _recalculations(building)
            replace_draft_results(conn, charges, recalculations, {"building": building})
            written = _stored(conn, building)
            assert len(written["charge_lines"]) == len(charges.lines) > 20
            assert len(written["period_volumes"]) > 20
            assert len(written["recalculation_lines"]) == 2
            _write_text_reference(conn, charges, recalculations)
            assert written == _stored(conn, building)
        amounts = conn.execute(
            "SELECT amount::text, volume_delta::text FROM recalculation_lines WHERE building_id = 'C1' "
            "ORDER BY service"
        ).fetchall()
        assert amounts == [("-36.56", "-0.7312500000000000000000000001"), ("1.01", "100")]  # by hand
        conn.rollback()


# --- awkward texts and Decimals (hypothesis): the one-pass COPY text against psycopg's write_row ---

_AWKWARD = ["\\", "\\N", "\\.", "\t", "\n", "\r", "\r\n", "\b\f\v", "a\\tb", "«ё»", " ", "\x01", "😀"]
_texts = st.one_of(
    st.sampled_from(_AWKWARD),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    st.lists(st.sampled_from([*_AWKWARD, "x", "1"]), max_size=5).map("".join),
)


def _decimals(max_digits: int, min_exp: int, max_exp: int) -> st.SearchStrategy[Decimal]:
    """Any sign (−0 too), digits and exponent: ``1E+1``, ``0E-8``, ``-0.000``, ``12345E-30`` …"""
    return st.builds(
        lambda sign, digits, exp: Decimal((sign, tuple(int(d) for d in str(digits)), exp)),
        st.integers(0, 1),
        st.integers(0, 10**max_digits - 1),
        st.integers(min_exp, max_exp),
    )


_numeric = _decimals(30, -40, 20)
_money = _decimals(6, -6, 5)  # within numeric(14, 2) after the server's rounding
_days = st.dates(date(1900, 1, 1), date(2200, 12, 31))


@st.composite
def _account(draw: st.DrawFn, account: str) -> AccountCharges:
    lines = tuple(
        ChargeLine(
            account=account,
            period=JAN,
            service=service,
            kind=draw(st.sampled_from(ChargeKind)),
            zone=draw(st.sampled_from(Zone)),
            volume=draw(_numeric),
            unit=draw(_texts),
            tariff=draw(_numeric),
            method=draw(_texts),
            formula=draw(_texts),
            amount_exact=draw(_numeric),
            amount=draw(_money),
            part_start=draw(_days),
            part_end=draw(_days),
            coefficient=draw(_numeric),
            amount_without_coefficient=draw(st.none() | _money),
            excess=draw(_money),
            note=draw(_texts),
        )
        for service in draw(st.lists(st.sampled_from(Service), unique=True, max_size=3))
    )
    volumes = {
        service: IndividualVolume(
            service=service,
            method=draw(st.sampled_from(VolumeMethod)),
            formula=draw(_texts),
            zone_volumes={z: draw(_numeric) for z in draw(st.sets(st.sampled_from(Zone), max_size=3))},
            coefficient=draw(_numeric),
            persons=draw(st.none() | st.integers(0, 10) | _decimals(8, -6, 1)),
            normative=draw(st.none() | _numeric),
            average_months=draw(st.none() | st.integers(-(2**31), 2**31 - 1)),
            note=draw(_texts),
        )
        for service in draw(st.lists(st.sampled_from(Service), unique=True, max_size=3))
    }
    return AccountCharges(account=account, period=JAN, volumes=volumes, lines=lines)


@st.composite
def _charges(draw: st.DrawFn) -> BuildingCharges:
    accounts = draw(st.lists(_texts, unique=True, min_size=1, max_size=4))
    return BuildingCharges(
        building=_AWKWARD_BUILDING,
        period=JAN,
        accounts=tuple(draw(_account(a)) for a in accounts),
        common_property=(),
        warnings=(),
    )


_AWKWARD_BUILDING = "B\t\\1\n«ё»"


def _awkward_building(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, "
        "management_method) VALUES (%s, 'x', 'Europe/Moscow', 500, 50, 'management_company')",
        (_AWKWARD_BUILDING,),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(charges=_charges())
def test_awkward_texts_and_decimals_are_stored_as_psycopg_stores_them(
    db_url: str, charges: BuildingCharges
) -> None:
    with connect(db_url) as conn:
        _awkward_building(conn)
        replace_draft_results(conn, charges, [], {})
        written = _stored(conn, _AWKWARD_BUILDING)
        assert len(written["charge_lines"]) == len(charges.lines)
        assert len(written["period_volumes"]) == sum(
            len(v.zone_volumes) for a in charges.accounts for v in a.volumes.values()
        )
        _write_text_reference(conn, charges, [])
        assert written == _stored(conn, _AWKWARD_BUILDING)
        conn.rollback()


def test_texts_and_exponent_forms_by_hand(db_url: str) -> None:
    """The stored values written out by hand: escapes round-trip, exponents and −0 are numbers."""
    note = "a\tb\\c\nd\re\\N"
    line = ChargeLine(
        account="A\\N",
        period=JAN,
        service=Service.COLD_WATER,
        kind=ChargeKind.INDIVIDUAL,
        zone=Zone.SINGLE,
        volume=Decimal("1E+1"),
        unit="m3",
        tariff=Decimal("-0"),
        method="meter",
        formula="\\.",
        amount_exact=Decimal("0E-8"),
        amount=Decimal("1.005"),
        part_start=date(2026, 1, 1),
        part_end=date(2026, 2, 1),
        amount_without_coefficient=None,
        note=note,
    )
    charges = BuildingCharges(
        building=_AWKWARD_BUILDING,
        period=JAN,
        accounts=(AccountCharges(account="A\\N", period=JAN, volumes={}, lines=(line,)),),
        common_property=(),
        warnings=(),
    )
    with connect(db_url) as conn:
        _awkward_building(conn)
        replace_draft_results(conn, charges, [], {})
        row = conn.execute(
            "SELECT building_id, account_no, formula, note, volume::text, tariff::text, amount_exact::text, "
            "amount::text, amount_without_coefficient, excess::text FROM charge_lines"
        ).fetchone()
        assert row == (_AWKWARD_BUILDING, "A\\N", "\\.", note, "10", "0", "0.00000000", "1.01", None, "0.00")
        conn.rollback()
