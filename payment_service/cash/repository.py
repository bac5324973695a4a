"""Every query of the cash desk: the desk lock, the officer's payments of a day, the closes."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import CashClose, Dossier, Payment, Receipt
from shared.auth import Principal, unit_scope
from shared.pagination import Keyset

DESK_METHODS = ("cash", "on_behalf")


def _desk_key(officer: str, day: dt.date) -> int:
    digest = hashlib.sha256(f"cash-desk:{officer}:{day.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_desk(session: AsyncSession, officer: str, day: dt.date, *, exclusive: bool) -> None:
    """The officer's desk for the day, until the transaction ends. Collecting and voiding
    share it; the close takes it alone, so no payment of the day can change while it counts,
    and none can slip in after it has counted."""
    lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    await session.execute(select(lock(_desk_key(officer, day))))


async def close_of(session: AsyncSession, officer: str, day: dt.date) -> CashClose | None:
    return await session.scalar(
        select(CashClose).where(CashClose.officer == officer, CashClose.day == day)
    )


async def applicant_ref_of(session: AsyncSession, dossier_id: uuid.UUID) -> str | None:
    return await session.scalar(select(Dossier.applicant_ref).where(Dossier.id == dossier_id))


async def desk_payments(
    session: AsyncSession, officer: str, start: dt.datetime, end: dt.datetime
) -> Sequence[tuple[Payment, Receipt | None]]:
    """The officer's desk payments paid in [start, end), with their receipts."""
    rows = await session.execute(
        select(Payment, Receipt)
        .outerjoin(Receipt, Receipt.payment_id == Payment.id)
        .where(
            Payment.recorded_by == officer,
            Payment.method.in_(DESK_METHODS),
            Payment.paid_at >= start,
            Payment.paid_at < end,
        )
        .order_by(Payment.paid_at, Payment.id)
    )
    return [(payment, receipt) for payment, receipt in rows.tuples()]


async def insert_close(session: AsyncSession, row: dict[str, Any]) -> CashClose | None:
    """None when the officer closed that day already (a concurrent close included)."""
    return await session.scalar(
        pg_insert(CashClose)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[CashClose.officer, CashClose.day])
        .returning(CashClose)
    )


CLOSE_ORDER = Keyset(columns=(CashClose.closed_at, CashClose.id))


async def list_closes(
    session: AsyncSession,
    principal: Principal,
    *,
    own_only: bool,
    day: dt.date | None,
    officer: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[CashClose]:
    query = select(CashClose)
    if own_only:
        query = query.where(CashClose.officer == principal.sub)
    else:
        query = query.where(unit_scope(CashClose.unit_path, principal))
    if day:
        query = query.where(CashClose.day == day)
    if officer:
        query = query.where(CashClose.officer == officer)
    return (await session.scalars(CLOSE_ORDER.apply(query, cursor, limit))).all()
