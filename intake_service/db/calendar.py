"""The working-day calendar as intake stores it, and the in-process cache reception reads.

``calendar_days`` holds every exception to the weekly rhythm, one row per date, with where it came
from: ``base`` rows are the year computed from the ``holidays`` package
(``shared.holidays_vn.vietnam_base_year``), copied in once per year (``calendar_years`` marks the
years done, so a base day that ops removed is never copied back); ``ops`` rows are what ops set
after the government's announcement. Each change of a year, including its first copy, is written
with a ``CalendarChanged`` event carrying the whole year, in the same transaction, so other
services build the same calendar.

Reception must not pay a database round trip for the calendar on every dossier, so the
``WorkingCalendar`` built from these rows is cached per process and reloaded in the background
after ``ttl`` seconds. The process that changes the calendar drops its cache at once; other
replicas see the change within ``ttl`` plus one reload.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.db.models import CalendarDay, CalendarYear
from shared.calendar import VN_TZ, CalendarEntry, DayKind, Override, WorkingCalendar, merge
from shared.calendar import YearCalendar as YearCalendarData
from shared.events.calendar import CalendarChanged, CalendarDayData, calendar_key
from shared.holidays_vn import vietnam_base_year
from shared.messaging.outbox import Outbox

log = structlog.get_logger(__name__)

BASE = "base"
OPS = "ops"

# Reception loads enough years for any processing time up to this many working days, whatever
# the procedure, so that one cached calendar serves every desk all day.
RECEPTION_HORIZON_WORKING_DAYS = 250


def years_reached(start: dt.datetime, working_days: float) -> range:
    """The calendar years a deadline of ``working_days`` counted from ``start`` can fall in.

    A working week has at least five calendar days for every three working ones even in the
    weeks of Tết or National Day; allowing 1.5 calendar days per working day plus a month is a
    generous bound, and the next year is always included (a receipt in late December).
    """
    local = start.astimezone(VN_TZ)
    span = dt.timedelta(days=math.ceil(max(working_days, 0) * 1.5) + 31)
    last = max(local.year + 1, (local + span).year)
    return range(local.year, last + 1)


@dataclass(frozen=True)
class StoredDay:
    """A row of ``calendar_days`` as the API shows it."""

    day: dt.date
    kind: DayKind
    name: str
    source: str
    updated_by: str | None
    updated_at: dt.datetime


def _stored(row: CalendarDay) -> StoredDay:
    return StoredDay(
        row.day, DayKind(row.kind), row.name, row.source, row.updated_by, row.updated_at
    )


async def _days_of(session: AsyncSession, years: Iterable[int]) -> list[CalendarDay]:
    years = sorted(years)
    if not years:
        return []
    rows = await session.scalars(
        select(CalendarDay)
        .where(
            CalendarDay.day >= dt.date(years[0], 1, 1),
            CalendarDay.day <= dt.date(years[-1], 12, 31),
        )
        .order_by(CalendarDay.day)
    )
    wanted = set(years)
    return [r for r in rows if r.day.year in wanted]


async def year_days(session: AsyncSession, year: int) -> list[StoredDay]:
    return [_stored(r) for r in await _days_of(session, [year])]


def _event(year: int, days: Sequence[StoredDay], actor: str | None) -> CalendarChanged:
    return CalendarChanged(
        year=year,
        entries=tuple(
            CalendarDayData(date=d.day, kind=d.kind, name=d.name, source=d.source)  # type: ignore[arg-type]
            for d in days
        ),
        changed_by=actor,
        changed_at=dt.datetime.now(dt.UTC),
    )


async def _publish(
    session: AsyncSession, outbox: Outbox, year: int, actor: str | None
) -> list[StoredDay]:
    days = await year_days(session, year)
    await outbox.add(session, _event(year, days, actor), subject=calendar_key(year))
    return days


async def ensure_base_years(session: AsyncSession, outbox: Outbox, years: Iterable[int]) -> None:
    """Copy the base of every year in ``years`` not copied yet, in the caller's transaction.

    The ``calendar_years`` insert is the claim: of two transactions loading the same year at
    once, the second waits on the first's row and then finds it there, so no day is written twice
    and no announced change is overwritten by the base.
    """
    wanted = set(years)
    # Nearly always every year is there already: one read instead of one insert per year.
    have = set(
        await session.scalars(select(CalendarYear.year).where(CalendarYear.year.in_(wanted)))
    )
    for year in sorted(wanted - have):
        claimed = await session.scalar(
            pg_insert(CalendarYear)
            .values(year=year)
            .on_conflict_do_nothing(index_elements=[CalendarYear.year])
            .returning(CalendarYear.year)
        )
        if claimed is None:
            continue
        entries = vietnam_base_year(year).entries
        if entries:
            await session.execute(
                pg_insert(CalendarDay)
                .values(
                    [
                        {"day": e.day, "kind": str(e.kind), "name": e.name, "source": BASE}
                        for e in entries
                    ]
                )
                .on_conflict_do_nothing(index_elements=[CalendarDay.day])
            )
        await _publish(session, outbox, year, None)


async def _lock_year(session: AsyncSession, outbox: Outbox, year: int) -> YearCalendarData:
    """Load the year if needed and lock it, so concurrent edits of one year publish in the order
    they commit and each event holds the year exactly as committed."""
    await ensure_base_years(session, outbox, [year])
    await session.scalar(select(CalendarYear).where(CalendarYear.year == year).with_for_update())
    days = await year_days(session, year)
    return YearCalendarData(year, tuple(CalendarEntry(d.day, d.kind, d.name) for d in days))


async def set_day(
    session: AsyncSession,
    outbox: Outbox,
    day: dt.date,
    kind: DayKind,
    name: str,
    actor: str,
    now: dt.datetime,
) -> list[StoredDay]:
    """Record what ``day`` is (an ops decision) and publish the year; returns the year's days.

    Raises ``ValueError`` when the calendar rules refuse it (a weekday declared a working day).
    """
    current = await _lock_year(session, outbox, day.year)
    entry = merge(current, [Override(day, kind, name)]).entry(day)
    assert entry is not None
    await session.execute(
        pg_insert(CalendarDay)
        .values(
            day=day, kind=str(kind), name=entry.name, source=OPS, updated_by=actor, updated_at=now
        )
        .on_conflict_do_update(
            index_elements=[CalendarDay.day],
            set_={
                "kind": str(kind),
                "name": entry.name,
                "source": OPS,
                "updated_by": actor,
                "updated_at": now,
            },
        )
    )
    return await _publish(session, outbox, day.year, actor)


async def remove_day(
    session: AsyncSession, outbox: Outbox, day: dt.date, actor: str
) -> list[StoredDay] | None:
    """Make ``day`` an ordinary day again; None when the calendar has no entry for it."""
    await _lock_year(session, outbox, day.year)
    removed = await session.scalar(
        delete(CalendarDay).where(CalendarDay.day == day).returning(CalendarDay.day)
    )
    if removed is None:
        return None
    return await _publish(session, outbox, day.year, actor)


async def load_working_calendar(
    session: AsyncSession, outbox: Outbox, years: Iterable[int]
) -> WorkingCalendar:
    years = sorted(set(years))
    await ensure_base_years(session, outbox, years)
    by_year: dict[int, list[CalendarEntry]] = {y: [] for y in years}
    for row in await _days_of(session, years):
        by_year[row.day.year].append(CalendarEntry(row.day, DayKind(row.kind), row.name))
    return WorkingCalendar.from_years(
        YearCalendarData(year, tuple(entries)) for year, entries in by_year.items()
    )


class CalendarCache:
    """Working calendars by the years they cover, rebuilt from the database after ``ttl``.

    Only the first use of a set of years (and the first after ``invalidate``) waits for the
    database. An expired calendar is still answered while one background task rebuilds it, so a
    desk never waits on the reload either; if the database is unreachable the last calendar
    keeps serving and the next request tries again.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        ttl: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._outbox = outbox
        self._ttl = ttl
        self._monotonic = monotonic
        self._calendars: dict[tuple[int, ...], tuple[float, WorkingCalendar]] = {}
        # A load that began before an invalidation may have read the old rows; it must not
        # be stored over the newer state, so every load remembers the generation it began in.
        self._generation = 0
        self._refreshing: dict[tuple[int, ...], asyncio.Task[None]] = {}
        # One first load at a time: concurrent first requests wait for it instead of each
        # querying the database.
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget every calendar; called by the process that just committed a change."""
        self._generation += 1
        self._calendars.clear()

    async def _load(self, key: tuple[int, ...]) -> WorkingCalendar:
        generation = self._generation
        async with self._sessionmaker() as session, session.begin():
            calendar = await load_working_calendar(session, self._outbox, key)
        if generation == self._generation:
            self._calendars[key] = (self._monotonic() + self._ttl, calendar)
        return calendar

    async def _refresh(self, key: tuple[int, ...]) -> None:
        try:
            await self._load(key)
        except Exception as exc:
            log.warning("calendar reload failed; serving the last one", error=repr(exc))
        finally:
            self._refreshing.pop(key, None)

    async def working_calendar(self, years: Iterable[int]) -> WorkingCalendar:
        key = tuple(sorted(set(years)))
        cached = self._calendars.get(key)
        if cached is not None:
            expires, calendar = cached
            if expires <= self._monotonic() and key not in self._refreshing:
                self._refreshing[key] = asyncio.create_task(
                    self._refresh(key), name=f"calendar-reload-{key[0]}"
                )
            return calendar
        async with self._lock:
            cached = self._calendars.get(key)
            if cached is not None:
                return cached[1]
            return await self._load(key)

    async def for_deadline(self, start: dt.datetime, working_days: float) -> WorkingCalendar:
        """The calendar a deadline of ``working_days`` from ``start`` is counted on.

        Up to the reception horizon every start in a year gets the same cached calendar, the
        one the desk used; only longer processing times load further years.
        """
        return await self.working_calendar(
            years_reached(start, max(working_days, RECEPTION_HORIZON_WORKING_DAYS))
        )
