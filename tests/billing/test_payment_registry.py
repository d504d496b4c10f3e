"""Payment registry CSV parsing: separators, encodings, comma decimals, per-row errors."""

import hashlib
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.money.payment_registry import RegistryError, parse_payment_registry
from meterhub.billing.rules.periods import BillingPeriod

# The example of docs/billing-money.md
SEMICOLON_CP1251 = (
    "Лицевой счёт;Сумма;Дата платежа;Период;Номер платежа;Назначение\r\n"
    "1234567890;1 917,00;15.02.2026;01.2026;SB-000001;Оплата ЖКУ за 01.2026\r\n"
    "1234567891;500;2026-02-16;;SB-000002;\r\n"
)


def test_semicolon_windows_1251_with_comma_decimals() -> None:
    data = SEMICOLON_CP1251.encode("cp1251")
    registry = parse_payment_registry(data, "sber-2026-02-16.csv")
    assert (registry.encoding, registry.delimiter, registry.errors) == ("cp1251", ";", ())
    assert registry.sha256 == hashlib.sha256(data).hexdigest()
    first, second = registry.rows
    assert (first.line, first.account, first.amount, first.paid_on, first.period, first.payment_id) == (
        2, "1234567890", Decimal("1917.00"), date(2026, 2, 15),
        BillingPeriod(2026, 1), "SB-000001")  # fmt: skip
    assert first.purpose == "Оплата ЖКУ за 01.2026"
    assert (second.amount, second.paid_on, second.period) == (Decimal("500"), date(2026, 2, 16), None)
    assert registry.total == Decimal("2417.00")


def test_comma_separated_utf8_with_bom_and_english_header() -> None:
    text = (
        "account,amount,paid_on,period,payment_id\n"
        '1001,"12,50",2026-03-01,2026-02,A1\n'
        "1002,7.05,01.03.2026,022026,A2\n"
    )
    registry = parse_payment_registry(b"\xef\xbb\xbf" + text.encode("utf-8"), "agent.csv")
    assert (registry.encoding, registry.delimiter, registry.errors) == ("utf-8-sig", ",", ())
    assert [(row.amount, row.period) for row in registry.rows] == [
        (Decimal("12.50"), BillingPeriod(2026, 2)), (Decimal("7.05"), BillingPeriod(2026, 2))]  # fmt: skip


def test_bad_rows_are_reported_and_good_rows_kept() -> None:
    text = (
        "ЛС;Сумма;Дата;Период;ID\n"
        "1;100,00;2026-02-01;2026-01;p1\n"  # line 2: good
        "2;-5;2026-02-01;;p2\n"  # line 3: negative
        "3;10,001;2026-02-01;;p3\n"  # line 4: three decimals
        ";10;31.02.2026;13.2026;p4\n"  # line 5: no account, bad date, bad period
        "5;10;2026-02-01;;p1\n"  # line 6: duplicate id
        "6;10\n"  # line 7: too few fields
        "\n"  # blank lines are skipped
        "7;1 000;2026-02-02;;p7\n"  # line 9: good
    )
    registry = parse_payment_registry(text.encode("utf-8"), "r.csv")
    assert [row.line for row in registry.rows] == [2, 9]
    assert [(e.line, e.column) for e in registry.errors] == [
        (3, "amount"), (4, "amount"), (5, "account"), (5, "paid_on"), (5, "period"),
        (6, "payment_id"), (7, None)]  # fmt: skip
    assert str(registry.errors[0]) == (
        "r.csv, line 3, column amount: amount must be a positive number of rubles with at most 2 decimals, "
        "e.g. 1234,56 (got '-5')"
    )
    assert "duplicate of line 2" in registry.errors[5].message
    assert "separator" in registry.errors[6].message


def test_missing_columns_and_empty_file_are_file_errors() -> None:
    registry = parse_payment_registry(b"account;amount\n1;2\n", "x.csv")
    assert registry.rows == ()
    (error,) = registry.errors
    assert (error.line, error.column) == (1, "paid_on, payment_id") and "accepted names" in error.message
    assert parse_payment_registry(b"", "empty.csv").errors == (
        RegistryError("empty.csv", 1, None, "", "the file is empty; expected a header row"),)  # fmt: skip


def test_explicit_encoding_and_unreadable_csv() -> None:
    text = "account;amount;paid_on;payment_id\n1;2;2026-01-01;a\n"
    assert parse_payment_registry(text.encode("koi8-r"), encoding="koi8-r").rows[0].amount == 2
    # an unterminated quote swallows the rest of the file into one field beyond the csv field limit
    huge = b'account;amount;paid_on;payment_id\n1;"2;2026-01-01;a\n' + b"x" * 200_000 + b"\n"
    broken = parse_payment_registry(huge, "quote.csv")
    assert broken.rows == () and "unreadable CSV" in broken.errors[0].message


# --- property: rows written in any accepted style read back -------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.from_regex(r"[0-9]{6,12}", fullmatch=True),
            st.integers(1, 10**9),
            st.dates(date(2016, 1, 1), date(2030, 12, 31)),
        ),
        max_size=15,
    ),
    delimiter=st.sampled_from([";", ","]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
    comma=st.booleans(),
)
def test_round_trip(rows: list[tuple[str, int, date]], delimiter: str, encoding: str, comma: bool) -> None:
    lines = [delimiter.join(["Лицевой счёт", "Сумма", "Дата", "Номер платежа"])]
    for index, (account, kopecks, day) in enumerate(rows):
        amount = f"{kopecks // 100}{',' if comma else '.'}{kopecks % 100:02d}"
        if comma and delimiter == ",":
            amount = f'"{amount}"'
        lines.append(delimiter.join([account, amount, day.strftime("%d.%m.%Y"), f"id-{index}"]))
    registry = parse_payment_registry(("\r\n".join(lines) + "\r\n").encode(encoding))
    assert registry.errors == ()
    assert [(r.account, r.amount, r.paid_on) for r in registry.rows] == [
        (account, Decimal(kopecks).scaleb(-2), day) for account, kopecks, day in rows
    ]
