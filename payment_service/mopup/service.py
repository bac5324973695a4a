"""Never stuck: payments whose IPN never came are asked about at the gateway (querydr) with a
doubling back-off until they end; a payment is expired only after the gateway says no money
was taken, so money taken late becomes ``succeeded_late``, never ``expired``.

Each round claims its payments in one short transaction, asks the gateway with no lock held,
then applies each answer in its own transaction under the payment's row lock, through the same
function the IPN uses. A crash anywhere leaves the payment to the next round.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import cast

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payment_service.common import callbacks
from payment_service.db.models import Payment, PaymentException
from payment_service.domain import payees, vnpay
from payment_service.domain.states import OPEN, PaymentAction
from payment_service.gateways import service as gateway
from payment_service.gateways.vnpay_client import GatewayUnavailable, Terminal, VnpayClient
from payment_service.payments import repository
from payment_service.payments import service as payments
from payment_service.receipts import service as receipts
from payment_service.refunds import service as refunds
from payment_service.settings import PaymentSettings
from shared.messaging.outbox import Outbox
from shared.runtime import Runtime, Worker

log = structlog.get_logger(__name__)


async def _expire(
    session: AsyncSession, outbox: Outbox, payment: Payment, now: dt.datetime, why: str
) -> None:
    await payments.advance(session, outbox, payment, PaymentAction.expire, "mopup", now, note=why)


async def settle(
    sessionmaker: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    settings: PaymentSettings,
    client: VnpayClient,
    claimed: Payment,
    now: dt.datetime,
) -> None:
    answer: dict[str, object] | None = None
    if claimed.method == "vnpay":
        payee = payees.payee(settings, claimed.agency_code)
        terminal = Terminal(claimed.tmn_code or payee.tmn_code, payee.hash_secret)
        try:
            _, answer = await client.querydr(terminal, claimed.reference, claimed.created_at, now)
        except GatewayUnavailable as exc:
            log.warning("querydr failed", reference=claimed.reference, error=str(exc))
            return
    async with sessionmaker() as session, session.begin():
        payment = await repository.locked_payment(session, claimed.id)
        if payment is None or payment.status not in OPEN:
            return
        expired = payment.expires_at is not None and payment.expires_at <= now
        if answer is None:  # a transfer: nobody to ask; the bank's credit may still come
            if expired:
                await _expire(session, outbox, payment, now, "transfer not received in time")
            return
        code = str(answer.get("vnp_ResponseCode", ""))
        callbacks.record(
            session,
            "vnpay_querydr",
            dict(answer),
            now,
            reference=payment.reference,
            payment_id=payment.id,
            signature_valid=code == "00",
            outcome=code,
        )
        if code == "00":
            result = vnpay.result_from_params({k: str(v) for k, v in answer.items()})
            # 07: money taken and held as suspected; it stays pending until the gateway decides.
            undecided = result.still_open or result.transaction_status in ("", "07")
            if result.succeeded or not undecided:
                await gateway.apply_result(
                    session, outbox, settings, payment, result, actor="mopup", now=now
                )
            elif expired and result.still_open:
                await _expire(session, outbox, payment, now, "gateway: not completed")
        elif code == "91" and expired:
            # The gateway never saw it: the payer never reached the pay page.
            await _expire(session, outbox, payment, now, "gateway: transaction not found")


async def issue_pending_receipts(
    session: AsyncSession, outbox: Outbox, settings: PaymentSettings, now: dt.datetime
) -> None:
    """Receipts owed for money that came while no number was left: issued once a range is."""
    pending = (
        await session.scalars(
            select(PaymentException)
            .where(PaymentException.kind == "receipt_pending", PaymentException.status == "open")
            .limit(50)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for item in pending:
        if item.payment_id is None:
            continue
        payment = await repository.locked_payment(session, item.payment_id)
        request = await repository.locked_request(session, payment.request_id) if payment else None
        if payment is None or request is None:
            continue
        receipt = await receipts.issue(
            session, outbox, settings, payment, request.lines, now, strict=False
        )
        if receipt is not None:
            item.status = "resolved"
            item.resolved_at = now
            item.resolved_by = "system"
            item.resolution = f"receipt {receipt.symbol} {receipt.number:07d}"


async def run_round(
    sessionmaker: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    settings: PaymentSettings,
    client: VnpayClient,
    now: dt.datetime,
) -> int:
    async with sessionmaker() as session, session.begin():
        claimed = await repository.claim_due_checks(
            session,
            now,
            settings.mopup_batch_size,
            settings.mopup_after_s,
            settings.mopup_backoff_max_s,
        )
        session.expunge_all()
    await asyncio.gather(*(settle(sessionmaker, outbox, settings, client, p, now) for p in claimed))
    async with sessionmaker() as session, session.begin():
        await issue_pending_receipts(session, outbox, settings, now)
    await redrive_refunds(sessionmaker, outbox, settings, client, now)
    return len(claimed)


async def redrive_refunds(
    sessionmaker: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    settings: PaymentSettings,
    client: VnpayClient,
    now: dt.datetime,
) -> None:
    """Send again what was submitted and never decided. The same gateway request id goes
    again, so a refund the gateway did carry out is answered as a duplicate (94) and stays
    for a person, never paid twice."""
    async with sessionmaker() as session, session.begin():
        before = now - dt.timedelta(seconds=settings.mopup_after_s)
        ids = await refunds.stalled(session, before, settings.mopup_batch_size)
    for refund_id in ids:
        async with sessionmaker() as session, session.begin():
            await refunds.complete(session, outbox, settings, client, refund_id, now)


def make_worker(clock: Callable[[], dt.datetime]) -> Worker:
    async def mopup(runtime: Runtime) -> None:
        settings = cast(PaymentSettings, runtime.settings)
        client = VnpayClient.from_settings(settings)
        while True:
            try:
                await run_round(runtime.sessionmaker, runtime.outbox, settings, client, clock())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database or gateway outage: try again next round
                log.warning("mop-up round failed", error=repr(exc))
            await asyncio.sleep(settings.mopup_interval_s)

    return mopup
