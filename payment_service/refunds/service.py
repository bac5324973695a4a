"""Refunds: proposed by the system when a paid dossier ends without its result, decided by a
finance officer, sent through the payment's own method.

The amount still refundable is checked under the payment's row lock, against what the officer
saw (``refund_amount_available_vnd``, 412 when stale), so two officers refunding at once can
never give back more than was paid. One refund is in flight per payment at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import structlog
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common import callbacks
from payment_service.common.access import require, scope
from payment_service.common.exception_items import raise_exception
from payment_service.db.models import Payment, PaymentException, Refund
from payment_service.domain import payees
from payment_service.domain.authority import Act
from payment_service.domain.states import PAID, PaymentAction, allowed
from payment_service.gateways.vnpay_client import GatewayUnavailable, Terminal, VnpayClient
from payment_service.payments import errors as payment_errors
from payment_service.payments import repository as payment_repository
from payment_service.payments import service as payments
from payment_service.refunds import errors
from payment_service.refunds.schemas import RefundApprove, RefundCreate, RefundOut, RefundPage
from payment_service.settings import PaymentSettings
from shared.auth import Principal
from shared.messaging.outbox import Outbox
from shared.pagination import Keyset

log = structlog.get_logger(__name__)


def taken(payment: Payment) -> int:
    """What the payer actually paid: the amount asked, or what arrived when it differed."""
    return payment.received_vnd if payment.received_vnd is not None else payment.amount_vnd


def available(payment: Payment) -> int:
    return max(taken(payment) - payment.refunded_vnd - payment.refund_pending_vnd, 0)


async def propose(session: AsyncSession, payment: Payment, reason: str, at: dt.datetime) -> None:
    """A proposal, once per payment and reason; it moves no money until approved."""
    amount = available(payment)
    if amount <= 0:
        return
    key = hashlib.sha256(f"{payment.id}:{reason}".encode()).hexdigest()[:32]
    await session.execute(
        pg_insert(Refund)
        .values(
            id=uuid.uuid4(),
            payment_id=payment.id,
            unit_path=payment.unit_path,
            amount_vnd=amount,
            reason=f"Đề xuất hoàn tiền: hồ sơ {reason}",
            status="proposed",
            request_id=key,
            proposed_reason=reason,
            requested_by="system",
            created_at=at,
        )
        .on_conflict_do_nothing()
    )


async def submit(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    payment_id: uuid.UUID,
    *,
    amount_vnd: int,
    reason: str,
    expected_available_vnd: int | None,
    now: dt.datetime,
    proposal: Refund | None = None,
) -> Refund:
    """Reserve the amount on the locked payment and record the refund as submitted."""
    require(principal, Act.refund)
    payment = await payment_repository.visible_payment(session, payment_id, principal, lock=True)
    if payment is None:
        raise payment_errors.payment_not_found()
    if not allowed(payment.status, PaymentAction.request_refund):
        raise errors.not_refundable(payment.status)
    left = available(payment)
    if expected_available_vnd is not None and expected_available_vnd != left:
        raise errors.stale_available(left)
    if not 0 < amount_vnd <= left:
        raise errors.too_much(left)
    refund = proposal or Refund(
        id=uuid.uuid4(),
        payment_id=payment.id,
        unit_path=payment.unit_path,
        request_id=uuid.uuid4().hex,
        requested_by=principal.sub,
        created_at=now,
    )
    refund.amount_vnd = amount_vnd
    refund.reason = reason
    refund.status = "submitted"
    if proposal is None:
        session.add(refund)
    payment.refund_pending_vnd += amount_vnd
    await payments.advance(
        session,
        outbox,
        payment,
        PaymentAction.request_refund,
        principal.sub,
        now,
        note=reason,
        event_fields={"refund_id": refund.id, "refund_amount_vnd": amount_vnd},
    )
    return refund


async def approve(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    refund_id: uuid.UUID,
    *,
    amount_vnd: int | None,
    expected_available_vnd: int | None,
    now: dt.datetime,
) -> Refund:
    require(principal, Act.refund)
    proposal = await session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update())
    if proposal is None or not principal.covers(proposal.unit_path):
        raise errors.refund_not_found()
    if proposal.status != "proposed":
        raise errors.not_proposed()
    proposal.requested_by = principal.sub
    return await submit(
        session,
        outbox,
        principal,
        proposal.payment_id,
        amount_vnd=amount_vnd or proposal.amount_vnd,
        reason=proposal.reason,
        expected_available_vnd=expected_available_vnd,
        now=now,
        proposal=proposal,
    )


async def send(
    session: AsyncSession,
    settings: PaymentSettings,
    client: VnpayClient,
    refund: Refund,
    payment: Payment,
    now: dt.datetime,
) -> tuple[bool | None, str | None]:
    """Send the money back by the payment's method; (succeeded, gateway code). A gateway
    payment goes back through the gateway; cash and transfers are paid out by the finance
    officer who recorded the refund, so they complete at once."""
    if payment.method != "vnpay":
        return True, None
    payee = payees.payee(settings, payment.agency_code)
    terminal = Terminal(payment.tmn_code or payee.tmn_code, payee.hash_secret)
    try:
        sent, answer = await client.refund(
            terminal,
            request_id=refund.request_id,
            txn_ref=payment.reference,
            amount_vnd=refund.amount_vnd,
            full=refund.amount_vnd == taken(payment),
            transaction_no=payment.gateway_txn_no,
            transaction_date=payment.created_at,
            created_by=refund.requested_by,
            now=now,
        )
    except GatewayUnavailable as exc:
        log.warning("refund not answered", refund_id=str(refund.id), error=str(exc))
        callbacks.record(
            session,
            "vnpay_refund",
            {"refund_id": str(refund.id)},
            now,
            reference=payment.reference,
            payment_id=payment.id,
            outcome="unavailable",
        )
        # Unanswered is not refused: the gateway may have paid it out. The refund stays
        # submitted with its amount reserved until someone confirms, never released to be
        # refunded twice.
        return None, None
    code = str(answer.get("vnp_ResponseCode", ""))
    callbacks.record(
        session,
        "vnpay_refund",
        {"request": sent, "answer": answer},
        now,
        reference=payment.reference,
        payment_id=payment.id,
        signature_valid=True,
        outcome=code,
    )
    if code == "94":  # the same request is already being processed at the gateway
        return None, code
    return code == "00", code


async def finish(
    session: AsyncSession,
    outbox: Outbox,
    refund_id: uuid.UUID,
    succeeded: bool,
    code: str | None,
    now: dt.datetime,
) -> Refund:
    refund = await session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update())
    assert refund is not None
    payment = await payment_repository.locked_payment(session, refund.payment_id)
    assert payment is not None
    if refund.status != "submitted":
        return refund
    refund.status = "succeeded" if succeeded else "failed"
    refund.gateway_code = code
    refund.finished_at = now
    payment.refund_pending_vnd -= refund.amount_vnd
    if succeeded:
        payment.refunded_vnd += refund.amount_vnd
        full = payment.refunded_vnd >= taken(payment)
        await payments.advance(
            session,
            outbox,
            payment,
            PaymentAction.refund_fully if full else PaymentAction.refund_partially,
            refund.requested_by,
            now,
            event_fields={
                "refund_id": refund.id,
                "refund_amount_vnd": refund.amount_vnd,
                "refunded_total_vnd": payment.refunded_vnd,
            },
        )
    else:
        await payments.advance(
            session,
            outbox,
            payment,
            PaymentAction.refund_fail,
            refund.requested_by,
            now,
            event_fields={"refund_id": refund.id, "gateway_code": code},
        )
    return refund


# --------------------------------------------------------------------------- API side

STATUS_VI = {
    "proposed": "đề xuất hoàn tiền, chờ phê duyệt",
    "submitted": "đang hoàn tiền",
    "succeeded": "đã hoàn tiền",
    "failed": "hoàn tiền không thành công",
}


def refund_out(refund: Refund, payment: Payment) -> RefundOut:
    return RefundOut(
        id=refund.id,
        payment_id=refund.payment_id,
        dossier_code=payment.dossier_code,
        amount_vnd=refund.amount_vnd,
        reason=refund.reason,
        status=refund.status,
        status_vi=STATUS_VI.get(refund.status, refund.status),
        gateway_code=refund.gateway_code,
        proposed_reason=refund.proposed_reason,
        requested_by=refund.requested_by,
        created_at=refund.created_at,
        finished_at=refund.finished_at,
        payment_status=payment.status,
        refunded_vnd=payment.refunded_vnd,
        refundable_vnd=available(payment) if payment.status in PAID else 0,
    )


async def request_refund(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    payment_id: uuid.UUID,
    body: RefundCreate,
    now: dt.datetime,
) -> tuple[int, RefundOut]:
    """Transaction 1 of an officer's refund: the amount reserved, the refund submitted."""
    refund = await submit(
        session,
        outbox,
        principal,
        payment_id,
        amount_vnd=body.amount_vnd,
        reason=body.reason,
        expected_available_vnd=body.refund_amount_available_vnd,
        now=now,
    )
    await session.flush()
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None
    return 201, refund_out(refund, payment)


