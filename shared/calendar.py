"""Working-day arithmetic on Vietnam's calendar (Asia/Ho_Chi_Minh).

Weekends and the given public holidays do not count; declared working Saturdays do. Deadlines
fall at the close of office hours of the last working day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE_CLOSE = dt.time(17, 0)


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    working_weekend_days: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls, holidays: Iterable[dt.date] = (), working_weekend_days: Iterable[dt.date] = ()
    ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(working_weekend_days))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working_weekend_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def next_working_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(
        self, start: dt.datetime, days: float, *, cutoff: dt.time = OFFICE_CLOSE
    ) -> dt.datetime:
        """The deadline of ``days`` working days counted from ``start``.

        The receipt day itself does not count; a dossier received after ``cutoff`` or on a
        non-working day is treated as received on the next working day. Zero days means the
        close of the (effective) receipt day.
        """
        local = start.astimezone(VN_TZ)
        day = local.date()
        if not self.is_working_day(day) or local.time() >= cutoff:
            day = self.next_working_day(day)
        for _ in range(math.ceil(days)):
            day = self.next_working_day(day)
        return dt.datetime.combine(day, OFFICE_CLOSE, tzinfo=VN_TZ)
