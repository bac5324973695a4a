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
    request_id: uuid.UUID | None = None
    method: str | None = Field(None, description="vnpay, vietqr, cash, on_behalf")
    late: bool = Field(False, description="tiền về sau khi giao dịch đã hết hạn")


PaymentPurpose = Literal["fee", "financial_obligation"]
PaymentMethod = Literal["vnpay", "vietqr", "cash", "on_behalf"]


class PaymentRequested(Event):
    """Yêu cầu thanh toán: a dossier owes its fee or a financial obligation to a collecting
    agency. Intake shows it to the applicant as what is owed."""

    event_type = "vn.motcua.payment.requested.v1"
    topic = topics.PAYMENTS
    summary = "A payment request (fee or financial obligation) was raised for a dossier."

    request_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    purpose: PaymentPurpose
    agency_code: str = Field(description="đơn vị thu")
    amount_vnd: int = Field(ge=0)
    lines: list[dict[str, object]] = Field(description="khoản thu: mã, loại, tên, số tiền")
    requested_at: dt.datetime


class PaymentRequestClosed(Event):
    """A payment request was paid in full or cancelled (the dossier was withdrawn or refused)."""

    event_type = "vn.motcua.payment.request_closed.v1"
    topic = topics.PAYMENTS
    summary = "A payment request was settled or cancelled."

    request_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    purpose: PaymentPurpose
    status: Literal["paid", "cancelled"]
    closed_at: dt.datetime


class PaymentChanged(Event):
    """Fields every payment transition event carries."""

    payment_id: uuid.UUID
    request_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    purpose: PaymentPurpose
    method: PaymentMethod
    status: str = Field(description="trạng thái mới của giao dịch")
    amount_vnd: int = Field(ge=0)
    at: dt.datetime


class PaymentCreated(PaymentChanged):
    event_type = "vn.motcua.payment.created.v1"
    topic = topics.PAYMENTS
    summary = "A payment was started for a payment request."


class PaymentPending(PaymentChanged):
    event_type = "vn.motcua.payment.pending.v1"
    topic = topics.PAYMENTS
    summary = "A payment awaits the money (pay URL or QR handed out)."


class PaymentFailed(PaymentChanged):
    event_type = "vn.motcua.payment.failed.v1"
    topic = topics.PAYMENTS
    summary = "The gateway reported the payment as not made (cancelled by the payer, declined)."

    gateway_code: str | None = None


class PaymentExpired(PaymentChanged):
    event_type = "vn.motcua.payment.expired.v1"
    topic = topics.PAYMENTS
    summary = "A payment expired; the gateway confirmed that no money was taken."


class PaymentCancelled(PaymentChanged):
    event_type = "vn.motcua.payment.cancelled.v1"
    topic = topics.PAYMENTS
    summary = "A payment was cancelled because its request was cancelled."


class PaymentAmountMismatch(PaymentChanged):
    event_type = "vn.motcua.payment.amount_mismatch.v1"
    topic = topics.PAYMENTS
    summary = "Money arrived with another amount than asked; a finance officer decides."

    received_vnd: int


class PaymentRefundRequested(PaymentChanged):
    event_type = "vn.motcua.payment.refund_requested.v1"
    topic = topics.PAYMENTS
    summary = "A refund of a paid payment was submitted."

    refund_id: uuid.UUID
    refund_amount_vnd: int


class PaymentRefunded(PaymentChanged):
    event_type = "vn.motcua.payment.refunded.v1"
    topic = topics.PAYMENTS
    summary = "A refund completed (in part or in full)."

    refund_id: uuid.UUID
    refund_amount_vnd: int
    refunded_total_vnd: int


class PaymentRefundFailed(PaymentChanged):
    event_type = "vn.motcua.payment.refund_failed.v1"
    topic = topics.PAYMENTS
    summary = "The gateway refused or failed a refund."

    refund_id: uuid.UUID
    gateway_code: str | None = None


class PaymentVoided(PaymentChanged):
    event_type = "vn.motcua.payment.voided.v1"
    topic = topics.PAYMENTS
    summary = "A cash payment recorded by mistake was voided by a second officer."

    voided_by: str
    reason: str


class ReceiptIssued(Event):
    """Biên lai điện tử: a receipt was numbered and issued for a paid payment."""

    event_type = "vn.motcua.receipt.issued.v1"
    topic = topics.PAYMENTS
    summary = "An e-receipt was issued (form code, symbol, number)."

    receipt_id: uuid.UUID
    payment_id: uuid.UUID
    dossier_id: uuid.UUID
    dossier_code: str
    unit_path: str
    form_code: str
    symbol: str
    number: int
    amount_vnd: int
    issued_at: dt.datetime
