"""API models of payment requests and payments (apart from the ORM models)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.pagination import Page

Purpose = Literal["fee", "financial_obligation"]


class LineOut(BaseModel):
    code: str = Field(description="mã khoản thu")
    kind: str = Field(
        description="fee: phí; charge: lệ phí; financial_obligation: nghĩa vụ tài chính"
    )
    name: str = Field(examples=["Lệ phí đăng ký thường trú"])
    amount_vnd: int = Field(description="số tiền (đồng)", examples=[20000])


class PaymentRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str = Field(description="mã hồ sơ", examples=["00070-261203-0001"])
    purpose: Purpose = Field(
        description="fee: phí, lệ phí; financial_obligation: nghĩa vụ tài chính"
    )
    agency_code: str = Field(description="đơn vị thu", examples=["motcua-00070"])
    lines: list[LineOut]
    amount_vnd: int = Field(description="tổng số phải nộp (đồng)")
    paid_vnd: int = Field(description="đã nộp (đồng)")
    status: Literal["open", "paid", "cancelled"] = Field(
        description="open: chờ nộp; paid: đã nộp đủ; cancelled: đã hủy (hồ sơ rút, từ chối)"
    )
    created_at: dt.datetime
    closed_at: dt.datetime | None
    version: int


class PaymentRequestPage(Page[PaymentRequestOut]):
    pass


class GatewayPaymentCreate(BaseModel):
    """Start paying a request."""

    model_config = ConfigDict(extra="forbid")

    request_id: uuid.UUID = Field(description="yêu cầu thanh toán")
    method: Literal["vnpay", "vietqr"] = Field(
        description="vnpay: cổng thanh toán VNPay; vietqr: chuyển khoản bằng mã VietQR"
    )
    locale: Literal["vn", "en"] = "vn"
    bank_code: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9]{3,20}$",
        description="ngân hàng chọn trước (VNPay); bỏ trống để chọn tại cổng",
        examples=["NCB"],
    )


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: str | None
    to_status: str
    actor: str
    at: dt.datetime
    note: str | None


class QrOut(BaseModel):
    payload: str = Field(description="nội dung mã VietQR (EMVCo)")
    bank_bin: str
    account_no: str
    account_name: str
    purpose: str = Field(description="nội dung chuyển khoản: phải giữ nguyên mã tham chiếu")
    png_url: str
    svg_url: str


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    request_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    purpose: Purpose
    agency_code: str
    method: str = Field(description="vnpay, vietqr, cash (tiền mặt), on_behalf (nộp hộ)")
    online: bool = Field(description="thanh toán trực tuyến (tính vào tỷ lệ thanh toán trực tuyến)")
    status: str = Field(description="trạng thái (xem bảng trạng thái trong mô tả API)")
    amount_vnd: int
    received_vnd: int | None
    refunded_vnd: int
    refund_pending_vnd: int
    refundable_vnd: int = Field(description="số tiền còn được hoàn")
    reference: str = Field(description="mã giao dịch (vnp_TxnRef) hoặc mã tham chiếu chuyển khoản")
    gateway_txn_no: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    paid_at: dt.datetime | None
    version: int
    pay_url: str | None = Field(None, description="địa chỉ chuyển người nộp sang cổng thanh toán")
    qr: QrOut | None = None
    receipt_id: uuid.UUID | None = None
    history: list[TransitionOut] = []


class PaymentPage(Page[PaymentOut]):
    pass


class ReturnOut(BaseModel):
    """What the browser return page shows: the payment as this system knows it."""

    signature_valid: bool
    reference: str | None
    status: str | None = Field(description="trạng thái theo hệ thống (không theo tham số trả về)")
    status_vi: str | None
    dossier_code: str | None
    amount_vnd: int | None
