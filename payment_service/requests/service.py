"""Payment requests: raised from intake's and workflow's events, cancelled with the dossier."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import Dossier
from payment_service.domain.payees import collecting_agency
from payment_service.domain.states import OPEN, PAID, PaymentAction
from payment_service.payments import repository as payments_repository
from payment_service.payments import service as payments
from payment_service.refunds import service as refunds
from payment_service.requests import repository
from shared.events import (
    CasePaused,
    DossierReceived,
    Event,
    FeeRequested,
    PaymentRequested,
)
from shared.messaging.outbox import Outbox


def _dossier_row(event: DossierReceived) -> dict[str, Any]:
    return {
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


def _request_row(
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
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "dossier_id": dossier_id,
        "dossier_code": dossier_code,
        "unit_path": unit_path,
        "purpose": purpose,
        "case_id": case_id,
        "agency_code": collecting_agency(purpose, unit_path),
        "lines": lines,
        "amount_vnd": amount_vnd,
        "paid_vnd": 0,
        "status": "open",
        "source_event_id": event_id,
        "created_at": at,
        "version": 1,
    }


def _requested(row: dict[str, Any]) -> PaymentRequested:
    return PaymentRequested(
        request_id=row["id"],
        dossier_id=row["dossier_id"],
        dossier_code=row["dossier_code"],
        unit_path=row["unit_path"],
        purpose=row["purpose"],
        agency_code=row["agency_code"],
        amount_vnd=row["amount_vnd"],
        lines=row["lines"],
        requested_at=row["created_at"],
    )


async def _raise(session: AsyncSession, outbox: Outbox, row: dict[str, Any]) -> None:
    """Store a request and publish ``PaymentRequested``, unless the source event was seen
    before or the purpose has an open request already."""
    if await repository.insert_requests(session, [row]):
        await outbox.add(session, _requested(row), subject=row["dossier_code"])


async def raise_fee_requests(
    session: AsyncSession, outbox: Outbox, received: Sequence[tuple[DossierReceived, str]]
) -> None:
    """Remember the dossiers of a run of receipts (each with its event id) and raise the fee
    request of each that owes one, as raising them one by one would: one insert of the
    dossiers, one of the requests, one outbox statement for every event they cause."""
    await repository.remember_dossiers(session, [_dossier_row(event) for event, _ in received])
    rows = [
        (
            event,
            _request_row(
                purpose="fee",
                event_id=event_id,
                dossier_id=event.dossier_id,
                dossier_code=event.dossier_code,
                unit_path=event.unit_path,
                lines=fee_lines(event),
                amount_vnd=event.fee_amount_vnd,
                at=event.received_at,
            ),
        )
        for event, event_id in received
        if event.fee_amount_vnd > 0
    ]
    raised = await repository.insert_requests(session, [row for _, row in rows])
    events: list[tuple[Event, str | None]] = []
    for event, row in rows:
        if row["id"] not in raised:
            continue
        events.append((_requested(row), event.dossier_code))
        # The older contract intake and metrics still read.
        events.append(
            (
                FeeRequested(
                    fee_request_id=row["id"],
                    dossier_id=event.dossier_id,
                    dossier_code=event.dossier_code,
                    unit_path=event.unit_path,
                    amount_vnd=event.fee_amount_vnd,
                    requested_at=event.received_at,
                ),
                event.dossier_code,
            )
        )
    await outbox.add_all(session, events)


async def raise_obligation(
    session: AsyncSession, outbox: Outbox, event: CasePaused, event_id: str
) -> None:
    """Workflow paused a case for a financial obligation with its amount: the tax authority
    collects it, and its payment resumes the case."""
    if event.reason != "financial_obligation" or not event.amount_vnd:
        return
    row = _request_row(
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
    await _raise(session, outbox, row)


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
    waiting = (
        await payments_repository.payments_of_dossier(session, dossier_id, OPEN)
        if cancel_open
        else []
    )
    paid = await payments_repository.payments_of_dossier(session, dossier_id, PAID)
    if cancel_open:
        for request in await payments_repository.open_requests_of_dossier(session, dossier_id):
            await payments.close_request(session, outbox, request, "cancelled", at)
    for payment in waiting:
        await payments.advance(
            session, outbox, payment, PaymentAction.cancel, "system", at, note=reason
        )
    for payment in paid:
        await refunds.propose(session, payment, reason, at)
