"""Reading submission checks (billing-rules.md §1.2, §1.5, §1.7) with hand-written arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.residents.reading_submission import (
    PreviousReading,
    RegisterState,
    SubmissionMeter,
    SubmissionRules,
    next_bill_method,
    validate_submission,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.volumes import VolumeMethod
from meterhub.billing.rules.zones import Zone

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=MSK).astimezone(UTC)
PREV_TS = NOW - timedelta(days=10)


def meter(*registers: RegisterState, **kw) -> SubmissionMeter:
    kw.setdefault("verification_due", date(2030, 1, 1))
    return SubmissionMeter("EAP-1", kw.pop("service", "electricity"), registers, **kw)


def reg(label: str = "T", prev: str | None = "1000", **kw) -> RegisterState:
    previous = PreviousReading(Decimal(prev), PREV_TS) if prev is not None else None
    kw.setdefault("max_per_hour", Decimal(60))
    return RegisterState(
        label, f"energy_{label.lower()}", previous, PREV_TS if prev is not None else None, **kw
    )


def submit(m: SubmissionMeter, values: dict, *, taken_at: datetime = NOW, now: datetime = NOW, **kw):
    return validate_submission(m, values, taken_at=taken_at, now=now, tz=MSK, **kw)


def codes(messages) -> list[str]:
    return [m.code for m in messages]


def test_two_zone_reading_is_accepted_with_consumption_per_zone():
    m = meter(reg("T1", "12345.67"), reg("T2", "5432.10"))
    result = submit(m, {"T1": "12545.67", "T2": "5532.1"})
    assert result.accepted and result.errors == []
    # E-1: 12 545.67 − 12 345.67 = 200.00; 5 532.10 − 5 432.10 = 100.00
    assert result.consumption == {"T1": Decimal("200.00"), "T2": Decimal("100.00")}
    assert result.values == {"T1": Decimal("12545.67"), "T2": Decimal("5532.1")}
    assert result.counts_for == BillingPeriod(2026, 3)  # 20 March ≤ 25


def test_lower_than_previous_is_refused_unless_a_replacement_is_recorded():
    refused = submit(meter(reg("T", "1000")), {"T": "999.9"})
    assert not refused.accepted
    assert codes(refused.errors) == ["lower_than_previous"]
    assert "меньше предыдущего 1\u00a0000\u00a0кВт·ч" not in refused.errors[0].ru
    assert "Показание 999,9\u00a0кВт·ч меньше предыдущего 1 000\u00a0кВт·ч" in refused.errors[0].ru
    replaced = submit(meter(reg("T", "1000", replaced_after_previous=True)), {"T": "3.5"})
    assert replaced.accepted and replaced.consumption == {}


def test_rollover_of_a_five_digit_counter_wraps_e5():
    # E-5: 99 950 → 00 120 = 120 + 100 000 − 99 950 = 170 kWh
    result = submit(meter(reg("T", "99950"), register_digits=5), {"T": "120"})
    assert result.accepted
    assert result.consumption == {"T": Decimal(170)}
    assert codes(result.warnings) == ["rollover"]


def test_physically_impossible_consumption_is_an_error_even_when_confirmed():
    # 10 days = 240 h × 60 kWh/h = 14 400 kWh is the physical maximum
    result = submit(meter(reg("T", "1000")), {"T": str(1000 + 14_400 + 1)}, confirm=True)
    assert codes(result.errors) == ["implausible"]
    ok = submit(meter(reg("T", "1000")), {"T": str(1000 + 300)})  # 30 kWh/day floor × 10 days = 300
    assert ok.accepted and ok.warnings == []


def test_refusals_read_in_russian_with_units_and_decimal_commas():
    """The issue's «Шкала T: … расход 9274.224000000»: the register named as residents know it, the volume
    at the unit's display precision (m³ to the litre) with a decimal comma, thousands spaced, and its unit."""
    water = meter(reg("T", "10.000000000", typical_per_day=Decimal("0.3")), service="cold_water")
    refused = submit(water, {"T": "9284.224"})  # − 10.000000000 stored = 9274.224000000
    assert codes(refused.errors) == ["implausible"] or codes(refused.errors) == ["unusually_high"]
    text = refused.errors[0].ru
    assert "Шкала" not in text and "9274.224" not in text and "000000" not in text
    assert "расход 9 274,224\u00a0куб. м" in text, text
    zones = meter(reg("T1", "1000"), reg("T2", "500"))
    two = submit(zones, {"T1": "999", "T2": "600"})
    assert two.errors[0].ru.startswith(
        "Тариф T1: показание 999\u00a0кВт·ч меньше предыдущего 1 000\u00a0кВт·ч"
    )


