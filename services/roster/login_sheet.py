""""Printversie" (seed §4): the logins of a whole group as an A4 PDF of cards to cut out.

Per pupil one card with the name and the login of the pupil's method: the pincode in large
digits, or the picture login drawn in order with each picture's name under it. Ten cards per
page (2 x 5), dashed cut lines. Drawn with reportlab; pupils' names need more than Latin-1
(Ayşe, Łukasz), so a Unicode TrueType font (DejaVu Sans) is embedded when the machine has it.
"""
from __future__ import annotations

import io
import logging
import os
from functools import cache
from pathlib import Path

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from services.roster import pictures as pics

log = logging.getLogger(__name__)

COLUMNS, ROWS = 2, 5
CARDS_PER_PAGE = COLUMNS * ROWS
MARGIN = 12 * mm
HEADER = 16 * mm
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")
GREY = HexColor("#555555")


@cache
def fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans if found (`LOGIN_SHEET_FONT_DIR` first), else Helvetica."""
    dirs = [os.environ["LOGIN_SHEET_FONT_DIR"]] if os.environ.get("LOGIN_SHEET_FONT_DIR") else []
    for folder in [*dirs, *FONT_DIRS]:
        regular, bold = Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("LoginSans", str(regular)))
            pdfmetrics.registerFont(TTFont("LoginSans-Bold", str(bold)))
            return "LoginSans", "LoginSans-Bold"
    log.warning("DejaVu Sans not found (install fonts-dejavu-core): login sheets fall back to Helvetica, "
                "which cannot print names outside Latin-1")
    return "Helvetica", "Helvetica-Bold"


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float, smallest: float = 9) -> tuple[str, float]:
    """Shrink the font until the text fits; past the smallest size, cut it off with an ellipsis."""
    while size > smallest and canvas.stringWidth(text, font, size) > width:
        size -= 0.5
    while len(text) > 1 and canvas.stringWidth(text, font, size) > width:
        text = text[:-2] + "…"
    return text, size


def _card(canvas: Canvas, pupil: dict, group_name: str, x: float, y: float, w: float, h: float) -> None:
    regular, bold = fonts()
    canvas.saveState()
    canvas.setDash(3, 3)
    canvas.setStrokeColor(HexColor("#999999"))
    canvas.rect(x, y, w, h)
    canvas.restoreState()
    pad = 5 * mm
    name, size = _fit(canvas, pupil["display_name"], bold, 13, w - 2 * pad)
    canvas.setFont(bold, size)
    canvas.drawString(x + pad, y + h - pad - 11, name)
    canvas.setFillColor(GREY)
    canvas.setFont(regular, 8)
    canvas.drawString(x + pad, y + h - pad - 22, _fit(canvas, group_name, regular, 8, w - 2 * pad)[0])
    canvas.setFillColor(HexColor("#000000"))
    if pupil["login_method"] == "pictures":
        canvas.setFont(regular, 8)
        canvas.drawString(x + pad, y + h - pad - 36, "Jouw plaatjes, in deze volgorde:")
        size_ = 19 * mm
        gap = (w - 2 * pad - 3 * size_) / 2
        for i, name_ in enumerate(pupil["pictures"]):
            px = x + pad + i * (size_ + gap)
            pics.draw(canvas, name_, px, y + 8 * mm, size_)
            canvas.setFont(regular, 8)
            canvas.drawCentredString(px + size_ / 2, y + 4 * mm, f"{i + 1}. {pics.BY_NAME[name_].label}")
    else:
        canvas.setFont(regular, 9)
        canvas.drawString(x + pad, y + h - pad - 38, "Pincode:")
        code = canvas.beginText(x + pad, y + 9 * mm)
        code.setFont(bold, 30)
        code.setCharSpace(12)  # spaced for a child's eye, yet one word when the text is read back
        code.textOut(pupil["pincode"])
        canvas.drawText(code)


def render(logins: dict, school_name: str | None) -> bytes:
    """The PDF of `logins` (the answer of group_logins) as bytes."""
    regular, bold = fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    title = f"Inloggegevens {logins['group_name']}"
    canvas.setTitle(title)
    canvas.setAuthor("koppel")
    page_w, page_h = A4
    card_w = (page_w - 2 * MARGIN) / COLUMNS
    card_h = (page_h - 2 * MARGIN - HEADER) / ROWS
    pupils = logins["pupils"]
    pages = max(1, -(-len(pupils) // CARDS_PER_PAGE))
    for page in range(pages):
        canvas.setFont(bold, 14)
        canvas.drawString(MARGIN, page_h - MARGIN - 12, title)
        canvas.setFont(regular, 9)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, page_h - MARGIN - 26,
                          f"{school_name or ''}  ·  Printversie: knip de kaartjes los langs de stippellijnen")
        canvas.drawRightString(page_w - MARGIN, page_h - MARGIN - 12, f"Pagina {page + 1} van {pages}")
        canvas.setFillColor(HexColor("#000000"))
        on_page = pupils[page * CARDS_PER_PAGE:(page + 1) * CARDS_PER_PAGE]
        if not on_page:
            canvas.setFont(regular, 11)
            canvas.drawString(MARGIN, page_h - MARGIN - HEADER - 20, "Deze groep heeft geen leerlingen.")
        for i, pupil in enumerate(on_page):
            col, row = i % COLUMNS, i // COLUMNS
            _card(canvas, pupil, logins["group_name"], MARGIN + col * card_w,
                  page_h - MARGIN - HEADER - (row + 1) * card_h, card_w, card_h)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
