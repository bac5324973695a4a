"""Keep the citizen-facing status view in step with workflow and payment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, DossierAction
from intake_service.domain.lifecycle import (
    WORKFLOW,
    Action,
    DossierStatus,
    NotAllowedInStatus,
    decide,
)
from intake_service.domain.pauses import pause_record, supplement_items
from intake_service.domain.payments_view import VIEW_EVENTS, fold
from intake_service.domain.slips import supplement_note
from shared.calendar import VN_TZ
from shared.events import (
    CaseApologised,
    CaseOpened,
    CasePaused,
    CaseResolved,
    CaseResumed,
    Envelope,
    FeeRequested,
)
from shared.messaging.consumer import Handler

# Where a case's events still concern the dossier: received, processed, or paused on the
# applicant. A redelivery finds it elsewhere (resolved, returned), as does a withdrawal, which
# the applicant asked for first.
_PROCESSING = (
    DossierStatus.received,
    DossierStatus.in_processing,
    DossierStatus.awaiting_supplement,
    DossierStatus.awaiting_financial_obligation,
)


async def _locked(session: AsyncSession, dossier_id: object) -> Dossier | None:
    return await session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())


def _advance(
    session: AsyncSession,
    dossier: Dossier,
    action: str,
    status: DossierStatus,
    at: dt.datetime,
    note: str | None = None,
    actor: str = "workflow",
) -> None:
    session.add(
        DossierAction(
            dossier_id=dossier.id,
            action=action,
            from_status=dossier.status,
            to_status=status,
            actor=actor,
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
    if dossier.status not in _PROCESSING:
        return
    dossier.pause = None
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
    if DossierStatus(dossier.status) not in _PROCESSING:
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


def _workflow_target(dossier: Dossier, action: Action) -> DossierStatus | None:
    """Where workflow's event takes the dossier, or None when the table has no such move from
    its status: a redelivered event, or a dossier the applicant withdrew meanwhile."""
    try:
        return decide(
            DossierStatus(dossier.status),
            action,
            WORKFLOW,
            received=dossier.received_at is not None,
        )
    except NotAllowedInStatus:
        return None


def _money(amount: int | None) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng" if amount is not None else ""


async def on_case_paused(session: AsyncSession, env: Envelope) -> None:
    """The processing agency asked the applicant for a supplement or a financial obligation:
    the dossier awaits them, and the lookup and the change feed say so."""
    event = env.data
    assert isinstance(event, CasePaused)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"case paused for unknown dossier {event.dossier_id}")
    supplement = event.reason == "supplement"
    action = Action.request_supplement if supplement else Action.request_financial_obligation
    target = _workflow_target(dossier, action)
    if target is None:
        return
    if supplement:
        # The same note as the desk's request, so the supplement-request slip reads its list.
        note = supplement_note(supplement_items(event), event.detail if event.items else None)
    else:
        note = " — ".join(p for p in (event.detail, _money(event.amount_vnd)) if p)
    dossier.pause = pause_record(event)
    _advance(
        session,
        dossier,
        action,
        target,
        event.paused_at,
        note,
        actor=event.requested_by or "workflow",
    )


async def on_case_resumed(session: AsyncSession, env: Envelope) -> None:
    """The case's clock runs again (the applicant supplemented, the obligation was paid, or an
    officer resumed it): the dossier is in processing, with the appointment moved as the case's
    due instant moved by the paused office time."""
    event = env.data
    assert isinstance(event, CaseResumed)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"case resumed for unknown dossier {event.dossier_id}")
    if DossierStatus(dossier.status) not in _PROCESSING:
        return
    # Only ever later: a redelivery, or a resume older than the appointment held, moves nothing.
    moved = dossier.appointment_at is None or event.due_at > dossier.appointment_at
    if moved:
        dossier.appointment_at = event.due_at
    target = _workflow_target(dossier, Action.resume)
    if target is not None:
        dossier.pause = None
        due = event.due_at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")
        _advance(session, dossier, Action.resume, target, event.resumed_at, f"Hẹn trả mới: {due}")
    elif moved:
        dossier.version += 1


HANDLERS: dict[str, Handler] = {
    CaseOpened.event_type: on_case_opened,
    CaseResolved.event_type: on_case_resolved,
    CaseApologised.event_type: on_case_apologised,
    CasePaused.event_type: on_case_paused,
    CaseResumed.event_type: on_case_resumed,
    FeeRequested.event_type: on_fee_requested,
    **{event_type.event_type: on_payment_event for event_type in VIEW_EVENTS},
}
