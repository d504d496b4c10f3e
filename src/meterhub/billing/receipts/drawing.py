"""Drawing primitives for the receipt PDF on a reportlab canvas: fonts, text that fits, ruled tables, QR.

reportlab's canvas is used directly (no flowables): a receipt is a fixed form, absolute positions are
simpler and several times faster than a layout engine. The font is DejaVu Sans Condensed (bundled in
``fonts/``, Bitstream Vera licence with public-domain DejaVu changes — ``fonts/LICENSE-DejaVu.txt``):
complete Cyrillic, narrow enough for the 16 columns of Раздел 3 on portrait A4. reportlab embeds a subset
with a ToUnicode map, so text extracted from the PDF is the Russian text that was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import segno
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = [
    "BOLD",
    "REGULAR",
    "Cell",
    "Column",
    "draw_qr",
    "fit_text",
    "qr_rectangles",
    "register_fonts",
    "table",
]

REGULAR = "MeterhubSans"
BOLD = "MeterhubSans-Bold"
_FONT_FILES = {REGULAR: "DejaVuSansCondensed.ttf", BOLD: "DejaVuSansCondensed-Bold.ttf"}
MIN_FONT_SIZE = 3.5


@cache
def register_fonts() -> None:
    """Register the bundled fonts with reportlab once per process."""
    fonts = resources.files("meterhub.billing.receipts").joinpath("fonts")
    for name, file in _FONT_FILES.items():
        with resources.as_file(fonts.joinpath(file)) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))


def fit_text(
    c: Canvas, text: str, x: float, y: float, width: float, size: float, *, font: str = REGULAR,
    align: str = "left",
) -> None:  # fmt: skip
    """Draw ``text`` in a box of ``width`` at baseline ``y``, shrinking the font (not below 3.5 pt) to fit."""
    if not text:
        return
    w = pdfmetrics.stringWidth(text, font, size)
    if w > width:
        size = max(MIN_FONT_SIZE, size * width / w)
        w = pdfmetrics.stringWidth(text, font, size)
    c.setFont(font, size)
    if align == "right":
        c.drawString(x + width - w, y, text)
    elif align == "center":
        c.drawString(x + (width - w) / 2, y, text)
    else:
        c.drawString(x, y, text)


@dataclass(frozen=True, slots=True)
class Column:
    width: float
    align: str = "right"


@dataclass(frozen=True, slots=True)
class Cell:
    """A header cell over columns ``c0..c1`` and header rows ``r0..r1`` (inclusive); ``\\n`` breaks lines."""

    c0: int
    c1: int
    r0: int
    r1: int
    text: str


PAD = 1.5


def _header(
    c: Canvas, x: float, y: float, columns: Sequence[Column], cells: Sequence[Cell], row_h: float, size: float
) -> float:
    edges = [x]
    for col in columns:
        edges.append(edges[-1] + col.width)
    rows = max(cell.r1 for cell in cells) + 1
    c.setFillGray(0.92)
    c.rect(x, y - rows * row_h, edges[-1] - x, rows * row_h, stroke=0, fill=1)
    c.setFillGray(0)
    for cell in cells:
        left, right = edges[cell.c0], edges[cell.c1 + 1]
        top, bottom = y - cell.r0 * row_h, y - (cell.r1 + 1) * row_h
        c.rect(left, bottom, right - left, top - bottom, stroke=1, fill=0)
        lines = cell.text.split("\n")
        line_h = size * 1.15
        base = (top + bottom) / 2 + (len(lines) * line_h) / 2 - size
        for i, line in enumerate(lines):
            fit_text(c, line, left + PAD, base - i * line_h, right - left - 2 * PAD, size, align="center")
    return y - rows * row_h


def table(
    c: Canvas,
    x: float,
    y: float,
    columns: Sequence[Column],
    header: Sequence[Cell],
    rows: Sequence[Sequence[str]],
    *,
    header_row_h: float = 12,
    row_h: float = 9,
    size: float = 6,
    header_size: float = 5.2,
    bold_rows: frozenset[int] = frozenset(),
    bottom: float = 28,
    on_new_page: object = None,
) -> float:
    """Draw a ruled table with a (possibly two-level) header; returns the ``y`` below it.

    When the next row would go below ``bottom`` the page is ended, ``on_new_page()`` (a callable returning
    the new top ``y``) is called and the header is drawn again.
    """
    c.setLineWidth(0.4)
    y = _header(c, x, y, columns, header, header_row_h, header_size)
    width = sum(col.width for col in columns)
    for index, row in enumerate(rows):
        if y - row_h < bottom and callable(on_new_page):
            c.showPage()
            c.setLineWidth(0.4)
            y = _header(c, x, on_new_page(), columns, header, header_row_h, header_size)
        c.rect(x, y - row_h, width, row_h, stroke=1, fill=0)
        left = x
        font = BOLD if index in bold_rows else REGULAR
        for col, text in zip(columns, row, strict=True):
            c.line(left, y, left, y - row_h)
            fit_text(
                c, text, left + PAD, y - row_h + 2.4, col.width - 2 * PAD, size, font=font, align=col.align
            )
            left += col.width
        y -= row_h
    return y


def qr_rectangles(matrix: Sequence[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """Dark modules of a QR matrix as few rectangles ``(column, row, width, height)`` [modules].

    Runs of dark modules in a row; a run repeated in the next rows at the same columns grows taller
    instead of starting a new rectangle. Every dark module is covered exactly once.
    """
    done: list[tuple[int, int, int, int]] = []
    open_: dict[tuple[int, int], tuple[int, int]] = {}  # (start, end) → (first row, height)
    for r, row in enumerate(matrix):
        runs: set[tuple[int, int]] = set()
        n, col = len(row), 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                runs.add((start, col))
            else:
                col += 1
        for run in list(open_):
            if run not in runs:
                first, height = open_.pop(run)
                done.append((run[0], first, run[1] - run[0], height))
        for run in runs:
            first, height = open_.get(run, (r, 0))
            open_[run] = (first, height + 1)
    done.extend((run[0], first, run[1] - run[0], height) for run, (first, height) in open_.items())
    return done


def draw_qr(c: Canvas, payload: bytes, x: float, y: float, size: float) -> None:
    """The payment QR code of ``payload`` as vector modules in a ``size`` square (bottom-left ``x, y``).

    Same symbol as :func:`meterhub.billing.money.payment_qr.render_payment_qr_png`: segno, byte mode,
    error-correction level M (not boosted), a 4-module quiet zone left white inside the square. Vector
    modules stay sharp at any print resolution; they are one path of rectangles in module units (the
    coordinate system is scaled to one module), so the content stream holds small integers.
    """
    matrix = segno.make_qr(payload, error="m", mode="byte", boost_error=False).matrix
    n = len(matrix)
    module = size / (n + 8)
    c.saveState()
    c.translate(x + 4 * module, y + size - 4 * module)
    c.scale(module, -module)  # x right, y down, one unit = one module
    path = c.beginPath()
    for col, row, width, height in qr_rectangles(matrix):
        path.rect(col, row, width, height)
    c.setFillGray(0)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()
