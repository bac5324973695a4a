"""Steps and work queues as the API shows them."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.pagination import Page
from shared.vocabulary import Timeliness


class QueueFilter(StrEnum):
    overdue = "overdue"
    due_today = "due_today"
    paused = "paused"


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seq: int
    name: str = Field(description="tên bước trong quy trình")
    agency_kind: str
    agency_code: str | None = Field(description="cơ quan xử lý bước")
    role: str
    assignee: str | None = Field(description="cán bộ được giao")
    claimed_by: str | None = Field(description="cán bộ đang xử lý")
    status: str
    share: float = Field(description="tỷ lệ thời gian giải quyết dành cho bước")
    started_at: dt.datetime
    due_at: dt.datetime = Field(description="hạn của bước")
    finished_at: dt.datetime | None
    timeliness: Timeliness | None = Field(description="early / on_time / late")
    timeliness_label_vi: str | None = None

    @classmethod
    def of(cls, step: object) -> StepOut:
        out = cls.model_validate(step)
        if out.timeliness:
            out.timeliness_label_vi = out.timeliness.label_vi
        return out


class StepQueueItem(StepOut):
    case_id: uuid.UUID
    dossier_code: str
    case_status: str


class StepPage(Page[StepQueueItem]):
    """Một trang danh sách việc, sắp theo hạn."""
