"""The lifecycle's own queries: how often a supplement was requested, which documents of a
dossier a supplement names. The dossier row, its log and its scoping are the dossier feature's
(``intake_service.dossiers.repository``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Document, DossierAction
from intake_service.domain.lifecycle import Action


async def supplement_requests(session: AsyncSession, dossier_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(
            DossierAction.dossier_id == dossier_id,
            DossierAction.action == Action.request_supplement,
        )
    )
    return int(count or 0)


async def documents_of(
    session: AsyncSession, dossier_id: uuid.UUID, document_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``document_ids`` are attached to the dossier."""
    return set(
        await session.scalars(
            select(Document.id).where(
                Document.dossier_id == dossier_id, Document.id.in_(set(document_ids))
            )
        )
    )
