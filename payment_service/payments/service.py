"""The core of every payment, whatever the method: state changes through the one table in
``domain.states``, each written with its history row and its outbox event in the caller's
transaction, and what success means (request settled, receipt numbered, dossier told).

Services flush, never commit: the route or the worker that called owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.common.access import require
from payment_service.db.models import Payment, PaymentRequest, PaymentTransition, Receipt
from payment_service.domain import payees, vietqr, vnpay
from payment_service.domain.authority import Act
from payment_service.domain.states import (
    OPEN,
    PaymentAction,
    PaymentStatus,
    TransitionNotAllowed,
    transition,
)
from payment_service.payments import errors, repository
from payment_service.payments.schemas import (
    GatewayPaymentCreate,
    PaymentOut,
    PaymentPage,
    PaymentRequestOut,
    PaymentRequestPage,
    QrOut,
)
from payment_service.payments.views import payment_out
from payment_service.receipts import repository as receipts_repository
from payment_service.receipts import service as receipts
from payment_service.settings import PaymentSettings
from shared.auth import Principal
from shared.events import (
    PaymentAmountMismatch,
    PaymentCancelled,
    PaymentCreated,
    PaymentExpired,
    PaymentFailed,
    PaymentPending,
    PaymentRefunded,
    PaymentRefundFailed,
    PaymentRefundRequested,
    PaymentRequestClosed,
    PaymentSucceeded,
    PaymentVoided,
)
from shared.events.base import Event
from shared.events.payments import PaymentChanged
from shared.messaging.outbox import Outbox

_EVENTS: dict[str, type[PaymentChanged]] = {
    "payment.pending": PaymentPending,
    "payment.failed": PaymentFailed,
    "payment.expired": PaymentExpired,
    "payment.cancelled": PaymentCancelled,
    "payment.amount_mismatch": PaymentAmountMismatch,
    "payment.refund_requested": PaymentRefundRequested,
    "payment.refunded": PaymentRefunded,
    "payment.refund_failed": PaymentRefundFailed,
    "payment.voided": PaymentVoided,
}
ONLINE_METHODS = frozenset({"vnpay", "vietqr"})
# Reference alphabet: no 0/O or 1/I, so a citizen reading it aloud or typing it into a bank
# app's memo cannot get it wrong.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference(prefix: str = "MC") -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def _changed_fields(payment: Payment, at: dt.datetime) -> dict[str, Any]:
    return {
        "payment_id": payment.id,
        "request_id": payment.request_id,
        "dossier_id": payment.dossier_id,
        "dossier_code": payment.dossier_code,
        "unit_path": payment.unit_path,
        "purpose": payment.purpose,
        "method": payment.method,
        "status": payment.status,
        "amount_vnd": payment.amount_vnd,
        "at": at,
    }


async def advance(
    session: AsyncSession,
    outbox: Outbox,
    payment: Payment,
    action: PaymentAction,
    actor: str,
    at: dt.datetime,
    *,
    note: str | None = None,
    event_fields: dict[str, Any] | None = None,
) -> None:
    """Move ``payment`` by ``action``: history row, new status, version, and its event."""
    try:
        step = transition(payment.status, action)
    except TransitionNotAllowed as exc:
        raise errors.transition_refused(payment.status, action) from exc
    session.add(
        PaymentTransition(
            payment_id=payment.id,
            action=action,
            from_status=payment.status,
            to_status=step.target,
            actor=actor,
            at=at,
            note=note,
        )
    )
    payment.status = step.target
    payment.version += 1
    if step.target not in OPEN:
        payment.next_check_at = None
        payment.finished_at = payment.finished_at or at
    event: Event
    if step.event == "payment.succeeded":
        event = PaymentSucceeded(
            payment_id=payment.id,
            fee_request_id=payment.request_id if payment.purpose == "fee" else None,
            request_id=payment.request_id,
            dossier_id=payment.dossier_id,
            dossier_code=payment.dossier_code,
            unit_path=payment.unit_path,
            purpose=payment.purpose,
            amount_vnd=payment.amount_vnd,
            online=payment.online,
            paid_at=payment.paid_at or at,
            method=payment.method,
            late=step.target == PaymentStatus.succeeded_late,
        )
    else:
        event = _EVENTS[step.event](**_changed_fields(payment, at), **(event_fields or {}))
    await outbox.add(session, event, subject=payment.dossier_code)


@dataclass
class NewPayment:
    request: PaymentRequest
    method: str
    actor: str
    at: dt.datetime
    online: bool
    expires_at: dt.datetime | None = None
    payer: dict[str, Any] | None = None
    recorded_by: str | None = None
    note: str | None = None
    reference_prefix: str = "MC"


async def create(session: AsyncSession, outbox: Outbox, new: NewPayment) -> Payment:
    """A payment row in ``created``, with its history row and ``payment.created``; it exists
    before any pay URL or QR leaves the building, so an early callback always finds it."""
    request = new.request
    payment = Payment(
        id=uuid.uuid4(),
        request_id=request.id,
        dossier_id=request.dossier_id,
        dossier_code=request.dossier_code,
        unit_path=request.unit_path,
        purpose=request.purpose,
        agency_code=request.agency_code,
        method=new.method,
        online=new.online,
        status=PaymentStatus.created,
        amount_vnd=request.amount_vnd - request.paid_vnd,
        refunded_vnd=0,
        refund_pending_vnd=0,
        reference=new_reference(new.reference_prefix),
        payer=new.payer,
        recorded_by=new.recorded_by,
        note=new.note,
        created_by=new.actor,
        created_at=new.at,
        expires_at=new.expires_at,
        checks=0,
        version=1,
    )
    session.add(payment)
    session.add(
        PaymentTransition(
            payment_id=payment.id,
            action="create",
            from_status=None,
            to_status=PaymentStatus.created,
            actor=new.actor,
            at=new.at,
            note=new.note,
        )
    )
    await session.flush()
    await outbox.add(
        session, PaymentCreated(**_changed_fields(payment, new.at)), subject=payment.dossier_code
    )
    return payment


async def close_request(
    session: AsyncSession,
    outbox: Outbox,
    request: PaymentRequest,
    status: Literal["paid", "cancelled"],
    at: dt.datetime,
) -> None:
    """A request ends, paid in full or cancelled with its dossier, and says so."""
    request.status = status
    request.closed_at = at
    request.version += 1
    await outbox.add(
        session,
        PaymentRequestClosed(
            request_id=request.id,
            dossier_id=request.dossier_id,
            dossier_code=request.dossier_code,
            unit_path=request.unit_path,
            purpose=request.purpose,
            status=status,
            closed_at=at,
        ),
        subject=request.dossier_code,
    )


async def succeed(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    payment: Payment,
    *,
    actor: str,
    paid_at: dt.datetime,
    at: dt.datetime,
    strict_receipt: bool,
    gateway_txn_no: str | None = None,
    bank_code: str | None = None,
    note: str | None = None,
) -> Receipt | None:
    """The money is ours: the payment succeeds (late when it had expired, failed or been
    cancelled meanwhile), the request is settled, the receipt numbered."""
    action = PaymentAction.succeed if payment.status in OPEN else PaymentAction.succeed_late
    payment.paid_at = paid_at
    payment.received_vnd = payment.amount_vnd
    payment.gateway_txn_no = gateway_txn_no or payment.gateway_txn_no
    payment.bank_code = bank_code or payment.bank_code
    await advance(session, outbox, payment, action, actor, at, note=note)
    request = await repository.locked_request(session, payment.request_id)
    assert request is not None
    if request.status == "open":
        request.paid_vnd += payment.amount_vnd
        if request.paid_vnd >= request.amount_vnd:
            await close_request(session, outbox, request, "paid", at)
    # A late payment on a request already paid another way is still receipted: the money was
    # taken, and the refund that follows refers to this receipt.
    return await receipts.issue(
        session, outbox, settings, payment, request.lines, at, strict=strict_receipt
    )


async def open_request_for(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, act: Act
) -> PaymentRequest:
    require(principal, act)
    request = await repository.visible_request(session, request_id, principal, lock=True)
    if request is None:
        raise errors.request_not_found()
    if request.status != "open":
        raise errors.request_closed(request.status)
    return request


@dataclass
class StartedPayment:
    payment: Payment
    pay_url: str | None = None


async def start_gateway_payment(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    principal: Principal,
    request_id: uuid.UUID,
    *,
    client_ip: str,
    locale: str,
    bank_code: str | None,
    now: dt.datetime,
) -> StartedPayment:
    """A VNPay payment: the row first, then the signed pay URL the browser is sent to."""
    request = await open_request_for(session, principal, request_id, Act.pay_online)
    payee = payees.payee(settings, request.agency_code)
    if not payee.tmn_code or not payee.hash_secret:
        raise errors.gateway_not_configured(request.agency_code)
    existing = await repository.open_payment_of(session, request.id, "vnpay", now)
    payment = existing or await create(
        session,
        outbox,
        NewPayment(
            request,
            "vnpay",
            principal.sub,
            now,
            online=True,
            expires_at=now + dt.timedelta(seconds=settings.payment_ttl_s),
        ),
    )
    if existing is None:
        payment.tmn_code = payee.tmn_code
        payment.next_check_at = now + dt.timedelta(seconds=settings.mopup_after_s)
        await advance(session, outbox, payment, PaymentAction.issue, principal.sub, now)
    assert payment.expires_at is not None
    url = vnpay.pay_url(
        settings.vnpay_pay_url,
        payee.hash_secret,
        vnpay.PayRequest(
            tmn_code=payee.tmn_code,
            txn_ref=payment.reference,
            amount_vnd=payment.amount_vnd,
            order_info=f"Thanh toan {purpose_text(payment.purpose)} ho so {payment.dossier_code}",
            return_url=settings.vnpay_return_url,
            ip_addr=client_ip,
            created_at=payment.created_at,
            expires_at=payment.expires_at,
            locale=locale,
            bank_code=bank_code,
        ),
    )
    return StartedPayment(payment, url)


def purpose_text(purpose: str) -> str:
    return "nghia vu tai chinh" if purpose == "financial_obligation" else "phi le phi"


@dataclass
class TransferInstructions:
    payload: str
    bank_bin: str
    account_no: str
    account_name: str
    purpose: str


def transfer_purpose(payment: Payment) -> str:
    """Tag 62/08: the reference first, so a memo cut short by a bank app still carries it."""
    label = "NVTC" if payment.purpose == "financial_obligation" else "LE PHI"
    return f"{payment.reference} {label}"


def transfer_instructions(settings: PaymentSettings, payment: Payment) -> TransferInstructions:
    payee = payees.payee(settings, payment.agency_code)
    purpose = transfer_purpose(payment)
    payload = vietqr.encode(
        vietqr.VietQR(
            bank_bin=payee.bank_bin,
            account=payee.account_no,
            amount_vnd=payment.amount_vnd,
            purpose=purpose,
        )
    )
    return TransferInstructions(
        payload, payee.bank_bin, payee.account_no, payee.account_name, purpose
    )


async def start_transfer_payment(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    principal: Principal,
    request_id: uuid.UUID,
    *,
    now: dt.datetime,
) -> StartedPayment:
    """A VietQR transfer: a dynamic QR with the amount and a short reference. Nothing calls
    back; the bank's credit notice or statement settles it."""
    request = await open_request_for(session, principal, request_id, Act.pay_online)
    existing = await repository.open_payment_of(session, request.id, "vietqr", now)
    if existing is not None:
        return StartedPayment(existing)
    payment = await create(
        session,
        outbox,
        NewPayment(
            request,
            "vietqr",
            principal.sub,
            now,
            online=True,
            expires_at=now + dt.timedelta(seconds=settings.transfer_ttl_s),
            reference_prefix="HS",
        ),
    )
    payment.next_check_at = payment.expires_at
    await advance(session, outbox, payment, PaymentAction.issue, principal.sub, now)
    return StartedPayment(payment)


