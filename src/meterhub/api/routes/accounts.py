"""Accounts (лицевые счета): list, details with services and balance, charges with their explanation,
balances per service and the payment history. Reads only; figures come from billing/."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api import account_views as views
from meterhub.api import labels_ru
from meterhub.api.deps import AccountNo, Conn, CurrentUser, require_role
from meterhub.api.roles import Role
from meterhub.api.schemas import Money, money
from meterhub.billing.money import ledger
from meterhub.billing.receipts.labels import unit_title, volume_text
from meterhub.billing.rules.periods import BillingPeriod

router = APIRouter(tags=["accounts"])

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
PeriodQuery = Annotated[
    str | None,
    Query(
        pattern=PERIOD_PATTERN,
        description="billing period YYYY-MM (default: the latest with charges)",
        examples=["2026-01"],
    ),
]
_readers = require_role(Role.RESIDENT, Role.ACCOUNTANT, Role.ADMIN)


def _num(value: Decimal | None) -> str | None:
    """A Decimal as a plain string without exponent or trailing zeros ("12.5", "0")."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


def due_date_of(period: str) -> date | None:
    """The last day to pay the period (billing's penalty tables: day N of the next month)."""
    from meterhub.billing.rules.penalties import PenaltyTables

    try:
        return PenaltyTables.default().due_date(BillingPeriod.parse(period))
    except LookupError:
        return None


class AccountSummary(BaseModel):
    account_no: str
    building_id: str
    address: str
    premise_no: str
    owner_name: str

    @classmethod
    def of(cls, row: views.AccountRow) -> AccountSummary:
        return cls(
            account_no=row.account_no,
            building_id=row.building_id,
            address=row.address,
            premise_no=row.premise_no,
            owner_name=row.owner_name,
        )


class ServiceOut(BaseModel):
    service: str = Field(examples=["cold_water"])
    name_ru: str = Field(examples=["холодное водоснабжение"])
    unit: str = Field(examples=["m3"])
    unit_name: str = Field(description="the unit in Russian", examples=["м³"])
    common_property_method: str | None = Field(description="how common property (ОДН) is billed")
    common_property_method_name: str | None = Field(description="the same in Russian")
    meter_ids: list[str] = Field(description="meters of the premise for this service in force today")


class ServiceBalanceOut(BaseModel):
    service: str
    opening: Money
    charged: Money
    recalculated: Money
    paid: Money
    penalties: Money
    closing: Money = Field(description="debt at the end of the period; negative = overpayment (аванс)")


class BalanceOut(BaseModel):
    """How the amount to pay came about: opening + charged + recalculated + penalties − paid = total."""

    period: str
    services: list[ServiceBalanceOut]
    opening: Money = Field(description="Σ debt at the start of the period (задолженность на начало)")
    charged: Money = Field(description="Σ charged for the period (начислено)")
    recalculated: Money = Field(description="Σ recalculations (перерасчёты)")
    penalties: Money = Field(description="Σ penalties (пени)")
    paid: Money = Field(description="Σ paid during the period (оплачено)")
    total: Money = Field(description="Σ closing: to pay (positive) or credit (negative)")


class LastPeriodOut(BaseModel):
    period: str
    status: str = Field(description="draft (not final yet) or closed")
    charged: Money
    due_date: date | None = Field(description="pay by this day (ЖК РФ ст. 155: by the 10th of next month)")


class LastReceiptOut(BaseModel):
    period: str
    document_id: str | None = None
    to_pay: Money | None = None


class AccountDetails(AccountSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_no": "LS-1",
                    "building_id": "B1",
                    "address": "г. Омск, ул. Ленина, д. 1",
                    "premise_no": "1",
                    "owner_name": "Иванов И. И.",
                    "time_zone": "Europe/Moscow",
                    "area_m2": "50",
                    "share": "1",
                    "opened_on": "2020-01-01",
                    "closed_on": None,
                    "registered": 1,
                    "temporary": 0,
                    "services": [],
                    "balance": None,
                    "last_period": None,
                    "last_receipt": None,
                }
            ]
        }
    )

    time_zone: str
    area_m2: str
    share: str
    opened_on: date
    closed_on: date | None
    registered: int = Field(description="registered residents today (зарегистрированные)")
    temporary: int = Field(description="temporarily residing today (временно проживающие)")
    services: list[ServiceOut]
    balance: BalanceOut | None = Field(description="balance of the latest charged period; null before any")
    last_period: LastPeriodOut | None
    last_receipt: LastReceiptOut | None


