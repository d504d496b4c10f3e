"""Rendering a :class:`FormDocument` to an A4 PDF with reportlab and the project's bundled DejaVu fonts.

The fonts are the files bundled for receipts (``meterhub/billing/receipts/fonts``, read as package data,
no billing code is imported): complete Cyrillic, and reportlab embeds a subset with a ToUnicode map, so
the text read back from the PDF is the text drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from importlib import resources

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from meterhub.registry.forms.document import Field, FormDocument, FormTable

__all__ = ["render_form_pdf"]

REGULAR = "RegistrySans"
BOLD = "RegistrySans-Bold"
_FONTS = {REGULAR: "DejaVuSansCondensed.ttf", BOLD: "DejaVuSansCondensed-Bold.ttf"}
MARGIN = 42.0
WIDTH, HEIGHT = A4


@cache
def _register_fonts() -> None:
    folder = resources.files("meterhub").joinpath("billing", "receipts", "fonts")
    for name, file in _FONTS.items():
        with resources.as_file(folder.joinpath(file)) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))


class _Page:
    def __init__(self, c: Canvas, title: str) -> None:
        self.c, self.title, self.y, self.number = c, title, HEIGHT - MARGIN, 1

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 14:
            self.c.setFont(REGULAR, 7)
            self.c.drawRightString(WIDTH - MARGIN, MARGIN - 10, f"{self.title} — лист {self.number}")
            self.c.showPage()
            self.number += 1
            self.y = HEIGHT - MARGIN

    def lines(self, text: str, font: str, size: float, width: float, x: float = MARGIN, center: bool = False):
        for line in simpleSplit(text, font, size, width) or [""]:
            self.need(size * 1.35)
            self.c.setFont(font, size)
            if center:
                self.c.drawCentredString(x + width / 2, self.y - size, line)
            else:
                self.c.drawString(x, self.y - size, line)
            self.y -= size * 1.35


def _fields(page: _Page, fields: Sequence[Field]) -> None:
    usable = WIDTH - 2 * MARGIN
    label_w = usable * 0.38
    for f in fields:
        value_lines = simpleSplit(f.value, REGULAR, 10, usable - label_w - 6) or [""]
        label_lines = simpleSplit(f.label, REGULAR, 8, label_w - 4) or [""]
        height = max(len(value_lines) * 13, len(label_lines) * 10) + 5
        page.need(height)
        c = page.c
        c.setFont(REGULAR, 8)
        for i, line in enumerate(label_lines):
            c.drawString(MARGIN, page.y - 9 - i * 10, line)
        c.setFont(REGULAR, 10)
        for i, line in enumerate(value_lines):
            c.drawString(MARGIN + label_w + 6, page.y - 10 - i * 13, line)
        c.setLineWidth(0.3)
        c.line(MARGIN + label_w + 4, page.y - height + 2, WIDTH - MARGIN, page.y - height + 2)
        page.y -= height


def _table(page: _Page, table: FormTable) -> None:
    usable = WIDTH - 2 * MARGIN
    total = sum(table.widths)
    widths = [usable * w / total for w in table.widths]
    size = 7.0

    def row(cells: Sequence[str], font: str, shade: bool) -> None:
        wrapped = [
            simpleSplit(text, font, size, w - 4) or [""] for text, w in zip(cells, widths, strict=True)
        ]
        height = max(len(lines) for lines in wrapped) * size * 1.25 + 4
        page.need(height)
        c, x = page.c, MARGIN
        c.setLineWidth(0.4)
        for lines, w in zip(wrapped, widths, strict=True):
            if shade:
                c.setFillGray(0.92)
                c.rect(x, page.y - height, w, height, stroke=0, fill=1)
                c.setFillGray(0)
            c.rect(x, page.y - height, w, height, stroke=1, fill=0)
            c.setFont(font, size)
            for i, line in enumerate(lines):
                c.drawString(x + 2, page.y - 2 - size - i * size * 1.25, line)
            x += w
        page.y -= height

    row(table.headers, BOLD, True)
    for cells in table.rows:
        if page.y - 20 < MARGIN + 14:
            page.need(100)
            row(table.headers, BOLD, True)
        row(cells, REGULAR, False)


def render_form_pdf(doc: FormDocument) -> bytes:
    """The form as PDF bytes (A4 portrait, as many pages as the table needs)."""
    _register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle(doc.title)
    c.setAuthor("meterhub — паспортная служба")
    page = _Page(c, doc.title)
    usable = WIDTH - 2 * MARGIN
    page.lines(doc.title, BOLD, 13, usable, center=True)
    if doc.subtitle:
        page.lines(doc.subtitle, REGULAR, 8, usable, center=True)
    page.y -= 8
    _fields(page, doc.fields)
    if doc.table is not None:
        page.y -= 8
        _table(page, doc.table)
    if doc.closing:
        page.y -= 10
        _fields(page, doc.closing)
    if doc.footnote:
        page.y -= 8
        page.lines(doc.footnote, REGULAR, 7, usable)
    c.setFont(REGULAR, 7)
    c.drawRightString(WIDTH - MARGIN, MARGIN - 10, f"{doc.title} — лист {page.number}")
    c.showPage()
    c.save()
    return buffer.getvalue()
