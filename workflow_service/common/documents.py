"""Printable documents of a case (apology slips, the control sheet): JSON unless asked for PDF."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import Header, Query, Response

from shared.pdf import OfficialDocument, render_pdf

PDF = "application/pdf"
FormatQuery = Annotated[
    Literal["json", "pdf"] | None,
    Query(description="json (mặc định) hoặc pdf; ưu tiên hơn tiêu đề Accept"),
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]

PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "phiếu (JSON) hoặc bản in (PDF)",
        "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def wants_pdf(format: str | None, accept: str | None) -> bool:
    """``?format=`` decides when given; otherwise the Accept header."""
    if format is not None:
        return format == "pdf"
    return accept is not None and PDF in accept.lower()


def pdf_response(document: OfficialDocument, filename: str) -> Response:
    content = render_pdf(document)
    return Response(
        content,
        media_type=PDF,
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            # The same document renders to the same bytes, so the hash is a stable validator.
            "ETag": f'"{hashlib.sha256(content).hexdigest()[:32]}"',
            "Vary": "Accept",
        },
    )
