"""Keep the citizen-facing status view in step with workflow and payment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, DossierAction
from intake_service.domain.lifecycle import DossierStatus
from shared.events import CaseOpened, Envelope, FeeRequested
from shared.messaging.consumer import Handler


async def _locked(session: AsyncSession, dossier_id: object) -> Dossier | None:
    return await session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())


async def on_case_opened(session: AsyncSession, env: Envelope) -> None:
    event = env.data
    assert isinstance(event, CaseOpened)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"case opened for unknown dossier {event.dossier_id}")
    dossier.case_id = event.case_id
    if dossier.status == DossierStatus.received:
        session.add(
            DossierAction(
                dossier_id=dossier.id,
                action="start_processing",
                from_status=dossier.status,
                to_status=DossierStatus.in_processing,
                actor="workflow",
                role=None,
                at=event.opened_at,
            )
        )
        dossier.status = DossierStatus.in_processing
        dossier.version += 1


async def on_fee_requested(session: AsyncSession, env: Envelope) -> None:
    event = env.data
    assert isinstance(event, FeeRequested)
    dossier = await _locked(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"fee requested for unknown dossier {event.dossier_id}")
    dossier.fee_request_id = event.fee_request_id


HANDLERS: dict[str, Handler] = {
    CaseOpened.event_type: on_case_opened,
    FeeRequested.event_type: on_fee_requested,
}
