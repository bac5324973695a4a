"""Drawing an :class:`OfficialDocument` on A4 with fpdf2."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

from shared.pdf import fonts
from shared.pdf.document import (
    NATIONAL_MOTTO,
    NATIONAL_NAME,
    Block,
    Field,
    NumberedList,
    OfficialDocument,
    Paragraph,
    QrCode,
    Signatures,
    Table,
    vietnamese_date,
)
from shared.pdf.qr import qr_png

# Margins of Decree 30/2020 (left 30–35 mm for binding, right 15–20, top/bottom 20–25).
LEFT, RIGHT, TOP, BOTTOM = 30.0, 15.0, 20.0, 20.0
BODY_SIZE = 12
LINE = 6.5
ISSUER_WIDTH = 70.0
QR_SIZE = 28.0
# Dates on a document are the issuing office's calendar dates.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        for style in fonts.STYLES:
            self.add_font(fonts.FAMILY, style, fonts.font_file(style))
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.set_font(fonts.FAMILY, "", BODY_SIZE)
        self.alias_nb_pages()

    def footer(self) -> None:
        if self.pages_count > 1:
            self.set_y(-12)
            self.set_font(fonts.FAMILY, "I", 9)
            self.cell(0, 5, f"Trang {self.page_no()}/{{nb}}", align="C")

    def text_width(self) -> float:
        return self.w - self.l_margin - self.r_margin


def _header(pdf: _Pdf, doc: OfficialDocument) -> None:
    top = pdf.get_y()
    right_x = LEFT + ISSUER_WIDTH
    right_w = pdf.text_width() - ISSUER_WIDTH

    # The issuing body: the superior body plain, the issuing body bold, a short rule under it.
    pdf.set_xy(LEFT, top)
    for i, line in enumerate(doc.issuer):
        last = i == len(doc.issuer) - 1
        pdf.set_font(fonts.FAMILY, "B" if last else "", 11)
        pdf.multi_cell(ISSUER_WIDTH, 5.5, line, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.line(
        LEFT + ISSUER_WIDTH / 2 - 12,
        left_bottom + 1.5,
        LEFT + ISSUER_WIDTH / 2 + 12,
        left_bottom + 1.5,
    )

    pdf.set_xy(right_x, top)
    pdf.set_font(fonts.FAMILY, "B", 11)
    pdf.cell(right_w, 5.5, NATIONAL_NAME, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(fonts.FAMILY, "B", 12)
    pdf.cell(right_w, 6, NATIONAL_MOTTO, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    motto = pdf.get_string_width(NATIONAL_MOTTO)
    centre = right_x + right_w / 2
    pdf.line(centre - motto / 2, pdf.get_y() + 0.5, centre + motto / 2, pdf.get_y() + 0.5)
    right_bottom = pdf.get_y()

    row = max(left_bottom, right_bottom) + 3
    pdf.set_xy(LEFT, row)
    pdf.set_font(fonts.FAMILY, "", BODY_SIZE)
    if doc.number:
        pdf.cell(ISSUER_WIDTH, LINE, f"Số: {doc.number}", align="C")
    pdf.set_xy(right_x, row)
    pdf.set_font(fonts.FAMILY, "I", BODY_SIZE)
    day = (
        doc.issued_at.astimezone(LOCAL_TZ).date() if doc.issued_at.tzinfo else doc.issued_at.date()
    )
    pdf.cell(right_w, LINE, vietnamese_date(day, doc.place), align="C")
    pdf.set_xy(LEFT, row + LINE + 6)


def _title(pdf: _Pdf, doc: OfficialDocument) -> None:
    pdf.set_font(fonts.FAMILY, "B", 14)
    pdf.multi_cell(0, 7, doc.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.subtitle:
        pdf.set_font(fonts.FAMILY, "I", BODY_SIZE)
        pdf.multi_cell(0, LINE, doc.subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _paragraph(pdf: _Pdf, p: Paragraph) -> None:
    style = ("B" if p.bold else "") + ("I" if p.italic else "")
    pdf.set_font(fonts.FAMILY, style, BODY_SIZE)
    pdf.multi_cell(0, LINE, p.text, align=p.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _field(pdf: _Pdf, f: Field) -> None:
    # ``write`` flows the value after the bold label and wraps it at the right margin.
    pdf.set_x(LEFT)
    pdf.set_font(fonts.FAMILY, "B", BODY_SIZE)
    pdf.write(LINE, f"{f.label}: ")
    pdf.set_font(fonts.FAMILY, "", BODY_SIZE)
    pdf.write(LINE, f.value)
    pdf.ln(LINE)


def _numbered(pdf: _Pdf, n: NumberedList) -> None:
    if n.title:
        _paragraph(pdf, Paragraph(n.title, bold=True, align="L"))
    pdf.set_font(fonts.FAMILY, "", BODY_SIZE)
    indent = 8.0
    for i, item in enumerate(n.items, start=1):
        pdf.set_x(LEFT)
        pdf.cell(indent, LINE, f"{i}.")
        pdf.multi_cell(0, LINE, item, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(pdf: _Pdf, t: Table) -> None:
    if t.title:
        _paragraph(pdf, Paragraph(t.title, bold=True, align="L"))
    pdf.set_font(fonts.FAMILY, "", 11)
    widths = t.widths or tuple(1.0 for _ in t.headers)
    with pdf.table(
        col_widths=widths,
        # fpdf2 centres tables on the page; documents align them to the text's left margin.
        align="LEFT",
        line_height=5.5,
        text_align="LEFT",
        headings_style=FontFace(family=fonts.FAMILY, emphasis="BOLD"),
        first_row_as_headings=True,
        padding=1.2,
    ) as table:
        header = table.row()
        for h in t.headers:
            header.cell(h, align="C")
        for values in t.rows:
            row = table.row()
            for v in values:
                row.cell(v)
    pdf.set_font(fonts.FAMILY, "", BODY_SIZE)
    pdf.ln(3)


def _signatures(pdf: _Pdf, s: Signatures) -> None:
    pdf.ln(4)
    # Keep a signature block whole on one page.
    if pdf.get_y() + 40 > pdf.h - BOTTOM:
        pdf.add_page()
    top = pdf.get_y()
    width = pdf.text_width() / max(len(s.blocks), 1)
    bottom = top
    for i, block in enumerate(s.blocks):
        x = LEFT + i * width
        pdf.set_xy(x, top)
        pdf.set_font(fonts.FAMILY, "B", BODY_SIZE)
        pdf.multi_cell(width, LINE, block.title, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(fonts.FAMILY, "I", 11)
        pdf.multi_cell(width, 5.5, block.hint, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_y(pdf.get_y() + 20)
        pdf.set_x(x)
        if block.name:
            pdf.set_font(fonts.FAMILY, "B", BODY_SIZE)
            pdf.multi_cell(width, LINE, block.name, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(LEFT, bottom + 2)


def _qr(pdf: _Pdf, q: QrCode) -> None:
    if pdf.get_y() + QR_SIZE > pdf.h - BOTTOM:
        pdf.add_page()
    top = pdf.get_y() + 2
    pdf.image(io.BytesIO(qr_png(q.data)), x=LEFT, y=top, w=QR_SIZE, h=QR_SIZE)
    if q.caption:
        pdf.set_xy(LEFT + QR_SIZE + 4, top + 4)
        pdf.set_font(fonts.FAMILY, "I", 10)
        pdf.multi_cell(0, 5, q.caption, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(LEFT, top + QR_SIZE + 2)


def _block(pdf: _Pdf, block: Block) -> None:
    match block:
        case Paragraph():
            _paragraph(pdf, block)
        case Field():
            _field(pdf, block)
        case NumberedList():
            _numbered(pdf, block)
        case Table():
            _table(pdf, block)
        case Signatures():
            _signatures(pdf, block)
        case QrCode():
            _qr(pdf, block)


def render_pdf(doc: OfficialDocument) -> bytes:
    """The document as PDF bytes. The creation date is the document's own time and the file id
    derives from the content, so the same document always gives the same bytes."""
    pdf = _Pdf()
    issued = doc.issued_at if doc.issued_at.tzinfo else doc.issued_at.replace(tzinfo=dt.UTC)
    pdf.set_creation_date(issued)
    pdf.set_title(doc.title)
    pdf.set_lang("vi")
    if doc.subject:
        pdf.set_subject(doc.subject)
    if doc.author:
        pdf.set_author(doc.author)
    pdf.set_creator("Một Cửa")
    pdf.set_producer("Một Cửa")
    pdf.add_page()
    _header(pdf, doc)
    _title(pdf, doc)
    for block in doc.blocks:
        _block(pdf, block)
    return bytes(pdf.output())