class ChargeLineOut(BaseModel):
    service: str
    service_name: str
    kind: str = Field(description="individual or common_property (ОДН)")
    zone: str = Field(description="tariff zone: single, day, night, peak, semi_peak")
    zone_name: str = Field(description="the zone in Russian (круглосуточно, день, ночь, пик, полупик)")
    part_start: date
    part_end: date
    volume: str = Field(description="exact volume in `unit` (for computation)", examples=["7.25"])
    volume_display: str = Field(
        description="the volume as residents read it: rounded half-up to the unit's display precision "
        "(m³ 3 decimals, kWh 2, Gcal 4, m² 2), decimal comma, thousands spaced",
        examples=["0,172"],
    )
    unit: str
    unit_name: str = Field(description="the unit in Russian", examples=["м³"])
    tariff: str = Field(description="price [₽/unit]", examples=["50.00"])
    coefficient: str = Field(description="raising coefficient (×1.5 without a meter) or 1")
    method: str = Field(description="meter, average, normative, ...")
    method_name: str = Field(description="the method in Russian", examples=["по счётчику"])
    formula: str = Field(description="the rule applied, e.g. ПП 354 formula")
    amount: Money
    amount_without_coefficient: Money | None
    excess: Money
    note: str
    explanation: str = Field(
        description="one line in Russian: volume × tariff × coefficient = amount (method; formula)",
        examples=["электроснабжение (день): 248 кВт·ч × 6 ₽ = 1488,00 ₽ (по счётчику; ПП 354, п. 42)"],
    )


class RecalculationOut(BaseModel):
    corrects_period: str
    service: str
    kind: str
    zone: str
    zone_name: str
    volume_delta: str
    volume_delta_display: str = Field(description="volume_delta at the unit's display precision, Russian")
    amount: Money
    method_before: str | None
    method_after: str | None
    method_before_name: str | None
    method_after_name: str | None
    reason: str = Field(description="the reason as stored by the close (partly English)")
    reason_ru: str = Field(description="the same for the resident: «Перерасчёт за январь 2026 (было: …)»")


class ChargesOut(BaseModel):
    account_no: str
    period: str
    status: str
    due_date: date | None
    lines: list[ChargeLineOut]
    recalculations: list[RecalculationOut]
    total: Money = Field(description="Σ line amounts + Σ recalculations")


class AllocationOut(BaseModel):
    debt_period: str | None
    service: str
    kind: str = Field(description="principal, penalty or advance")
    amount: Money
    rule: str
    booked_period: str


class PaymentOut(BaseModel):
    payment_id: str
    source: str = Field(description="payment agent code, e.g. sber")
    source_name: str = Field(description="the agent's name in Russian (Сбербанк); unknown codes as they are")
    amount: Money
    paid_on: date
    period_named: str | None
    purpose: str
    posted_at: datetime
    allocations: list[AllocationOut]


def _ru_num(text: str | None) -> str:
    """A plain decimal string the Russian way: decimal comma (``1488,00``, ``1,5``)."""
    return (text or "0").replace(".", ",")


def _explanation(line: dict) -> str:
    """One Russian line: «электроснабжение (день): 248 кВт·ч × 6 ₽ = 1488,00 ₽ (по счётчику; формула)»."""
    coef = _num(line["coefficient"])
    zone = "" if line["zone"] == "single" else f" ({labels_ru.zone_ru(line['zone'])})"
    text = (
        f"{line['name_ru']}{zone}: {volume_text(line['volume'], line['unit'])} "
        f"{labels_ru.unit_ru(line['unit'])} × "
        f"{_ru_num(_num(line['tariff']))} ₽"
    )
    if coef != "1":
        text += f" × {_ru_num(coef)}"
    amount = _ru_num(money(line["amount"]).rubles)
    return text + f" = {amount} ₽ ({labels_ru.method_ru(line['method'])}; {line['formula']})"


