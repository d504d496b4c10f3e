"""Payment QR code (платёжный QR-код) of the ЕПД receipt — ГОСТ Р 56042-2014 payload, parser and image.

Specification: billing-rules.md §5.3 (verified against codebude/QRCoder ``RussiaPaymentOrder.cs``,
if0ne/gost-56042-rs, aserdobintsev/GOST56042, ofstudio/qr-gost-56042). Payload layout::

    "ST" "0001" <charset digit> <separator> Name=…<sep>PersonalAcc=…<sep>BankName=…<sep>BIC=…<sep>CorrespAcc=…
        [<sep>Key=Value …]

* charset digit: ``1`` windows-1251, ``2`` UTF-8, ``3`` KOI8-R; the payload is raw bytes in that charset;
* separator: the first of ``| # ; : ^ _ ~ { } ! $ % & ( ) * + , / @`` that occurs in no value (values
  are never escaped);
* the five mandatory fields come first, in exactly that order; ``Sum`` is in kopecks;
* the payload never exceeds :data:`MAX_PAYLOAD_BYTES` — what a QR code of version 40 holds at
  error-correction level M in byte mode.

Building and parsing are pure; only :func:`render_payment_qr_png` needs ``segno`` (server extra).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import round_money, to_decimal, to_kopecks

__all__ = [
    "MANDATORY_FIELDS",
    "MAX_MANDATORY_BYTES",
    "MAX_PAYLOAD_BYTES",
    "SEPARATOR_CANDIDATES",
    "Payee",
    "PaymentPayload",
    "PaymentPayloadError",
    "QrCharset",
    "ReceiptPayment",
    "build_payment_payload",
    "choose_separator",
    "parse_payment_payload",
    "receipt_payment_payload",
    "render_payment_qr_png",
]

HEADER = "ST0001"
MANDATORY_FIELDS: tuple[str, ...] = ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")
SEPARATOR_CANDIDATES = "|#;:^_~{}!$%&()*+,/@"
MAX_PAYLOAD_BYTES = 2331
"""Byte-mode capacity of a QR code version 40 at error-correction level M (ISO/IEC 18004 table 7)."""
MAX_MANDATORY_BYTES = 300
"""QRCoder's limit of the mandatory block (header included) in the chosen encoding."""

_ACCOUNT_RE = re.compile(r"^[1-9]\d{4}[0-9ABCEHKMPTX]\d{14}$")
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")

# GOST tables 1–3, spelled as in billing-rules §5.3; the parser maps keys case-insensitively onto these.
KNOWN_FIELDS: tuple[str, ...] = (
    *MANDATORY_FIELDS,
    "Sum", "Purpose", "PayeeINN", "PayerINN", "DrawerStatus", "KPP", "CBC", "OKTMO", "PaytReason",
    "TaxPeriod", "DocNo", "DocDate", "TaxPaytKind",
    "LastName", "FirstName", "MiddleName", "PayerAddress", "PersonalAccount", "DocIdx", "PensAcc",
    "Contract", "PersAcc", "Flat", "Phone", "PayerIdType", "PayerIdNum", "ChildFio", "BirthDate",
    "PaymTerm", "PaymPeriod", "Category", "ServiceName", "CounterId", "CounterVal", "QuittId",
    "QuittDate", "InstNum", "ClassNum", "SpecFio", "AddAmount", "RuleId", "ExecId", "RegType", "UIN",
    "TechCode",
)  # fmt: skip
_CANONICAL = {key.lower(): key for key in KNOWN_FIELDS}

