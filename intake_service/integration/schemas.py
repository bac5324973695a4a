"""Bodies of the integration API (LGSP/NGSP, post offices)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class ChangeOut(BaseModel):
    """Một thay đổi trạng thái hồ sơ."""

    dossier_id: uuid.UUID
    dossier_code: str = Field(description="mã hồ sơ")
    source_system: str | None = Field(description="hệ thống gửi hồ sơ")
    external_id: str | None = Field(description="mã hồ sơ ở hệ thống gửi")
    unit_code: str = Field(description="mã đơn vị tiếp nhận")
    action: str = Field(description="hành động", examples=["receive"])
    from_status: str | None = Field(description="trạng thái trước")
    status: str = Field(description="trạng thái mới (mã của hệ thống)", examples=["received"])
    status_label_vi: str = Field(examples=["Đã tiếp nhận"])
    national_status_code: int | None = Field(
        description="mã trạng thái đồng bộ Cổng Dịch vụ công quốc gia", examples=[2]
    )
    national_status_name: str | None = Field(examples=["Được tiếp nhận"])
    at: dt.datetime = Field(description="thời điểm")


class ChangePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "dossier_id": "0b6f5d9e-4a51-4c1e-9d3a-8f5b2c7e1a90",
                            "dossier_code": "000.70.01.H01-250115-0001",
                            "source_system": "lgsp-hanoi",
                            "external_id": "HN-2025-000123",
                            "unit_code": "00070",
                            "action": "receive",
                            "from_status": "submitted",
                            "status": "received",
                            "status_label_vi": "Đã tiếp nhận",
                            "national_status_code": 2,
                            "national_status_name": "Được tiếp nhận",
                            "at": "2025-01-15T08:32:10+07:00",
                        }
                    ],
                    "next_cursor": "eyJ2IjoxLCJhIjo0Mn0",
                    "has_more": False,
                }
            ]
        }
    )

    items: list[ChangeOut]
    next_cursor: str = Field(description="con trỏ để đọc tiếp (luôn có; gửi lại ở lần sau)")
    has_more: bool = Field(description="còn thay đổi chưa đọc ngay lúc này")
