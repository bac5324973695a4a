"""The exception queue: money a person has to decide on (a wrong sum, no reference, paid
twice), read within the officer's unit subtree and resolved once.

Exceptions have no version: a resolution's precondition is that the item is still open, so
two officers resolving the same item at once get one success and one 409."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import require
from payment_service.db.models import PaymentException
from payment_service.domain.authority import Act
from payment_service.exceptions import errors, repository
from payment_service.exceptions.schemas import (
    KIND_LABELS_VI,
    STATUS_LABELS_VI,
    ExceptionOut,
    ExceptionPage,
    ExceptionResolve,
)
from payment_service.payments import repository as payments_repository
from payment_service.refunds import service as refunds
from shared.auth import Principal

# The reason a refund proposed from the queue carries (one proposal per payment and reason).
REFUND_REASON = "exception"


def exception_out(item: PaymentException) -> ExceptionOut:
    return ExceptionOut.model_validate(
        {
            **{c: getattr(item, c) for c in ExceptionOut.model_fields if hasattr(item, c)},
            "kind_vi": KIND_LABELS_VI.get(item.kind, item.kind),
            "status_vi": STATUS_LABELS_VI.get(item.status, item.status),
        }
    )


async def list_exceptions(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> ExceptionPage:
    # Reading the queue is part of reconciling (finance, and ops for what has no unit);
    # resolving is finance's alone.
    require(principal, Act.reconcile)
    rows = await repository.list_exceptions(
        session,
        principal,
        kind=kind,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    page, next_cursor = repository.EXCEPTION_ORDER.page(rows, limit, lambda r: (r.created_at, r.id))
    return ExceptionPage(items=[exception_out(r) for r in page], next_cursor=next_cursor)


async def read_exception(
    session: AsyncSession, principal: Principal, exception_id: uuid.UUID
) -> ExceptionOut:
    require(principal, Act.reconcile)
    item = await repository.visible_exception(session, exception_id, principal)
    if item is None:
        raise errors.exception_not_found()
    return exception_out(item)


PAYMENT_MONEY_KINDS = frozenset({"amount_mismatch", "overpaid", "underpaid", "paid_twice"})


async def resolve(
    session: AsyncSession,
    principal: Principal,
    exception_id: uuid.UUID,
    body: ExceptionResolve,
    now: dt.datetime,
) -> ExceptionOut:
    """Record the officer's decision. ``refund`` proposes a refund of the payment the money
    came for (approved and sent through the refunds feature); without a payment (a credit
    no dossier could be found for) the officer gives the money back by bank and records it."""
    require(principal, Act.resolve_exception)
    item = await repository.visible_exception(session, exception_id, principal, lock=True)
    if item is None:
        raise errors.exception_not_found()
    if item.status != "open":
        raise errors.already_resolved(item.resolution)
    if item.kind == "receipt_pending":
        # The mop-up closes it when it issues the receipt; closing it by hand would leave the
        # payment without one.
        raise errors.resolved_by_the_system()
    if body.resolution == "request_balance" and not (
        item.expected_vnd is not None
        and item.received_vnd is not None
        and item.received_vnd < item.expected_vnd
    ):
        raise errors.nothing_owed()
    # Only money the payment itself holds goes back through the payment's refund; a second
    # credit naming a settled payment, or one naming none, never entered it, and the officer
    # returns it by bank transfer and records that here.
    if (
        body.resolution == "refund"
        and item.payment_id is not None
        and item.kind in PAYMENT_MONEY_KINDS
    ):
        payment = await payments_repository.locked_payment(session, item.payment_id)
        if payment is not None:
            await refunds.propose(session, payment, REFUND_REASON, now)
    item.status = "resolved"
    item.resolved_at = now
    item.resolved_by = principal.sub
    item.resolution = f"{body.resolution}: {body.note}" if body.note else body.resolution
    await session.flush()
    return exception_out(item)
