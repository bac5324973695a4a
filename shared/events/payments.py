"""Events published by payment on ``payment.payments.v1``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from shared.events import topics
from shared.events.base import Event


class FeeRequested(Event):
    """Yêu cầu nộp phí, lệ phí: a fee request was raised for a dossier."""

    event_type = "vn.motcua.fee.requested.v1"
    topic = topics.PAYMENTS
    summary = "Payment raised a fee request for a received dossier."

    fee_request_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    amount_vnd: int
    requested_at: dt.datetime


class PaymentSucceeded(Event):
    """Thanh toán thành công: a fee or a financial obligation of a dossier was paid. Workflow
    resumes a case paused for the obligation; metrics counts online payments."""

    event_type = "vn.motcua.payment.succeeded.v1"
    topic = topics.PAYMENTS
    summary = "A payment for a dossier succeeded (fee, charge or financial obligation)."

    payment_id: uuid.UUID
    fee_request_id: uuid.UUID | None = None
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    purpose: Literal["fee", "financial_obligation"] = Field(
        description="phí, lệ phí của thủ tục, hoặc nghĩa vụ tài chính (thuế, tiền sử dụng đất)"
    )
    amount_vnd: int = Field(ge=0)
    online: bool = Field(description="thanh toán trực tuyến")
    paid_at: dt.datetime
