"""Drawing the payees of a receipt with several payees (получатели платежей): per payee its name, bank
details, the services it is paid for, its part of «итого к оплате» and its own ГОСТ Р 56042 QR code.
Called by :mod:`.pdf` after Раздел 2's table; a receipt with one payee draws nothing here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab.pdfgen.canvas import Canvas

from meterhub.billing.receipts.drawing import BOLD, draw_qr, fit_text
from meterhub.billing.receipts.labels import money, service_title
from meterhub.billing.receipts.model import PayeePart

__all__ = ["draw_payee_parts"]

QR = 92.0
GAP = 8.0
TITLE = "Получатели платежей: каждый QR-код — оплата своему получателю (приказ Минстроя № 43/пр, раздел 2)"


def _height(lines: int) -> float:
    return max(QR, lines * 7.2) + 14


def draw_payee_parts(
    c: Canvas, parts: Sequence[PayeePart], x: float, y: float, width: float, on_new_page: Callable[[], float],
    bottom: float,
) -> float:  # fmt: skip
    """Draw ``parts`` two per row from ``y`` down; returns the ``y`` below them."""
    if not parts:
        return y
    if y - 10 - _height(8) < bottom:
        c.showPage()
        y = on_new_page()
    fit_text(c, TITLE, x, y - 7.5, width, 7.2, font=BOLD)
    y -= 12
    column = (width - GAP) / 2
    for start in range(0, len(parts), 2):
        row = parts[start : start + 2]
        if y - _height(8) < bottom:
            c.showPage()
            y = on_new_page()
        for i, part in enumerate(row):
            left = x + i * (column + GAP)
            p = part.payee
            services = ", ".join(service_title(s) for s in part.services) or "аванс"
            to_pay = money(part.amount) if part.amount >= 0 else f"0,00 (переплата {money(-part.amount)})"
            lines = [
                (BOLD, p.name + (" (исполнитель)" if part.own else "")),
                (None, f"ИНН {p.inn or '—'}  КПП {p.kpp or '—'}"),
                (None, f"р/с {p.personal_account}"),
                (None, f"{p.bank_name}, БИК {p.bic}"),
                (None, f"к/с {p.correspondent_account}"),
                (None, f"Услуги: {services}"),
                (BOLD, f"К оплате: {to_pay} руб."),
            ]
            text_w = column - QR - 4
            ty = y
            for font, text in lines:
                ty -= 7.2
                fit_text(c, text, left, ty, text_w, 6.2, **({"font": font} if font else {}))
            if part.own:  # its QR code is Раздел 2's
                fit_text(c, "QR-код — в разделе 2", left + column - QR, y - QR / 2, QR, 6.2, align="center")
            else:
                draw_qr(c, part.qr_payload, left + column - QR, y - QR, QR)
        y -= _height(len(lines))
    return y
