"""The printed documents of the legal department as PDF (reportlab, the receipts' bundled DejaVu fonts):
the court-order application (заявление о вынесении судебного приказа, ГПК РФ ст. 121–124) with the
penalties calculation as an attachment, and the pre-trial claim (претензия) with its calculation.
Pure: a document dataclass in, bytes out."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from meterhub.billing.receipts.drawing import BOLD, REGULAR, register_fonts
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.claims.documents import ApplicationDocument, DebtorPart, Demand, PretrialDocument, demands_of

__all__ = ["render_application_pdf", "render_pretrial_pdf", "rubles"]


def rubles(kopecks: int) -> str:
    """``123456`` → ``1 234,56``."""
    text = f"{Decimal(kopecks).scaleb(-2):,.2f}"
    return text.replace(",", " ").replace(".", ",")


def _period(text: str) -> str:
    return BillingPeriod.parse(text).title_ru


def _first_day(period: str) -> str:
    return f"{BillingPeriod.parse(period).first_day:%d.%m.%Y}"


def _last_day(period: str) -> str:
    return f"{BillingPeriod.parse(period).end_day - timedelta(days=1):%d.%m.%Y}"


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=13)
    return {
        "body": body,
        "right": ParagraphStyle("right", parent=body, leftIndent=90 * mm),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=12, leading=15, alignment=1),
        "bold": ParagraphStyle("bold", parent=body, fontName=BOLD),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _table(rows: Sequence[Sequence[str]], widths: Sequence[float], style: ParagraphStyle) -> Table:
    cells = [[_p(str(cell), style) for cell in row] for row in rows]
    table = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _build(story: list, title: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="meterhub",
    )
    document.build(story)
    return buffer.getvalue()


def _person_details(d: DebtorPart) -> str:
    """A citizen debtor's details a court-order application gives (ГПК РФ ст. 124 ч. 2 п. 3: the date and
    place of birth and one identifier, and a statement when the claimant does not know an identifier): the
    place of birth and СНИЛС from the register, and what it lacks named as unknown to the claimant."""
    unknown = []
    if d.birth_date is None:
        unknown.append("дата рождения")
    parts = [f"место рождения: {d.birth_place}"] if d.birth_place else []
    if not d.birth_place:
        unknown.append("место рождения")
    if d.snils:
        parts.append(f"СНИЛС {d.snils}")
    else:
        unknown.append("идентификаторы (СНИЛС, ИНН, паспорт)")
    if unknown:
        parts.append(f"взыскателю неизвестны: {', '.join(unknown)}")
    return "; ".join(parts)


def _liability_text(demands: Sequence[Demand]) -> str:
    """The legal ground of the demands: shares (ГК РФ ст. 249, ЖК РФ ст. 158 ч. 1) and, when the premise or
    a share of it is held jointly, the joint owners' solidary obligation (ГК РФ ст. 253, 322, 323)."""
    shared = any(d.liability == "share" for d in demands)
    joint = any(d.liability == "solidary" for d in demands)
    text = ""
    if shared:
        text = (
            "В соответствии со ст. 249 ГК РФ и ч. 1 ст. 158 ЖК РФ каждый участник долевой собственности "
            "несёт расходы соразмерно своей доле."
        )
    if joint:
        text += (" " if text else "") + (
            "Участники общей совместной собственности (ст. 253 ГК РФ, ст. 34 СК РФ) несут обязанность по "
            "внесению платы солидарно (ст. 322, 323 ГК РФ): взыскатель вправе требовать исполнения от всех "
            "должников совместно или от любого из них."
        )
    return text


