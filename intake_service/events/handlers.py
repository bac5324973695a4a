"""Keep the citizen-facing status view in step with workflow and payment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, DossierAction
from intake_service.domain.lifecycle import DossierStatus
from shared.events import CaseOpened, CaseResolved, Envelope, FeeRequested
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


HANDLERS: dict[str, Handler] = {
    CaseOpened.event_type: on_case_opened,
    CaseResolved.event_type: on_case_resolved,
    FeeRequested.event_type: on_fee_requested,
}
