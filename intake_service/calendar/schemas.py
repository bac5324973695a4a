"""API models of the working-day calendar and the deadline answer."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from shared.calendar import DayKind

KIND_LABELS_VI = {
    DayKind.HOLIDAY: "ngày lễ",
    DayKind.COMPENSATORY_DAY_OFF: "ngày nghỉ bù",
    DayKind.WORKING_DAY: "ngày làm việc bù",
}


class CalendarDayOut(BaseModel):
    date: dt.date
    kind: DayKind = Field(description="loại ngày")
    kind_label_vi: str
    name: str = Field(description="tên ngày (ví dụ: Giỗ Tổ Hùng Vương, nghỉ bù)")
    source: str = Field(
        description="base: lịch theo luật (thư viện holidays); ops: do vận hành nhập theo thông báo"
    )
    updated_by: str | None = None
    updated_at: dt.datetime


class CalendarYearOut(BaseModel):
    """Lịch làm việc của một năm: những ngày khác với nhịp thứ Hai–thứ Sáu."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2026,
                    "entries": [
                        {
                            "date": "2026-02-16",
                            "kind": "holiday",
                            "kind_label_vi": "ngày lễ",
                            "name": "Giao thừa Tết Nguyên Đán",
                            "source": "base",
                            "updated_by": None,
                            "updated_at": "2026-01-02T01:00:00Z",
                        },
                        {
                            "date": "2026-08-22",
                            "kind": "working_day",
                            "kind_label_vi": "ngày làm việc bù",
                            "name": "Làm việc bù cho ngày nghỉ 31/08/2026",
                            "source": "base",
                            "updated_by": None,
                            "updated_at": "2026-01-02T01:00:00Z",
                        },
                    ],
                }
            ]
        }
    )

    year: int
    entries: list[CalendarDayOut]


class CalendarDayIn(BaseModel):
    """Ngày do vận hành nhập theo thông báo của Chính phủ."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"kind": "compensatory_day_off", "name": "Nghỉ Tết Nguyên Đán (hoán đổi)"},
                {"kind": "working_day", "name": "Làm việc bù cho ngày nghỉ Tết"},
            ]
        },
    )

    kind: DayKind = Field(
        description="holiday: ngày lễ; compensatory_day_off: ngày nghỉ bù; "
        "working_day: thứ Bảy hoặc Chủ nhật làm việc bù"
    )
    name: str | None = Field(
        None, max_length=200, description="tên ngày; bỏ trống dùng tên mặc định"
    )


class DeadlineOut(BaseModel):
    """Ngày hẹn trả kết quả cho hồ sơ tiếp nhận tại thời điểm đã cho."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "received_at": "2026-04-24T16:30:00+07:00",
                    "working_days": 5,
                    "working_hours": None,
                    "procedure_key": None,
                    "appointment_at": "2026-05-06T17:00:00+07:00",
                    "appointment_date": "2026-05-06",
                }
            ]
        }
    )

    received_at: dt.datetime = Field(description="thời điểm tiếp nhận")
    working_days: float = Field(description="thời hạn giải quyết (ngày làm việc)")
    working_hours: float | None = Field(
        None,
        description="thời hạn tính theo giờ làm việc, với thủ tục quy định theo giờ "
        "(khi có, hạn được tính theo giờ làm việc của lịch)",
    )
    procedure_key: str | None = None
    appointment_at: dt.datetime = Field(description="hạn trả kết quả (giờ Việt Nam)")
    appointment_date: dt.date = Field(description="ngày hẹn trả kết quả")
