"""Every query of units and agencies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Agency, Unit
from shared.pagination import Keyset
from shared.vocabulary import AgencyKind

# Both are listed by their code, which is unique: the code alone names a row.
UNIT_ORDER = Keyset(columns=(Unit.code,))
AGENCY_ORDER = Keyset(columns=(Agency.code,))


async def get_unit(session: AsyncSession, code: str, *, for_update: bool = False) -> Unit | None:
    query = select(Unit).where(Unit.code == code)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def active_unit(session: AsyncSession, code: str) -> Unit | None:
    return await session.scalar(select(Unit).where(Unit.code == code, Unit.retired_at.is_(None)))


async def active_children(session: AsyncSession, code: str) -> int:
    count = await session.scalar(
        select(func.count()).where(Unit.parent_code == code, Unit.retired_at.is_(None))
    )
    return int(count or 0)


async def unit_page(
    session: AsyncSession,
    *,
    parent_code: str | None,
    include_retired: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[Unit], str | None]:
    query = select(Unit)
    if not include_retired:
        query = query.where(Unit.retired_at.is_(None))
    query = query.where(
        Unit.parent_code == parent_code if parent_code else Unit.parent_code.is_(None)
    )
    rows = list((await session.scalars(UNIT_ORDER.apply(query, cursor, limit))).all())
    return UNIT_ORDER.page(rows, limit, lambda u: (u.code,))


def add_unit(
    session: AsyncSession, code: str, name: str, level: str, parent_code: str | None, path: str
) -> Unit:
    unit = Unit(code=code, name=name, level=level, parent_code=parent_code, path=path)
    session.add(unit)
    return unit


async def get_agency(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> Agency | None:
    query = select(Agency).where(Agency.code == code)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def agency_page(
    session: AsyncSession,
    *,
    unit_code: str | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Agency], str | None]:
    query = select(Agency).where(Agency.retired_at.is_(None))
    if unit_code:
        query = query.where(Agency.unit_code == unit_code)
    if kind:
        query = query.where(Agency.kind == kind)
    rows = list((await session.scalars(AGENCY_ORDER.apply(query, cursor, limit))).all())
    return AGENCY_ORDER.page(rows, limit, lambda a: (a.code,))


def add_agency(
    session: AsyncSession, code: str, name: str, kind: AgencyKind, unit_code: str
) -> Agency:
    agency = Agency(code=code, name=name, kind=kind, unit_code=unit_code)
    session.add(agency)
    return agency
