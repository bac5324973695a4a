"""Apology slips of a case."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow_service.db.models import Apology


def add(session: AsyncSession, apology: Apology) -> None:
    session.add(apology)


async def of_case(session: AsyncSession, case_id: uuid.UUID) -> list[Apology]:
    """A case's apologies, oldest first (the last one holds the appointment in force)."""
    rows = await session.scalars(
        select(Apology).where(Apology.case_id == case_id).order_by(Apology.issued_at, Apology.id)
    )
    return list(rows.all())


async def one(session: AsyncSession, case_id: uuid.UUID, apology_id: uuid.UUID) -> Apology | None:
    return await session.scalar(
        select(Apology).where(Apology.case_id == case_id, Apology.id == apology_id)
    )
