"""Open a case for every received dossier, exactly once."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import CaseOpened, DossierReceived, Envelope
from shared.messaging.consumer import Handler
from shared.messaging.outbox import Outbox
from workflow_service.db.models import Case, CaseAction
from workflow_service.domain.cases import CaseStatus


def make_handlers(outbox: Outbox) -> dict[str, Handler]:
    async def on_dossier_received(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, DossierReceived)
        case_id = uuid.uuid4()
        opened_at = dt.datetime.now(dt.UTC)
        inserted = await session.scalar(
            pg_insert(Case)
            .values(
                id=case_id,
                dossier_id=event.dossier_id,
                dossier_code=event.dossier_code,
                procedure_code=event.procedure_code,
                unit_code=event.unit_code,
                unit_path=event.unit_path,
                status=CaseStatus.open,
                opened_at=opened_at,
                due_at=event.appointment_at,
                version=1,
            )
            .on_conflict_do_nothing(index_elements=[Case.dossier_id])
            .returning(Case.id)
        )
        if inserted is None:
            return  # the same dossier arrived under another event id: one case is enough
        session.add(
            CaseAction(
                case_id=case_id,
                action="open",
                from_status=None,
                to_status=CaseStatus.open,
                actor="system",
                at=opened_at,
            )
        )
        await outbox.add(
            session,
            CaseOpened(
                case_id=case_id,
                dossier_id=event.dossier_id,
                dossier_code=event.dossier_code,
                unit_path=event.unit_path,
                opened_at=opened_at,
                due_at=event.appointment_at,
            ),
            subject=event.dossier_code,
        )

    return {DossierReceived.event_type: on_dossier_received}
