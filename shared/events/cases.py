"""Events published by workflow on ``workflow.cases.v1``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import topics
from shared.events.base import Event
from shared.vocabulary import PauseReason, Timeliness


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
    timeliness: Timeliness | None = Field(
        None, description="trước hạn, đúng hạn, trễ hạn (so với hạn giải quyết)"
    )


class StepAssigned(Event):
    """Chuyển bước: a step of the case is waiting at an agency (on opening, after a step is
    completed, sent back or transferred), with its own due instant."""

    event_type = "vn.motcua.step.assigned.v1"
    topic = topics.CASES
    summary = "A step of a case was assigned to a role in an agency, with its due instant."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    step_id: uuid.UUID
    step: str = Field(description="tên bước trong quy trình")
    agency_kind: str
    agency_code: str | None
    role: str
    assignee: str | None = Field(None, description="cán bộ được giao (nếu chỉ định)")
    via: Literal["open", "complete", "send_back", "transfer"]
    reason: str | None = None
    started_at: dt.datetime
    due_at: dt.datetime = Field(description="hạn của bước")


class StepCompleted(Event):
    """A step ended (completed, sent back, transferred or closed with the case) early, on time
    or late against its own due instant; the dossier is judged on the case's total."""

    event_type = "vn.motcua.step.completed.v1"
    topic = topics.CASES
    summary = "A step of a case ended, with how it stood against its due instant."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    unit_path: str
    step_id: uuid.UUID
    step: str
    agency_code: str | None
    outcome: Literal["done", "sent_back", "transferred", "closed"]
    finished_by: str
    finished_at: dt.datetime
    due_at: dt.datetime
    timeliness: Timeliness


class SupplementItem(BaseModel):
    """One component the applicant must supplement or correct, and why."""

    model_config = ConfigDict(frozen=True)

    component: str = Field(description="thành phần hồ sơ cần bổ sung, hoàn thiện")
    reason: str = Field(description="lý do: thiếu, sai, không hợp lệ")


class CasePaused(Event):
    """Tạm dừng tính thời gian: a supplement or a financial obligation was requested. Intake
    shows the dossier as awaiting the applicant (the supplement's items, or what is owed);
    payment raises the obligation's request."""

    event_type = "vn.motcua.case.paused.v1"
    topic = topics.CASES
    summary = "A case's clock stopped for a supplement or a financial obligation."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    reason: PauseReason
    detail: str = Field(description="nội dung yêu cầu bổ sung hoặc nghĩa vụ tài chính")
    amount_vnd: int | None = Field(None, ge=0, description="số tiền nghĩa vụ tài chính")
    paused_at: dt.datetime
    items: list[SupplementItem] = Field(
        default_factory=list, description="các thành phần cần bổ sung, hoàn thiện (bổ sung)"
    )
    requested_by: str | None = Field(None, description="cán bộ yêu cầu")
    step: str | None = Field(None, description="bước đang xử lý khi tạm dừng")
    agency_code: str | None = Field(None, description="cơ quan yêu cầu")


class CaseResumed(Event):
    """The clock runs again; the due instants moved by the paused working time."""

    event_type = "vn.motcua.case.resumed.v1"
    topic = topics.CASES
    summary = "A paused case resumed; its due instants moved by the paused office time."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    unit_path: str
    resumed_at: dt.datetime
    paused_for_seconds: float
    due_at: dt.datetime = Field(description="hạn giải quyết mới của hồ sơ")


class StepOverdue(Event):
    """Bước quá hạn: fired by the durable timer at the step's due instant; the supervisor of
    the agency is told."""

    event_type = "vn.motcua.step.overdue.v1"
    topic = topics.CASES
    summary = "A step passed its due instant without being finished."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    step_id: uuid.UUID
    step: str
    agency_code: str | None
    claimed_by: str | None
    due_at: dt.datetime
    fired_at: dt.datetime


class CaseOverdue(Event):
    """Hồ sơ quá hạn: the case passed its appointment without a result."""

    event_type = "vn.motcua.case.overdue.v1"
    topic = topics.CASES
    summary = "A case passed its due instant without being resolved."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    due_at: dt.datetime
    fired_at: dt.datetime


class CaseApologised(Event):
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả: the agency apologised for a case that is or will
    be late and named a new appointment. The dossier still counts as late against ``due_at``."""

    event_type = "vn.motcua.case.apologised.v1"
    topic = topics.CASES
    summary = "An apology slip with a new appointment was issued for a late case."

    case_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    apology_id: uuid.UUID
    agency_code: str | None = Field(description="cơ quan xin lỗi")
    reason: str = Field(description="lý do chậm trễ")
    due_at: dt.datetime = Field(description="thời gian hẹn trả kết quả ban đầu, không đổi")
    new_appointment_at: dt.datetime = Field(description="thời gian hẹn trả kết quả mới")
    overdue: bool = Field(description="hồ sơ đã quá hạn khi lập phiếu")
    issued_by: str
    issued_at: dt.datetime
