"""Payment QR (ГОСТ Р 56042-2014): payload layout, validation, parsing, and the image decoded back."""

import struct
import zlib
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.money.payment_qr import (
    MANDATORY_FIELDS,
    MAX_PAYLOAD_BYTES,
    SEPARATOR_CANDIDATES,
    Payee,
    PaymentPayloadError,
    QrCharset,
    ReceiptPayment,
    build_payment_payload,
    parse_payment_payload,
    receipt_payment_payload,
    render_payment_qr_png,
)
from meterhub.billing.rules.periods import BillingPeriod

PAYEE = Payee(
    name="ООО «УК Пример»",
    personal_account="40702810900000000001",
    bank_name="ПАО СБЕРБАНК",
    bic="044525225",
    correspondent_account="30101810400000000225",
    inn="7701234567",
    kpp="770101001",
)
MANDATORY = [
    ("Name", PAYEE.name),
    ("PersonalAcc", PAYEE.personal_account),
    ("BankName", PAYEE.bank_name),
    ("BIC", PAYEE.bic),
    ("CorrespAcc", PAYEE.correspondent_account),
]
# billing-rules §5.3, example for E-1, field for field
E1_TEXT = (
    "ST00012|Name=ООО «УК Пример»|PersonalAcc=40702810900000000001|BankName=ПАО СБЕРБАНК|BIC=044525225|"
    "CorrespAcc=30101810400000000225|PayeeINN=7701234567|KPP=770101001|Sum=191700|"
    "Purpose=Оплата ЖКУ за 01.2026 ЛС 1234567890|PersAcc=1234567890|LastName=Иванов|"
    "PayerAddress=г. Москва, ул. Ленина, д. 1, кв. 15|PaymPeriod=012026|TechCode=02"
)
RECEIPT = ReceiptPayment(
    payee=PAYEE,
    amount=Decimal("1917.00"),
    account="1234567890",
    period=BillingPeriod(2026, 1),
    last_name="Иванов",
    payer_address="г. Москва, ул. Ленина, д. 1, кв. 15",
)


def e1_fields() -> list[tuple[str, str]]:
    return [tuple(part.split("=", 1)) for part in E1_TEXT[8:].split("|")]  # type: ignore[misc]


# --- building ------------------------------------------------------------------------------------------


def test_reference_example_e1_byte_for_byte() -> None:
    assert build_payment_payload(e1_fields()) == E1_TEXT.encode("utf-8")


def test_receipt_fields_in_order_with_sum_in_kopecks() -> None:
    payload = receipt_payment_payload(RECEIPT).decode("utf-8")
    assert payload == (
        "ST00012|Name=ООО «УК Пример»|PersonalAcc=40702810900000000001|BankName=ПАО СБЕРБАНК|BIC=044525225|"
        "CorrespAcc=30101810400000000225|Sum=191700|PayeeINN=7701234567|KPP=770101001|"
        "Purpose=Оплата ЖКУ за 01.2026 ЛС 1234567890|PersAcc=1234567890|PaymPeriod=012026|LastName=Иванов|"
        "PayerAddress=г. Москва, ул. Ленина, д. 1, кв. 15|TechCode=02"
    )


def test_windows_1251_is_raw_single_byte_text() -> None:
    payload = receipt_payment_payload(RECEIPT, QrCharset.WINDOWS_1251)
    assert payload[:8] == b"ST00011|"
    assert payload == receipt_payment_payload(RECEIPT).decode("utf-8").replace("ST00012", "ST00011").encode(
        "cp1251"
    )
    assert len(payload) < len(receipt_payment_payload(RECEIPT))  # one byte per Cyrillic letter


def test_separator_is_the_first_candidate_absent_from_every_value() -> None:
    fields = [("Name", "ООО «А|Б»"), *MANDATORY[1:], ("Purpose", "ЖКУ #1")]
    payload = build_payment_payload(fields).decode("utf-8")
    assert payload.startswith("ST00012;Name=ООО «А|Б»;")  # '|' and '#' are taken
    all_taken = [("Name", "x" + SEPARATOR_CANDIDATES), *MANDATORY[1:]]
    with pytest.raises(PaymentPayloadError, match="separator"):
        build_payment_payload(all_taken)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("BIC", "04452522", "9 digits"),
        ("BIC", "04452522X", "9 digits"),
        ("PersonalAcc", "4070281090000000000", "20 characters"),
        ("PersonalAcc", "04070281090000000001", "20 characters"),  # first digit 0
        ("PersonalAcc", "40702D10900000000001", "20 characters"),  # D is not an allowed letter
        ("CorrespAcc", "301018104000000002251", "20 characters"),
        ("BankName", "Б" * 46, "1–45"),
        ("Name", "", "non-empty"),
    ],
)
def test_mandatory_field_validation(key: str, value: str, message: str) -> None:
    fields = [(name, value if name == key else current) for name, current in MANDATORY]
    with pytest.raises(PaymentPayloadError, match=message):
        build_payment_payload(fields)


