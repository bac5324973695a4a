"""The working-day calendar's use cases, and the calendar reception counts on.

Each change of a year, including its first copy from the statutory base
(``shared.holidays_vn.vietnam_base_year``), is written with a ``CalendarChanged`` event carrying
the whole year, in the same transaction, so other services build the same calendar.

Reception must not pay a database round trip for the calendar on every dossier, so the
``WorkingCalendar`` built from the stored rows is cached per process (:class:`CalendarCache`) and
reloaded in the background after ``ttl`` seconds. The process that changes the calendar drops its
cache as soon as the change commits; other replicas drop theirs when the ``CalendarChanged`` event
reaches them on the catalogue topic (``intake_service.reference.listener``), or within ``ttl``
plus one reload if they miss it.
Features that count a deadline take :data:`ReceptionCalendar` as a dependency.

The deadline answer and reception share everything: the cache, the stored calendar and
:meth:`intake_service.domain.procedure_rules.ProcessingRules.due`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated

import structlog
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.calendar import repository
from intake_service.calendar.errors import (
    CalendarDateOutsideYear,
    CalendarDayNotFound,
    DeadlineNeedsOneDuration,
    UnknownProcedure,
    WorkingDayNotOnWeekend,
)
from intake_service.calendar.repository import StoredDay
from intake_service.calendar.schemas import (
    KIND_LABELS_VI,
    CalendarDayIn,
    CalendarDayOut,
    CalendarYearOut,
    DeadlineOut,
)
from intake_service.catalogue import repository as catalogue
from intake_service.clock import Now
from intake_service.domain.procedure_rules import ProcedureRules, ProcessingRules
from shared.auth import Principal, Role, ensure_roles
from shared.calendar import VN_TZ, CalendarEntry, DayKind, Override, WorkingCalendar, merge
from shared.calendar import YearCalendar as YearCalendarData
from shared.events.calendar import CalendarChanged, CalendarDayData, calendar_key
from shared.holidays_vn import vietnam_base_year
from shared.messaging.outbox import Outbox

log = structlog.get_logger(__name__)

# Reception loads enough years for any processing time up to this many working days, whatever
# the procedure, so that one cached calendar serves every desk all day.
RECEPTION_HORIZON_WORKING_DAYS = 250
# Hours of office time in the shortest working day, to bound the years an hours deadline reaches.
_SHORTEST_DAY_HOURS = 7


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


# --- the stored year ---------------------------------------------------------------------------


def _event(year: int, days: Sequence[StoredDay], actor: str | None) -> CalendarChanged:
    return CalendarChanged(
        year=year,
        entries=tuple(
            CalendarDayData(date=d.day, kind=d.kind, name=d.name, source=d.source) for d in days
        ),
        changed_by=actor,
        changed_at=dt.datetime.now(dt.UTC),
    )


async def _publish(
    session: AsyncSession, outbox: Outbox, year: int, actor: str | None
) -> list[StoredDay]:
    days = await repository.days_of(session, [year])
    await outbox.add(session, _event(year, days, actor), subject=calendar_key(year))
    return days


async def ensure_base_years(session: AsyncSession, outbox: Outbox, years: Iterable[int]) -> None:
    """Copy the base of every year in ``years`` not copied yet, in the caller's transaction.

    The claim of the year comes first: of two transactions loading the same year at once, the
    second waits on the first's claim and then finds it there, so no day is written twice and
    no announced change is overwritten by the base.
    """
    wanted = set(years)
    # Nearly always every year is there already: one read instead of one insert per year.
    have = await repository.loaded_years(session, wanted)
    for year in sorted(wanted - have):
        if not await repository.claim_year(session, year):
            continue
        await repository.insert_base_days(session, vietnam_base_year(year).entries)
        await _publish(session, outbox, year, None)


async def _lock_year(session: AsyncSession, outbox: Outbox, year: int) -> YearCalendarData:
    """Load the year if needed and lock it, so concurrent edits of one year publish in the order
    they commit and each event holds the year exactly as committed."""
    await ensure_base_years(session, outbox, [year])
    await repository.lock_year(session, year)
    days = await repository.days_of(session, [year])
    return YearCalendarData(year, tuple(CalendarEntry(d.day, d.kind, d.name) for d in days))


async def load_working_calendar(
    session: AsyncSession, outbox: Outbox, years: Iterable[int]
) -> WorkingCalendar:
    wanted = sorted(set(years))
    await ensure_base_years(session, outbox, wanted)
    by_year: dict[int, list[CalendarEntry]] = {y: [] for y in wanted}
    for day in await repository.days_of(session, wanted):
        by_year[day.day.year].append(CalendarEntry(day.day, day.kind, day.name))
    return WorkingCalendar.from_years(
        YearCalendarData(year, tuple(entries)) for year, entries in by_year.items()
    )


def _year_out(year: int, days: list[StoredDay]) -> CalendarYearOut:
    return CalendarYearOut(
        year=year,
        entries=[
            CalendarDayOut(
                date=d.day,
                kind=d.kind,
                kind_label_vi=KIND_LABELS_VI[d.kind],
                name=d.name,
                source=d.source,
                updated_by=d.updated_by,
                updated_at=d.updated_at,
            )
            for d in days
        ],
    )


def _check_in_year(year: int, day: dt.date) -> None:
    if day.year != year:
        raise CalendarDateOutsideYear(year, day)


async def read_year(session: AsyncSession, outbox: Outbox, year: int) -> CalendarYearOut:
    """A year's exceptions to the weekly rhythm, copied from the base on first reading."""
    await ensure_base_years(session, outbox, [year])
    return _year_out(year, await repository.days_of(session, [year]))


