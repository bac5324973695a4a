"""Agencies (as the catalogue publishes them) and the memberships ops keep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.pagination import Keyset
from workflow_service.db.models import Agency, AgencyMember


async def insert_missing(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    added = await session.scalars(
        pg_insert(Agency).on_conflict_do_nothing().returning(Agency.code), rows
    )
    return len(added.all())


async def upsert_newer(session: AsyncSession, row: dict[str, Any], changed_at: dt.datetime) -> None:
    """Keep ``row`` unless a publication newer than ``changed_at`` is already kept."""
    stmt = pg_insert(Agency).values(**row, changed_at=changed_at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Agency.code],
            set_={
                "name": stmt.excluded.name,
                "kind": stmt.excluded.kind,
                "unit_code": stmt.excluded.unit_code,
                "unit_path": stmt.excluded.unit_path,
                "retired": stmt.excluded.retired,
                "changed_at": stmt.excluded.changed_at,
            },
            where=(Agency.changed_at.is_(None)) | (Agency.changed_at <= stmt.excluded.changed_at),
        )
    )


async def one(session: AsyncSession, code: str) -> Agency | None:
    return await session.get(Agency, code)


async def active(session: AsyncSession, code: str) -> Agency | None:
    return await session.scalar(
        select(Agency).where(Agency.code == code, Agency.retired.is_(False))
    )


async def of_unit(session: AsyncSession, unit_code: str, kind: str) -> Agency | None:
    """The unit's first active agency of ``kind`` (the one its steps go to)."""
    return await session.scalar(
        select(Agency)
        .where(Agency.unit_code == unit_code, Agency.kind == kind, Agency.retired.is_(False))
        .order_by(Agency.created_at, Agency.code)
        .limit(1)
    )


async def of_units(
    session: AsyncSession, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """:func:`of_unit` for each (unit code, kind), in one statement: the code of each one's
    first active agency, for those that have one."""
    pairs = sorted(set(wanted))
    if not pairs:
        return {}
    rows = await session.execute(
        select(Agency.unit_code, Agency.kind, Agency.code)
        .where(tuple_(Agency.unit_code, Agency.kind).in_(pairs), Agency.retired.is_(False))
        .ext(distinct_on(Agency.unit_code, Agency.kind))
        .order_by(Agency.unit_code, Agency.kind, Agency.created_at, Agency.code)
    )
    return {(unit_code, kind): code for unit_code, kind, code in rows}


async def names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(select(Agency.code, Agency.name).where(Agency.code.in_(wanted)))
    return {code: name for code, name in rows}


async def recorded_agencies(session: AsyncSession, officer_sub: str) -> set[str]:
    rows = await session.scalars(
        select(AgencyMember.agency_code).where(AgencyMember.officer_sub == officer_sub)
    )
    return set(rows.all())


MEMBER_ORDER = Keyset(columns=(AgencyMember.officer_sub,))


async def members(
    session: AsyncSession, agency_code: str, limit: int, cursor: str | None
) -> tuple[list[AgencyMember], str | None]:
    query = select(AgencyMember).where(AgencyMember.agency_code == agency_code)
    rows = list((await session.scalars(MEMBER_ORDER.apply(query, cursor, limit))).all())
    return MEMBER_ORDER.page(rows, limit, lambda m: (m.officer_sub,))


async def add_member(
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


async def remove_member(session: AsyncSession, agency_code: str, officer_sub: str) -> bool:
    gone = await session.scalar(
        delete(AgencyMember)
        .where(AgencyMember.agency_code == agency_code, AgencyMember.officer_sub == officer_sub)
        .returning(AgencyMember.officer_sub)
    )
    return gone is not None
