"""The process control sheet as JSON."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class ControlSheetRow(BaseModel):
    """Một dòng của phiếu kiểm soát quá trình giải quyết hồ sơ."""

    at: dt.datetime
    action: str
    actor: str
    role: str | None
    step: str | None
    agency_code: str | None
    agency_name: str | None = Field(None, description="tên cơ quan theo danh mục cơ quan")
    step_due_at: dt.datetime | None
    timeliness: str | None
    note: str | None
