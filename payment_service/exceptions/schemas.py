"""API models of exceptions (ngoại lệ) and their resolution."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.pagination import Page
from shared.text import CleanText

# Every kind the service raises, with the words a finance officer reads.
KIND_LABELS_VI: dict[str, str] = {
    "overpaid": "chuyển thừa tiền",
    "underpaid": "chuyển thiếu tiền",
    "wrong_memo": "không xác định được hồ sơ (sai nội dung chuyển khoản)",
    "duplicate": "chuyển trùng cho giao dịch đã thanh toán",
    "paid_twice": "một yêu cầu được thanh toán hai lần",
    "amount_mismatch": "cổng thanh toán báo số tiền khác",
    "receipt_pending": "chờ cấp số biên lai",
}
STATUS_LABELS_VI: dict[str, str] = {"open": "chờ xử lý", "resolved": "đã xử lý"}

Resolution = Literal["refund", "accept", "request_balance", "dismiss"]
RESOLUTION_LABELS_VI: dict[str, str] = {
    "refund": "hoàn trả tiền",
    "accept": "chấp nhận khoản tiền",
    "request_balance": "yêu cầu nộp bổ sung phần còn thiếu",
    "dismiss": "không cần xử lý",
}


class ExceptionOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="loại ngoại lệ", examples=["underpaid"])
    kind_vi: str = Field(examples=["chuyển thiếu tiền"])
    source_key: str = Field(
        description="nguồn phát sinh (mã giao dịch ngân hàng, cổng)",
        examples=["bank:FT26337091512345"],
    )
    unit_path: str = Field(
        description="đơn vị; rỗng khi chưa xác định được (chỉ vận hành thấy)", examples=["01.00070"]
    )
    agency_code: str | None = Field(description="đơn vị thu", examples=["motcua-00070"])
    payment_id: uuid.UUID | None
    credit_id: uuid.UUID | None = Field(description="khoản ghi có ngân hàng")
    expected_vnd: int | None = Field(description="số phải nộp (đồng)", examples=[20000])
    received_vnd: int | None = Field(description="số đã nhận (đồng)", examples=[15000])
    detail: str
    status: Literal["open", "resolved"] = Field(description="open: chờ xử lý; resolved: đã xử lý")
    status_vi: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution: str | None = Field(
        description="cách xử lý (refund, accept, request_balance, dismiss) và ghi chú",
        examples=["request_balance: đã nhắn công dân nộp thêm 5.000 đồng"],
    )


class ExceptionPage(Page[ExceptionOut]):
    pass


class ExceptionResolve(BaseModel):
    """Xử lý ngoại lệ."""

    model_config = ConfigDict(extra="forbid")

    resolution: Resolution = Field(
        description=(
            "refund: hoàn trả (đề xuất hoàn tiền cho giao dịch nếu có); accept: chấp nhận; "
            "request_balance: yêu cầu nộp phần còn thiếu; dismiss: không cần xử lý"
        )
    )
    note: CleanText | None = Field(
        None,
        max_length=1000,
        description="ghi chú",
        examples=["Đã liên hệ công dân qua điện thoại"],
    )