def render_application_pdf(doc: ApplicationDocument) -> bytes:
    """The court-order application of one case: court, claimant, each debtor for his share (a minor with
    his legal representative) — the joint owners of one joint ownership together, solidarily, for one
    amount (:func:`~meterhub.claims.documents.demands_of`) — the claim by period and service, the fee; the
    penalties table attached."""
    s = _styles()
    c = doc.claimant
    story: list = [
        _p(f"{doc.court_name}\n{doc.court_address}", s["right"]),
        Spacer(1, 3 * mm),
        _p(
            f"Взыскатель: {c.name}, ИНН {c.inn}, ОГРН {c.ogrn}\nадрес: {c.address}\n"
            f"реквизиты: {c.bank_details}",
            s["right"],
        ),
        Spacer(1, 3 * mm),
    ]
    demands = demands_of(doc.debtors)
    joint_with = {
        d.number: (demand.share, [x.number for x in demand.debtors if x.number != d.number])
        for demand in demands
        if demand.liability == "solidary"
        for d in demand.debtors
    }
    for d in doc.debtors:
        born = f", {d.birth_date:%d.%m.%Y} г. р." if d.birth_date else ""
        if d.number in joint_with:
            held, others = joint_with[d.number]
            with_whom = ("должником " if len(others) == 1 else "должниками ") + ", ".join(map(str, others))
            ownership = f"общая совместная собственность на {held} доли в праве (совместно с {with_whom})"
        else:
            ownership = f"доля в праве {d.share}"
        if d.organization:
            text = (
                f"Должник {d.number}: {d.full_name}, ИНН {d.inn}, ОГРН {d.ogrn}, {ownership}\n"
                f"адрес (место нахождения): {d.legal_address}\nадрес помещения: {doc.address}"
            )
        else:
            text = f"Должник {d.number}: {d.full_name}{born}, {ownership}\nадрес: {doc.address}"
        if d.registered:
            text += "\n" + _person_details(d)
        if d.representative:
            text += f"\nзаконный представитель несовершеннолетнего: {d.representative}"
        story += [_p(text, s["right"]), Spacer(1, 2 * mm)]
    total = doc.principal + doc.penalty
    story += [
        _p(
            f"Цена требования: {rubles(total)} руб.\nГосударственная пошлина: {rubles(doc.state_fee)} руб.",
            s["right"],
        ),
        Spacer(1, 5 * mm),
        _p("ЗАЯВЛЕНИЕ\nо вынесении судебного приказа", s["title"]),
        Spacer(1, 4 * mm),
        _p(
            f"Взыскатель осуществляет управление многоквартирным домом и предоставляет коммунальные услуги "
            f"собственникам помещения по адресу: {doc.address} (лицевой счёт {doc.account_no}). Должники — "
            f"собственники помещения — в нарушение ст. 153, 155 Жилищного кодекса РФ не вносили плату за "
            f"жилое помещение и коммунальные услуги за период с {_first_day(doc.period_from)} по "
            f"{_last_day(doc.period_to)}. {_liability_text(demands)} За несвоевременную оплату начислены "
            f"пени по ч. 14 ст. 155 ЖК РФ по состоянию на {doc.as_of:%d.%m.%Y} (расчёт прилагается).",
            s["body"],
        ),
        Spacer(1, 3 * mm),
        _p(
            "На основании изложенного, руководствуясь ст. 121–124 ГПК РФ, прошу вынести судебный приказ "
            "о взыскании:",
            s["body"],
        ),
        Spacer(1, 2 * mm),
    ]
    for demand in demands:
        if demand.liability == "solidary":
            names = ", ".join(d.full_name for d in demand.debtors)
            whom = f"солидарно с {names} (общая совместная собственность на {demand.share} доли в праве)"
        else:
            whom = f"с {demand.debtors[0].full_name} (доля {demand.share})"
        story.append(
            _p(
                f"{whom} в пользу {c.name}: "
                f"задолженность {rubles(demand.principal)} руб., "
                f"пени {rubles(demand.penalty)} руб., расходы по уплате государственной пошлины "
                f"{rubles(demand.state_fee)} руб.",
                s["body"],
            )
        )
        rows = [["Период", "Услуга", "Вид", "Сумма, руб."]]
        rows += [
            [_period(period), service, "основной долг" if kind == "principal" else "пени", rubles(amount)]
            for period, service, kind, amount in demand.lines
        ]
        story += [Spacer(1, 1 * mm), _table(rows, (35, 75, 35, 30), s["small"]), Spacer(1, 3 * mm)]
    story += [
        _p(
            f"Итого: основной долг {rubles(doc.principal)} руб., пени {rubles(doc.penalty)} руб., "
            f"государственная пошлина {rubles(doc.state_fee)} руб. ({doc.fee_formula}).",
            s["bold"],
        ),
        Spacer(1, 3 * mm),
        _p(
            "Приложения: 1) расчёт задолженности и пеней; 2) документ об уплате государственной пошлины; "
            "3) выписка из ЕГРН о собственниках помещения; 4) выписка из лицевого счёта; "
            "5) документы, подтверждающие полномочия представителя.",
            s["body"],
        ),
        Spacer(1, 6 * mm),
        _p(f"{c.signatory}    ____________________", s["body"]),
        PageBreak(),
        _p(
            f"Приложение 1. Расчёт задолженности и пеней по лицевому счёту {doc.account_no} "
            f"по состоянию на {doc.as_of:%d.%m.%Y}",
            s["title"],
        ),
        Spacer(1, 3 * mm),
        _p(
            "Пени: ч. 14 ст. 155 ЖК РФ — 1/300 ставки с 31-го по 90-й день просрочки, 1/130 с 91-го дня; "
            "расчёт по правилам meterhub (docs/billing-money.md).",
            s["small"],
        ),
        Spacer(1, 2 * mm),
    ]
    rows = [["Период", "Услуга", "Срок оплаты", "Дней просрочки", "Основной долг, руб.", "Пени, руб."]]
    rows += [
        [
            _period(r.period),
            r.service,
            f"{r.due_date:%d.%m.%Y}",
            str(r.days_overdue),
            rubles(r.principal),
            rubles(r.penalty),
        ]
        for r in doc.penalty_table
    ]
    rows.append(["Итого", "", "", "", rubles(doc.principal), rubles(doc.penalty)])
    story.append(_table(rows, (28, 52, 24, 20, 26, 25), s["small"]))
    if doc.penalty_runs:
        story += _penalty_runs(doc, s)
    return _build(story, f"Заявление о вынесении судебного приказа, дело {doc.case_id}")


