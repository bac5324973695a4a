"""Opaque cursors for lists sorted by (instant, id): stable under inserts, unreadable to clients
by design so the sort can change without breaking them."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from shared.errors import Problem


def encode_cursor(at: dt.datetime, ident: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{ident}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        at, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return dt.datetime.fromisoformat(at), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(
            400, "bad-cursor", "Invalid cursor", "Con trỏ phân trang không hợp lệ"
        ) from exc
