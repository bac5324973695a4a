"""The working calendar's years as intake last published them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.calendar import CalendarChanged
from workflow_service.db.models import CalendarYearRow


async def store_year(session: AsyncSession, event: CalendarChanged) -> None:
    """Keep the newest publication of a year; an older one arriving late changes nothing."""
    entries = [e.model_dump(mode="json") for e in event.entries]
    stmt = pg_insert(CalendarYearRow).values(
        year=event.year, entries=entries, changed_at=event.changed_at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[CalendarYearRow.year],
            set_={"entries": stmt.excluded.entries, "changed_at": stmt.excluded.changed_at},
            where=CalendarYearRow.changed_at <= stmt.excluded.changed_at,
        )
    )


async def published_years(session: AsyncSession, years: Iterable[int]) -> list[CalendarYearRow]:
    rows = await session.scalars(select(CalendarYearRow).where(CalendarYearRow.year.in_(years)))
    return list(rows.all())
