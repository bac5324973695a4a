"""Queries and writes of ratings, with the scoping of the dossiers a caller may rate or read."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, Procedure, Rating
from intake_service.dossiers import repository
from shared.auth import Principal
from shared.vocabulary import RatingChannel


async def visible_dossier(session: AsyncSession, code: str, principal: Principal) -> Dossier | None:
    """The dossier in the caller's unit scope, or among their own."""
    return await repository.dossier_by_code(session, code, principal)


async def own_dossier(session: AsyncSession, code: str, principal: Principal) -> Dossier | None:
    """The dossier when the caller is its applicant (or filed it as their representative),
    whatever office the caller also holds."""
    return await session.scalar(
        select(Dossier).where(Dossier.code == code, repository.own_dossiers(principal))
    )


async def insert_rating(
    session: AsyncSession,
    dossier_id: uuid.UUID,
    channel: RatingChannel,
    score: int,
    comment: str | None,
    at: dt.datetime,
) -> bool:
    """Insert the rating; False when the channel has rated this dossier already (the primary key
    decides, so two concurrent ratings cannot both pass)."""
    inserted = await session.scalar(
        pg_insert(Rating)
        .values(dossier_id=dossier_id, channel=channel, score=score, comment=comment, rated_at=at)
        .on_conflict_do_nothing()
        .returning(Rating.dossier_id)
    )
    return inserted is not None


async def procedure(session: AsyncSession, key: str) -> Procedure | None:
    return await session.get(Procedure, key)


async def ratings_of(session: AsyncSession, dossier_id: uuid.UUID) -> list[Rating]:
    rows = await session.scalars(
        select(Rating).where(Rating.dossier_id == dossier_id).order_by(Rating.rated_at)
    )
    return list(rows)
