"""Payments as the API shows them."""

from __future__ import annotations

from collections.abc import Sequence

from payment_service.db.models import Payment, PaymentTransition
from payment_service.domain.states import PAID, PaymentStatus
from payment_service.payments.schemas import PaymentOut, QrOut, TransitionOut
from payment_service.refunds.service import available

# Money we hold that may go back: paid, or arrived with the wrong sum.
REFUNDABLE = PAID | {PaymentStatus.amount_mismatch}


def payment_out(
    payment: Payment,
    *,
    history: Sequence[PaymentTransition] = (),
    pay_url: str | None = None,
    qr: QrOut | None = None,
    receipt_id: object = None,
) -> PaymentOut:
    out = PaymentOut.model_validate(
        {
            **{c: getattr(payment, c) for c in PaymentOut.model_fields if hasattr(payment, c)},
            "refundable_vnd": available(payment) if payment.status in REFUNDABLE else 0,
            "pay_url": pay_url,
            "qr": qr,
            "receipt_id": receipt_id,
            "history": [TransitionOut.model_validate(t) for t in history],
        }
    )
    return out
