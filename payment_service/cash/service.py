"""The cash desk: money taken at the counter (cash, or paid on behalf of the applicant), a
collection recorded by mistake voided by a second officer, and the officer's daily close
(chốt quỹ).

A desk payment is created and succeeds in the transaction that records it, with its receipt
numbered strictly: when the agency has no number left the whole collection rolls back with a
409, so no money is ever recorded at the desk without its receipt. Days are Vietnam days.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.cash import errors, repository
from payment_service.cash.repository import DESK_METHODS
from payment_service.cash.schemas import (
    CashCloseCreate,
    CashCloseOut,
    CashClosePage,
    CashPaymentCreate,
    CashPaymentOut,
    CountedPayment,
    PayerOut,
)
from payment_service.common.access import is_officer, require
from payment_service.db.models import CashClose, Payment, Receipt
from payment_service.domain.authority import Act
from payment_service.domain.states import PaymentAction, PaymentStatus, allowed
from payment_service.payments import errors as payment_errors
from payment_service.payments import repository as payment_repository
from payment_service.payments import service as payments
from payment_service.receipts import repository as receipt_repository
from payment_service.receipts import service as receipts
from payment_service.settings import PaymentSettings
from shared.auth import Principal, Role, applicant_ref
from shared.calendar import VN_TZ
from shared.errors import forbidden
from shared.http.preconditions import precondition_failed
from shared.messaging.outbox import Outbox

PAID_VIA_VI = {"cash": "tiền mặt", "transfer": "chuyển khoản", "card": "thẻ"}


def vn_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(VN_TZ).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=VN_TZ)
    return start, start + dt.timedelta(days=1)


def _payer_out(payment: Payment) -> PayerOut | None:
    # The stored payer also holds ``ref`` (a pseudonym for matching); the API shows the rest.
    if not payment.payer:
        return None
    return PayerOut(
        name=str(payment.payer.get("name") or ""),
        id_masked=str(payment.payer.get("id_masked") or ""),
        relation=payment.payer.get("relation"),
    )


async def _out(
    session: AsyncSession,
    settings: PaymentSettings,
    payment: Payment,
    receipt: Receipt | None,
) -> CashPaymentOut:
    view = await payments.view(
        session,
        settings,
        payment,
        with_history=True,
        receipt_id=receipt.id if receipt else None,
        look_up_receipt=False,
    )
    return CashPaymentOut.model_validate(
        {
            **view.model_dump(),
            "payer": _payer_out(payment),
            "receipt": receipts.receipt_out(receipt) if receipt else None,
        }
    )


async def record(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    principal: Principal,
    request_id: uuid.UUID,
    body: CashPaymentCreate,
    now: dt.datetime,
) -> tuple[int, CashPaymentOut]:
    """Money taken at the desk: the payment, its success and its receipt, all at once."""
    request = await payments.open_request_for(session, principal, request_id, Act.record_cash)
    today = vn_day(now)
    await repository.lock_desk(session, principal.sub, today, exclusive=False)
    # A closed day stays closed: money taken after the count would belong to no close.
    if await repository.close_of(session, principal.sub, today) is not None:
        raise errors.desk_closed(today)
    owed = request.amount_vnd - request.paid_vnd
    if body.amount_vnd != owed:
        raise payment_errors.wrong_amount(owed, body.amount_vnd)
    payer = None
    if body.payer is not None:
        ref = applicant_ref(body.payer.id_number, settings.applicant_ref_key.get_secret_value())
        if body.method == "on_behalf" and ref == await repository.applicant_ref_of(
            session, request.dossier_id
        ):
            raise errors.payer_is_applicant()
        payer = {
            "name": body.payer.name,
            # The masked number only: beside a hash of the full one it would be reversible.
            "id_masked": receipts.masked(body.payer.id_number),
            "relation": body.payer.relation,
        }
    # Paid on behalf by transfer or card is money that did not cross the counter: it counts
    # as online, as the national indicator of online payment counts it.
    online = body.method == "on_behalf" and body.paid_via != "cash"
    payment = await payments.create(
        session,
        outbox,
        payments.NewPayment(
            request,
            body.method,
            principal.sub,
            now,
            online=online,
            payer=payer,
            recorded_by=principal.sub,
            note=body.reason,
        ),
    )
    receipt = await payments.succeed(
        session,
        outbox,
        settings,
        payment,
        actor=principal.sub,
        paid_at=now,
        at=now,
        strict_receipt=True,
        note=f"thu tại quầy: {PAID_VIA_VI[body.paid_via]}",
    )
    return 201, await _out(session, settings, payment, receipt)


async def void(
    session: AsyncSession,
    outbox: Outbox,
    settings: PaymentSettings,
    principal: Principal,
    payment_id: uuid.UUID,
    *,
    version: int,
    reason: str,
    now: dt.datetime,
) -> CashPaymentOut:
    """A desk collection recorded by mistake: voided by another officer, its receipt
    cancelled (the number stays used), its request open again."""
    require(principal, Act.void)
    # Payment before request: the order every path that settles money locks them in (IPN,
    # mop-up, bank credit, dossier closed), so no two of them wait on each other crosswise.
    payment = await payment_repository.visible_payment(session, payment_id, principal, lock=True)
    if payment is None:
        raise payment_errors.payment_not_found()
    request = await payment_repository.locked_request(session, payment.request_id)
    assert request is not None
    if payment.version != version:
        raise precondition_failed()
    if payment.method not in DESK_METHODS:
        raise errors.not_voidable(payment.method)
    if not allowed(payment.status, PaymentAction.void):
        raise payment_errors.transition_refused(payment.status, PaymentAction.void)
    if payment.recorded_by == principal.sub:
        raise errors.same_officer()
    assert payment.recorded_by is not None and payment.paid_at is not None
    day = vn_day(payment.paid_at)
    await repository.lock_desk(session, payment.recorded_by, day, exclusive=False)
    if await repository.close_of(session, payment.recorded_by, day) is not None:
        raise errors.desk_closed(day)
    await payments.advance(
        session,
        outbox,
        payment,
        PaymentAction.void,
        principal.sub,
        now,
        note=reason,
        event_fields={"voided_by": principal.sub, "reason": reason},
    )
    receipt = await receipt_repository.receipt_of_payment(session, payment.id)
    if receipt is not None:
        receipts.cancel(receipt, principal.sub, reason, now)
    # Intake folds payment.voided into what the dossier owes; the request needs no event.
    request.paid_vnd = max(request.paid_vnd - payment.amount_vnd, 0)
    if request.status == "paid":
        request.status = "open"
        request.closed_at = None
    request.version += 1
    await session.flush()
    return await _out(session, settings, payment, receipt)


def _close_out(close: CashClose, rows: Sequence[tuple[Payment, Receipt | None]]) -> CashCloseOut:
    return CashCloseOut(
        id=close.id,
        officer=close.officer,
        day=close.day,
        unit_path=close.unit_path,
        count=close.count,
        total_vnd=close.total_vnd,
        voided_count=close.voided_count,
        closed_at=close.closed_at,
        payments=[
            CountedPayment(
                id=payment.id,
                reference=payment.reference,
                dossier_code=payment.dossier_code,
                method=payment.method,
                online=payment.online,
                status=payment.status,
                amount_vnd=payment.amount_vnd,
                counted=payment.status != PaymentStatus.voided,
                receipt_symbol=receipt.symbol if receipt else None,
                receipt_number=f"{receipt.number:07d}" if receipt else None,
                paid_at=payment.paid_at or payment.created_at,
            )
            for payment, receipt in rows
        ],
    )


async def close(
    session: AsyncSession, principal: Principal, body: CashCloseCreate, now: dt.datetime
) -> tuple[int, CashCloseOut]:
    """Chốt quỹ: the calling officer's desk payments of one day, counted once. Every payment
    not voided counts (a later refund is paid out by finance, not from this desk)."""
    require(principal, Act.close_cash_desk)
    if not principal.unit_path:
        raise errors.no_unit()
    today = vn_day(now)
    day = body.day or today
    if day > today:
        raise errors.future_day(day)
    await repository.lock_desk(session, principal.sub, day, exclusive=True)
    rows = await repository.desk_payments(session, principal.sub, *day_bounds(day))
    counted = [payment for payment, _ in rows if payment.status != PaymentStatus.voided]
    row = await repository.insert_close(
        session,
        {
            "id": uuid.uuid4(),
            "officer": principal.sub,
            "day": day,
            "unit_path": principal.unit_path,
            "count": len(counted),
            "total_vnd": sum(payment.amount_vnd for payment in counted),
            "voided_count": len(rows) - len(counted),
            "closed_at": now,
        },
    )
    if row is None:
        raise errors.already_closed(day)
    return 201, _close_out(row, rows)


async def list_closes(
    session: AsyncSession,
    principal: Principal,
    *,
    day: dt.date | None,
    officer: str | None,
    cursor: str | None,
    limit: int,
) -> CashClosePage:
    """An officer sees their own closes; finance and supervisors those of their unit's
    subtree, to check each desk's count."""
    if not is_officer(principal):
        raise forbidden("cash closes are for officers")
    wide = principal.has_role(Role.finance, Role.supervisor, Role.ops)
    if not wide and officer and officer != principal.sub:
        raise errors.other_officers_closes()
    rows = await repository.list_closes(
        session,
        principal,
        own_only=not wide,
        day=day,
        officer=officer,
        cursor=cursor,
        limit=limit,
    )
    page, next_cursor = repository.CLOSE_ORDER.page(rows, limit, lambda r: (r.closed_at, r.id))
    items = [
        _close_out(c, await repository.desk_payments(session, c.officer, *day_bounds(c.day)))
        for c in page
    ]
    return CashClosePage(items=items, next_cursor=next_cursor)
