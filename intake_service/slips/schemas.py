"""The slips as the API answers them. The slip models are the domain's own
(:mod:`intake_service.domain.slips`): a slip is a view, built the same for JSON and for PDF."""

from __future__ import annotations

from typing import Any

from intake_service.domain.slips import (
    ReceiptSlip,
    RefusalSlip,
    Slip,
    SupplementRequestSlip,
)

__all__ = ["RECEIPT_EXAMPLE", "ReceiptSlip", "RefusalSlip", "Slip", "SupplementRequestSlip"]

RECEIPT_EXAMPLE: dict[str, Any] = {
    "kind": "receipt",
    "title_vi": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "dossier_code": "00070-260305-0001",
    "issued_at": "2026-03-05T02:30:00Z",
    "applicant": {
        "name": "Nguyễn Thị Lan",
        "kind": "citizen",
        "address": "Số 5 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
        "phone": "0912345678",
    },
    "procedure_code": "1.004222",
    "procedure_name": "Đăng ký thường trú",
    "procedure_version": 1,
    "unit": {"code": "00070", "name": "Phường Hoàn Kiếm", "desk_name": "Bộ phận Một cửa"},
    "officer": "cb.tiepnhan.00070",
    "channel": "direct",
    "channel_label_vi": "Trực tiếp tại Bộ phận Một cửa",
    "lookup_url": "https://dichvucong.hanoi.gov.vn/tra-cuu/00070-260305-0001",
    "received_at": "2026-03-05T02:30:00Z",
    "appointment_at": "2026-03-16T02:30:00Z",
    "processing_working_days": 7,
    "components": [
        {"name": "Tờ khai thay đổi thông tin cư trú", "digitised": True},
        {"name": "Giấy tờ chứng minh chỗ ở hợp pháp", "digitised": False},
    ],
    "fee_amount_vnd": 20000,
}
