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


def _storable(value: Any) -> Any:
    """PostgreSQL's JSONB holds no NUL character; a hostile message may carry one, and it must
    still be kept (as U+FFFD) rather than make the record fail."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, Mapping):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def masked(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {_storable(k): ("***" if k in _MASKED else _storable(v)) for k, v in payload.items()}


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
        # Whatever a forged message names is kept, cut to the column and made storable.
        reference=_storable(reference)[:64] if reference is not None else None,
        payment_id=payment_id,
        received_at=at,
        signature_valid=signature_valid,
        payload=masked(payload),
        answer=_storable(dict(answer)) if answer is not None else None,
        outcome=outcome,
    )
    session.add(row)
    return row
