"""Raise a fee request for every received dossier that owes a fee, exactly once."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.db.models import FeeRequest
from payment_service.domain.fees import FeeRequestStatus, needs_fee_request
from shared.events import DossierReceived, Envelope, FeeRequested
from shared.messaging.consumer import Handler
from shared.messaging.outbox import Outbox


def make_handlers(outbox: Outbox) -> dict[str, Handler]:
    async def on_dossier_received(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, DossierReceived)
        if not needs_fee_request(event.fee_amount_vnd):
            return
        request_id = uuid.uuid4()
        now = dt.datetime.now(dt.UTC)
        inserted = await session.scalar(
            pg_insert(FeeRequest)
            .values(
                id=request_id,
                dossier_id=event.dossier_id,
                dossier_code=event.dossier_code,
                unit_path=event.unit_path,
                amount_vnd=event.fee_amount_vnd,
                status=FeeRequestStatus.pending,
                requested_at=now,
                version=1,
            )
            .on_conflict_do_nothing(index_elements=[FeeRequest.dossier_id])
            .returning(FeeRequest.id)
        )
        if inserted is None:
            return
        await outbox.add(
            session,
            FeeRequested(
                fee_request_id=request_id,
                dossier_id=event.dossier_id,
                dossier_code=event.dossier_code,
                unit_path=event.unit_path,
                amount_vnd=event.fee_amount_vnd,
                requested_at=now,
            ),
            subject=event.dossier_code,
        )

    return {DossierReceived.event_type: on_dossier_received}