# --------------------------------------------------------------------------- reads


async def read_payment(
    session: AsyncSession, settings: PaymentSettings, principal: Principal, payment_id: uuid.UUID
) -> PaymentOut:
    require(principal, Act.view)
    payment = await repository.visible_payment(session, payment_id, principal)
    if payment is None:
        raise errors.payment_not_found()
    return await view(session, settings, payment, with_history=True)


async def view(
    session: AsyncSession,
    settings: PaymentSettings,
    payment: Payment,
    *,
    with_history: bool = False,
    pay_url: str | None = None,
    receipt_id: uuid.UUID | None = None,
    look_up_receipt: bool = True,
) -> PaymentOut:
    if look_up_receipt:
        receipt = await receipts_repository.receipt_of_payment(session, payment.id)
        receipt_id = receipt.id if receipt else None
    qr = None
    if payment.method == "vietqr":
        qr_data = transfer_instructions(settings, payment)
        base = f"/v1/payments/{payment.id}/qr"
        qr = QrOut(
            payload=qr_data.payload,
            bank_bin=qr_data.bank_bin,
            account_no=qr_data.account_no,
            account_name=qr_data.account_name,
            purpose=qr_data.purpose,
            png_url=f"{base}.png",
            svg_url=f"{base}.svg",
        )
    history = await repository.history(session, payment.id) if with_history else ()
    return payment_out(payment, history=history, pay_url=pay_url, qr=qr, receipt_id=receipt_id)


