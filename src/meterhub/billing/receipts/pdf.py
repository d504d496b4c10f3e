"""The ЕПД as PDF, laid out after the sample form of Приказ Минстроя России от 26.01.2018 № 43/пр.

One A4 portrait page per receipt (a long receipt continues on the next page): a title, Раздел 1 (payer
and provider) beside Раздел 2 (payment details, totals, the payment QR code and the account-link code),
Раздел 3 (the charge table), Раздел 4 (normatives, house totals, meter readings), Раздел 5
(recalculations), Раздел 6 (instalments). Everything printed is Russian.

:func:`write_receipts` streams any number of receipts into one file-like object (a building's PDF);
:func:`write_debt_receipt` draws a debt receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from meterhub.billing.money.payment_qr import Payee
from meterhub.billing.receipts.drawing import (
    BOLD,
    Cell,
    Column,
    draw_qr,
    fit_text,
    register_fonts,
    table,
)
from meterhub.billing.receipts.labels import money, number, period_title, ru_date, volume_text
from meterhub.billing.receipts.model import DebtReceipt, Payer, Provider, Receipt, StateIds
from meterhub.billing.receipts.payee_block import draw_payee_parts

__all__ = ["FORM_TITLE", "SECTION_TITLES", "write_debt_receipt", "write_receipts"]

PAGE_W, PAGE_H = A4
MARGIN = 20.0
WIDTH = PAGE_W - 2 * MARGIN
LINE = 8.6
TEXT = 6.6
QR_SIZE = 112.0

FORM_TITLE = "ПЛАТЁЖНЫЙ ДОКУМЕНТ (ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ)"
SECTION_TITLES = (
    "Раздел 1. Сведения о плательщике и исполнителе услуг",
    "Раздел 2. Информация для внесения платы получателю платежа (получателям платежей)",
    "Раздел 3. Расчёт размера платы за содержание и ремонт жилого помещения и коммунальные услуги",
    "Раздел 4. Справочная информация",
    "Раздел 5. Сведения о перерасчётах (доначисления +, уменьшения −)",
    "Раздел 6. Расчёт суммы к оплате с учётом рассрочки платежа",
)

_CHARGE_COLUMNS = (
    Column(78, "left"), Column(20, "center"), Column(32), Column(27), Column(44, "center"), Column(31),
    Column(36), Column(31), Column(36), Column(21, "center"), Column(30), Column(32), Column(25),
    Column(37), Column(36), Column(30),
)  # fmt: skip
_CHARGE_HEADER = (
    Cell(0, 0, 0, 1, "Виды услуг"),
    Cell(1, 1, 0, 1, "Ед.\nизм."),
    Cell(2, 3, 0, 0, "Объём услуг"),
    Cell(2, 2, 1, 1, "индивид.\nпотребл."),
    Cell(3, 3, 1, 1, "общедом.\nнужды"),
    Cell(4, 4, 0, 1, "Способ\nопределения\nобъёма"),
    Cell(5, 5, 0, 1, "Тариф,\nруб./ед."),
    Cell(6, 7, 0, 0, "Размер платы, руб."),
    Cell(6, 6, 1, 1, "индивид.\nпотребл."),
    Cell(7, 7, 1, 1, "общедом.\nнужды"),
    Cell(8, 8, 0, 1, "Всего\nначислено,\nруб."),
    Cell(9, 9, 0, 1, "Повыш.\nкоэфф."),
    Cell(10, 10, 0, 1, "Размер\nпревыш.,\nруб."),
    Cell(11, 11, 0, 1, "Перерасчёты,\nруб."),
    Cell(12, 12, 0, 1, "Льготы,\nсубсидии,\nруб."),
    Cell(13, 15, 0, 0, "Итого к оплате за расчётный период, руб."),
    Cell(13, 13, 1, 1, "всего"),
    Cell(14, 14, 1, 1, "в т.ч. индив.\nпотребл."),
    Cell(15, 15, 1, 1, "в т.ч.\nобщедом."),
)


def _section_title(c: Canvas, text: str, x: float, y: float, width: float) -> float:
    fit_text(c, text, x, y - 7.5, width, 7.2, font=BOLD)
    return y - 10


def _lines(c: Canvas, x: float, y: float, width: float, items: Iterable[tuple[str, str]]) -> float:
    """``label: value`` lines; the label bold. Returns the ``y`` below the last line."""
    for label, value in items:
        y -= LINE
        if label:
            c.setFont(BOLD, TEXT)
            c.drawString(x, y, label)
            offset = c.stringWidth(label, BOLD, TEXT) + 3
        else:
            offset = 0
        fit_text(c, value, x + offset, y, width - offset, TEXT)
    return y


def _title(c: Canvas, heading: str, subtitle: str, note: str | None, form: str = "") -> float:
    y = PAGE_H - MARGIN
    fit_text(c, heading, MARGIN, y - 9, WIDTH, 9.5, font=BOLD, align="center")
    fit_text(c, subtitle, MARGIN, y - 19, WIDTH, 7, align="center")
    fit_text(c, form, MARGIN, y - 27, WIDTH, 5.5, align="right")
    y -= 30
    if note:
        c.setFillColorRGB(0.75, 0, 0)
        fit_text(c, note, MARGIN, y - 7, WIDTH, 7, font=BOLD, align="center")
        c.setFillGray(0)
        y -= 10
    return y


def _section_1(
    c: Canvas, y: float, width: float, payer: Payer, provider: Provider, extra: list[tuple[str, str]]
) -> float:
    y = _section_title(c, SECTION_TITLES[0], MARGIN, y, width)
    contacts = ", ".join(
        part for part in (
            f"тел. {provider.phone}" if provider.phone else "",
            provider.email,
            provider.website,
        ) if part
    )  # fmt: skip
    inn = " / ".join(p for p in (provider.inn, provider.kpp) if p)
    items = [
        ("Лицевой счёт:", payer.account_no),
        ("Плательщик:", payer.name or "—"),
        ("Адрес помещения:", payer.address),
        (
            "Площадь:",
            f"общая {number(payer.total_area)} кв. м; проживает {payer.persons} чел.; "
            f"собственников {payer.owners}",
        ),
        *extra,
        ("Исполнитель услуг:", provider.name),
        ("ИНН / КПП:", inn or "—"),
        ("Адрес исполнителя:", provider.address or "—"),
        ("Контакты:", contacts or "—"),
    ]
    return _lines(c, MARGIN, y, width, items)


def _state_id_lines(ids: StateIds | None) -> list[tuple[str, str]]:
    """ЕЛС and ИЖКУ lines of Раздел 2 (43/пр) when ГИС ЖКХ has assigned them."""
    if ids is None:
        return []
    lines = (("ЕЛС:", ids.els), ("Идентификатор ЖКУ:", ids.izhku))
    return [(label, value) for label, value in lines if value]


def _section_2(
    c: Canvas, y: float, x: float, width: float, payee: Payee, payer: Payer,
    document_id: str, money_lines: list[tuple[str, str]], total_label: str, total: str, qr: bytes,
    link_code: str | None, state_ids: StateIds | None = None,
) -> float:  # fmt: skip
    top = _section_title(c, SECTION_TITLES[1], x, y, width)
    text_w = width - QR_SIZE - 4
    items = [
        ("Получатель платежа:", payee.name),
        ("ИНН / КПП:", " / ".join(p for p in (payee.inn, payee.kpp) if p) or "—"),
        ("Банк:", f"{payee.bank_name}, БИК {payee.bic}"),
        ("Р/с:", payee.personal_account),
        ("К/с:", payee.correspondent_account),
        ("№ лицевого счёта:", payer.account_no),
        *_state_id_lines(state_ids),
        ("Идентификатор ПД:", (state_ids and state_ids.payment_document_id) or document_id),
        *money_lines,
    ]
    y = _lines(c, x, top, text_w, items)
    y -= LINE + 1
    c.setFont(BOLD, 8)
    c.drawString(x, y, total_label)
    fit_text(c, f"{total} руб.", x + text_w - 70, y, 70, 8, font=BOLD, align="right")
    if link_code:
        y = _lines(c, x, y, text_w, [("Код привязки ЛС в личном кабинете:", link_code)])
    qr_x = x + width - QR_SIZE
    draw_qr(c, qr, qr_x, top - QR_SIZE, QR_SIZE)
    fit_text(
        c, "Оплата по QR-коду (ГОСТ Р 56042-2014)", qr_x, top - QR_SIZE - 6, QR_SIZE, 5.5, align="center"
    )
    return min(y, top - QR_SIZE - 8)


def _new_page_top(receipt_label: str) -> Callable[[Canvas], float]:
    def top(c: Canvas) -> float:
        fit_text(c, f"{receipt_label} (продолжение)", MARGIN, PAGE_H - MARGIN - 8, WIDTH, 7, font=BOLD)
        return PAGE_H - MARGIN - 14

    return top


def _draw_receipt(c: Canvas, r: Receipt) -> None:
    period = f"{r.period.month:02d}.{r.period.year}"
    note = None if r.status == "closed" else "ПРЕДВАРИТЕЛЬНЫЙ РАСЧЁТ: расчётный период не закрыт"
    y = _title(
        c,
        f"{FORM_TITLE} за {period_title(r.period.year, r.period.month)} г.",
        "для внесения платы за содержание и ремонт жилого помещения и предоставление коммунальных услуг",
        note,
        "Форма: приказ Минстроя России от 26.01.2018 № 43/пр",
    )
    left_w = 262.0
    t = r.totals
    y1 = _section_1(
        c, y, left_w, r.payer, r.provider,
        [("Расчётный период:", period), ("Срок оплаты:", f"до {ru_date(r.due_date)}"),
         ("Дата формирования:", ru_date(r.issued_on))],
    )  # fmt: skip
    opening_label = "Задолженность на начало периода:" if t.opening >= 0 else "Аванс на начало периода:"
    money_lines = [
        (opening_label, money(abs(t.opening))),
        ("Оплачено в расчётном периоде:", money(t.paid)),
        ("Дата последней оплаты:", ru_date(t.last_payment_on) if t.last_payment_on else "—"),
        ("Начислено за расчётный период:", money(t.charged)),
        ("Перерасчёты:", money(t.recalculated)),
        *([("Льготы, субсидии:", money(t.benefits))] if t.benefits else []),
        ("Сумма к оплате за расчётный период:", money(t.for_period)),
        ("Пени (неустойка):", money(t.penalties)),
    ]
    total_label = "ИТОГО К ОПЛАТЕ:" if t.to_pay >= 0 else "ПЕРЕПЛАТА (к оплате 0,00):"
    y2 = _section_2(
        c, y, MARGIN + left_w + 8, WIDTH - left_w - 8, r.payee, r.payer, r.document_id, money_lines,
        total_label, money(abs(t.to_pay)), r.qr_payload, r.link_code, r.state_ids,
    )  # fmt: skip
    y = min(y1, y2) - 6
    label = f"ЛС {r.payer.account_no}, {period}"
    new_page = _new_page_top(label)

    def on_new_page() -> float:
        return new_page(c)

    y = draw_payee_parts(c, r.payee_parts, MARGIN, y, WIDTH, on_new_page, MARGIN)  # several payees
    # Раздел 3
    y = _section_title(c, SECTION_TITLES[2], MARGIN, y, WIDTH)
    rows = []
    for row in r.rows:
        rows.append(
            [
                row.title, row.unit, volume_text(row.volume_individual, row.unit),
                volume_text(row.volume_common, row.unit), row.method,
                number(row.tariff) if row.tariff is not None else "—", money(row.amount_individual),
                money(row.amount_common), money(row.charged),
                number(row.coefficient) if row.coefficient is not None else "—", money(row.excess),
                money(row.recalculation), money(row.benefits), money(row.total),
                money(row.amount_individual + row.recalculation - row.benefits), money(row.amount_common),
            ]
        )  # fmt: skip
    zero = Decimal("0.00")
    s_ind = sum((row.amount_individual for row in r.rows), zero)
    s_cp = sum((row.amount_common for row in r.rows), zero)
    s_exc = sum((row.excess for row in r.rows), zero)
    s_rec = sum((row.recalculation for row in r.rows), zero)
    s_ben = sum((row.benefits for row in r.rows), zero)
    s_tot = sum((row.total for row in r.rows), zero)
    rows.append(["Итого за период", "", "", "", "", "", money(s_ind), money(s_cp), money(s_ind + s_cp), "",
                 money(s_exc), money(s_rec), money(s_ben), money(s_tot), money(s_ind + s_rec - s_ben),
                 money(s_cp)])  # fmt: skip
    rows.append(["Пени (неустойка)", *[""] * 12, money(t.penalties), "", ""])
    rows.append(["Итого за период с пенями", *[""] * 12, money(s_tot + t.penalties), "", ""])
    bold = frozenset({len(rows) - 3, len(rows) - 1})
    y = table(c, MARGIN, y, _CHARGE_COLUMNS, _CHARGE_HEADER, rows, bold_rows=bold, on_new_page=on_new_page)
    y -= 5
    # Раздел 4
    y = _section_4(c, y, r, on_new_page)
    # Раздел 5
    y = _section_title(c, SECTION_TITLES[4], MARGIN, y - 4, WIDTH)
    recalcs = [
        [x.title, x.reason, x.corrected_period or "текущий", money(x.amount)] for x in r.recalculations
    ] or [["—", "перерасчётов нет", "", money(zero)]]
    y = table(
        c, MARGIN, y, (Column(110, "left"), Column(315, "left"), Column(60, "center"), Column(70)),
        (Cell(0, 0, 0, 0, "Услуга"), Cell(1, 1, 0, 0, "Основание перерасчёта"),
         Cell(2, 2, 0, 0, "За период"), Cell(3, 3, 0, 0, "Сумма, руб.")),
        recalcs, header_row_h=9, on_new_page=on_new_page,
    )  # fmt: skip
    # Раздел 6
    y = _section_title(c, SECTION_TITLES[5], MARGIN, y - 4, WIDTH)
    inst = r.instalment
    cells = (
        [money(inst.from_period_amount), money(inst.from_previous_amount), money(inst.interest_amount),
         number(inst.interest_percent), money(inst.total)]
        if inst else ["—", "—", "—", "—", "рассрочка не предоставлялась"]
    )  # fmt: skip
    table(
        c, MARGIN, y, (Column(125), Column(125), Column(90), Column(60), Column(155)),
        (Cell(0, 1, 0, 0, "Сумма к оплате с учётом рассрочки, руб."),
         Cell(0, 0, 1, 1, "от платы за расчётный период"), Cell(1, 1, 1, 1, "от платы за предыдущие периоды"),
         Cell(2, 3, 0, 0, "Проценты за рассрочку"), Cell(2, 2, 1, 1, "руб."), Cell(3, 3, 1, 1, "%"),
         Cell(4, 4, 0, 1, "Сумма к оплате с учётом процентов, руб.")),
        [cells], header_row_h=9, on_new_page=on_new_page,
    )  # fmt: skip
    c.showPage()


def _section_4(c: Canvas, y: float, r: Receipt, on_new_page: Callable[[], float]) -> float:
    y = _section_title(c, SECTION_TITLES[3], MARGIN, y, WIDTH)
    refs = [
        [x.title, x.unit, number(x.normative_individual), number(x.normative_common),
         number(x.house_meter_volume, 3) if x.house_meter_volume is not None else "—",
         number(x.volume_in_premises, 3) if x.volume_in_premises is not None else "—",
         number(x.volume_common, 3) if x.volume_common is not None else "—"]
        for x in r.references
    ] or [["—", "", "", "", "", "", ""]]  # fmt: skip
    y = table(
        c, MARGIN, y, (Column(115, "left"), Column(35, "center"), Column(80), Column(80), Column(85),
                       Column(80), Column(80)),
        (Cell(0, 0, 0, 1, "Услуга"), Cell(1, 1, 0, 1, "Ед. изм."),
         Cell(2, 3, 0, 0, "Норматив потребления"), Cell(2, 2, 1, 1, "в жилых помещениях, на чел."),
         Cell(3, 3, 1, 1, "на СОИ, на кв. м"),
         Cell(4, 6, 0, 0, "Суммарный объём коммунальных услуг в доме за период"),
         Cell(4, 4, 1, 1, "по ОДПУ"), Cell(5, 5, 1, 1, "в помещениях"), Cell(6, 6, 1, 1, "на СОИ")),
        refs, header_row_h=9, on_new_page=on_new_page,
    )  # fmt: skip
    readings = [
        [x.meter_id, x.title, "ОДПУ" if x.house else "ИПУ", x.register, number(x.previous, 3),
         number(x.current, 3), number(x.consumption, 3),
         ru_date(x.verification_due) if x.verification_due else "—"]
        for x in r.readings
    ] or [["—", "приборов учёта нет", "", "", "", "", "", ""]]  # fmt: skip
    return table(
        c, MARGIN, y - 3,
        (Column(85, "left"), Column(110, "left"), Column(35, "center"), Column(60, "center"), Column(70),
         Column(70), Column(60), Column(65, "center")),
        (Cell(0, 0, 0, 0, "Прибор учёта"), Cell(1, 1, 0, 0, "Услуга"), Cell(2, 2, 0, 0, "Тип"),
         Cell(3, 3, 0, 0, "Тариф. зона"), Cell(4, 4, 0, 0, "Предыдущие показания"),
         Cell(5, 5, 0, 0, "Текущие показания"), Cell(6, 6, 0, 0, "Расход"), Cell(7, 7, 0, 0, "Поверка до")),
        readings, header_row_h=9, on_new_page=on_new_page,
    )  # fmt: skip


def _canvas(out: BinaryIO, title: str) -> Canvas:
    register_fonts()
    c = Canvas(out, pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle(title)
    c.setAuthor("meterhub")
    c.setSubject("ЕПД по приказу Минстроя России № 43/пр")
    return c


def write_receipts(
    out: BinaryIO,
    receipts: Iterable[Receipt],
    *,
    title: str = "ЕПД",
    on_receipt: Callable[[Receipt, int], None] | None = None,
) -> int:
    """Draw ``receipts`` (one or more pages each) into ``out`` as one PDF; returns the page count.

    ``on_receipt(receipt, first_page)`` is called after each receipt is drawn. Receipts are consumed one
    at a time; reportlab keeps each finished page as a compressed stream until the file is saved, so
    memory grows by ~10 KB a page, bounded by one building's PDF.
    """
    c = _canvas(out, title)
    for receipt in receipts:
        first_page = c.getPageNumber()
        _draw_receipt(c, receipt)
        if on_receipt:
            on_receipt(receipt, first_page)
    pages = c.getPageNumber() - 1
    c.save()
    return pages


def write_debt_receipt(out: BinaryIO, d: DebtReceipt) -> None:
    """Draw a debt receipt (квитанция на оплату задолженности по состоянию на дату) into ``out``."""
    c = _canvas(out, f"Задолженность {d.payer.account_no} на {ru_date(d.as_of)}")
    y = _title(
        c,
        f"ПЛАТЁЖНЫЙ ДОКУМЕНТ НА ОПЛАТУ ЗАДОЛЖЕННОСТИ по состоянию на {ru_date(d.as_of)}",
        "за содержание и ремонт жилого помещения и коммунальные услуги (ЖК РФ ст. 155)",
        None,
    )
    left_w = 262.0
    y1 = _section_1(c, y, left_w, d.payer, d.provider, [("Дата формирования:", ru_date(d.issued_on))])
    money_lines = [
        ("Основной долг:", money(d.principal)),
        ("Пени (неустойка):", money(d.penalties)),
        ("Аванс (переплата):", money(d.advance)),
    ]
    y2 = _section_2(
        c, y, MARGIN + left_w + 8, WIDTH - left_w - 8, d.payee, d.payer, d.document_id, money_lines,
        "ИТОГО К ОПЛАТЕ:", money(d.to_pay), d.qr_payload, d.link_code,
    )  # fmt: skip
    y = min(y1, y2) - 6
    y = _section_title(c, "Задолженность по расчётным периодам", MARGIN, y, WIDTH)
    rows = [
        [f"{line.period.month:02d}.{line.period.year}", ru_date(line.due_date), money(line.principal),
         money(line.penalties), money(line.total)]
        for line in d.lines
    ] or [["—", "", money(Decimal("0.00")), money(Decimal("0.00")), money(Decimal("0.00"))]]  # fmt: skip
    rows.append(["Итого", "", money(d.principal), money(d.penalties), money(d.principal + d.penalties)])
    new_page = _new_page_top(f"ЛС {d.payer.account_no}, задолженность на {ru_date(d.as_of)}")
    y = table(
        c, MARGIN, y, (Column(110, "center"), Column(110, "center"), Column(110), Column(110), Column(115)),
        (Cell(0, 0, 0, 0, "Расчётный период"), Cell(1, 1, 0, 0, "Срок оплаты"),
         Cell(2, 2, 0, 0, "Основной долг, руб."), Cell(3, 3, 0, 0, "Пени, руб."),
         Cell(4, 4, 0, 0, "Всего, руб.")),
        rows, header_row_h=9, bold_rows=frozenset({len(rows) - 1}), on_new_page=lambda: new_page(c),
    )  # fmt: skip
    for note in d.notes:
        y -= LINE
        fit_text(c, note, MARGIN, y, WIDTH, 6)
    c.showPage()
    c.save()
