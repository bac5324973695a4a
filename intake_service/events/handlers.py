"""Keep the citizen-facing status view in step with workflow and payment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, DossierAction
from intake_service.domain.lifecycle import DossierStatus
from intake_service.domain.payments_view import VIEW_EVENTS, fold
from shared.events import CaseApologised, CaseOpened, CaseResolved, Envelope, FeeRequested
from shared.messaging.consumer import Handler


async def _locked(session: AsyncSession, dossier_id: object) -> Dossier | None:
    return await session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())


def _advance(
    session: AsyncSession,
    dossier: Dossier,
    action: str,
    status: DossierStatus,
    at: dt.datetime,
    note: str | None = None,
) -> None:
    session.add(
        DossierAction(
            dossier_id=dossier.id,
            action=action,
            from_status=dossier.status,
            to_status=status,
            actor="workflow",
            role=None,
            at=at,
            note=note,
        )
    )
    dossier.status = status
    dossier.version += 1


async def on_case_opened(session: AsyncSession, env: Envelope) -> None:
    event = env.data
    assert isinstance(event, CaseOpened)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"case opened for unknown dossier {event.dossier_id}")
    dossier.case_id = event.case_id
    if dossier.status == DossierStatus.received:
        _advance(session, dossier, "start_processing", DossierStatus.in_processing, event.opened_at)


async def on_case_resolved(session: AsyncSession, env: Envelope) -> None:
    event = env.data
    assert isinstance(event, CaseResolved)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"case resolved for unknown dossier {event.dossier_id}")
    # A redelivery finds the dossier resolved or returned already; a dossier withdrawn while the
    # case was closing keeps its withdrawal, which the applicant asked for first.
    if dossier.status not in (DossierStatus.received, DossierStatus.in_processing):
        return
    action = "resolve" if event.outcome == "approved" else "reject_after_examination"
    _advance(session, dossier, action, DossierStatus.resolved, event.resolved_at, event.reason)


async def on_fee_requested(session: AsyncSession, env: Envelope) -> None:
    event = env.data
    assert isinstance(event, FeeRequested)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"fee requested for unknown dossier {event.dossier_id}")
    dossier.fee_request_id = event.fee_request_id


async def on_payment_event(session: AsyncSession, env: Envelope) -> None:
    """Fold a payment event into the dossier's payment view.

    Neither the version (the ETag) nor the action log moves: paying is not a step of the
    dossier's lifecycle, and an officer's If-Match must not go stale because a citizen paid.
    """
    event = env.data
    assert isinstance(event, VIEW_EVENTS)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"{env.type} for unknown dossier {event.dossier_id}")
    folded = fold(dossier.payments, event)
    # JSONB is not tracked for in-place changes: assign a new value, and only when it differs,
    # so a repeated event writes nothing.
    if folded != dossier.payments:
        dossier.payments = folded


async def on_case_apologised(session: AsyncSession, env: Envelope) -> None:
    event = env.data
    assert isinstance(event, CaseApologised)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"apology for unknown dossier {event.dossier_id}")
    # Apologies only ever push the date later; a redelivered or older one changes nothing.
    if dossier.rescheduled_at is not None and dossier.rescheduled_at >= event.new_appointment_at:
        return
    if DossierStatus(dossier.status) not in (DossierStatus.received, DossierStatus.in_processing):
        return
    dossier.rescheduled_at = event.new_appointment_at
    session.add(
        DossierAction(
            dossier_id=dossier.id,
            action="apologise",
            from_status=dossier.status,
            to_status=dossier.status,
            actor="workflow",
            role=None,
            at=event.issued_at,
            note=event.reason,
        )
    )
    dossier.version += 1


HANDLERS: dict[str, Handler] = {
    CaseOpened.event_type: on_case_opened,
    CaseResolved.event_type: on_case_resolved,
    CaseApologised.event_type: on_case_apologised,
    FeeRequested.event_type: on_fee_requested,
    **{event_type.event_type: on_payment_event for event_type in VIEW_EVENTS},
}