# (regex, description) per field; a value must match. Max lengths per GOST / QRCoder (§5.3).
_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "Name": (re.compile(r"^.{1,160}$", re.S), "1–160 characters"),
    "PersonalAcc": (
        _ACCOUNT_RE,
        "20 characters: 5 digits (first not 0), a digit or one of ABCEHKMPTX, 14 digits",
    ),
    "BankName": (re.compile(r"^.{1,45}$", re.S), "1–45 characters"),
    "BIC": (re.compile(r"^\d{9}$"), "9 digits"),
    "CorrespAcc": (
        re.compile(r"^(0|[1-9]\d{4}[0-9ABCEHKMPTX]\d{14})$"),
        "20 characters like PersonalAcc, or 0 when the payee's bank has none [I]",
    ),
    "Sum": (re.compile(r"^\d{1,18}$"), "kopecks: 1–18 digits"),
    "Purpose": (re.compile(r"^.{1,160}$", re.S), "1–160 characters"),
    "PayeeINN": (re.compile(r"^\d{1,12}$"), "up to 12 digits"),
    "PayerINN": (re.compile(r"^\d{1,12}$"), "up to 12 digits"),
    "KPP": (re.compile(r"^[0-9A-Z]{1,9}$"), "up to 9 digits or capital letters"),
    "CBC": (re.compile(r"^.{1,20}$"), "up to 20 characters"),
    "OKTMO": (re.compile(r"^.{1,11}$"), "up to 11 characters"),
    "DrawerStatus": (re.compile(r"^.{1,2}$"), "up to 2 characters"),
    "PaytReason": (re.compile(r"^.{1,2}$"), "up to 2 characters"),
    "TaxPaytKind": (re.compile(r"^.{1,2}$"), "up to 2 characters"),
    "TaxPeriod": (re.compile(r"^.{1,10}$"), "up to 10 characters"),
    "DocNo": (re.compile(r"^.{1,15}$"), "up to 15 characters"),
    "DocDate": (re.compile(r"^\d{2}\.\d{2}\.\d{4}$"), "dd.MM.yyyy"),
    "PaymPeriod": (re.compile(r"^(0[1-9]|1[0-2])\d{4}$"), "MMYYYY"),
    "AddAmount": (re.compile(r"^\d{1,18}$"), "kopecks: 1–18 digits"),
    "TechCode": (re.compile(r"^\d{2}$"), "2 digits (02 = housing and utilities)"),
}


class PaymentPayloadError(ValueError):
    """A payment QR payload cannot be built or parsed; the message names the field and the fix."""


class QrCharset(IntEnum):
    """The character-set flag (7th character of the payload)."""

    WINDOWS_1251 = 1
    UTF_8 = 2
    KOI8_R = 3

    @property
    def codec(self) -> str:
        return {1: "cp1251", 2: "utf-8", 3: "koi8-r"}[self.value]


@dataclass(frozen=True, slots=True)
class Payee:
    """The payee (получатель платежа) and its bank requisites — the mandatory block plus INN/KPP."""

    name: str
    personal_account: str
    """Расчётный счёт, 20 characters."""
    bank_name: str
    bic: str
    """БИК, 9 digits."""
    correspondent_account: str
    """Корреспондентский счёт of the bank."""
    inn: str | None = None
    kpp: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiptPayment:
    """What one ЕПД asks to pay: the QR fields of a housing-and-utilities payment (TechCode 02)."""

    payee: Payee
    amount: Decimal
    """Total to pay [₽], a whole number of kopecks (→ ``Sum`` in kopecks)."""
    account: str
    """The payer's лицевой счёт at the provider (→ ``PersAcc``)."""
    period: BillingPeriod
    """The billing period paid (→ ``PaymPeriod`` as MMYYYY)."""
    purpose: str | None = None
    """Назначение платежа; default ``Оплата ЖКУ за MM.YYYY ЛС <account>``."""
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    payer_address: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    """Further GOST fields appended after ``TechCode`` (e.g. ``("PaymTerm", "15.03.2026")``)."""

    def fields(self) -> list[tuple[str, str]]:
        """All fields in payload order: mandatory block, Sum, PayeeINN, KPP, Purpose, PersAcc, PaymPeriod,
        LastName, FirstName, MiddleName, PayerAddress, TechCode=02, then ``extra``."""
        amount = to_decimal(self.amount, "amount to pay")
        if amount < 0 or round_money(amount) != amount:
            raise PaymentPayloadError(
                f"Sum: amount to pay {amount} must be ≥ 0 and a whole number of kopecks"
            )
        period = f"{self.period.month:02d}.{self.period.year:04d}"
        optional: list[tuple[str, str | None]] = [
            ("Sum", str(to_kopecks(amount))),
            ("PayeeINN", self.payee.inn),
            ("KPP", self.payee.kpp),
            ("Purpose", self.purpose or f"Оплата ЖКУ за {period} ЛС {self.account}"),
            ("PersAcc", self.account),
            ("PaymPeriod", f"{self.period.month:02d}{self.period.year:04d}"),
            ("LastName", self.last_name),
            ("FirstName", self.first_name),
            ("MiddleName", self.middle_name),
            ("PayerAddress", self.payer_address),
            ("TechCode", "02"),
        ]
        payee = self.payee
        mandatory = [
            ("Name", payee.name),
            ("PersonalAcc", payee.personal_account),
            ("BankName", payee.bank_name),
            ("BIC", payee.bic),
            ("CorrespAcc", payee.correspondent_account),
        ]
        return mandatory + [(key, value) for key, value in optional if value] + list(self.extra)


