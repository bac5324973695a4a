"""Events published by payment on ``payment.payments.v1``."""

from __future__ import annotations

import datetime as dt
import uuid

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
