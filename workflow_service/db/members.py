"""Agency members: which agencies an officer works for, besides the token's ``agency`` claim."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from workflow_service.db.models import AgencyMember


async def agencies_of(session: AsyncSession, principal: Principal) -> frozenset[str]:
    """The token's agency and every agency ops recorded the officer in."""
    rows = await session.scalars(
        select(AgencyMember.agency_code).where(AgencyMember.officer_sub == principal.sub)
    )
    recorded = set(rows.all())
    return frozenset({principal.agency, *recorded} - {None})  # type: ignore[arg-type]


async def members(session: AsyncSession, agency_code: str) -> list[AgencyMember]:
    rows = await session.scalars(
        select(AgencyMember)
        .where(AgencyMember.agency_code == agency_code)
        .order_by(AgencyMember.officer_sub)
    )
    return list(rows.all())


async def add(
    session: AsyncSession, agency_code: str, officer_sub: str, by: str, at: dt.datetime
) -> tuple[AgencyMember, bool]:
    """Record the membership; a repeated call keeps the first record. True when it is new."""
    inserted = await session.scalar(
        pg_insert(AgencyMember)
        .values(agency_code=agency_code, officer_sub=officer_sub, added_at=at, added_by=by)
        .on_conflict_do_nothing()
        .returning(AgencyMember.officer_sub)
    )
    row = await session.get_one(AgencyMember, (agency_code, officer_sub))
    return row, inserted is not None


async def remove(session: AsyncSession, agency_code: str, officer_sub: str) -> bool:
    """Drop the membership; True when there was one."""
    gone = await session.scalar(
        delete(AgencyMember)
        .where(AgencyMember.agency_code == agency_code, AgencyMember.officer_sub == officer_sub)
        .returning(AgencyMember.officer_sub)
    )
    return gone is not None
