"""Queries of the public lookup. The lookup is not scoped by a caller: the code and the verifier
are the credential, checked by the service before anything is shown."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, DossierAction, Procedure, Unit
from intake_service.dossiers import repository


async def dossier_by_code(session: AsyncSession, code: str) -> Dossier | None:
    return await session.scalar(select(Dossier).where(Dossier.code == code))


async def lock(session: AsyncSession, dossier: Dossier) -> None:
    """Take the dossier's row lock (and read it afresh) for a change made through the lookup."""
    await session.refresh(dossier, with_for_update=True)


async def procedure(session: AsyncSession, key: str) -> Procedure | None:
    return await session.get(Procedure, key)


async def unit(session: AsyncSession, code: str) -> Unit | None:
    return await session.get(Unit, code)


async def history(session: AsyncSession, dossier_id: uuid.UUID) -> list[DossierAction]:
    return await repository.history(session, dossier_id)