def test_letter_in_account_and_zero_correspondent_account_are_valid() -> None:
    fields = [
        ("Name", "УФК"),
        ("PersonalAcc", "03100643000000018500"),
        ("BankName", "ОКЦ"),
        ("BIC", "024501901"),
    ]
    # 03… starts with 0: treasury accounts are not valid PersonalAcc per the reference regex
    with pytest.raises(PaymentPayloadError, match="PersonalAcc"):
        build_payment_payload([*fields, ("CorrespAcc", "0")])
    ok = [("Name", "УФК"), ("PersonalAcc", "40101A10000000010001"), ("BankName", "ОКЦ"), ("BIC", "024501901")]
    assert b"CorrespAcc=0" in build_payment_payload([*ok, ("CorrespAcc", "0")])


def test_other_validation_errors_name_the_field() -> None:
    cases = [
        ([*MANDATORY, ("Purpose", "П" * 161)], "Purpose"),
        ([*MANDATORY, ("Sum", "12.50")], "Sum"),
        ([*MANDATORY, ("PaymPeriod", "132026")], "PaymPeriod"),
        ([*MANDATORY, ("PersAcc", "1"), ("persacc", "2")], "twice"),
        ([*MANDATORY, ("Bad Key", "1")], "Latin"),
        ([MANDATORY[1], MANDATORY[0], *MANDATORY[2:]], "order"),
        ([("Name", "Ё" * 160), *MANDATORY[1:]], "mandatory block"),  # 320 bytes in UTF-8
    ]
    for fields, message in cases:
        with pytest.raises(PaymentPayloadError, match=message):
            build_payment_payload(fields)
    with pytest.raises(PaymentPayloadError, match="cp1251"):
        build_payment_payload([*MANDATORY, ("LastName", "Müller")], QrCharset.WINDOWS_1251)
    with pytest.raises(PaymentPayloadError, match="kopecks"):
        ReceiptPayment(PAYEE, Decimal("10.005"), "1", BillingPeriod(2026, 1)).fields()
    with pytest.raises(TypeError, match="float"):
        ReceiptPayment(PAYEE, 10.5, "1", BillingPeriod(2026, 1)).fields()  # type: ignore[arg-type]


def test_payload_never_longer_than_a_version_40_m_qr() -> None:
    filler = [(f"Extra{i}", "x" * 200) for i in range(10)]  # 153 + 10 × 208 = 2 233 bytes
    fields = [*MANDATORY, *filler]
    with pytest.raises(PaymentPayloadError, match="2331"):
        build_payment_payload([*fields, ("Extra99", "y" * 100)])
    assert len(build_payment_payload(fields)) <= MAX_PAYLOAD_BYTES


# --- parsing -------------------------------------------------------------------------------------------


def test_parse_accepts_trailing_separator_and_any_key_case() -> None:
    text = E1_TEXT.replace("PersAcc=", "persAcc=").replace("PaymPeriod=", "paymperiod=") + "|"
    parsed = parse_payment_payload(text.encode("utf-8"))
    assert parsed.charset is QrCharset.UTF_8 and parsed.separator == "|"
    assert parsed.fields == tuple(e1_fields())
    assert parsed.get("PERSACC") == "1234567890" and parsed.as_dict()["PaymPeriod"] == "012026"
    assert parse_payment_payload(E1_TEXT).fields == parsed.fields  # text input, no trailing separator


def test_parse_koi8_and_windows_1251() -> None:
    text = "ST00013#Name=ТСЖ#PersonalAcc=40702810900000000001#BankName=Банк#BIC=044525225#CorrespAcc=0#"
    parsed = parse_payment_payload(text.encode("koi8-r"))
    assert (
        parsed.charset is QrCharset.KOI8_R and parsed.get("Name") == "ТСЖ" and parsed.get("CorrespAcc") == "0"
    )
    cp1251 = receipt_payment_payload(RECEIPT, QrCharset.WINDOWS_1251)
    assert parse_payment_payload(cp1251).fields == tuple(RECEIPT.fields())


