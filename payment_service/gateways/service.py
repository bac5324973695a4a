"""What the gateway tells us, applied: the IPN (server to server, the only message that moves
money on our side), the browser return (shows, never changes), and querydr answers from the
mop-up job. One function decides for all three sources what a gateway result does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TypeGuard

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common import callbacks
from payment_service.common.exception_items import raise_exception
from payment_service.db.models import Payment
from payment_service.domain import payees, vnpay
from payment_service.domain.states import OPEN, PaymentAction, PaymentStatus
from payment_service.payments import repository
from payment_service.payments import service as payments
from payment_service.refunds import service as refunds
from payment_service.settings import PaymentSettings
from shared.messaging.outbox import Outbox

log = structlog.get_logger(__name__)

# Final states a late success can still turn into succeeded_late: the money was taken.
_LATE_FROM = frozenset({PaymentStatus.expired, PaymentStatus.failed, PaymentStatus.cancelled})


def is_reference(value: str | None) -> TypeGuard[str]:
    """Our references are short and alphanumeric; anything else is looked up nowhere."""
    return value is not None and 0 < len(value) <= 32 and value.isascii() and value.isalnum()


def _paid_at(result: vnpay.GatewayResult, payment: Payment, now: dt.datetime) -> dt.datetime:
    """The gateway's pay date counts in whole seconds; money cannot have come before the
    payment existed, so the instant is never set before its creation (workflow compares it
    with the instant a case paused)."""
    return max(result.paid_at or now, payment.created_at)


async def apply_result(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    payment: Payment,
    result: vnpay.GatewayResult,
    *,
    actor: str,
    now: dt.datetime,
) -> str:
    """Apply a verified gateway result to a locked payment; the IPN code it deserves."""
    if result.amount_vnd != payment.amount_vnd:
        if result.succeeded and payment.status in OPEN | _LATE_FROM:
            payment.received_vnd = result.amount_vnd
            payment.gateway_txn_no = result.transaction_no
            await payments.advance(
                session,
                outbox,
                payment,
                PaymentAction.mismatch,
                actor,
                now,
                note=f"gateway reports {result.amount_vnd} VND",
                event_fields={"received_vnd": result.amount_vnd or 0},
            )
        if result.succeeded:
            # VNPay keeps the payment as successful whatever we answer: the money must be
            # refunded or the balance asked for, by a person.
            await raise_exception(
                session,
                payment,
                kind="amount_mismatch",
                source_key=f"vnpay:{payment.reference}:{result.transaction_no}",
                unit_path=payment.unit_path,
                agency_code=payment.agency_code,
                expected_vnd=payment.amount_vnd,
                received_vnd=result.amount_vnd,
                detail="the gateway took another amount than the payment asked for",
                at=now,
            )
        return "04"
    if result.response_code == "07" and payment.status in OPEN:
        # Money taken but held as suspected by the gateway: not paid, not failed; the merchant
        # decides in the gateway's portal, and the mop-up hears the outcome.
        await raise_exception(
            session,
            payment,
            kind="suspected",
            source_key=f"vnpay07:{payment.reference}",
            unit_path=payment.unit_path,
            agency_code=payment.agency_code,
            expected_vnd=payment.amount_vnd,
            received_vnd=result.amount_vnd,
            detail="the gateway took the money but holds the transaction as suspected (07)",
            at=now,
        )
        return "00"
    if result.succeeded and payment.status in OPEN | _LATE_FROM:
        late = payment.status not in OPEN
        await payments.succeed(
            session,
            outbox,
            settings,
            payment,
            actor=actor,
            paid_at=_paid_at(result, payment, now),
            at=now,
            strict_receipt=False,
            gateway_txn_no=result.transaction_no,
            bank_code=result.bank_code,
            note="money taken after the payment had ended" if late else None,
        )
        await propose_late_refund_if_settled(session, payment, now)
        return "00"
    if payment.status in OPEN:
        await payments.advance(
            session,
            outbox,
            payment,
            PaymentAction.fail,
            actor,
            now,
            note=f"response {result.response_code}, status {result.transaction_status}",
            event_fields={"gateway_code": result.response_code},
        )
        return "00"
    return "02"


async def propose_late_refund_if_settled(
    session: AsyncSession, payment: Payment, now: dt.datetime
) -> None:
    """Money for a request that no longer wanted it: settled by another payment meanwhile
    (paid twice) or cancelled with its dossier. Either way it goes back to the payer: a refund
    is proposed to finance, and a paid-twice case also shows in the exception list."""
    request = await repository.locked_request(session, payment.request_id)
    if request is None:
        return
    if request.status == "cancelled":
        await refunds.propose(session, payment, "cancelled", now)
    elif await repository.settled_by_another(session, request.id, payment.id):
        await raise_exception(
            session,
            payment,
            kind="paid_twice",
            source_key=f"twice:{payment.id}",
            unit_path=payment.unit_path,
            agency_code=payment.agency_code,
            expected_vnd=0,
            received_vnd=payment.amount_vnd,
            detail="the request was already paid by another payment: refund this one",
            at=now,
        )
        await refunds.propose(session, payment, "paid_twice", now)


async def handle_ipn(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    params: Mapping[str, str],
    now: dt.datetime,
) -> dict[str, str]:
    """checksum → find → amount → state → update, in the caller's one transaction; every
    IPN is recorded with its answer, forged ones included."""
    reference = params.get("vnp_TxnRef")
    secret = payees.secret_for_terminal(settings, params.get("vnp_TmnCode", ""))
    if secret is None or not vnpay.verify(secret, params):
        answer = vnpay.ipn_answer("97")
        log.warning("IPN with an invalid signature", reference=reference)
        callbacks.record(
            session,
            "vnpay_ipn",
            params,
            now,
            reference=reference,
            signature_valid=False,
            answer=answer,
            outcome="invalid_signature",
        )
        return answer
    payment = (
        await repository.payment_by_reference(session, reference, lock=True)
        if is_reference(reference)
        else None
    )
    if payment is not None and payment.tmn_code and payment.tmn_code != params.get("vnp_TmnCode"):
        # Signed, but by another agency's terminal: one leaked secret must not settle every
        # agency's payments.
        answer = vnpay.ipn_answer("97")
        callbacks.record(
            session,
            "vnpay_ipn",
            params,
            now,
            reference=reference,
            payment_id=payment.id,
            signature_valid=False,
            answer=answer,
            outcome="wrong_terminal",
        )
        return answer
    if payment is None:
        code = "01"
    else:
        code = await apply_result(
            session,
            outbox,
            settings,
            payment,
            vnpay.result_from_params(params),
            actor="vnpay",
            now=now,
        )
    answer = vnpay.ipn_answer(code)
    callbacks.record(
        session,
        "vnpay_ipn",
        params,
        now,
        reference=reference,
        payment_id=payment.id if payment else None,
        signature_valid=True,
        answer=answer,
        outcome=payment.status if payment else "not_found",
    )
    return answer


async def answer_ipn(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    params: Mapping[str, str],
    now: dt.datetime,
) -> dict[str, str]:
    """The IPN's answer, always one VNPay understands. This owns its transaction rather than
    leaving the commit to the route: a failure must roll the IPN's work back whole and still be
    answered (99, so VNPay calls again), and the route would commit whatever was half done
    before the failure."""
    try:
        async with session.begin():
            return await handle_ipn(session, outbox, settings, params, now)
    except Exception:
        # 99 makes VNPay call again; the rolled-back transaction left nothing half-done.
        log.exception("IPN failed", reference=params.get("vnp_TxnRef"))
        return {"RspCode": "99", "Message": "Unknown error"}


async def check_return(
    session: AsyncSession, settings: PaymentSettings, params: Mapping[str, str], now: dt.datetime
) -> tuple[bool, Payment | None]:
    """The browser's return: whether its signature holds, and the payment as WE know it."""
    secret = payees.secret_for_terminal(settings, params.get("vnp_TmnCode", ""))
    valid = secret is not None and vnpay.verify(secret, params)
    reference = params.get("vnp_TxnRef") or ""
    payment = (
        await repository.payment_by_reference(session, reference)
        if valid and is_reference(reference)
        else None
    )
    callbacks.record(
        session,
        "vnpay_return",
        params,
        now,
        reference=reference,
        payment_id=payment.id if payment else None,
        signature_valid=valid,
        outcome=payment.status if payment else None,
    )
    return valid, payment
