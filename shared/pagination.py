"""Opaque cursors for lists sorted by (instant, id): stable under inserts, unreadable to clients
by design so the sort can change without breaking them."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, tuple_

from shared.errors import Problem


def encode_cursor(at: dt.datetime, ident: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{ident}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        at, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        instant = dt.datetime.fromisoformat(at)
        if instant.tzinfo is None:
            # Every sorted column is timestamptz; a naive instant is no cursor of ours.
            raise ValueError("cursor instant without a time zone")
        return instant, uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(
            400, "bad-cursor", "Invalid cursor", "Con trỏ phân trang không hợp lệ"
        ) from exc


def after_cursor(
    instant: Any, ident: Any, cursor: tuple[dt.datetime, uuid.UUID]
) -> ColumnElement[bool]:
    """Rows past the cursor in (instant, id) order, as one row comparison an index on both
    columns answers with a single range."""
    return tuple_(instant, ident) > tuple_(*cursor)


class _Identified(Protocol):
    id: uuid.UUID


R = TypeVar("R", bound=_Identified)


def next_cursor(rows: Sequence[R], limit: int, instant: Callable[[R], dt.datetime]) -> str | None:
    """The cursor of the page's last row when the query (asked for ``limit + 1``) found more."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(instant(last), last.id)