async def list_payments(
    session: AsyncSession,
    settings: PaymentSettings,
    principal: Principal,
    *,
    dossier_id: uuid.UUID | None,
    dossier_code: str | None,
    status: str | None,
    method: str | None,
    cursor: str | None,
    limit: int,
) -> PaymentPage:
    require(principal, Act.view)
    rows = await repository.list_payments(
        session,
        principal,
        dossier_id=dossier_id,
        dossier_code=dossier_code,
        status=status,
        method=method,
        cursor=cursor,
        limit=limit,
    )
    page, next_cursor = repository.PAYMENT_ORDER.page(rows, limit, lambda r: (r.created_at, r.id))
    # One query for the page's receipts, not one per payment.
    receipt_ids = await receipts_repository.receipt_ids_of(session, [p.id for p in page])
    items = [
        await view(session, settings, p, receipt_id=receipt_ids.get(p.id), look_up_receipt=False)
        for p in page
    ]
    return PaymentPage(items=items, next_cursor=next_cursor)


async def read_request(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> PaymentRequestOut:
    require(principal, Act.view)
    request = await repository.visible_request(session, request_id, principal)
    if request is None:
        raise errors.request_not_found()
    return PaymentRequestOut.model_validate(request)


async def list_requests(
    session: AsyncSession,
    principal: Principal,
    *,
    dossier_id: uuid.UUID | None,
    dossier_code: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> PaymentRequestPage:
    require(principal, Act.view)
    rows = await repository.list_requests(
        session,
        principal,
        dossier_id=dossier_id,
        dossier_code=dossier_code,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    page, next_cursor = repository.REQUEST_ORDER.page(rows, limit, lambda r: (r.created_at, r.id))
    return PaymentRequestPage(
        items=[PaymentRequestOut.model_validate(r) for r in page], next_cursor=next_cursor
    )


async def start(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    principal: Principal,
    body: GatewayPaymentCreate,
    *,
    client_ip: str,
    now: dt.datetime,
) -> tuple[int, PaymentOut]:
    """Start paying by the chosen online method; 201 with the pay URL or the QR."""
    if body.method == "vnpay":
        started = await start_gateway_payment(
            session,
            outbox,
            settings,
            principal,
            body.request_id,
            client_ip=client_ip,
            locale=body.locale,
            bank_code=body.bank_code,
            now=now,
        )
    else:
        started = await start_transfer_payment(
            session, outbox, settings, principal, body.request_id, now=now
        )
    return 201, await view(session, settings, started.payment, pay_url=started.pay_url)


async def qr_image(
    session: AsyncSession,
    settings: PaymentSettings,
    principal: Principal,
    payment_id: uuid.UUID,
    kind: str,
) -> bytes:
    require(principal, Act.view)
    payment = await repository.visible_payment(session, payment_id, principal)
    if payment is None or payment.method != "vietqr":
        raise errors.payment_not_found()
    payload = transfer_instructions(settings, payment).payload
    return vietqr.qr_png(payload) if kind == "png" else vietqr.qr_svg(payload)
