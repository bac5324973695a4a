"""Every query of exceptions, scoped to the caller's unit subtree."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import scope
from payment_service.db.models import PaymentException
from shared.auth import Principal
from shared.pagination import Keyset


def _visible(principal: Principal) -> ColumnElement[bool]:
    # An exception of no unit (empty path) falls in no officer's subtree: only ops sees it.
    return scope(PaymentException.unit_path, None, principal)


async def visible_exception(
    session: AsyncSession, exception_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> PaymentException | None:
    query = select(PaymentException).where(PaymentException.id == exception_id, _visible(principal))
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


EXCEPTION_ORDER = Keyset(columns=(PaymentException.created_at, PaymentException.id))


async def list_exceptions(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[PaymentException]:
    query = select(PaymentException).where(_visible(principal))
    if kind:
        query = query.where(PaymentException.kind == kind)
    if status:
        query = query.where(PaymentException.status == status)
    return (await session.scalars(EXCEPTION_ORDER.apply(query, cursor, limit))).all()
