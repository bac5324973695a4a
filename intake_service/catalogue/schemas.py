"""API models of the catalogue: a procedure as ops send it, as a version reads, as a list row."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.bounds import MAX_AMOUNT_VND
from shared.pagination import Page
from shared.routes import InvalidRoute, RouteTemplate

OnlineKind = Literal["full", "partial", "none"]


class Processing(BaseModel):
    model_config = ConfigDict(extra="allow")

    working_days: float = Field(ge=0, le=365, description="thời hạn giải quyết (ngày làm việc)")
    working_hours: float | None = Field(None, ge=0, le=2000, description="thời hạn tính theo giờ")
    same_day: bool = False
    same_day_cutoff: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")


# The largest single fee the catalogue accepts: far above any phí or lệ phí in force (about
# 200 billion đồng), while all of a procedure's fees together still fit the largest amount a
# payment takes and the BIGINT a dossier's fee is kept in (a fee of 10^30 once made every later
# submission of its procedure fail).
MAX_FEES = 50
MAX_FEE_VND = MAX_AMOUNT_VND // MAX_FEES


class Fee(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=300)
    amount_vnd: int | None = Field(None, ge=0, le=MAX_FEE_VND)
    online_amount_vnd: int | None = Field(None, ge=0, le=MAX_FEE_VND)


class ProcedureIn(BaseModel):
    """Một thủ tục hành chính trong danh mục."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "dang-ky-tam-tru",
                    "code": "1.004194",
                    "name": "Đăng ký tạm trú",
                    "name_en": "Temporary residence registration",
                    "field": "Đăng ký, quản lý cư trú",
                    "level": "commune",
                    "online": "full",
                    "processing": {"working_days": 3},
                    "fees": [
                        {
                            "name": "Lệ phí đăng ký tạm trú",
                            "amount_vnd": 15000,
                            "online_amount_vnd": 7000,
                        }
                    ],
                    "components": [
                        "Tờ khai thay đổi thông tin cư trú",
                        "Giấy tờ chứng minh chỗ ở hợp pháp",
                    ],
                    "result": "Cập nhật Cơ sở dữ liệu về cư trú",
                }
            ]
        },
    )

    key: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,126}$", description="mã định danh ổn định trong hệ thống"
    )
    code: str | None = Field(
        None, pattern=r"^\d\.\d{6}$", description="mã TTHC quốc gia, ví dụ 1.004194"
    )
    name: str = Field(min_length=3, max_length=500)
    name_en: str | None = Field(None, max_length=500)
    field: str = Field(min_length=1, max_length=200, description="lĩnh vực")
    level: str = Field(min_length=1, max_length=32, description="cấp giải quyết")
    online: OnlineKind = Field(description="dịch vụ công trực tuyến: toàn trình, một phần, không")
    processing: Processing
    fees: list[Fee] = Field(default_factory=list, max_length=MAX_FEES)
    components: list[str] = Field(
        default_factory=list, max_length=100, description="thành phần hồ sơ"
    )
    result: str | None = Field(None, max_length=500, description="kết quả giải quyết")
    route: list[dict[str, Any]] | None = Field(None, description="quy trình liên thông (các bước)")
    members: list[str] | None = None
    source: str | None = Field(None, max_length=500, description="căn cứ pháp lý")

    @field_validator("route")
    @classmethod
    def _route_is_followable(
        cls, route: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]] | None:
        if route is None:
            return None
        try:
            return RouteTemplate.from_dicts("check", 1, route).to_dicts()
        except InvalidRoute as exc:
            raise ValueError(f"route: {exc}") from exc


class ProcedureDetail(BaseModel):
    key: str
    version: int
    data: dict[str, Any]
    created_by: str | None
    created_at: dt.datetime


class ProcedureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    code: str | None
    name: str
    field: str
    level: str
    online: str
    processing_working_days: float
    version: int
    retired_at: dt.datetime | None = Field(None, description="ngừng áp dụng từ")


class ProcedurePage(Page[ProcedureOut]):
    """Một trang của danh mục thủ tục, theo mã thủ tục."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "key": "dang-ky-tam-tru",
                            "code": "1.004194",
                            "name": "Đăng ký tạm trú",
                            "field": "Đăng ký, quản lý cư trú",
                            "level": "commune",
                            "online": "full",
                            "processing_working_days": 3,
                            "version": 1,
                            "retired_at": None,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )
