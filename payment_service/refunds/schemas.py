"""API models of refunds (apart from the ORM models)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import MAX_AMOUNT_VND
from shared.pagination import Page
from shared.text import CleanText

RefundStatus = Literal["proposed", "submitted", "succeeded", "failed"]


class RefundCreate(BaseModel):
    """Hoàn tiền một giao dịch đã thanh toán (một phần hoặc toàn bộ)."""

    model_config = ConfigDict(extra="forbid")

    # Strict: money is never parsed from a string or a float.
    amount_vnd: int = Field(
        gt=0, le=MAX_AMOUNT_VND, strict=True, description="số tiền hoàn", examples=[12000]
    )
    reason: CleanText = Field(
        min_length=3, max_length=500, description="lý do hoàn", examples=["Thu thừa lệ phí"]
    )
    refund_amount_available_vnd: int = Field(
        ge=0,
        strict=True,
        description=(
            "số tiền còn được hoàn mà cán bộ đã thấy (refundable_vnd của giao dịch); khác số "
            "hiện tại thì trả 412, để hai người không cùng hoàn một khoản"
        ),
        examples=[20000],
    )


class RefundApprove(BaseModel):
    """Phê duyệt đề xuất hoàn tiền của hệ thống (hồ sơ rút, từ chối, không được giải quyết)."""

    model_config = ConfigDict(extra="forbid")

    amount_vnd: int | None = Field(
        None,
        gt=0,
        le=MAX_AMOUNT_VND,
        strict=True,
        description="số tiền hoàn; bỏ trống là số đã đề xuất",
    )
    refund_amount_available_vnd: int = Field(
        ge=0, le=MAX_AMOUNT_VND, strict=True, description="số tiền còn được hoàn mà cán bộ đã thấy"
    )


class RefundOut(BaseModel):
    id: uuid.UUID
    payment_id: uuid.UUID
    dossier_code: str
    amount_vnd: int
    reason: str
    status: RefundStatus = Field(
        description="proposed: hệ thống đề xuất, chờ duyệt; submitted: đang hoàn; "
        "succeeded: đã hoàn; failed: hoàn không thành công"
    )
    status_vi: str
    gateway_code: str | None = Field(None, description="mã trả về của cổng thanh toán")
    proposed_reason: str | None = Field(
        None, description="vì sao hệ thống đề xuất: withdrawn, refused, rejected"
    )
    requested_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    payment_status: str = Field(description="trạng thái hiện tại của giao dịch được hoàn")
    refunded_vnd: int = Field(description="tổng đã hoàn của giao dịch")
    refundable_vnd: int = Field(description="số tiền giao dịch còn được hoàn")


class RefundPage(Page[RefundOut]):
    pass
