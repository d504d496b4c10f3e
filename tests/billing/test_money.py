"""Money helpers: exact Decimal, half-up at 0.01 ₽, floats refused."""

from decimal import Decimal

import pytest

from meterhub.billing.rules.rounding import (
    from_micro,
    round_money,
    strip_zeros,
    to_decimal,
    to_kopecks,
    truncate_money,
)


def test_round_half_up_to_kopecks() -> None:
    assert round_money(Decimal("760.6386")) == Decimal("760.64")
    assert round_money(Decimal("0.005")) == Decimal("0.01")  # half-up, not banker's rounding
    assert round_money(Decimal("0.015")) == Decimal("0.02")
    assert round_money(Decimal("0.0049999")) == Decimal("0.00")
    assert round_money(Decimal("-0.005")) == Decimal("-0.01")  # away from zero (recalculation lines)
    assert str(round_money(Decimal(5))) == "5.00"


def test_repeating_share_exactly_on_half_kopeck_rounds_like_the_rational() -> None:
    # 1/3 × 0.015 ₽ = 0.005 ₽ exactly; the 100-digit Decimal is 0.00499…9 (repeating), the guard snaps it.
    third = Decimal(1) / Decimal(3)
    assert round_money(third * Decimal("0.015")) == Decimal("0.01")


def test_floats_are_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"Decimal\('52.17'\)"):
        round_money(52.17)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        to_decimal(0.1, "tariff")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bool"):
        to_decimal(True)
    with pytest.raises(ValueError, match="finite"):
        to_decimal(Decimal("NaN"))
    with pytest.raises(ValueError, match="not a decimal"):
        to_decimal("12,5")


def test_conversions() -> None:
    assert to_decimal("52.17") == Decimal("52.17")
    assert to_decimal(3) == Decimal(3)
    assert from_micro(1_500_000) == Decimal("1.5")
    assert from_micro(-1) == Decimal("-0.000001")
    assert to_kopecks(Decimal("1917.00")) == 191700  # QR Sum=191700 (billing-rules.md E-1)
    with pytest.raises(ValueError, match="round_money"):
        to_kopecks(Decimal("1.005"))
    assert truncate_money(Decimal("75.0078875")) == Decimal("75.00")


def test_strip_zeros_keeps_the_value_and_avoids_exponents() -> None:
    assert str(strip_zeros(Decimal("6.33500000000000000000000000000000000000000000000000"))) == "6.335"
    assert str(strip_zeros(Decimal("100.000"))) == "100"
    assert str(strip_zeros(Decimal("0E-50"))) == "0"


# Modules of the billing package that are I/O around the engine and use floats for what is not money:
# waiting times in seconds, and a resident's reading handed to the time series (stored as float8 like
# every meter reading; the submission is validated and compared as Decimal before that).
_FLOAT_ALLOWED = {
    ("close.py", "float literal 30.0"),  # CloseOptions.change_wait_seconds
    ("input_changes.py", "float literal 30.0"),  # watch_buildings(wait_seconds=...)
    ("input_changes.py", "float literal 0.05"),  # polling interval while waiting
    ("submission_store.py", "float() call"),  # Reading.value of a manual reading
}


def test_engine_source_has_no_float_arithmetic() -> None:
    """No float literal and no float() call anywhere in the engine: money and volumes stay Decimal."""
    import ast
    from pathlib import Path

    import meterhub.billing

    package = Path(meterhub.billing.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            what = None
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                what = f"float literal {node.value!r}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
                what = "float() call"
            if what and (path.name, what) not in _FLOAT_ALLOWED:
                offenders.append(f"{path.name}:{node.lineno} {what}")
    assert offenders == []
