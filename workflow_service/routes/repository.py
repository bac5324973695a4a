"""Route templates: every published version of a procedure's route."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from workflow_service.db.models import ProcedureHours, RouteTemplateRow


async def versions(session: AsyncSession, procedure_key: str) -> list[RouteTemplateRow]:
    rows = await session.scalars(
        select(RouteTemplateRow)
        .where(RouteTemplateRow.procedure_key == procedure_key)
        .order_by(RouteTemplateRow.version.desc())
    )
    return list(rows.all())


async def newest_of(
    session: AsyncSession, procedure_keys: Iterable[str]
) -> dict[str, RouteTemplateRow]:
    """The newest route version of each procedure that has one, in one statement."""
    wanted = sorted(set(procedure_keys))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(RouteTemplateRow)
        .where(RouteTemplateRow.procedure_key.in_(wanted))
        .ext(distinct_on(RouteTemplateRow.procedure_key))
        .order_by(RouteTemplateRow.procedure_key, RouteTemplateRow.version.desc())
    )
    return {r.procedure_key: r for r in rows}


async def one(session: AsyncSession, procedure_key: str, version: int) -> RouteTemplateRow | None:
    return await session.get(RouteTemplateRow, (procedure_key, version))


async def insert(
    session: AsyncSession,
    procedure_key: str,
    version: int,
    steps: list[dict[str, Any]],
    created_by: str | None,
) -> bool:
    """Keep a route version; True when it was not there yet."""
    inserted = await session.scalar(
        pg_insert(RouteTemplateRow)
        .values(procedure_key=procedure_key, version=version, steps=steps, created_by=created_by)
        .on_conflict_do_nothing()
        .returning(RouteTemplateRow.version)
    )
    return inserted is not None


async def keep_hours(
    session: AsyncSession, procedure_key: str, version: int, working_hours: float | None
) -> None:
    """Keep the newest version's working hours; an older version arriving late changes nothing."""
    stmt = pg_insert(ProcedureHours).values(
        procedure_key=procedure_key, version=version, working_hours=working_hours
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ProcedureHours.procedure_key],
            set_={"version": stmt.excluded.version, "working_hours": stmt.excluded.working_hours},
            where=ProcedureHours.version <= stmt.excluded.version,
        )
    )


async def hours_of(session: AsyncSession, procedure_keys: Iterable[str]) -> dict[str, float | None]:
    """The working hours the newest version of each procedure sets, for those the table holds."""
    wanted = sorted(set(procedure_keys))
    if not wanted:
        return {}
    rows = await session.execute(
        select(ProcedureHours.procedure_key, ProcedureHours.working_hours).where(
            ProcedureHours.procedure_key.in_(wanted)
        )
    )
    return {key: hours for key, hours in rows}


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(RouteTemplateRow)) or 0)


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(pg_insert(RouteTemplateRow).on_conflict_do_nothing(), rows)
