"""Opaque cursors for lists sorted by (sort value, id): stable under inserts, unreadable to clients
by design so the sort can change without breaking them."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, tuple_

from shared.errors import Problem, invalid_request

# ---------------------------------------------------------------------------------------------
# The one list contract: ``Page[T]`` and a keyset over (sort value, id).

T = TypeVar("T")
R2 = TypeVar("R2")
# Any select, of one entity or several (a row of a join).
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


class Page(BaseModel, Generic[T]):
    """One page of a list sorted by (sort value, id); ask again with ``cursor=next_cursor`` for
    the next page until it is null."""

    items: list[T]
    next_cursor: str | None = Field(
        None, description="con trỏ của trang sau (gửi lại trong ?cursor=); null khi đã hết"
    )


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, str | int | float) or value is None:
        return value
    raise TypeError(f"cannot page on a {type(value).__name__}")


def _decode_value(raw: Any) -> Any:
    if isinstance(raw, dict) and len(raw) == 1:
        ((kind, text),) = raw.items()
        if kind == "t":
            instant = dt.datetime.fromisoformat(text)
            if instant.tzinfo is None:
                raise ValueError("cursor instant without a time zone")
            return instant
        if kind == "d":
            return dt.date.fromisoformat(text)
        if kind == "u":
            return uuid.UUID(text)
        raise ValueError("unknown cursor value")
    if isinstance(raw, str | int | float):
        return raw
    raise ValueError("unknown cursor value")


def bad_cursor() -> Problem:
    # A wrong value of a query parameter, like any other: the one 422 naming the field. A
    # client (or a fuzzer) can send any string the schema allows; only the list can tell it is
    # not one of its cursors.
    return invalid_request(
        [
            {
                "field": "query.cursor",
                "message": "not a cursor of this list; send next_cursor back as received",
                "message_vi": "không phải con trỏ của danh sách này; gửi lại đúng next_cursor đã nhận",
            }
        ]
    )


@dataclass(frozen=True)
class Keyset:
    """A list's order as columns, ending in a unique one (the id), so a cursor names one row.

    ``apply`` narrows a query to the rows after a cursor in that order and asks for one more row
    than the page holds; ``page`` cuts the answer to the page and names the next cursor. One row
    comparison that an index on the same columns answers with a single range scan."""

    columns: tuple[Any, ...]
    descending: bool = False

    def apply(self, query: Q, cursor: str | None, limit: int) -> Q:
        if cursor:
            after = self.decode(cursor)
            left, right = tuple_(*self.columns), tuple_(*after)
            query = query.where(left < right if self.descending else left > right)
        order = [c.desc() if self.descending else c.asc() for c in self.columns]
        return query.order_by(*order).limit(limit + 1)

    def page(
        self, rows: Sequence[R2], limit: int, key: Callable[[R2], tuple[Any, ...]]
    ) -> tuple[list[R2], str | None]:
        if len(rows) <= limit:
            return list(rows), None
        return list(rows[:limit]), self.encode(key(rows[limit - 1]))

    def encode(self, values: tuple[Any, ...]) -> str:
        raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[Any, ...]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            raw = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            if not isinstance(raw, list) or len(raw) != len(self.columns):
                raise ValueError("cursor of another list")
            return tuple(_decode_value(v) for v in raw)
        except (ValueError, UnicodeDecodeError, TypeError) as exc:
            raise bad_cursor() from exc
