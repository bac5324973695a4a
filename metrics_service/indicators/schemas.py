"""What the indicator routes answer, and the query parameters they share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from metrics_service.domain.indicators import Counts, Rates, Target
from metrics_service.domain.ratios import Ratio


class ReceivedIndicators(BaseModel):
    unit_code: str = Field(description="mã đơn vị (gộp cả các đơn vị cấp dưới)")
    period: str = Field(description="kỳ báo cáo (tháng), ví dụ 2026-11")
    procedure_code: str = Field(description="mã thủ tục, hoặc * cho tất cả")
    received: int = Field(description="tổng số hồ sơ tiếp nhận")
    received_by_channel: dict[str, int] = Field(description="tiếp nhận theo kênh")
    online_rate: Ratio = Field(description="tỷ lệ hồ sơ nộp trực tuyến")


class Indicators(BaseModel):
    unit_code: str = Field(description="mã đơn vị (gộp cả các đơn vị cấp dưới)")
    period: str = Field(description="kỳ báo cáo (tháng), ví dụ 2026-11")
    procedure_code: str = Field(description="mã thủ tục, hoặc * cho tất cả")
    counts: Counts = Field(
        description=(
            "số liệu: tiếp nhận tính theo tháng tiếp nhận, giải quyết theo tháng giải quyết, "
            "đánh giá theo tháng đánh giá đầu tiên, rút hồ sơ theo tháng rút"
        )
    )
    received_by_channel: dict[str, int] = Field(description="tiếp nhận theo kênh")
    rates: Rates = Field(description="các tỷ lệ, giữ cả tử số và mẫu số")
    targets: dict[str, Target] = Field(
        description="mục tiêu các tỉnh đặt ra và kết quả đạt hay chưa"
    )


UnitCode = Annotated[str, Query(pattern=r"^\d{2,5}$", description="mã đơn vị", examples=["01"])]
Period = Annotated[
    str,
    Query(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="kỳ báo cáo (tháng)", examples=["2026-11"]
    ),
]
ProcedureCode = Annotated[
    str,
    Query(
        max_length=128,
        pattern=r"^[\w.*-]+$",
        description="mã thủ tục; * cho tất cả",
        examples=["1.004222"],
    ),
]