def test_unusually_high_consumption_needs_confirmation():
    # typical 8 kWh/day × factor 3 = 24/day < floor 30/day → 30/day × 10 days = 300 kWh allowed
    state = reg("T", "1000", typical_per_day=Decimal(8))
    refused = submit(meter(state), {"T": "1300.1"})
    assert codes(refused.errors) == ["unusually_high"]
    confirmed = submit(meter(state), {"T": "1300.1"}, confirm=True)
    assert confirmed.accepted and codes(confirmed.warnings) == ["unusually_high"]
    # typical 20 kWh/day × 3 = 60/day × 10 days = 600 kWh allowed
    assert submit(meter(reg("T", "1000", typical_per_day=Decimal(20))), {"T": "1600"}).accepted
    assert not submit(meter(reg("T", "1000", typical_per_day=Decimal(20))), {"T": "1600.1"}).accepted


def test_expired_verification_refuses_and_near_date_warns():
    expired = submit(meter(reg(), verification_due=date(2026, 3, 20)), {"T": "1001"})
    assert codes(expired.errors) == ["verification_expired"]
    assert "Срок поверки" in expired.errors[0].ru
    soon = submit(meter(reg(), verification_due=date(2026, 4, 10)), {"T": "1001"})
    assert soon.accepted and codes(soon.warnings) == ["verification_due_soon"]


def test_after_the_25th_the_reading_counts_for_the_next_month():
    now = datetime(2026, 3, 26, 9, 0, tzinfo=MSK).astimezone(UTC)
    result = submit(meter(reg()), {"T": "1001"}, taken_at=now, now=now)
    assert result.accepted
    assert result.counts_for == BillingPeriod(2026, 4)
    assert codes(result.warnings) == ["after_window"]
    # the 25th itself is inside the window (local date, 23:30 Moscow = 20:30 UTC)
    late25 = datetime(2026, 3, 25, 23, 30, tzinfo=MSK).astimezone(UTC)
    assert submit(meter(reg()), {"T": "1001"}, taken_at=late25, now=late25).counts_for == BillingPeriod(
        2026, 3
    )
    window20 = SubmissionRules(window_last_day=20)
    assert submit(meter(reg()), {"T": "1001"}, rules=window20).counts_for == BillingPeriod(2026, 3)


def test_time_checks():
    assert codes(submit(meter(reg()), {"T": "1001"}, taken_at=NOW + timedelta(hours=1)).errors) == ["future"]
    assert codes(submit(meter(reg()), {"T": "1001"}, taken_at=NOW - timedelta(days=4)).errors) == ["too_old"]
    stale = reg("T", "1000")
    stale = RegisterState("T", "e", stale.previous, NOW + timedelta(minutes=1), max_per_hour=Decimal(60))
    assert codes(submit(meter(stale), {"T": "1001"}).errors) == ["not_after_previous"]
    naive_local = datetime(2026, 3, 20, 14, 0)  # naive = building local time → 11:00 UTC
    assert submit(meter(reg()), {"T": "1001"}, taken_at=naive_local).taken_at == datetime(
        2026, 3, 20, 11, tzinfo=UTC
    )


