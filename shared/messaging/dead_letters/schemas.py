"""What the dead-letter routes answer."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from shared.pagination import Page


class DeadLetter(BaseModel):
    id: int
    group_id: str
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: str | None
    event_type: str | None
    error: str = Field(description="lỗi khiến sự kiện không xử lý được")
    attempts: int
    created_at: dt.datetime
    replayed_at: dt.datetime | None


class DeadLetterPage(Page[DeadLetter]):
    """Dead letters, newest first; ``next_cursor`` is the id of the page's last letter."""
