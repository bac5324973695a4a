"""Request and response bodies of the lifecycle routes."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from intake_service.domain.lifecycle import Phase
from intake_service.dossiers.schemas import SupplementItem


class SupplementRequestBody(BaseModel):
    """Yêu cầu bổ sung: liệt kê đầy đủ, một lần, mọi thành phần thiếu hoặc sai."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "component": "Giấy tờ chứng minh chỗ ở hợp pháp",
                            "reason": "Bản chụp không rõ",
                        },
                        {
                            "component": "Tờ khai thay đổi thông tin cư trú",
                            "reason": "Thiếu chữ ký chủ hộ",
                        },
                    ],
                    "note": "Bổ sung trong 10 ngày làm việc",
                }
            ]
        },
    )

    items: list[SupplementItem] = Field(min_length=1, max_length=50)
    note: str | None = Field(None, max_length=1000)


class ReasonBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "Thủ tục không thuộc thẩm quyền giải quyết của UBND phường"}]
        },
    )

    reason: str = Field(min_length=3, max_length=1000, description="lý do")


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=1000, description="ghi chú")


class SupplementBody(BaseModel):
    """Bổ sung hồ sơ: giấy tờ bổ sung (đã đính kèm vào hồ sơ qua ``POST …/documents``) và
    nội dung giải trình."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "note": "Đã bổ sung bản vẽ sơ đồ thửa đất có xác nhận của UBND phường",
                    "document_ids": ["5b0e7a3c-2f4d-4c1a-9e8b-7d6c5b4a3f21"],
                }
            ]
        },
    )

    note: str | None = Field(None, max_length=1000, description="nội dung bổ sung, giải trình")
    document_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="giấy tờ bổ sung, đã đính kèm vào hồ sơ",
    )


class TransitionOut(BaseModel):
    source: str
    action: str
    action_label_vi: str
    target: str
    roles: list[str]
    phase: Phase = Field(
        Phase.any,
        description="reception: hồ sơ chưa tiếp nhận; processing: hồ sơ đang giải quyết; "
        "vai trò workflow: sự kiện của hệ thống xử lý (tạm dừng, tiếp tục)",
    )
