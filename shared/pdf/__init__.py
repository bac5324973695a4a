"""Official-looking A4 documents (slips, control sheets, result documents) as PDF.

A document is described as data (:mod:`shared.pdf.document`) and rendered by
:func:`render_pdf`; the same description always renders to the same bytes.
"""

from shared.pdf.document import (
    Block,
    Field,
    NumberedList,
    OfficialDocument,
    Paragraph,
    QrCode,
    SignatureBlock,
    Signatures,
    Table,
    vietnamese_date,
)
from shared.pdf.qr import qr_matrix, qr_png
from shared.pdf.render import render_pdf

__all__ = [
    "Block",
    "Field",
    "NumberedList",
    "OfficialDocument",
    "Paragraph",
    "QrCode",
    "SignatureBlock",
    "Signatures",
    "Table",
    "qr_matrix",
    "qr_png",
    "render_pdf",
    "vietnamese_date",
]