def _invalidate_on_commit(session: AsyncSession, cache: CalendarCache) -> None:
    """Drop the process's calendars once the change is committed: dropped before, a reload
    could read the old rows in between and keep them for a whole ``ttl``."""
    event.listen(session.sync_session, "after_commit", lambda _s: cache.invalidate(), once=True)


async def set_day(
    session: AsyncSession,
    outbox: Outbox,
    cache: CalendarCache,
    principal: Principal,
    year: int,
    day: dt.date,
    body: CalendarDayIn,
    now: dt.datetime,
) -> CalendarYearOut:
    """Record what ``day`` is (an ops decision after the government's announcement) and
    publish the year."""
    ensure_roles(principal, Role.ops)
    _check_in_year(year, day)
    if body.kind is DayKind.WORKING_DAY and day.weekday() < 5:
        raise WorkingDayNotOnWeekend(day)
    current = await _lock_year(session, outbox, day.year)
    entry = merge(current, [Override(day, body.kind, body.name or "")]).entry(day)
    assert entry is not None
    await repository.put_ops_day(session, day, body.kind, entry.name, principal.sub, now)
    days = await _publish(session, outbox, day.year, principal.sub)
    _invalidate_on_commit(session, cache)
    return _year_out(year, days)


async def remove_day(
    session: AsyncSession,
    outbox: Outbox,
    cache: CalendarCache,
    principal: Principal,
    year: int,
    day: dt.date,
) -> CalendarYearOut:
    """Make ``day`` an ordinary day again; 404 when the calendar has no entry for it."""
    ensure_roles(principal, Role.ops)
    _check_in_year(year, day)
    await _lock_year(session, outbox, day.year)
    if not await repository.delete_day(session, day):
        raise CalendarDayNotFound()
    days = await _publish(session, outbox, day.year, principal.sub)
    _invalidate_on_commit(session, cache)
    return _year_out(year, days)


# --- the cached calendar reception counts on ---------------------------------------------------


class CalendarCache:
    """Working calendars by the years they cover, rebuilt from the database after ``ttl``.

    Only the first use of a set of years (and the first after ``invalidate``) waits for the
    database. An expired calendar is still answered while one background task rebuilds it, so a
    desk never waits on the reload either; if the database is unreachable the last calendar
    keeps serving and the next request tries again.

    A load runs in a transaction of its own (from the sessionmaker), not in a request's: it
    serves every request of the process, and the base years it may copy must commit whatever
    the request that happened to trigger it does.
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

    async def for_processing(
        self, start: dt.datetime, processing: ProcessingRules
    ) -> WorkingCalendar:
        """The calendar a procedure's processing time from ``start`` is counted on, whether the
        procedure is timed in working days or in working hours."""
        days = processing.working_days
        if processing.in_hours:
            assert processing.working_hours is not None
            days = max(days, processing.working_hours / _SHORTEST_DAY_HOURS)
        return await self.for_deadline(start, days)


async def calendar_cache(request: Request) -> CalendarCache:
    """The process's calendar cache (``intake_service.reference``), which the catalogue listener
    drops when another replica changes the calendar."""
    cache: CalendarCache = request.app.state.reference.calendar(request.app.state.runtime)
    return cache


Cache = Annotated[CalendarCache, Depends(calendar_cache)]


async def reception_calendar(cache: Cache, now: Now) -> WorkingCalendar:
    """The calendar a dossier received now is counted on (a dependency of the reception routes)."""
    return await cache.for_deadline(now, 0)


ReceptionCalendar = Annotated[WorkingCalendar, Depends(reception_calendar)]


# --- the deadline answer -----------------------------------------------------------------------


async def deadline(
    session: AsyncSession,
    cache: CalendarCache,
    received_at: dt.datetime,
    working_days: float | None,
    procedure_key: str | None,
) -> DeadlineOut:
    """The appointment a desk would write for a dossier received at ``received_at``: after
    ``working_days`` working days, or after the processing time of ``procedure_key`` (in working
    hours for a procedure timed in hours, with a same-day procedure's cutoff)."""
    if (working_days is None) == (procedure_key is None):
        raise DeadlineNeedsOneDuration()
    if procedure_key is not None:
        procedure = await catalogue.get(session, procedure_key)
        if procedure is None:
            raise UnknownProcedure()
        processing = ProcedureRules.of(procedure.data).processing
    else:
        assert working_days is not None
        processing = ProcessingRules(working_days=working_days)
    calendar = await cache.for_processing(received_at, processing)
    due = processing.due(calendar, received_at).astimezone(VN_TZ)
    return DeadlineOut(
        received_at=received_at,
        working_days=processing.working_days,
        working_hours=processing.working_hours if processing.in_hours else None,
        procedure_key=procedure_key,
        appointment_at=due,
        appointment_date=due.date(),
    )
