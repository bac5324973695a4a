"""Events published by workflow on ``workflow.cases.v1``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from shared.events import topics
from shared.events.base import Event


class CaseOpened(Event):
    """Mở hồ sơ xử lý: workflow took a received dossier into processing."""

    event_type = "vn.motcua.case.opened.v1"
    topic = topics.CASES
    summary = "Workflow opened a case for a received dossier."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    opened_at: dt.datetime
    due_at: dt.datetime


class CaseResolved(Event):
    """Giải quyết xong: the case ended with a result, or with a reasoned rejection after
    examination (which counts as resolved). Intake moves the dossier to "resolved" so the desk
    can return the result."""

    event_type = "vn.motcua.case.resolved.v1"
    topic = topics.CASES
    summary = "Workflow resolved a case: result issued, or rejected after examination."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    outcome: Literal["approved", "rejected"]
    reason: str | None = Field(None, description="lý do, bắt buộc khi từ chối giải quyết")
    resolved_at: dt.datetime
    due_at: dt.datetime = Field(description="hạn giải quyết của hồ sơ")
    result_digitised: bool = Field(description="kết quả được cấp bản điện tử có ký số")
