"""QR codes for documents, with segno: an image to print and the module matrix to check."""

from __future__ import annotations

import io

import segno


def qr_png(data: str, scale: int = 8) -> bytes:
    """A PNG of ``data`` with the standard four-module quiet zone; error correction M survives
    a crease or a smudge on a printed slip."""
    buffer = io.BytesIO()
    segno.make(data, error="m", boost_error=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_matrix(data: str) -> list[list[bool]]:
    """The dark (True) and light modules of ``data``'s symbol, without the quiet zone."""
    return [[bool(m) for m in row] for row in segno.make(data, error="m", boost_error=False).matrix]
