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
    PaymentRequestClosed,
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


async def raise_fee_request(
    session: AsyncSession, outbox: Outbox, event: DossierReceived, event_id: str
) -> None:
    await remember_dossier(session, event)
    if event.fee_amount_vnd <= 0:
        return
    request_id = uuid.uuid4()
    lines = fee_lines(event)
    agency = collecting_agency("fee", event.unit_path)
    raised = await _insert(
        session,
        {
            "id": request_id,
            "dossier_id": event.dossier_id,
            "dossier_code": event.dossier_code,
            "unit_path": event.unit_path,
            "purpose": "fee",
            "agency_code": agency,
            "lines": lines,
            "amount_vnd": event.fee_amount_vnd,
            "paid_vnd": 0,
            "status": "open",
            "source_event_id": event_id,
            "created_at": event.received_at,
            "version": 1,
        },
    )
    if not raised:
        return
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
        PaymentRequested(
            request_id=request_id,
            dossier_id=event.dossier_id,
            dossier_code=event.dossier_code,
            unit_path=event.unit_path,
            purpose="fee",
            agency_code=agency,
            amount_vnd=event.fee_amount_vnd,
            lines=lines,
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
    request_id = uuid.uuid4()
    agency = collecting_agency("financial_obligation", event.unit_path)
    lines = [
        {
            "code": f"NVTC-{event.case_id.hex[:8]}",
            "kind": "financial_obligation",
            "name": event.detail[:200] or "Nghĩa vụ tài chính",
            "amount_vnd": event.amount_vnd,
        }
    ]
    raised = await _insert(
        session,
        {
            "id": request_id,
            "dossier_id": event.dossier_id,
            "dossier_code": event.dossier_code,
            "unit_path": event.unit_path,
            "purpose": "financial_obligation",
            "case_id": event.case_id,
            "agency_code": agency,
            "lines": lines,
            "amount_vnd": event.amount_vnd,
            "paid_vnd": 0,
            "status": "open",
            "source_event_id": event_id,
            "created_at": event.paused_at,
            "version": 1,
        },
    )
    if raised:
        await outbox.add(
            session,
            PaymentRequested(
                request_id=request_id,
                dossier_id=event.dossier_id,
                dossier_code=event.dossier_code,
                unit_path=event.unit_path,
                purpose="financial_obligation",
                agency_code=agency,
                amount_vnd=event.amount_vnd,
                lines=lines,
                requested_at=event.paused_at,
            ),
            subject=event.dossier_code,
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
            request.status = "cancelled"
            request.closed_at = at
            request.version += 1
            await outbox.add(
                session,
                PaymentRequestClosed(
                    request_id=request.id,
                    dossier_id=request.dossier_id,
                    dossier_code=request.dossier_code,
                    unit_path=request.unit_path,
                    purpose=request.purpose,  # type: ignore[arg-type]
                    status="cancelled",
                    closed_at=at,
                ),
                subject=request.dossier_code,
            )
    for payment in waiting:
        await payments.advance(
            session, outbox, payment, PaymentAction.cancel, "system", at, note=reason
        )
    for payment in paid:
        await refunds.propose(session, payment, reason, at)
