"""API models of receipts and receipt ranges."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.pagination import Page


class ReceiptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    payment_id: uuid.UUID
    agency_code: str = Field(description="đơn vị thu")
    dossier_code: str
    form_code: str = Field(description="mẫu số biên lai", examples=["01BLP0-001"])
    symbol: str = Field(description="ký hiệu biên lai", examples=["BI-26T"])
    number: int = Field(description="số biên lai", examples=[42])
    number_text: str = Field(description="số biên lai in trên biên lai", examples=["0000042"])
    amount_vnd: int
    status: str = Field(description="issued: đã phát hành; cancelled: đã hủy (số không dùng lại)")
    issued_at: dt.datetime
    cancelled_at: dt.datetime | None
    content: dict[str, object] = Field(description="nội dung biên lai như khi phát hành")


class ReceiptPage(Page[ReceiptOut]):
    pass


class ReceiptVerification(BaseModel):
    """What anyone scanning a receipt's QR may learn: no personal data."""

    valid: bool = Field(description="biên lai do hệ thống phát hành và còn hiệu lực")
    form_code: str
    symbol: str
    number_text: str
    agency_code: str
    dossier_code: str
    amount_vnd: int
    status: str
    issued_at: dt.datetime


class RangeCreate(BaseModel):
    """Đăng ký dải số biên lai (theo thông báo phát hành biên lai)."""

    model_config = ConfigDict(extra="forbid")

    agency_code: str = Field(
        min_length=3, max_length=40, pattern=r"^[a-z]+-[0-9]{2,5}$", examples=["motcua-00070"]
    )
    form_code: str = Field(
        min_length=3, max_length=20, pattern=r"^[0-9A-Z\-]+$", examples=["01BLP0-001"]
    )
    symbol: str = Field(min_length=2, max_length=20, pattern=r"^[0-9A-Z\-]+$", examples=["BI-26T"])
    first_number: int = Field(ge=1, le=9_999_999, examples=[1])
    last_number: int = Field(ge=1, le=9_999_999, examples=[5000])

    @model_validator(mode="after")
    def _ordered(self) -> RangeCreate:
        if self.last_number < self.first_number:
            raise ValueError("last_number must not be below first_number")
        return self


class RangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    agency_code: str
    form_code: str
    symbol: str
    first_number: int
    last_number: int
    next_number: int = Field(description="số tiếp theo sẽ cấp")
    remaining: int = Field(description="số còn lại trong dải")
    active: bool
    registered_by: str
    registered_at: dt.datetime


class RangePage(Page[RangeOut]):
    """Receipt ranges in the order they were registered."""
