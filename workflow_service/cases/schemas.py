"""Bodies and answers of the cases API."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import MAX_AMOUNT_VND
from shared.pagination import Page
from shared.vocabulary import Timeliness
from workflow_service.cases.errors import MissingFields
from workflow_service.domain.cases import CaseAction
from workflow_service.steps.schemas import StepOut


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str = Field(description="mã hồ sơ")
    procedure_code: str
    unit_code: str
    status: str
    opened_at: dt.datetime
    due_at: dt.datetime = Field(description="hạn giải quyết")
    version: int


class CasePage(Page[CaseOut]):
    """Một trang hồ sơ xử lý, theo thời điểm mở."""


class CaseDetail(CaseOut):
    procedure_key: str | None
    route_version: int | None
    processing_working_days: float | None = Field(
        description="thời gian làm việc từ khi tiếp nhận đến ngày hẹn (ngày), chia cho các bước"
    )
    received_at: dt.datetime | None
    paused_at: dt.datetime | None = Field(description="thời điểm tạm dừng tính thời gian")
    pause_reason: str | None
    current_step_id: uuid.UUID | None
    finished_at: dt.datetime | None
    timeliness: Timeliness | None = Field(description="kết quả: trước hạn, đúng hạn, trễ hạn")
    steps: list[StepOut] = []


class ActionRuleOut(BaseModel):
    case_status: str
    step_status: str | None
    action: str
    action_label_vi: str
    roles: list[str]
    claimant_only: bool


# Which fields each action needs; checked after the rules allowed the action, so a wrong
# state is reported before a missing field.
REQUIRED: dict[CaseAction, tuple[str, ...]] = {
    CaseAction.send_back: ("to_step", "reason"),
    CaseAction.transfer: ("agency_code", "reason"),
    CaseAction.request_supplement: ("reason",),
    CaseAction.request_financial_obligation: ("reason", "amount_vnd"),
    CaseAction.resolve: ("result",),
    CaseAction.reject: ("reason",),
}


class SupplementItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    component: str = Field(min_length=1, max_length=300, description="thành phần hồ sơ cần bổ sung")
    reason: str = Field(min_length=1, max_length=500, description="lý do: thiếu, sai, không hợp lệ")


class ActionBody(BaseModel):
    """What an action needs: the next step when the route branches, the step to send back to,
    the agency to transfer to, a reason, the amount of a financial obligation, the result."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "Thiếu bản vẽ sơ đồ thửa đất có xác nhận của UBND xã",
                    "items": [
                        {
                            "component": "Sơ đồ thửa đất",
                            "reason": "Chưa có xác nhận của UBND xã",
                        }
                    ],
                },
                {
                    "to_step": "survey_and_check",
                    "reason": "Số liệu đo đạc chưa khớp hồ sơ địa chính",
                },
                {"reason": "Thông báo nộp lệ phí trước bạ", "amount_vnd": 1250000},
                {"result": "Giấy chứng nhận quyền sử dụng đất số CS 123456 đã cập nhật biến động"},
            ]
        },
    )

    next_step: str | None = Field(None, max_length=64, description="bước tiếp theo (khi rẽ nhánh)")
    to_step: str | None = Field(None, max_length=64, description="bước trả lại")
    agency_code: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="mã cơ quan nhận chuyển (trong danh mục cơ quan)",
    )
    assignee: str | None = Field(
        None, max_length=200, description="cán bộ được giao bước tiếp theo"
    )
    reason: str | None = Field(None, min_length=3, max_length=2000, description="lý do, nội dung")
    amount_vnd: int | None = Field(
        None, ge=0, le=MAX_AMOUNT_VND, description="số tiền nghĩa vụ tài chính"
    )
    result: str | None = Field(
        None, min_length=3, max_length=2000, description="kết quả giải quyết"
    )
    items: list[SupplementItemIn] | None = Field(
        None,
        max_length=50,
        description="yêu cầu bổ sung: các thành phần cần bổ sung, hoàn thiện (phiếu yêu cầu bổ sung)",
    )

    def require_for(self, action: CaseAction) -> None:
        missing = [f for f in REQUIRED.get(action, ()) if getattr(self, f) is None]
        if missing:
            raise MissingFields(
                errors=[
                    {
                        "field": f"body.{f}",
                        "message": f"required for {action}",
                        "message_vi": "bắt buộc với thao tác này",
                    }
                    for f in missing
                ],
            )
