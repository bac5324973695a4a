"""Bodies and answers of the apologies API."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import BoundedAwareDatetime
from workflow_service.domain.apologies import ApologySlip

SLIP_EXAMPLE = {
    "kind": "apology",
    "title_vi": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    "id": "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5",
    "case_id": "0b6a2c1d-3e4f-4a5b-9c6d-7e8f9a0b1c2d",
    "dossier_code": "00070-260305-0001",
    "procedure_code": "1.004227",
    "unit_code": "00070",
    "agency_code": "vpdkdd-01",
    "agency_label_vi": "Văn phòng đăng ký đất đai (01)",
    "original_appointment_at": "2026-03-19T17:00:00+07:00",
    "new_appointment_at": "2026-03-26T17:00:00+07:00",
    "reason": "Chờ kết quả đo đạc lại ranh giới thửa đất số 125, tờ bản đồ số 8",
    "officer": "cb.vpdkdd.01",
    "issued_at": "2026-03-18T10:15:00+07:00",
    "lateness": "will_be_late",
    "lateness_label_vi": "Dự kiến trễ hạn hẹn trả kết quả",
}


class ApologyBody(BaseModel):
    """Nội dung phiếu xin lỗi: lý do chậm trễ và thời gian hẹn trả kết quả mới."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "Chờ kết quả đo đạc lại ranh giới thửa đất số 125, tờ bản đồ số 8",
                    "new_appointment_at": "2026-03-26T17:00:00+07:00",
                }
            ]
        },
    )

    reason: str = Field(max_length=2000, description="lý do chậm trễ")
    new_appointment_at: BoundedAwareDatetime = Field(
        description="thời gian hẹn trả kết quả mới: sau thời gian hẹn hiện tại, vào ngày làm việc"
    )


class ApologyList(BaseModel):
    case_id: uuid.UUID
    original_appointment_at: dt.datetime = Field(
        description="thời gian hẹn trả kết quả ban đầu; hồ sơ được đánh giá theo mốc này"
    )
    latest_new_appointment_at: dt.datetime | None = Field(
        description="thời gian hẹn mới của phiếu xin lỗi gần nhất (nếu có)"
    )
    items: list[ApologySlip] = Field(description="các phiếu xin lỗi, cũ trước mới sau")
