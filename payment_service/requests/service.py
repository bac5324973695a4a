"""Payment requests: raised from intake's and workflow's events, cancelled with the dossier."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import Dossier, PaymentRequest
from payment_service.domain.payees import collecting_agency
from payment_service.domain.states import OPEN, PAID, PaymentAction
from payment_service.payments import repository
from payment_service.payments import service as payments
from payment_service.refunds import service as refunds
from shared.events import (
    CasePaused,
    DossierReceived,
    FeeRequested,
    PaymentRequested,
)
from shared.messaging.outbox import Outbox


async def remember_dossier(session: AsyncSession, event: DossierReceived) -> None:
    values = {
        "id": event.dossier_id,
        "code": event.dossier_code,
        "unit_code": event.unit_code,
        "unit_path": event.unit_path,
        "procedure_code": event.procedure_code,
        "procedure_name": event.procedure_name,
        "applicant_ref": event.applicant_ref,
        "applicant_name": event.applicant_name,
        "channel": event.channel,
        "updated_at": event.received_at,
    }
    await session.execute(
        pg_insert(Dossier).values(**values).on_conflict_do_nothing(index_elements=[Dossier.id])
    )


def fee_lines(event: DossierReceived) -> list[dict[str, Any]]:
    lines = [line.model_dump() for line in event.fee_lines]
    if sum(line["amount_vnd"] for line in lines) != event.fee_amount_vnd:
        # An older producer sent the total only: one line carries it.
        lines = [
            {
                "code": event.procedure_code,
                "kind": "charge",
                "name": f"Phí, lệ phí {event.procedure_name}",
                "amount_vnd": event.fee_amount_vnd,
            }
        ]
    return lines


async def _insert(session: AsyncSession, row: dict[str, Any]) -> bool:
    """False when the event was seen before or the purpose has an open request already."""
    inserted = await session.scalar(
        pg_insert(PaymentRequest)
        .values(**row)
        .on_conflict_do_nothing()
        .returning(PaymentRequest.id)
    )
    return inserted is not None


async def _raise(
    session: AsyncSession,
    outbox: Outbox,
    *,
    purpose: str,
    event_id: str,
    dossier_id: uuid.UUID,
    dossier_code: str,
    unit_path: str,
    lines: list[dict[str, Any]],
    amount_vnd: int,
    at: dt.datetime,
    case_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """Store a request and publish ``PaymentRequested``; None when the source event was seen
    before or the purpose has an open request already."""
    request_id = uuid.uuid4()
    agency = collecting_agency(purpose, unit_path)
    inserted = await session.scalar(
        pg_insert(PaymentRequest)
        .values(
            id=request_id,
            dossier_id=dossier_id,
            dossier_code=dossier_code,
            unit_path=unit_path,
            purpose=purpose,
            case_id=case_id,
            agency_code=agency,
            lines=lines,
            amount_vnd=amount_vnd,
            paid_vnd=0,
            status="open",
            source_event_id=event_id,
            created_at=at,
            version=1,
        )
        .on_conflict_do_nothing()
        .returning(PaymentRequest.id)
    )
    if inserted is None:
        return None
    await outbox.add(
        session,
        PaymentRequested(
            request_id=request_id,
            dossier_id=dossier_id,
            dossier_code=dossier_code,
            unit_path=unit_path,
            purpose=purpose,
            agency_code=agency,
            amount_vnd=amount_vnd,
            lines=lines,
            requested_at=at,
        ),
        subject=dossier_code,
    )
    return request_id


async def raise_fee_request(
    session: AsyncSession, outbox: Outbox, event: DossierReceived, event_id: str
) -> None:
    await remember_dossier(session, event)
    if event.fee_amount_vnd <= 0:
        return
    request_id = await _raise(
        session,
        outbox,
        purpose="fee",
        event_id=event_id,
        dossier_id=event.dossier_id,
        dossier_code=event.dossier_code,
        unit_path=event.unit_path,
        lines=fee_lines(event),
        amount_vnd=event.fee_amount_vnd,
        at=event.received_at,
    )
    if request_id is not None:
        # The older contract intake and metrics still read.
        await outbox.add(
            session,
            FeeRequested(
                fee_request_id=request_id,
                dossier_id=event.dossier_id,
                dossier_code=event.dossier_code,
                unit_path=event.unit_path,
                amount_vnd=event.fee_amount_vnd,
                requested_at=event.received_at,
            ),
            subject=event.dossier_code,
        )


async def raise_obligation(
    session: AsyncSession, outbox: Outbox, event: CasePaused, event_id: str
) -> None:
    """Workflow paused a case for a financial obligation with its amount: the tax authority
    collects it, and its payment resumes the case."""
    if event.reason != "financial_obligation" or not event.amount_vnd:
        return
    await _raise(
        session,
        outbox,
        purpose="financial_obligation",
        event_id=event_id,
        dossier_id=event.dossier_id,
        dossier_code=event.dossier_code,
        unit_path=event.unit_path,
        lines=[
            {
                "code": f"NVTC-{event.case_id.hex[:8]}",
                "kind": "financial_obligation",
                "name": event.detail[:200] or "Nghĩa vụ tài chính",
                "amount_vnd": event.amount_vnd,
            }
        ],
        amount_vnd=event.amount_vnd,
        at=event.paused_at,
        case_id=event.case_id,
    )


async def dossier_closed(
    session: AsyncSession,
    outbox: Outbox,
    dossier_id: uuid.UUID,
    reason: str,
    at: dt.datetime,
    *,
    cancel_open: bool,
) -> None:
    """A dossier that ends without its result: open requests and their waiting payments are
    cancelled, and whatever was paid is proposed for refund to a finance officer."""
    dossier = await session.get(Dossier, dossier_id, with_for_update=True)
    if dossier is not None:
        if dossier.closed_reason == reason:
            return  # a redelivered event
        dossier.closed_reason = reason
        dossier.updated_at = at
    # Payments before requests, the order the IPN and the mop-up lock them in.
    waiting = await repository.payments_of_dossier(session, dossier_id, OPEN) if cancel_open else []
    paid = await repository.payments_of_dossier(session, dossier_id, PAID)
    if cancel_open:
        for request in await repository.open_requests_of_dossier(session, dossier_id):
            await payments.close_request(session, outbox, request, "cancelled", at)
    for payment in waiting:
        await payments.advance(
            session, outbox, payment, PaymentAction.cancel, "system", at, note=reason
        )
    for payment in paid:
        await refunds.propose(session, payment, reason, at)
