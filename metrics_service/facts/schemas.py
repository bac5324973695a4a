"""What the facts API answers."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from shared.vocabulary import Channel, Timeliness


class FactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dossier_id: uuid.UUID
    dossier_code: str | None
    unit_code: str | None
    procedure_code: str | None
    channel: Channel | None
    received_at: dt.datetime | None = Field(description="thời điểm tiếp nhận")
    case_opened_at: dt.datetime | None = Field(description="thời điểm mở hồ sơ xử lý")
    fee_requested_at: dt.datetime | None = Field(description="thời điểm yêu cầu nộp phí")
    input_digitised_at: dt.datetime | None = Field(description="thời điểm số hóa đủ thành phần")
    resolved_at: dt.datetime | None = Field(description="thời điểm giải quyết")
    resolution_outcome: str | None = Field(description="approved / rejected")
    timeliness: Timeliness | None = Field(description="early / on_time / late")
    result_digitised: bool | None = Field(description="kết quả điện tử có ký số")
    fee_paid_online_at: dt.datetime | None = Field(description="thời điểm nộp phí trực tuyến")
    rated_at: dt.datetime | None = Field(description="thời điểm được đánh giá lần đầu")
    satisfied: bool | None = Field(description="hài lòng trên mọi kênh đánh giá")
    withdrawn_at: dt.datetime | None = Field(description="thời điểm rút hồ sơ")