async def approve_proposal(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    refund_id: uuid.UUID,
    body: RefundApprove,
    now: dt.datetime,
) -> tuple[int, RefundOut]:
    """Transaction 1 of an approval: the system's proposal becomes a submitted refund."""
    refund = await approve(
        session,
        outbox,
        principal,
        refund_id,
        amount_vnd=body.amount_vnd,
        expected_available_vnd=body.refund_amount_available_vnd,
        now=now,
    )
    await session.flush()
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None
    return 201, refund_out(refund, payment)


async def complete(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    client: VnpayClient,
    refund_id: uuid.UUID,
    now: dt.datetime,
) -> RefundOut:
    """Transaction 2: send a submitted refund and apply the outcome; a refund already decided
    is only shown. The refund's row stays locked over the gateway call, so a twin request
    (a retry with the same Idempotency-Key) waits and then finds it decided, instead of
    sending it a second time; the payment is not locked meanwhile, so reading it never waits.
    Rows are re-read from the database (populate_existing): the session may still hold them
    as transaction 1 left them."""
    refund = await session.scalar(
        select(Refund)
        .where(Refund.id == refund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if refund is None:
        raise errors.refund_not_found()
    payment = await session.scalar(
        select(Payment)
        .where(Payment.id == refund.payment_id)
        .execution_options(populate_existing=True)
    )
    assert payment is not None
    if refund.status == "submitted":
        succeeded, code = await send(session, settings, client, refund, payment, now)
        if succeeded is None:
            await raise_exception(
                session,
                payment,
                kind="refund_unconfirmed",
                source_key=f"refund:{refund.id}",
                unit_path=payment.unit_path,
                agency_code=payment.agency_code,
                expected_vnd=refund.amount_vnd,
                received_vnd=None,
                detail="the gateway gave no answer to the refund; check it before retrying",
                at=now,
            )
            return refund_out(refund, payment)
        payment = await session.scalar(
            select(Payment)
            .where(Payment.id == refund.payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert payment is not None
        refund = await finish(session, outbox, refund.id, succeeded, code, now)
        await session.flush()
    return refund_out(refund, payment)


def _visible(principal: Principal) -> ColumnElement[bool]:
    dossier = select(Payment.dossier_id).where(Payment.id == Refund.payment_id).scalar_subquery()
    return scope(Refund.unit_path, dossier, principal)


async def read_refund(
    session: AsyncSession, principal: Principal, refund_id: uuid.UUID
) -> RefundOut:
    require(principal, Act.view)
    row = (
        await session.execute(
            select(Refund, Payment)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.id == refund_id, _visible(principal))
        )
    ).first()
    if row is None:
        raise errors.refund_not_found()
    return refund_out(row[0], row[1])


REFUND_ORDER = Keyset(columns=(Refund.created_at, Refund.id))


async def list_refunds(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    payment_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> RefundPage:
    require(principal, Act.view)
    query = (
        select(Refund, Payment)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(_visible(principal))
    )
    if status:
        query = query.where(Refund.status == status)
    if payment_id:
        query = query.where(Refund.payment_id == payment_id)
    rows = (await session.execute(REFUND_ORDER.apply(query, cursor, limit))).tuples().all()
    page, next_cursor = REFUND_ORDER.page(rows, limit, lambda r: (r[0].created_at, r[0].id))
    return RefundPage(
        items=[refund_out(refund, payment) for refund, payment in page], next_cursor=next_cursor
    )


async def stalled(session: AsyncSession, before: dt.datetime, limit: int) -> list[uuid.UUID]:
    """Refunds still submitted since before ``before``: a crash between the two transactions,
    or a gateway that gave no answer."""
    # One that the gateway left unanswered is a person's now (its exception is open).
    asked = select(PaymentException.id).where(
        PaymentException.kind == "refund_unconfirmed",
        PaymentException.source_key == func.concat("refund:", Refund.id),
    )
    rows = await session.scalars(
        select(Refund.id)
        .where(Refund.status == "submitted", Refund.created_at < before, ~asked.exists())
        .order_by(Refund.created_at)
        .limit(limit)
    )
    return list(rows)
