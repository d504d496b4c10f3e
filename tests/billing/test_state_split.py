"""A meter failing, expiring or commissioned inside a month (ПП 354 п. 59 «а» from the date of the event).

Every expected value is hand arithmetic from the rule's text, written in the test: metered up to the
event, the average (or the normative) × days of the part / days of the month after it, per zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from meterhub.billing.close.repository import MeterLinkRow
from meterhub.billing.rules.charges import AccountInput, compute_account_charges
from meterhub.billing.rules.meter_data import meter_state_parts, meter_state_parts_hourly, state_timeline
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.state_split import SPLIT_FORMULA
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.volumes import (
    MeterPeriod,
    MeterStatus,
    ServiceConsumer,
    StatePart,
    VolumeDecisionError,
    VolumeMethod,
    decide_individual_volume,
)
from meterhub.billing.rules.zones import DEFAULT_SCHEDULES, HourlySeries, Zone, ZoneScheme
from meterhub.timeseries.bulk_reads import RegisterValue

D = Decimal
JANUARY = BillingPeriod(2026, 1)  # 31 days
COLD = Tariff(Service.COLD_WATER, date(2020, 1, 1), {Zone.SINGLE: D("50.00")})


@pytest.fixture(autouse=True)
def _exact_arithmetic():
    """The test's own arithmetic at the engine's 100 digits (the rule keeps volumes unrounded)."""
    with localcontext(Context(prec=100)):
        yield


def money(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), ROUND_HALF_UP)


def account(consumer: ServiceConsumer, residents: int = 2) -> AccountInput:
    return AccountInput("LS-1", D("50"), residents=residents, owners=1, services=(consumer,))


def lines_of(consumer: ServiceConsumer, tariffs=(COLD,), residents: int = 2):
    charges = compute_account_charges(account(consumer, residents), JANUARY, tariffs, "Europe/Moscow")
    return charges.volumes[consumer.service], charges.lines


def test_failure_on_day_12_metered_then_average() -> None:
    # readings 100.000 on 01.01 and 102.200 in the act of 12.01 → 2.2 m³ for 1–11 January (11 days);
    # average of the last 6 metered months (4.5+5+5.5+6+6.5+7)/6 = 34.5/6 = 5.75 m³/month,
    # from 12.01: 20 of 31 days → 5.75 × 20/31 = 115/31 m³
    meter = MeterPeriod(
        MeterStatus.FAILED,
        history=[{Zone.SINGLE: D(x)} for x in ("4.5", "5", "5.5", "6", "6.5", "7")],
        parts=(
            StatePart(
                date(2026, 1, 1),
                date(2026, 1, 12),
                MeterStatus.VALID,
                {Zone.SINGLE: D("2.2")},
                source="act reading 12.01",
            ),
            StatePart(date(2026, 1, 12), date(2026, 2, 1), MeterStatus.FAILED),
        ),
    )
    volume, lines = lines_of(ServiceConsumer(Service.COLD_WATER, meter, normative=D("4.86")))
    assert volume.method is VolumeMethod.AVERAGE  # the month ends failed: the first averaged period
    assert volume.formula == SPLIT_FORMULA
    assert volume.zone_volumes == {Zone.SINGLE: D("2.2") + D(115) / D(31)}
    assert [(ln.method, ln.part_start, ln.part_end, ln.volume) for ln in lines] == [
        ("meter", date(2026, 1, 1), date(2026, 1, 12), D("2.2")),
        ("average", date(2026, 1, 12), date(2026, 2, 1), D(115) / D(31)),
    ]
    assert lines[0].amount == D("110.00")  # 2.2 × 50
    assert lines[1].amount == D("185.48")  # 115/31 × 50 = 5750/31 = 185.4838…
    assert "01.01–11.01" in lines[0].formula and "act reading 12.01" in lines[0].formula
    assert lines[1].formula == "ПП 354, п. 59 «а»: 12.01–31.01, single 5.75 × 20/31 дн."


def test_verification_expiry_mid_month_with_a_tariff_change() -> None:
    # verification due 20.01: metered 1–19 January (19 days) = 3.1 m³; average of 3 months (3+4+5)/3 = 4,
    # from 20.01: 12 of 31 days → 4 × 12/31 = 48/31 m³. A tariff change on 25.01 (50 → 60 ₽/m³) splits
    # the averaged part by days: 20–24 = 5 days → 48/31 × 5/12 = 20/31 m³; 25–31 → 48/31 − 20/31 = 28/31.
    tariffs = (
        Tariff(Service.COLD_WATER, date(2020, 1, 1), {Zone.SINGLE: D("50.00")}, date(2026, 1, 25)),
        Tariff(Service.COLD_WATER, date(2026, 1, 25), {Zone.SINGLE: D("60.00")}),
    )
    meter = MeterPeriod(
        MeterStatus.FAILED,
        history=[{Zone.SINGLE: D(x)} for x in ("3", "4", "5")],
        parts=(
            StatePart(date(2026, 1, 1), date(2026, 1, 20), MeterStatus.VALID, {Zone.SINGLE: D("3.1")}),
            StatePart(date(2026, 1, 20), date(2026, 2, 1), MeterStatus.FAILED),
        ),
    )
    volume, lines = lines_of(ServiceConsumer(Service.COLD_WATER, meter, normative=D("4.86")), tariffs)
    assert volume.total == D("3.1") + D(48) / D(31)
    got = [(ln.method, ln.part_start, ln.volume, ln.tariff, ln.amount) for ln in lines]
    assert got == [
        ("meter", date(2026, 1, 1), D("3.1"), D("50.00"), D("155.00")),  # 1–19 lie before the change
        ("average", date(2026, 1, 20), D(48) / D(31) * 5 / 12, D("50.00"), D("32.26")),  # 1000/31 = 32.258…
        ("average", date(2026, 1, 25), D(48) / D(31) - D(48) / D(31) * 5 / 12, D("60.00"), D("54.19")),
    ]  # 28/31 × 60 = 1680/31 = 54.193…
    assert lines[1].volume + lines[2].volume == D(48) / D(31)


def test_new_meter_commissioned_mid_month_normative_before() -> None:
    # the old meter failed 3 months ago (limit reached) and is being replaced: the normative without
    # ×1.5, 2 persons × 4.86 = 9.72 m³/month, for 1–14 January: 14/31 → 136.08/31 m³;
    # the new meter from its commissioning act of 15.01 (initial reading 0.000) to 31.01: 3.4 m³
    meter = MeterPeriod(
        MeterStatus.FAILED,
        history=[{Zone.SINGLE: D(x)} for x in ("3", "4", "5")],
        consecutive_average_periods=3,
        parts=(
            StatePart(date(2026, 1, 1), date(2026, 1, 15), MeterStatus.FAILED, being_replaced=True),
            StatePart(date(2026, 1, 15), date(2026, 2, 1), MeterStatus.VALID, {Zone.SINGLE: D("3.4")}),
        ),
    )
    volume, lines = lines_of(ServiceConsumer(Service.COLD_WATER, meter, normative=D("4.86")))
    assert volume.method is VolumeMethod.METER  # the month ends working: the averaging run ends
    assert [(ln.method, ln.part_start, ln.volume, ln.coefficient, ln.amount) for ln in lines] == [
        ("normative", date(2026, 1, 1), D("136.08") / D(31), D(1), D("219.48")),  # 6804/31 = 219.483…
        ("meter", date(2026, 1, 15), D("3.4"), D(1), D("170.00")),
    ]
    assert lines[0].formula == "ПП 354, Прил. 2, ф. 4: 01.01–14.01, single 9.72 × 14/31 дн."


def test_normative_part_with_the_coefficient() -> None:
    # not being replaced, limit reached: 9.72 × 14/31 m³ × 50 ₽ × 1.5 = 10206/31 = 329.225… → 329.23;
    # without the coefficient 6804/31 = 219.483… → 219.48; excess 109.75
    meter = MeterPeriod(
        MeterStatus.FAILED,
        consecutive_average_periods=3,
        parts=(
            StatePart(date(2026, 1, 1), date(2026, 1, 15), MeterStatus.FAILED),
            StatePart(date(2026, 1, 15), date(2026, 2, 1), MeterStatus.VALID, {Zone.SINGLE: D("3.4")}),
        ),
    )
    _, lines = lines_of(ServiceConsumer(Service.COLD_WATER, meter, normative=D("4.86")))
    assert (lines[0].method, lines[0].coefficient, lines[0].amount) == (
        "normative_x1_5",
        D("1.5"),
        D("329.23"),
    )
    assert (lines[0].amount_without_coefficient, lines[0].excess) == (D("219.48"), D("109.75"))


def test_two_zone_meter_failing_on_day_12() -> None:
    # metered 1–11 January: day 60 kWh, night 25 kWh; average per zone over 3 months:
    # day (150+160+170)/3 = 160, night 60 → from 12.01 (20/31): day 3200/31, night 1200/31 kWh;
    # prices day 6.00, night 3.00 ₽/kWh
    tariff = Tariff(
        Service.ELECTRICITY,
        date(2020, 1, 1),
        {Zone.DAY: D("6.00"), Zone.NIGHT: D("3.00")},
        schedule=DEFAULT_SCHEDULES[ZoneScheme.TWO_ZONE],
    )
    meter = MeterPeriod(
        MeterStatus.FAILED,
        history=[{Zone.DAY: D(d), Zone.NIGHT: D(60)} for d in (150, 160, 170)],
        parts=(
            StatePart(
                date(2026, 1, 1), date(2026, 1, 12), MeterStatus.VALID, {Zone.DAY: D(60), Zone.NIGHT: D(25)}
            ),
            StatePart(date(2026, 1, 12), date(2026, 2, 1), MeterStatus.FAILED),
        ),
    )
    volume, lines = lines_of(ServiceConsumer(Service.ELECTRICITY, meter, normative=D(100)), (tariff,))
    assert volume.zone_volumes == {Zone.DAY: 60 + D(3200) / 31, Zone.NIGHT: 25 + D(1200) / 31}
    got = {(ln.method, ln.zone): (ln.volume, ln.amount) for ln in lines}
    assert got == {
        ("meter", Zone.DAY): (D(60), D("360.00")),
        ("meter", Zone.NIGHT): (D(25), D("75.00")),
        ("average", Zone.DAY): (D(3200) / 31, D("619.35")),  # 19200/31 = 619.354…
        ("average", Zone.NIGHT): (D(1200) / 31, D("116.13")),  # 3600/31 = 116.129…
    }


def test_parts_must_cover_the_period() -> None:
    meter = MeterPeriod(
        MeterStatus.FAILED,
        parts=(
            StatePart(date(2026, 1, 1), date(2026, 1, 10), MeterStatus.VALID, {Zone.SINGLE: D(1)}),
            StatePart(date(2026, 1, 12), date(2026, 2, 1), MeterStatus.FAILED),
        ),
    )
    with pytest.raises(VolumeDecisionError, match="not contiguous"):
        decide_individual_volume(
            ServiceConsumer(Service.COLD_WATER, meter, normative=D(1)),
            account="LS-1",
            residential=True,
            residents=1,
            owners=1,
        )


# --- the loader's pure part: the state timeline and a register meter's parts --------------------------

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def test_state_timeline_from_rows_and_the_verification_date() -> None:
    # no row, verification due 20 January: working 1–19, expired from the 20th
    assert state_timeline(JAN, FEB, "working", [], date(2026, 1, 20)) == [
        (JAN, date(2026, 1, 20), "working"),
        (date(2026, 1, 20), FEB, "verification_expired"),
    ]
    # verified again on the due day (a `working` row of that day): no change at all
    assert state_timeline(JAN, FEB, "working", [(date(2026, 1, 20), "working")], date(2026, 1, 20)) == [
        (JAN, FEB, "working")
    ]
    # failed since December, being replaced from the 5th, working from the 15th
    rows = [(date(2026, 1, 5), "being_replaced"), (date(2026, 1, 15), "working")]
    assert state_timeline(JAN, FEB, "failed", rows) == [
        (JAN, date(2026, 1, 5), "failed"),
        (date(2026, 1, 5), date(2026, 1, 15), "being_replaced"),
        (date(2026, 1, 15), FEB, "working"),
    ]


def _link(service: str) -> MeterLinkRow:
    return MeterLinkRow("M-1", "1", service, None, D(1), None)


def _at(day: int, hour: int, value: float, month: int = 1) -> RegisterValue:
    return RegisterValue(value, datetime(2026 if month < 12 else 2025, month, day, hour, tzinfo=UTC))


def test_two_register_meter_parts_with_the_account_share() -> None:
    # T1 1000 → 1060 and T2 500 → 525 up to the event of 12 January; half the premise (share 1/2):
    # day 30, night 12.5 kWh for 1–11 January; the supplier's duty after the event (case «г»)
    timeline = [(JAN, date(2026, 1, 12), "working"), (date(2026, 1, 12), FEB, "failed")]
    bounds = {
        "energy_import_t1_kwh": [_at(25, 9, 1000.0, 12), _at(11, 19, 1060.0), None],
        "energy_import_t2_kwh": [_at(25, 9, 500.0, 12), _at(11, 19, 525.0), None],
    }
    parts = meter_state_parts(
        _link("electricity"), timeline, bounds, supplier_duty=True, min_zones=2, share=D("0.5")
    )
    assert parts[0].zone_volumes == {Zone.DAY: D(30), Zone.NIGHT: D("12.5")}
    assert (parts[0].start, parts[0].end, parts[0].status) == (JAN, date(2026, 1, 12), MeterStatus.VALID)
    assert (parts[1].start, parts[1].status) == (date(2026, 1, 12), MeterStatus.FAILED_SUPPLIER_DUTY)


def test_no_reading_at_the_event_means_the_whole_period_in_the_other_state() -> None:
    timeline = [(JAN, date(2026, 1, 12), "working"), (date(2026, 1, 12), FEB, "failed")]
    bounds = {"water_m3": [_at(25, 9, 10.0, 12), None, _at(25, 9, 16.5)]}
    parts = meter_state_parts(_link("cold_water"), timeline, bounds, supplier_duty=True)
    assert [(p.start, p.end, p.status, p.zone_volumes) for p in parts] == [
        (JAN, FEB, MeterStatus.FAILED, None)
    ]
    # a meter commissioned on the 15th with its act's reading: failed 1–14, metered 16.5 − 12 = 4.5 m³
    timeline = [(JAN, date(2026, 1, 15), "being_replaced"), (date(2026, 1, 15), FEB, "working")]
    bounds = {"water_m3": [None, _at(14, 20, 12.0), _at(25, 9, 16.5)]}
    parts = meter_state_parts(_link("cold_water"), timeline, bounds, supplier_duty=True)
    assert [(p.status, p.being_replaced, p.zone_volumes) for p in parts] == [
        (MeterStatus.FAILED, True, None),
        (MeterStatus.VALID, False, {Zone.SINGLE: D("4.5")}),
    ]


def _january_hours(micro: int, skip: int | None = None) -> HourlySeries:
    starts = [int(ts.timestamp()) * 1_000_000 for ts in JANUARY.utc_hour_starts("Europe/Moscow")]
    if skip is not None:
        del starts[skip]
    return HourlySeries.from_micro(
        np.array(starts, dtype=np.int64), np.full(len(starts), micro, dtype=np.int64)
    )


def test_hourly_meter_failing_on_day_12() -> None:
    # 0.5 kWh every hour; working 1–11 January = 11 × 24 = 264 hours = 132 kWh × 5.00 = 660.00; the
    # supplier's meter (case «г») averaged from the 12th: 310 kWh/month × 20/31 = 200 kWh × 5.00 = 1000.00
    timeline = [(JAN, date(2026, 1, 12), "working"), (date(2026, 1, 12), FEB, "failed")]
    parts = meter_state_parts_hourly(
        _link("electricity"), timeline, _january_hours(500_000), ZoneInfo("Europe/Moscow"), supplier_duty=True
    )
    assert parts[0].hourly is not None and parts[0].hourly.total() == D(132)
    assert parts[1].status is MeterStatus.FAILED_SUPPLIER_DUTY
    meter = MeterPeriod(parts[1].status, history=[{Zone.SINGLE: D(310)}] * 3, parts=parts)
    tariff = Tariff(Service.ELECTRICITY, date(2020, 1, 1), {Zone.SINGLE: D("5.00")})
    _, lines = lines_of(ServiceConsumer(Service.ELECTRICITY, meter, normative=D(100)), (tariff,))
    assert [(ln.method, ln.part_start, ln.volume, ln.amount) for ln in lines] == [
        ("meter", JAN, D(132), D("660.00")),
        ("average", date(2026, 1, 12), D(200), D("1000.00")),
    ]
    # one hour of 5 January missing (or suspect, which the billable series leaves out): no valid reading
    # for the working part → the whole month in the other state
    gap = _january_hours(500_000, skip=4 * 24 + 3)
    parts = meter_state_parts_hourly(
        _link("electricity"), timeline, gap, ZoneInfo("Europe/Moscow"), supplier_duty=True
    )
    assert [(p.start, p.end, p.status) for p in parts] == [(JAN, FEB, MeterStatus.FAILED_SUPPLIER_DUTY)]
