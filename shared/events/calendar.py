"""The working-day calendar as an event on ``intake.catalogue.v1``.

Intake keeps the calendar (the base from the ``holidays`` package plus the days ops announce);
every other service that counts working days builds the same ``shared.calendar.WorkingCalendar``
from these events. Each event carries the whole year, not the one day that changed, and is keyed
``calendar-<year>`` on the compacted topic: a consumer that starts late, or reads the topic after
compaction, still gets every year's current state from the last message of each key.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.calendar import CalendarEntry, DayKind, YearCalendar
from shared.events import topics
from shared.events.base import Event

CalendarSource = Literal["base", "ops"]


class CalendarDayData(BaseModel):
    """One exception to the weekly rhythm of the year."""

    model_config = ConfigDict(frozen=True)

    date: dt.date
    kind: DayKind = Field(
        description="holiday: ngày lễ; compensatory_day_off: ngày nghỉ bù; "
        "working_day: ngày cuối tuần làm việc bù"
    )
    name: str
    source: CalendarSource = Field(
        description="base: từ lịch nghỉ lễ theo luật; ops: do cán bộ vận hành nhập theo thông báo"
    )


def calendar_key(year: int) -> str:
    return f"calendar-{year}"


class CalendarChanged(Event):
    """Lịch làm việc của một năm đã thay đổi; the full year, keyed ``calendar-<year>``."""

    event_type = "vn.motcua.calendar.changed.v1"
    topic = topics.CATALOGUE
    summary = "The working-day calendar of a year changed; the event carries the whole year."

    year: int
    entries: tuple[CalendarDayData, ...] = Field(
        description="mọi ngày đặc biệt của năm (ngày lễ, nghỉ bù, làm việc bù), theo thứ tự ngày"
    )
    changed_by: str | None = None
    changed_at: dt.datetime

    def partition_key(self) -> str:
        return calendar_key(self.year)

    def year_calendar(self) -> YearCalendar:
        """The year as the calendar arithmetic takes it."""
        return YearCalendar(
            self.year, tuple(CalendarEntry(e.date, e.kind, e.name) for e in self.entries)
        )