def test_value_checks_name_the_register():
    m = meter(reg("T1"), reg("T2"), register_digits=6)
    assert codes(submit(m, {"T1": "1001"}).errors) == ["missing_register"]
    assert codes(submit(m, {"T1": "1001", "T2": "1001", "T3": "1"}).errors) == ["unknown_register"]
    bad = submit(m, {"T1": "abc", "T2": "-1"})
    assert codes(bad.errors) == ["not_a_number", "negative"]
    assert [e.register for e in bad.errors] == ["T1", "T2"]
    assert codes(submit(m, {"T1": "1001.1234", "T2": "1001"}).errors) == ["too_many_decimals"]
    assert codes(submit(m, {"T1": "1000000", "T2": "1001"}).errors) == ["too_many_digits"]
    assert codes(submit(m, {"T1": "NaN", "T2": "1001"}).errors) == ["not_a_number"]
    assert codes(submit(m, {"T1": 1.5, "T2": "1001"}).errors) == ["not_a_number"]  # floats are refused
    assert submit(m, {"T1": "1001,5", "T2": "1001"}).values["T1"] == Decimal("1001.5")  # Russian comma


def test_first_reading_of_a_meter_is_accepted_without_comparison():
    result = submit(meter(reg("T", None)), {"T": "42"})
    assert result.accepted and result.consumption == {}


def test_multiplier_scales_consumption():
    result = submit(meter(reg("T", "100"), multiplier=Decimal(40)), {"T": "101.5"})
    assert result.consumption == {"T": Decimal("60.0")}  # 1.5 × 40


def test_next_bill_method():
    march = BillingPeriod(2026, 3)
    six = [{Zone.DAY: Decimal(200), Zone.NIGHT: Decimal(100)}] * 6
    assert (
        next_bill_method(
            service="electricity",
            period=march,
            has_reading_for_period=True,
            verification_due=date(2030, 1, 1),
        )
        is VolumeMethod.METER
    )
    # verification due inside the period: п. 59 «а» → average while history ≥ 3 months
    assert (
        next_bill_method(
            service="electricity",
            period=march,
            has_reading_for_period=True,
            verification_due=date(2026, 3, 31),
            history=six,
        )
        is VolumeMethod.AVERAGE
    )
    # no reading, 3 averaged periods already → normative (п. 60)
    assert (
        next_bill_method(
            service="cold_water",
            period=march,
            has_reading_for_period=False,
            verification_due=None,
            history=six,
            consecutive_average_periods=3,
        )
        is VolumeMethod.NORMATIVE
    )
    # no reading, 2 metered months only → normative (coefficient 1.5 is reported as normative)
    assert (
        next_bill_method(
            service="cold_water",
            period=march,
            has_reading_for_period=False,
            verification_due=date(2026, 3, 1),
            history=six[:2],
        )
        is VolumeMethod.NORMATIVE
    )
    assert (
        next_bill_method(
            service="hot_water",
            period=march,
            has_reading_for_period=False,
            verification_due=None,
            history=six[:3],
        )
        is VolumeMethod.AVERAGE
    )


@settings(max_examples=80, deadline=None)
@given(
    prev=st.decimals(min_value=0, max_value=999_999, places=2),
    delta=st.decimals(min_value=0, max_value=300, places=2),
)
def test_any_plausible_increase_is_accepted_with_exact_consumption(prev, delta):
    result = submit(meter(reg("T", str(prev))), {"T": str(prev + delta)})
    assert result.accepted, result.errors
    assert result.consumption["T"] == delta


@settings(max_examples=80, deadline=None)
@given(
    prev=st.decimals(min_value=1, max_value=999_999, places=3),
    drop=st.decimals(min_value="0.001", max_value=1000, places=3),
)
def test_any_decrease_without_replacement_is_refused(prev, drop):
    value = max(prev - drop, Decimal(0))
    if value == prev:
        return
    result = submit(meter(reg("T", str(prev))), {"T": str(value)})
    assert codes(result.errors) == ["lower_than_previous"]