def _decimal_ru(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")


def _penalty_runs(doc: ApplicationDocument, s: dict[str, ParagraphStyle]) -> list:
    """The penalty of each claimed debt by runs of days: from, to, days, the principal owed, the step and
    the rate, the exact amount; the debt's penalty rounded once. Accrued to the statement's day, before
    penalty payments (the claimed penalty is this less what was paid of it)."""
    names = doc.service_names or {}
    rows = [["Период", "Услуга", "С", "По", "Дней", "Долг, руб.", "Доля ставки", "Ставка, %", "Пени, руб."]]
    for debt in doc.penalty_runs:
        if debt.legacy:
            legacy = "долг, перенесённый из прежней системы: пени с даты перехода"
            rows.append([_period(debt.period), legacy, "", "", "", "", "", "", ""])
            continue
        for run in debt.runs:
            rows.append(
                [
                    _period(debt.period),
                    names.get(run.service, run.service),
                    f"{run.first_day:%d.%m.%Y}",
                    f"{run.last_day:%d.%m.%Y}",
                    str(run.days),
                    rubles(int(run.base * 100)),
                    f"1/{run.divisor}",
                    _decimal_ru(debt.rate_percent),
                    _decimal_ru(run.amount_exact.quantize(Decimal("0.0001"))),
                ]
            )
        total = rubles(int(debt.amount * 100))
        due = f"срок оплаты {debt.due_date:%d.%m.%Y}"
        rows.append([f"Итого за {_period(debt.period)}", due, "", "", "", "", "", "", total])
    return [
        Spacer(1, 4 * mm),
        _p(
            "Расчёт пеней по периодам просрочки: пени = долг × ставка / 100 × доля ставки × дней; первые "
            "30 дней просрочки и дни моратория пени не начисляются; по каждому долгу пени округляются один "
            "раз до копейки; начислено по день расчёта, без учёта оплаченных пеней.",
            s["small"],
        ),
        Spacer(1, 2 * mm),
        _table(rows, (20, 27, 19, 19, 12, 19, 13, 16, 20), s["small"]),
    ]


def render_pretrial_pdf(doc: PretrialDocument) -> bytes:
    """The pre-trial claim of one account with the calculation and the deadline to pay."""
    s = _styles()
    c = doc.claimant
    principal = sum(x.amount for x in doc.lines if x.kind == "principal")
    penalty = sum(x.amount for x in doc.lines if x.kind == "penalty")
    story: list = [
        _p(f"{doc.owner_name}\n{doc.address}", s["right"]),
        Spacer(1, 3 * mm),
        _p(f"от {c.name}\n{c.address}", s["right"]),
        Spacer(1, 5 * mm),
        _p("ПРЕТЕНЗИЯ\n(уведомление о задолженности)", s["title"]),
        Spacer(1, 4 * mm),
        _p(
            f"По лицевому счёту {doc.account_no} по состоянию на {doc.as_of:%d.%m.%Y} числится задолженность "
            f"за жилое помещение и коммунальные услуги {rubles(principal)} руб. "
            f"и пени по ч. 14 ст. 155 ЖК РФ "
            f"{rubles(penalty)} руб., всего {rubles(principal + penalty)} руб. Просим погасить задолженность "
            f"до {doc.pay_by:%d.%m.%Y}. В противном случае мы обратимся в суд с заявлением о вынесении "
            f"судебного приказа; расходы по уплате государственной пошлины будут взысканы с вас.",
            s["body"],
        ),
        Spacer(1, 3 * mm),
    ]
    rows = [["Период", "Услуга", "Вид", "Срок оплаты", "Сумма, руб.", ""]]
    for x in doc.lines:
        rows.append(
            [
                _period(x.period),
                doc.service_names.get(x.service, x.service),
                "основной долг" if x.kind == "principal" else "пени",
                f"{x.due_date:%d.%m.%Y}",
                rubles(x.amount),
                "срок давности истёк" if x.time_barred else "",
            ]
        )
    rows.append(["Итого", "", "", "", rubles(principal + penalty), ""])
    story += [_table(rows, (28, 45, 25, 22, 25, 30), s["small"]), Spacer(1, 6 * mm)]
    story.append(_p(f"{c.signatory}    ____________________", s["body"]))
    return _build(story, f"Претензия, лицевой счёт {doc.account_no}")
