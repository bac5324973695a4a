"""Every query of the dossier feature: the dossier rows, their history, the idempotency keys and
daily numbers of submission, and who sees which dossier (unit subtree, own dossiers)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, false, literal, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

# The procedure and unit reads a dossier needs belong to their features; named here too so the
# features that read dossiers (documents, slips, lookup, ratings) have one repository to ask.
from intake_service.catalogue.repository import (
    procedure_as_received as procedure_as_received,
)
from intake_service.catalogue.repository import procedures_by_key as procedures_by_key
from intake_service.db.models import (
    Dossier,
    DossierAction,
    DossierSequence,
    IdempotencyKey,
    Procedure,
    Unit,
)
from intake_service.units.repository import active_unit as active_unit
from shared.auth import Principal, Role, unit_scope
from shared.pagination import Keyset

# Lists of dossiers run in creation order; the index (unit_path, created_at, id) serves it.
DOSSIER_ORDER = Keyset(columns=(Dossier.created_at, Dossier.id))


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


async def dossier_by_id(session: AsyncSession, dossier_id: uuid.UUID) -> Dossier | None:
    return await session.get(Dossier, dossier_id)


async def locked_dossier(session: AsyncSession, dossier_id: uuid.UUID) -> Dossier | None:
    """The dossier row locked for an event's change (no scoping: events are the system's)."""
    return await session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())


async def list_dossiers(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> list[Dossier]:
    """One page (and one row more, which says there is a next page) of the dossiers the
    principal sees, in creation order."""
    query = select(Dossier).where(visible_to(principal))
    if status:
        query = query.where(Dossier.status == status)
    return list((await session.scalars(DOSSIER_ORDER.apply(query, cursor, limit))).all())


async def history(session: AsyncSession, dossier_id: uuid.UUID) -> list[DossierAction]:
    query = (
        select(DossierAction)
        .where(DossierAction.dossier_id == dossier_id)
        .order_by(DossierAction.id)
    )
    return list((await session.scalars(query)).all())


async def unit_and_procedure(
    session: AsyncSession, unit_code: str, procedure_key: str
) -> tuple[Unit | None, Procedure | None]:
    """The active unit and the procedure a submission names, in one round trip: each looked up
    on its own and left-joined to one row, so either may be missing."""
    one = select(literal(1).label("one")).subquery()
    units = aliased(
        Unit, select(Unit).where(Unit.code == unit_code, Unit.retired_at.is_(None)).subquery()
    )
    procedures = aliased(
        Procedure, select(Procedure).where(Procedure.key == procedure_key).subquery()
    )
    query = (
        select(units, procedures)
        .select_from(one)
        .outerjoin(units, true())
        .outerjoin(procedures, true())
    )
    row = (await session.execute(query)).one()
    return row[0], row[1]


async def procedure(session: AsyncSession, key: str) -> Procedure | None:
    return await session.get(Procedure, key)


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


def add_dossier(session: AsyncSession, dossier: Dossier) -> None:
    session.add(dossier)


def add_action(
    session: AsyncSession,
    dossier: Dossier,
    action: str,
    to_status: str,
    *,
    actor: str,
    role: str | None,
    unit_code: str | None,
    at: dt.datetime,
    note: str | None = None,
    supplement: dict[str, object] | None = None,
) -> DossierAction:
    """Append one row to the dossier's log (the status it leaves is the dossier's current)."""
    row = DossierAction(
        dossier_id=dossier.id,
        action=action,
        from_status=dossier.status or None,
        to_status=to_status,
        actor=actor,
        role=role,
        unit_code=unit_code,
        at=at,
        note=note,
        supplement=supplement,
    )
    session.add(row)
    return row


async def flush(session: AsyncSession) -> None:
    await session.flush()


async def end_reads(session: AsyncSession) -> None:
    """End a transaction that has only read, returning its connection to the pool; the rows it
    loaded stay usable (the sessions do not expire on commit). Nothing is committed: a session
    with pending writes is a caller's bug, refused here."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_reads on a session with pending writes")
    await session.commit()


async def rollback(session: AsyncSession) -> None:
    await session.rollback()


async def refresh(session: AsyncSession, *rows: object) -> None:
    for row in rows:
        await session.refresh(row)
