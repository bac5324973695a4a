"""Items for a finance officer's exception list (ngoại lệ): money that needs a person."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import Payment, PaymentException


async def raise_exception(
    session: AsyncSession,
    payment: Payment | None,
    *,
    kind: str,
    source_key: str,
    unit_path: str,
    agency_code: str | None,
    expected_vnd: int | None,
    received_vnd: int | None,
    detail: str,
    at: dt.datetime,
    credit_id: uuid.UUID | None = None,
) -> None:
    """An item for a finance officer, raised once per source however often it is reported."""
    await session.execute(
        pg_insert(PaymentException)
        .values(
            id=uuid.uuid4(),
            kind=kind,
            source_key=source_key,
            unit_path=unit_path,
            agency_code=agency_code,
            payment_id=payment.id if payment else None,
            credit_id=credit_id,
            expected_vnd=expected_vnd,
            received_vnd=received_vnd,
            detail=detail,
            status="open",
            created_at=at,
        )
        .on_conflict_do_nothing()
    )
