"""Queries and writes of intake's own tables."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, false, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# The procedure and unit queries live with their features; re-exported here until every
# caller imports them from there.
from intake_service.catalogue.repository import procedure_as_received, procedures_by_key
from intake_service.db.models import Dossier, DossierAction, DossierSequence, IdempotencyKey
from intake_service.units.repository import active_unit
from shared.auth import Principal, Role, unit_scope


async def next_sequence(
    sessionmaker: async_sessionmaker[AsyncSession], unit_code: str, day: dt.date
) -> int:
    """Allocate the next daily number in a transaction of its own. Holding the counter's row lock
    for a whole submission would queue every desk of a unit behind each other; the price is a gap
    in the numbers when a submission fails after allocation, which codes may have."""
    stmt = (
        pg_insert(DossierSequence)
        .values(unit_code=unit_code, day=day, last=1)
        .on_conflict_do_update(
            index_elements=[DossierSequence.unit_code, DossierSequence.day],
            set_={"last": DossierSequence.last + 1},
        )
        .returning(DossierSequence.last)
    )
    async with sessionmaker() as session, session.begin():
        return int((await session.execute(stmt)).scalar_one())


async def idempotency_record(
    session: AsyncSession, key: str, principal: str
) -> IdempotencyKey | None:
    return await session.get(IdempotencyKey, (key, principal))


async def claim_idempotency_key(
    session: AsyncSession, key: str, principal: str, request_hash: str, dossier_id: uuid.UUID
) -> IdempotencyKey | None:
    """Record the key for this new dossier; returns the earlier record when the key was used."""
    inserted = await session.scalar(
        pg_insert(IdempotencyKey)
        .values(key=key, principal=principal, request_hash=request_hash, dossier_id=dossier_id)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if inserted is not None:
        return None
    return await session.get(IdempotencyKey, (key, principal))


def own_dossiers(principal: Principal) -> ColumnElement[bool]:
    """The dossiers of the verified subject: filed in their name, or by them as the authorised
    representative of the person named. Only an applicant's ``sub`` is their ID number."""
    if not principal.has_role(Role.applicant):
        return false()
    return or_(
        Dossier.applicant_id_number == principal.sub,
        Dossier.representative_id_number == principal.sub,
    )


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """Officers see their unit's subtree; an applicant sees only their own dossiers, whatever
    unit claims their token carries (``unit_scope`` ignores them for an applicant). A token that
    holds an office as well sees both."""
    return or_(unit_scope(Dossier.unit_path, principal), own_dossiers(principal))


async def dossier_by_code(
    session: AsyncSession, code: str, principal: Principal, *, for_update: bool = False
) -> Dossier | None:
    query = select(Dossier).where(Dossier.code == code, visible_to(principal))
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def list_dossiers(
    session: AsyncSession,
    principal: Principal,
    limit: int,
    after: tuple[dt.datetime, uuid.UUID] | None,
    status: str | None,
) -> list[Dossier]:
    query = select(Dossier).where(visible_to(principal))
    if status:
        query = query.where(Dossier.status == status)
    if after:
        query = query.where(tuple_(Dossier.created_at, Dossier.id) > tuple_(*after))
    query = query.order_by(Dossier.created_at, Dossier.id).limit(limit)
    return list((await session.scalars(query)).all())


async def history(session: AsyncSession, dossier_id: uuid.UUID) -> list[DossierAction]:
    query = (
        select(DossierAction)
        .where(DossierAction.dossier_id == dossier_id)
        .order_by(DossierAction.id)
    )
    return list((await session.scalars(query)).all())


__all__ = [
    "active_unit",
    "claim_idempotency_key",
    "dossier_by_code",
    "history",
    "idempotency_record",
    "list_dossiers",
    "next_sequence",
    "own_dossiers",
    "procedure_as_received",
    "procedures_by_key",
    "visible_to",
]
