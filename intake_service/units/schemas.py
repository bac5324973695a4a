"""API models of administrative units and agencies."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from shared.pagination import Page
from shared.vocabulary import AgencyKind


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: str
    parent_code: str | None
    path: str
    retired_at: dt.datetime | None = None


class UnitPage(Page[UnitOut]):
    """Một trang đơn vị hành chính, theo mã đơn vị."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "code": "00070",
                            "name": "Phường Hoàn Kiếm",
                            "level": "commune",
                            "parent_code": "01",
                            "path": "01.00070",
                            "retired_at": None,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )


class UnitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"code": "26734", "name": "Phường Sài Gòn", "level": "commune", "parent_code": "79"}
            ]
        },
    )

    code: str = Field(pattern=r"^\d{2,5}$", description="mã đơn vị hành chính")
    name: str = Field(min_length=2, max_length=200)
    level: str = Field(
        pattern=r"^(province|district|commune)$", description="cấp: tỉnh, huyện (trước 2025), xã"
    )
    parent_code: str | None = Field(None, pattern=r"^\d{2,5}$")


class AgencyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "vpdkdd-cn-nghiloc",
                    "name": "Chi nhánh Văn phòng Đăng ký đất đai Nghi Lộc",
                    "kind": "land_registration_office",
                    "unit_code": "40",
                }
            ]
        },
    )

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=2, max_length=300)
    kind: AgencyKind = Field(description="loại cơ quan")
    unit_code: str = Field(pattern=r"^\d{2,5}$")


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: AgencyKind = Field(description="loại cơ quan")
    unit_code: str
    retired_at: dt.datetime | None


class AgencyPage(Page[AgencyOut]):
    """Một trang cơ quan, theo mã cơ quan."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "code": "vpdkdd-01",
                            "name": "Văn phòng Đăng ký đất đai Thành phố Hà Nội",
                            "kind": "land_registration_office",
                            "unit_code": "01",
                            "retired_at": None,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )


class AgencyRename(BaseModel):
    """Tên mới của cơ quan (ví dụ khi sắp xếp lại tổ chức bộ máy)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"name": "Văn phòng Đăng ký đất đai Thành phố Hà Nội"}]},
    )

    name: str = Field(min_length=2, max_length=300, description="tên cơ quan")
