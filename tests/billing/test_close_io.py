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

import pytest

from meterhub.billing.close.loader import load_building_input
from meterhub.billing.close.results_store import replace_draft_results
from meterhub.billing.rules.building import BuildingCharges, compute_building_charges
from meterhub.billing.rules.charges import ChargeKind
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.recalculation import RecalculationLine
from meterhub.billing.rules.tariffs import Service
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
