"""Every query on payments, requests and their history."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, DateTime, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import scope
from payment_service.db.models import Payment, PaymentRequest, PaymentTransition
from payment_service.domain.states import OPEN, PAID, PaymentStatus
from shared.auth import Principal
from shared.pagination import Keyset


def _visible(principal: Principal) -> ColumnElement[bool]:
    return scope(Payment.unit_path, Payment.dossier_id, principal)


def _request_visible(principal: Principal) -> ColumnElement[bool]:
    return scope(PaymentRequest.unit_path, PaymentRequest.dossier_id, principal)


async def visible_payment(
    session: AsyncSession, payment_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> Payment | None:
    query = select(Payment).where(Payment.id == payment_id, _visible(principal))
    if lock:
        query = query.with_for_update(of=Payment).execution_options(populate_existing=True)
    return await session.scalar(query)


async def payment_by_reference(
    session: AsyncSession, reference: str, *, lock: bool = False
) -> Payment | None:
    query = select(Payment).where(Payment.reference == reference)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


# Locking reads refresh what the session holds: a session may carry a row from an earlier
# transaction of the same request, and a decision must be taken on the row as it is now.
_FRESH = {"populate_existing": True}


async def locked_payment(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    return await session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(**_FRESH)
    )


PAYMENT_ORDER = Keyset(columns=(Payment.created_at, Payment.id))


async def list_payments(
    session: AsyncSession,
    principal: Principal,
    *,
    dossier_id: uuid.UUID | None,
    dossier_code: str | None,
    status: str | None,
    method: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[Payment]:
    query = select(Payment).where(_visible(principal))
    if dossier_id:
        query = query.where(Payment.dossier_id == dossier_id)
    if dossier_code:
        query = query.where(Payment.dossier_code == dossier_code)
    if status:
        query = query.where(Payment.status == status)
    if method:
        query = query.where(Payment.method == method)
    return (await session.scalars(PAYMENT_ORDER.apply(query, cursor, limit))).all()


async def history(session: AsyncSession, payment_id: uuid.UUID) -> Sequence[PaymentTransition]:
    return (
        await session.scalars(
            select(PaymentTransition)
            .where(PaymentTransition.payment_id == payment_id)
            .order_by(PaymentTransition.id)
        )
    ).all()


async def visible_request(
    session: AsyncSession, request_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> PaymentRequest | None:
    query = select(PaymentRequest).where(
        PaymentRequest.id == request_id, _request_visible(principal)
    )
    if lock:
        query = query.with_for_update(of=PaymentRequest).execution_options(**_FRESH)
    return await session.scalar(query)


async def locked_request(session: AsyncSession, request_id: uuid.UUID) -> PaymentRequest | None:
    return await session.scalar(
        select(PaymentRequest)
        .where(PaymentRequest.id == request_id)
        .with_for_update()
        .execution_options(**_FRESH)
    )


REQUEST_ORDER = Keyset(columns=(PaymentRequest.created_at, PaymentRequest.id))


async def list_requests(
    session: AsyncSession,
    principal: Principal,
    *,
    dossier_id: uuid.UUID | None,
    dossier_code: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[PaymentRequest]:
    query = select(PaymentRequest).where(_request_visible(principal))
    if dossier_id:
        query = query.where(PaymentRequest.dossier_id == dossier_id)
    if dossier_code:
        query = query.where(PaymentRequest.dossier_code == dossier_code)
    if status:
        query = query.where(PaymentRequest.status == status)
    return (await session.scalars(REQUEST_ORDER.apply(query, cursor, limit))).all()


async def open_payment_of(
    session: AsyncSession, request_id: uuid.UUID, method: str, now: dt.datetime
) -> Payment | None:
    """A payment of this method still waiting and not yet expired: a second click on "pay"
    gets the same pay URL or QR rather than a second transaction."""
    return await session.scalar(
        select(Payment)
        .where(
            Payment.request_id == request_id,
            Payment.method == method,
            Payment.status.in_([s.value for s in OPEN]),
            or_(Payment.expires_at.is_(None), Payment.expires_at > now),
        )
        .order_by(Payment.created_at.desc())
        .limit(1)
    )


async def payments_of_dossier(
    session: AsyncSession, dossier_id: uuid.UUID, statuses: frozenset[PaymentStatus]
) -> Sequence[Payment]:
    return (
        await session.scalars(
            select(Payment)
            .where(
                Payment.dossier_id == dossier_id, Payment.status.in_([s.value for s in statuses])
            )
            .order_by(Payment.created_at)
            .with_for_update()
            .execution_options(**_FRESH)
        )
    ).all()


async def settled_by_another(
    session: AsyncSession, request_id: uuid.UUID, payment_id: uuid.UUID
) -> bool:
    """Whether a payment other than ``payment_id`` paid the request (and was not voided)."""
    other = await session.scalar(
        select(Payment.id)
        .where(
            Payment.request_id == request_id,
            Payment.id != payment_id,
            Payment.status.in_([s.value for s in PAID]),
            # A wrong sum being given back never paid the request.
            Payment.received_vnd == Payment.amount_vnd,
        )
        .limit(1)
    )
    return other is not None


async def open_requests_of_dossier(
    session: AsyncSession, dossier_id: uuid.UUID
) -> Sequence[PaymentRequest]:
    return (
        await session.scalars(
            select(PaymentRequest)
            .where(PaymentRequest.dossier_id == dossier_id, PaymentRequest.status == "open")
            .with_for_update()
            .execution_options(**_FRESH)
        )
    ).all()


async def claim_due_checks(
    session: AsyncSession, now: dt.datetime, limit: int, backoff_s: float, cap_s: float
) -> Sequence[Payment]:
    """Take the open payments due for a gateway check and push their next check back, in one
    statement; the checks themselves run after this commits, so no lock is held over HTTP."""
    due = (
        select(Payment.id)
        .where(
            Payment.status.in_([s.value for s in OPEN]),
            Payment.next_check_at <= now,
        )
        .order_by(Payment.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    # Doubling back-off: base, 2 × base, 4 × base … capped.
    factor = func.least(
        func.power(2, func.least(Payment.checks, 30)), cap_s / max(backoff_s, 0.001)
    )
    stmt = (
        update(Payment)
        .where(Payment.id.in_(due))
        .values(
            next_check_at=func.make_interval(0, 0, 0, 0, 0, 0, backoff_s * factor)
            + literal(now, DateTime(timezone=True)),
            checks=Payment.checks + 1,
        )
        .returning(Payment)
    )
    return (await session.scalars(stmt)).all()
