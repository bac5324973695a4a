"""Bodies of the public lookup (tra cứu hồ sơ): what anyone holding the slip may read."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from intake_service.domain.verifier import VERIFIER_PATTERN
from intake_service.dossiers.schemas import (
    PURPOSE_DESCRIPTION,
    RECEIPT_NUMBER_DESCRIPTION,
    REQUEST_STATUS_DESCRIPTION,
    PaymentPurpose,
    PaymentRequestStatus,
)
from shared.text import CleanText


class LookupIn(BaseModel):
    """Mã hồ sơ và 4 số cuối, gửi trong thân yêu cầu để không nằm trên đường dẫn."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"code": "00070-261203-K7QD-M2X9", "verifier": "2345"}]},
    )

    code: CleanText = Field(min_length=1, max_length=40, description="mã hồ sơ (trên phiếu)")
    verifier: str = Field(
        pattern=VERIFIER_PATTERN,
        description="4 số cuối số định danh (CCCD) / mã số thuế hoặc số điện thoại người nộp",
    )


class LookupStep(BaseModel):
    """One step of the dossier's history, without officers' names or notes."""

    action: str = Field(description="mã hành động", examples=["receive"])
    action_label_vi: str = Field(examples=["Tiếp nhận hồ sơ"])
    status: str = Field(description="trạng thái sau bước này", examples=["received"])
    status_label_vi: str = Field(examples=["Đã tiếp nhận"])
    at: dt.datetime = Field(description="thời điểm")


class LookupPaymentRequest(BaseModel):
    """Một khoản phải nộp của hồ sơ: loại, số tiền, tình trạng, biên lai; không có người nộp."""

    model_config = ConfigDict(from_attributes=True)

    purpose: PaymentPurpose = Field(description=PURPOSE_DESCRIPTION)
    purpose_label_vi: str = Field(description="tên khoản thu", examples=["Phí, lệ phí của thủ tục"])
    amount_vnd: int | None = Field(description="số tiền phải nộp (đồng)", examples=[20000])
    status: PaymentRequestStatus = Field(description=REQUEST_STATUS_DESCRIPTION)
    status_label_vi: str = Field(description="tên tình trạng", examples=["Đã nộp đủ"])
    paid_at: dt.datetime | None = Field(description="thời điểm nộp tiền")
    receipt_number: str | None = Field(
        description=RECEIPT_NUMBER_DESCRIPTION, examples=["BI-26T 0000042"]
    )


class LookupPayments(BaseModel):
    """Phí, lệ phí và nghĩa vụ tài chính: còn phải nộp, đã nộp."""

    model_config = ConfigDict(from_attributes=True)

    owed_vnd: int = Field(description="tổng số tiền còn phải nộp (đồng)")
    paid_vnd: int = Field(description="tổng số tiền đã nộp (đồng)")
    requests: list[LookupPaymentRequest] = Field(description="các khoản phải nộp")


class LookupOut(BaseModel):
    """Kết quả tra cứu hồ sơ."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "000.70.01.H01-250115-0001",
                    "status": "received",
                    "status_label_vi": "Đã tiếp nhận",
                    "procedure_code": "1.004222",
                    "procedure_name": "Đăng ký thường trú",
                    "unit_code": "00070",
                    "unit_name": "Phường Hoàn Kiếm",
                    "received_at": "2025-01-15T08:32:10+07:00",
                    "appointment_at": "2025-01-22T08:32:10+07:00",
                    "history": [
                        {
                            "action": "submit",
                            "action_label_vi": "Nộp hồ sơ",
                            "status": "submitted",
                            "status_label_vi": "Đã nộp, chờ kiểm tra",
                            "at": "2025-01-15T08:30:02+07:00",
                        },
                        {
                            "action": "receive",
                            "action_label_vi": "Tiếp nhận hồ sơ",
                            "status": "received",
                            "status_label_vi": "Đã tiếp nhận",
                            "at": "2025-01-15T08:32:10+07:00",
                        },
                    ],
                    "payments": {
                        "owed_vnd": 0,
                        "paid_vnd": 20000,
                        "requests": [
                            {
                                "purpose": "fee",
                                "purpose_label_vi": "Phí, lệ phí của thủ tục",
                                "amount_vnd": 20000,
                                "status": "paid",
                                "status_label_vi": "Đã nộp đủ",
                                "paid_at": "2025-01-15T08:40:51+07:00",
                                "receipt_number": "BI-26T 0000042",
                            }
                        ],
                    },
                }
            ]
        }
    )

    code: str = Field(description="mã hồ sơ")
    status: str = Field(description="trạng thái hiện tại")
    status_label_vi: str = Field(description="tên trạng thái")
    procedure_code: str | None = Field(description="mã thủ tục hành chính")
    procedure_name: str = Field(description="tên thủ tục hành chính")
    unit_code: str = Field(description="mã đơn vị tiếp nhận")
    unit_name: str = Field(description="tên đơn vị tiếp nhận")
    received_at: dt.datetime | None = Field(description="ngày tiếp nhận")
    appointment_at: dt.datetime | None = Field(description="ngày hẹn trả kết quả")
    rescheduled_at: dt.datetime | None = Field(
        None, description="ngày hẹn lại theo phiếu xin lỗi, nếu có"
    )
    history: list[LookupStep] = Field(description="quá trình giải quyết")
    payments: LookupPayments = Field(description="phí, lệ phí và nghĩa vụ tài chính của hồ sơ")
