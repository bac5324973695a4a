"""The working calendar as workflow knows it: each year as intake last published it on the
catalogue topic, or, for a year intake has not published, the base from the ``holidays``
package (the same base intake starts from, so both agree until ops announce a change)."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import VN_TZ, WorkingCalendar, YearCalendar
from shared.events.calendar import CalendarChanged
from shared.holidays_vn import vietnam_base_year
from workflow_service.calendar import repository


class CalendarBook:
    """Builds the ``WorkingCalendar`` for a span of years, cached for ``ttl`` seconds so that
    actions and timers do not read the calendar on every call. A change published by intake
    reaches every workflow process within ``ttl``."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._cached: tuple[float, frozenset[int], WorkingCalendar] | None = None

    def forget(self) -> None:
        self._cached = None

    @staticmethod
    def years_around(instant: dt.datetime) -> frozenset[int]:
        year = instant.astimezone(VN_TZ).year
        # Cases last weeks, rarely months; a pause can stretch one into the year after next.
        return frozenset(range(year - 1, year + 3))

    async def calendar(self, session: AsyncSession, at: dt.datetime) -> WorkingCalendar:
        years = self.years_around(at)
        now = time.monotonic()
        if self._cached and self._cached[1] >= years and now - self._cached[0] < self.ttl:
            return self._cached[2]
        published = {
            r.year: YearCalendar.from_dict({"year": r.year, "entries": r.entries})
            for r in await repository.published_years(session, years)
        }
        calendar = WorkingCalendar.from_years(
            published.get(y) or vietnam_base_year(y) for y in sorted(years)
        )
        self._cached = (now, years, calendar)
        return calendar


async def calendar_changed(
    session: AsyncSession, book: CalendarBook, event: CalendarChanged
) -> None:
    await repository.store_year(session, event)
    book.forget()