@dataclass(frozen=True, slots=True)
class PaymentPayload:
    """A parsed payload: charset, separator and the fields in their order (keys in canonical spelling)."""

    charset: QrCharset
    separator: str
    fields: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        """The value of ``key`` (case-insensitive), or ``None``."""
        wanted = key.lower()
        return next((value for name, value in self.fields if name.lower() == wanted), None)

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)


def _canonical(key: str) -> str:
    return _CANONICAL.get(key.lower(), key)


def choose_separator(values: Iterable[str]) -> str:
    """The first of :data:`SEPARATOR_CANDIDATES` that occurs in none of ``values`` (QRCoder's rule)."""
    joined = "".join(values)
    for candidate in SEPARATOR_CANDIDATES:
        if candidate not in joined:
            return candidate
    raise PaymentPayloadError(
        f"every separator candidate {SEPARATOR_CANDIDATES!r} occurs in some value; remove one of them "
        f"(e.g. '|') from the payer or payee texts"
    )


def build_payment_payload(
    fields: Sequence[tuple[str, str]],
    charset: QrCharset = QrCharset.UTF_8,
    *,
    trailing_separator: bool = False,
) -> bytes:
    """Encode ``fields`` as a ГОСТ Р 56042-2014 payload (raw bytes in ``charset``).

    ``fields`` must start with the five mandatory fields in order (``Name``, ``PersonalAcc``,
    ``BankName``, ``BIC``, ``CorrespAcc``); keys are emitted in the canonical GOST spelling; a key may
    appear once. Every known field is validated (billing-rules §5.3); values must be non-empty and
    encodable in ``charset``. Raises :class:`PaymentPayloadError` naming the field.
    """
    keys = [_canonical(key) for key, _ in fields]
    if tuple(keys[:5]) != MANDATORY_FIELDS:
        raise PaymentPayloadError(
            f"the payload must start with {', '.join(MANDATORY_FIELDS)} in this order; "
            f"got {', '.join(keys[:5])}"
        )
    seen: set[str] = set()
    for key, (_, value) in zip(keys, fields, strict=True):
        if not _KEY_RE.match(key):
            raise PaymentPayloadError(f"field name {key!r} must be Latin letters and digits")
        if key in seen:
            raise PaymentPayloadError(f"field {key} appears twice; give each field once")
        seen.add(key)
        if not isinstance(value, str) or not value:
            raise PaymentPayloadError(
                f"{key}: value must be a non-empty string, got {value!r}; omit empty fields"
            )
        rule = _RULES.get(key)
        if rule and not rule[0].match(value):
            raise PaymentPayloadError(f"{key}: {value!r} is invalid, expected {rule[1]}")
        try:
            value.encode(charset.codec)
        except UnicodeEncodeError as exc:
            raise PaymentPayloadError(
                f"{key}: {value[exc.start : exc.end]!r} cannot be encoded in {charset.codec}; "
                f"use UTF-8 (charset 2)"
            ) from None
    separator = choose_separator(value for _, value in fields)
    parts = [f"{key}={value}" for key, (_, value) in zip(keys, fields, strict=True)]
    head = f"{HEADER}{charset.value}{separator}"
    mandatory_bytes = len((head + separator.join(parts[:5])).encode(charset.codec))
    if mandatory_bytes > MAX_MANDATORY_BYTES:
        raise PaymentPayloadError(
            f"the mandatory block is {mandatory_bytes} bytes, more than {MAX_MANDATORY_BYTES}; "
            f"shorten Name or BankName"
        )
    text = head + separator.join(parts) + (separator if trailing_separator else "")
    payload = text.encode(charset.codec)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PaymentPayloadError(
            f"the payload is {len(payload)} bytes, more than a QR code holds at level M "
            f"({MAX_PAYLOAD_BYTES}); shorten Purpose, PayerAddress or the extra fields"
        )
    return payload


