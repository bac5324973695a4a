"""The append-only record of what gateways and banks told us and what we answered."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import Callback

# Signatures are kept (a dispute needs them to be re-verified); secrets never reach a message,
# but fields that might carry personal data from a bank memo or a card holder are masked.
_MASKED = frozenset({"vnp_CardHolder", "card_holder", "payer_name", "counter_account_name"})


def masked(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in _MASKED else v) for k, v in payload.items()}


def record(
    session: AsyncSession,
    source: str,
    payload: Mapping[str, Any],
    at: dt.datetime,
    *,
    reference: str | None = None,
    payment_id: uuid.UUID | None = None,
    signature_valid: bool | None = None,
    answer: Mapping[str, Any] | None = None,
    outcome: str | None = None,
) -> Callback:
    row = Callback(
        source=source,
        reference=reference,
        payment_id=payment_id,
        received_at=at,
        signature_valid=signature_valid,
        payload=masked(payload),
        answer=dict(answer) if answer is not None else None,
        outcome=outcome,
    )
    session.add(row)
    return row
