"""API models of the cash desk (apart from the ORM models)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from payment_service.payments.schemas import PaymentOut
from payment_service.receipts.schemas import ReceiptOut
from shared.bounds import MAX_AMOUNT_VND
from shared.pagination import Page
from shared.text import CleanText


class Payer(BaseModel):
    """Người nộp tiền: kept masked; the full ID number is used once, to tell the payer from
    the applicant, and never stored."""

    model_config = ConfigDict(extra="forbid")

    name: CleanText = Field(min_length=1, max_length=200, examples=["Trần Văn Bình"])
    id_number: str = Field(
        pattern=r"^(\d{9}|\d{12})$",
        description="số CCCD (12 số) hoặc CMND (9 số) của người nộp tiền",
        examples=["001085012345"],
    )
    relation: CleanText | None = Field(
        None, max_length=100, description="quan hệ với người nộp hồ sơ", examples=["con"]
    )


class CashPaymentCreate(BaseModel):
    """Thu tiền mặt tại quầy, hoặc ghi nhận nộp hộ."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["cash", "on_behalf"] = Field(
        description="cash: người nộp trả tiền mặt tại quầy; on_behalf: người khác nộp hộ"
    )
    # Strict: money is never parsed from a string or a float.
    amount_vnd: int = Field(
        gt=0,
        le=MAX_AMOUNT_VND,
        strict=True,
        description="số tiền thu, phải bằng số còn phải nộp",
        examples=[20000],
    )
    payer: Payer | None = Field(None, description="bắt buộc khi nộp hộ")
    reason: CleanText | None = Field(
        None,
        min_length=3,
        max_length=500,
        description="bắt buộc khi nộp hộ: vì sao người khác nộp thay người nộp hồ sơ",
    )
    paid_via: Literal["cash", "transfer", "card"] = Field(
        "cash", description="nộp hộ bằng tiền mặt, chuyển khoản hay thẻ (tiền mặt: luôn cash)"
    )

    @model_validator(mode="after")
    def _complete(self) -> CashPaymentCreate:
        if self.method == "on_behalf":
            if self.payer is None:
                raise ValueError("payer is required when paid on behalf")
            if not self.reason:
                raise ValueError("reason is required when paid on behalf")
        elif self.paid_via != "cash":
            raise ValueError("cash at the desk is paid in cash")
        return self


class PayerOut(BaseModel):
    name: str
    id_masked: str = Field(description="số định danh đã che", examples=["001******345"])
    relation: str | None = None


class CashPaymentOut(PaymentOut):
    payer: PayerOut | None = None
    receipt: ReceiptOut | None = Field(None, description="biên lai phát hành ngay khi thu")


class VoidCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: CleanText = Field(
        min_length=3, max_length=500, description="lý do hủy", examples=["Thu nhầm hồ sơ khác"]
    )


class CashCloseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: dt.date | None = Field(
        None, description="ngày chốt quỹ (giờ Việt Nam); bỏ trống là hôm nay"
    )


class CountedPayment(BaseModel):
    id: uuid.UUID
    reference: str
    dossier_code: str
    method: str
    online: bool = Field(description="true: nộp hộ bằng chuyển khoản hoặc thẻ, không vào quỹ")
    status: str
    amount_vnd: int
    counted: bool = Field(description="được tính vào tổng (không bị hủy)")
    receipt_symbol: str | None = None
    receipt_number: str | None = Field(None, description="số biên lai", examples=["0000042"])
    paid_at: dt.datetime


class CashCloseOut(BaseModel):
    id: uuid.UUID
    officer: str
    day: dt.date
    unit_path: str
    count: int = Field(description="số giao dịch được tính (không kể giao dịch đã hủy)")
    total_vnd: int = Field(description="tổng tiền các giao dịch được tính")
    voided_count: int = Field(description="số giao dịch đã hủy trong ngày")
    closed_at: dt.datetime
    payments: list[CountedPayment]


class CashClosePage(Page[CashCloseOut]):
    pass