def _balance(conn, account_no: str, period: str) -> BalanceOut:
    rows = ledger.account_balances(conn, period, account_nos=[account_no]).get(account_no, [])
    return BalanceOut(
        period=period,
        services=[
            ServiceBalanceOut(
                service=b.service,
                opening=money(b.opening),
                charged=money(b.charged),
                recalculated=money(b.recalculated),
                paid=money(b.paid),
                penalties=money(b.penalties),
                closing=money(b.closing),
            )
            for b in rows
        ],
        opening=money(sum(b.opening for b in rows)),
        charged=money(sum(b.charged for b in rows)),
        recalculated=money(sum(b.recalculated for b in rows)),
        penalties=money(sum(b.penalties for b in rows)),
        paid=money(sum(b.paid for b in rows)),
        total=money(sum(b.closing for b in rows)),
    )


def _last_receipt(conn, account_no: str) -> LastReceiptOut | None:
    try:
        from meterhub.billing.receipts import list_receipts
    except ImportError:
        return None
    receipts = list_receipts(conn, account_no)
    if not receipts:
        return None
    last = max(receipts, key=lambda r: str(r.period))
    to_pay = getattr(last, "to_pay_kopecks", None)
    return LastReceiptOut(
        period=str(last.period),
        document_id=getattr(last, "document_id", None),
        to_pay=money(int(to_pay)) if to_pay is not None else None,
    )


@router.get(
    "/accounts",
    summary="Accounts the caller may see (residents: linked ones; accountants and admins: all)",
    response_model=list[AccountSummary],
    dependencies=[Depends(_readers)],
)
def list_accounts(
    user: CurrentUser,
    conn: Conn,
    building_id: Annotated[str | None, Query(max_length=64, description="only this building")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[AccountSummary]:
    only = sorted(user.account_nos) if user.role is Role.RESIDENT else None
    rows = views.list_accounts(conn, account_nos=only, building_id=building_id, limit=limit, offset=offset)
    return [AccountSummary.of(r) for r in rows]


@router.get(
    "/accounts/{account_no}",
    summary="Account details: premise, residents, services, balance, last period and due date, last receipt",
    response_model=AccountDetails,
    responses={404: {"description": "no such account among the caller's"}},
)
def get_account(account_no: AccountNo, conn: Conn) -> AccountDetails:
    row = views.account_row(conn, account_no)
    if row is None:  # pragma: no cover - account_access checked existence
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"account {account_no} not found")
    latest = views.latest_charged_period(conn, account_no)
    balance = last_period = None
    if latest is not None:
        period, period_status = latest
        balance = _balance(conn, account_no, period)
        charged = sum((line["amount"] for line in views.charge_lines(conn, account_no, period)), Decimal(0))
        last_period = LastPeriodOut(
            period=period, status=period_status, charged=money(charged), due_date=due_date_of(period)
        )
    return AccountDetails(
        **AccountSummary.of(row).model_dump(),
        time_zone=row.time_zone,
        area_m2=_num(row.area) or "0",
        share=_num(row.share) or "0",
        opened_on=row.opened_on,
        closed_on=row.closed_on,
        registered=row.registered,
        temporary=row.temporary,
        services=[
            ServiceOut(
                **s,
                unit_name=labels_ru.unit_ru(s["unit"]),
                common_property_method_name=(
                    labels_ru.method_ru(s["common_property_method"]) if s["common_property_method"] else None
                ),
            )
            for s in views.account_services(conn, account_no)
        ],
        balance=balance,
        last_period=last_period,
        last_receipt=_last_receipt(conn, account_no),
    )


@router.get(
    "/accounts/{account_no}/balance",
    summary="Balance per service for a period: opening, charged, recalculated, paid, penalties, closing",
    response_model=BalanceOut,
    responses={404: {"description": "no charges yet (when no period is given)"}},
)
def get_balance(account_no: AccountNo, conn: Conn, period: PeriodQuery = None) -> BalanceOut:
    if period is None:
        latest = views.latest_charged_period(conn, account_no)
        if latest is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"account {account_no} has no charges yet")
        period = latest[0]
    return _balance(conn, account_no, period)


