"""Every query of the stored calendar.

``calendar_days`` holds every exception to the weekly rhythm, one row per date, with where it
came from: ``base`` rows are the year computed from the ``holidays`` package, copied in once per
year (``calendar_years`` marks the years done, so a base day that ops removed is never copied
back); ``ops`` rows are what ops set after the government's announcement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import CalendarDay, CalendarYear
from shared.calendar import CalendarEntry, DayKind
from shared.events.calendar import CalendarSource

BASE: CalendarSource = "base"
OPS: CalendarSource = "ops"


@dataclass(frozen=True)
class StoredDay:
    """A row of ``calendar_days`` as the API shows it."""

    day: dt.date
    kind: DayKind
    name: str
    source: CalendarSource
    updated_by: str | None
    updated_at: dt.datetime


def _stored(row: CalendarDay) -> StoredDay:
    return StoredDay(
        row.day,
        DayKind(row.kind),
        row.name,
        cast(CalendarSource, row.source),
        row.updated_by,
        row.updated_at,
    )


async def days_of(session: AsyncSession, years: Iterable[int]) -> list[StoredDay]:
    """The stored days of ``years``, by date."""
    wanted = sorted(set(years))
    if not wanted:
        return []
    rows = await session.scalars(
        select(CalendarDay)
        .where(
            CalendarDay.day >= dt.date(wanted[0], 1, 1),
            CalendarDay.day <= dt.date(wanted[-1], 12, 31),
        )
        .order_by(CalendarDay.day)
    )
    return [_stored(r) for r in rows if r.day.year in wanted]


async def loaded_years(session: AsyncSession, years: Iterable[int]) -> set[int]:
    return set(
        await session.scalars(select(CalendarYear.year).where(CalendarYear.year.in_(set(years))))
    )


async def claim_year(session: AsyncSession, year: int) -> bool:
    """Mark ``year`` loaded; False when another transaction did first. Of two transactions
    loading the same year at once, the second waits on the first's row and then finds it."""
    claimed = await session.scalar(
        pg_insert(CalendarYear)
        .values(year=year)
        .on_conflict_do_nothing(index_elements=[CalendarYear.year])
        .returning(CalendarYear.year)
    )
    return claimed is not None


async def insert_base_days(session: AsyncSession, entries: Sequence[CalendarEntry]) -> None:
    if not entries:
        return
    await session.execute(
        pg_insert(CalendarDay)
        .values(
            [{"day": e.day, "kind": str(e.kind), "name": e.name, "source": BASE} for e in entries]
        )
        .on_conflict_do_nothing(index_elements=[CalendarDay.day])
    )


async def lock_year(session: AsyncSession, year: int) -> None:
    await session.scalar(select(CalendarYear).where(CalendarYear.year == year).with_for_update())


async def put_ops_day(
    session: AsyncSession,
    day: dt.date,
    kind: DayKind,
    name: str,
    actor: str,
    now: dt.datetime,
) -> None:
    values = {
        "kind": str(kind),
        "name": name,
        "source": OPS,
        "updated_by": actor,
        "updated_at": now,
    }
    await session.execute(
        pg_insert(CalendarDay)
        .values(day=day, **values)
        .on_conflict_do_update(index_elements=[CalendarDay.day], set_=values)
    )


async def delete_day(session: AsyncSession, day: dt.date) -> bool:
    removed = await session.scalar(
        delete(CalendarDay).where(CalendarDay.day == day).returning(CalendarDay.day)
    )
    return removed is not None
