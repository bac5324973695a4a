"""Facts from every topic; counters from facts, in the same transaction."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.counters import increment
from metrics_service.db.models import DossierFact
from metrics_service.domain.counting import received_increments
from shared.events import CaseOpened, DossierReceived, Envelope, FeeRequested
from shared.messaging.consumer import Handler
from shared.messaging.outbox import Outbox


async def on_dossier_received(session: AsyncSession, env: Envelope) -> None:
    e = env.data
    assert isinstance(e, DossierReceived)
    values = {
        "dossier_code": e.dossier_code,
        "unit_code": e.unit_code,
        "unit_path": e.unit_path,
        "procedure_code": e.procedure_code,
        "channel": e.channel,
        "received_at": e.received_at,
        "appointment_at": e.appointment_at,
        "processing_working_days": e.processing_working_days,
        "fee_amount_vnd": e.fee_amount_vnd,
        "counted_at": func.now(),
    }
    stmt = pg_insert(DossierFact).values(dossier_id=e.dossier_id, **values)
    # A row made earlier by a case or fee event has no receipt yet: fill it and count it then.
    counted = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[DossierFact.dossier_id],
            set_=values,
            where=DossierFact.received_at.is_(None),
        ).returning(DossierFact.dossier_id)
    )
    if counted is not None:
        await increment(
            session, received_increments(e.unit_path, e.received_at, e.procedure_code, e.channel)
        )


async def on_case_opened(session: AsyncSession, env: Envelope) -> None:
    e = env.data
    assert isinstance(e, CaseOpened)
    await _note(session, e.dossier_id, case_opened_at=e.opened_at)


async def on_fee_requested(session: AsyncSession, env: Envelope) -> None:
    e = env.data
    assert isinstance(e, FeeRequested)
    await _note(session, e.dossier_id, fee_requested_at=e.requested_at)


async def _note(session: AsyncSession, dossier_id: object, **values: object) -> None:
    await session.execute(
        pg_insert(DossierFact)
        .values(dossier_id=dossier_id, **values)
        .on_conflict_do_update(index_elements=[DossierFact.dossier_id], set_=values)
    )


def make_handlers(_outbox: Outbox) -> dict[str, Handler]:
    return {
        DossierReceived.event_type: on_dossier_received,
        CaseOpened.event_type: on_case_opened,
        FeeRequested.event_type: on_fee_requested,
    }
