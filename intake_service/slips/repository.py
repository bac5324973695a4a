"""What a slip is read from: the dossier (in the caller's scope), its procedure as received,
its log, its unit and its documents."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Document, Dossier, DossierAction, Procedure, Unit
from intake_service.dossiers import repository
from shared.auth import Principal


async def visible_dossier(session: AsyncSession, code: str, principal: Principal) -> Dossier | None:
    return await repository.dossier_by_code(session, code, principal)


async def procedure_as_received(session: AsyncSession, dossier: Dossier) -> Procedure:
    return await repository.procedure_as_received(session, dossier)


async def history(session: AsyncSession, dossier_id: uuid.UUID) -> list[DossierAction]:
    return await repository.history(session, dossier_id)


async def unit(session: AsyncSession, code: str) -> Unit:
    found = await session.get(Unit, code)
    assert found is not None  # a dossier's unit is a foreign key
    return found


async def documents_of(session: AsyncSession, dossier_id: uuid.UUID) -> list[Document]:
    rows = await session.scalars(
        select(Document)
        .where(Document.dossier_id == dossier_id)
        .order_by(Document.created_at, Document.id)
    )
    return list(rows)