def receipt_payment_payload(receipt: ReceiptPayment, charset: QrCharset = QrCharset.UTF_8) -> bytes:
    """The payload of one receipt's QR code (see :meth:`ReceiptPayment.fields` for the field order)."""
    return build_payment_payload(receipt.fields(), charset)


def parse_payment_payload(data: bytes | str, *, require_order: bool = True) -> PaymentPayload:
    """Parse a ГОСТ Р 56042-2014 payload (bytes as scanned, or already decoded text).

    Accepts a trailing separator or none, and keys in any letter case (``persAcc`` → ``PersAcc``). The
    five mandatory fields must be present; with ``require_order`` they must come first in GOST order.
    """
    if isinstance(data, bytes):
        if len(data) < 8 or data[:6] != HEADER.encode("ascii"):
            raise PaymentPayloadError(
                f"not a ГОСТ Р 56042 payload: must start with {HEADER!r}, got {data[:8]!r}"
            )
        charset = _charset(chr(data[6]))
        try:
            text = data.decode(charset.codec)
        except UnicodeDecodeError as exc:
            raise PaymentPayloadError(f"payload bytes are not valid {charset.codec}: {exc}") from None
    else:
        text = data
        if len(text) < 8 or not text.startswith(HEADER):
            raise PaymentPayloadError(
                f"not a ГОСТ Р 56042 payload: must start with {HEADER!r}, got {text[:8]!r}"
            )
        charset = _charset(text[6])
    separator = text[7]
    body = text[8:]
    if body.endswith(separator):
        body = body[: -len(separator)]
    fields: list[tuple[str, str]] = []
    for index, part in enumerate(body.split(separator), start=1):
        key, equals, value = part.partition("=")
        if not equals or not key:
            raise PaymentPayloadError(f"field {index} ({part!r}) is not Key=Value")
        fields.append((_canonical(key.strip()), value))
    keys = [key for key, _ in fields]
    missing = [key for key in MANDATORY_FIELDS if key not in keys]
    if missing:
        raise PaymentPayloadError(f"mandatory field(s) missing: {', '.join(missing)}")
    if require_order and tuple(keys[:5]) != MANDATORY_FIELDS:
        raise PaymentPayloadError(f"mandatory fields out of order: {', '.join(keys[:5])}")
    return PaymentPayload(charset, separator, tuple(fields))


def _charset(flag: str) -> QrCharset:
    if flag not in ("1", "2", "3"):
        raise PaymentPayloadError(f"charset flag {flag!r} must be 1 (windows-1251), 2 (UTF-8) or 3 (KOI8-R)")
    return QrCharset(int(flag))


def render_payment_qr_png(payload: bytes, *, scale: int = 4, border: int = 4) -> bytes:
    """A PNG image of the QR code of ``payload`` (byte mode, error-correction level M, no ECI).

    ``scale`` [px per module]; ``border`` [modules] of quiet zone (4 per ISO/IEC 18004). Needs ``segno``
    (``pip install meterhub[server]``).
    """
    import segno  # server extra: the pure payload functions above do not need it

    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PaymentPayloadError(f"the payload is {len(payload)} bytes, more than {MAX_PAYLOAD_BYTES}")
    code = segno.make_qr(payload, error="m", mode="byte", boost_error=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()