@router.get(
    "/accounts/{account_no}/charges",
    summary="Charges of a period, line by line with volume, tariff, method, formula and an explanation",
    response_model=ChargesOut,
    responses={404: {"description": "no charges for that period"}},
)
def get_charges(account_no: AccountNo, conn: Conn, period: PeriodQuery = None) -> ChargesOut:
    periods = dict(views.charged_periods(conn, account_no))
    if period is None:
        if not periods:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"account {account_no} has no charges yet")
        period = max(periods)
    if period not in periods:
        known = ", ".join(sorted(periods)) or "none"
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no charges of account {account_no} for {period} (periods with charges: {known})",
        )
    lines = views.charge_lines(conn, account_no, period)
    recalcs = views.recalculation_lines(conn, account_no, period)
    total = sum((ln["amount"] for ln in lines), Decimal(0)) + sum((r["amount"] for r in recalcs), Decimal(0))
    return ChargesOut(
        account_no=account_no,
        period=period,
        status=periods[period],
        due_date=due_date_of(period),
        lines=[
            ChargeLineOut(
                service=ln["service"],
                service_name=ln["name_ru"],
                kind=ln["kind"],
                zone=ln["zone"],
                zone_name=labels_ru.zone_ru(ln["zone"]),
                part_start=ln["part_start"],
                part_end=ln["part_end"],
                volume=_num(ln["volume"]) or "0",
                volume_display=volume_text(ln["volume"], ln["unit"]),
                unit=ln["unit"],
                unit_name=labels_ru.unit_ru(ln["unit"]),
                tariff=_num(ln["tariff"]) or "0",
                coefficient=_num(ln["coefficient"]) or "1",
                method=ln["method"],
                method_name=labels_ru.method_ru(ln["method"]),
                formula=ln["formula"],
                amount=money(ln["amount"]),
                amount_without_coefficient=(
                    money(ln["amount_without_coefficient"])
                    if ln["amount_without_coefficient"] is not None
                    else None
                ),
                excess=money(ln["excess"]),
                note=ln["note"],
                explanation=_explanation(ln),
            )
            for ln in lines
        ],
        recalculations=[
            RecalculationOut(
                corrects_period=r["corrects_period"],
                service=r["service"],
                kind=r["kind"],
                zone=r["zone"],
                zone_name=labels_ru.zone_ru(r["zone"]),
                volume_delta=_num(r["volume_delta"]) or "0",
                volume_delta_display=volume_text(r["volume_delta"], unit_title(r["service"])),
                amount=money(r["amount"]),
                method_before=r["method_before"],
                method_after=r["method_after"],
                method_before_name=labels_ru.method_ru(r["method_before"]) if r["method_before"] else None,
                method_after_name=labels_ru.method_ru(r["method_after"]) if r["method_after"] else None,
                reason=r["reason"],
                reason_ru=labels_ru.recalculation_reason_ru(
                    r["corrects_period"], r["method_before"], r["method_after"]
                ),
            )
            for r in recalcs
        ],
        total=money(total),
    )


@router.get(
    "/accounts/{account_no}/payments",
    summary="Payment history, newest first, with where each payment went (debt period, service, penalty)",
    response_model=list[PaymentOut],
)
def get_payments(account_no: AccountNo, conn: Conn) -> list[PaymentOut]:
    return [
        PaymentOut(
            payment_id=p.payment_id,
            source=p.source,
            source_name=labels_ru.payment_source_ru(p.source),
            amount=money(p.amount),
            paid_on=p.paid_on,
            period_named=p.period_named,
            purpose=p.purpose,
            posted_at=p.posted_at,
            allocations=[
                AllocationOut(
                    debt_period=a.debt_period,
                    service=a.service,
                    kind=a.kind,
                    amount=money(a.amount),
                    rule=a.rule,
                    booked_period=a.booked_period,
                )
                for a in p.allocations
            ],
        )
        for p in ledger.payment_history(conn, account_no)
    ]