def test_parse_errors() -> None:
    with pytest.raises(PaymentPayloadError, match="ST0001"):
        parse_payment_payload(b"ST00022|Name=x")
    with pytest.raises(PaymentPayloadError, match="charset"):
        parse_payment_payload(b"ST00019|Name=x")
    with pytest.raises(PaymentPayloadError, match="missing: BIC"):
        parse_payment_payload("ST00012|Name=a|PersonalAcc=b|BankName=c|CorrespAcc=0")
    shuffled = "ST00012|PersonalAcc=b|Name=a|BankName=c|BIC=1|CorrespAcc=0"
    with pytest.raises(PaymentPayloadError, match="order"):
        parse_payment_payload(shuffled)
    assert parse_payment_payload(shuffled, require_order=False).get("name") == "a"
    with pytest.raises(PaymentPayloadError, match="Key=Value"):
        parse_payment_payload("ST00012|Name=a|PersonalAcc")


# --- the image, decoded by an independent reader ---------------------------------------------------------


def decode_png_greyscale(png: bytes) -> np.ndarray:
    """A minimal PNG reader for segno's output (1-bit greyscale, filters None/Up): uint8 image, 0 = dark."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat += data
        position += 12 + length
    assert header is not None
    width, height, bit_depth, colour_type, _, _, interlace = header
    assert (bit_depth, colour_type, interlace) == (1, 0, 0), header
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8
    previous = np.zeros(stride, dtype=np.uint8)
    rows = []
    for row in range(height):
        line = raw[row * (stride + 1) : (row + 1) * (stride + 1)]
        current = np.frombuffer(line[1:], dtype=np.uint8)
        if line[0] == 2:  # Up
            current = (current + previous).astype(np.uint8)
        else:
            assert line[0] == 0, f"unsupported PNG filter {line[0]}"
        rows.append(np.unpackbits(current)[:width])
        previous = current
    return (np.array(rows, dtype=np.uint8) * 255).astype(np.uint8)


def scan(png: bytes) -> bytes:
    zxingcpp = pytest.importorskip("zxingcpp")
    result = zxingcpp.read_barcode(decode_png_greyscale(png), formats=zxingcpp.BarcodeFormat.QRCode)
    assert result is not None, "zxing-cpp found no QR code"
    return bytes(result.bytes)


@pytest.mark.parametrize("charset", [QrCharset.UTF_8, QrCharset.WINDOWS_1251])
def test_rendered_qr_decodes_to_the_same_bytes_and_fields(charset: QrCharset) -> None:
    pytest.importorskip("segno")
    payload = receipt_payment_payload(RECEIPT, charset)
    scanned = scan(render_payment_qr_png(payload))
    assert scanned == payload
    assert parse_payment_payload(scanned).fields == tuple(RECEIPT.fields())


def test_largest_payload_renders_as_a_decodable_version_40_code() -> None:
    segno = pytest.importorskip("segno")
    head = len(build_payment_payload(MANDATORY))
    filler = "y" * (MAX_PAYLOAD_BYTES - head - len("|Extra="))
    payload = build_payment_payload([*MANDATORY, ("Extra", filler)])
    assert len(payload) == MAX_PAYLOAD_BYTES
    assert segno.make_qr(payload, error="m", mode="byte", boost_error=False).version == 40
    assert scan(render_payment_qr_png(payload, scale=2)) == payload


# --- property: payload → parse ------------------------------------------------------------------------

text_values = st.text(
    alphabet=st.sampled_from(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЁЯ abcXYZ0123456789.,-«»№=" + SEPARATOR_CANDIDATES
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(
    name=text_values,
    bank=text_values.map(lambda value: value[:45]),
    extras=st.lists(
        st.tuples(st.sampled_from(["Purpose", "LastName", "PayerAddress", "Contract", "Flat"]), text_values),
        unique_by=lambda pair: pair[0],
        max_size=5,
    ),
    kopecks=st.integers(0, 10**12),
    charset=st.sampled_from([QrCharset.UTF_8, QrCharset.WINDOWS_1251, QrCharset.KOI8_R]),
    trailing=st.booleans(),
)
def test_round_trip_payload_parse(
    name: str, bank: str, extras: list[tuple[str, str]], kopecks: int, charset: QrCharset, trailing: bool
) -> None:
    fields = [
        ("Name", name),
        *MANDATORY[1:2],
        ("BankName", bank),
        *MANDATORY[3:],
        ("Sum", str(kopecks)),
        *extras,
    ]
    try:
        payload = build_payment_payload(fields, charset, trailing_separator=trailing)
    except PaymentPayloadError as exc:
        unencodable = any(
            value.encode(charset.codec, "replace") != value.encode(charset.codec, "ignore")
            for _, value in fields
        )
        assert (
            "separator" in str(exc)
            or "mandatory block" in str(exc)
            or (unencodable and "encoded" in str(exc))
        )
        return
    assert len(payload) <= MAX_PAYLOAD_BYTES
    parsed = parse_payment_payload(payload)
    assert parsed.charset is charset
    assert parsed.fields == tuple(fields)
    assert [key for key, _ in parsed.fields[:5]] == list(MANDATORY_FIELDS)
