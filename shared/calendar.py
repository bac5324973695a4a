"""Working time on Vietnam's calendar (Asia/Ho_Chi_Minh).

Processing times run in working days (or, for a few procedures, working hours) from the moment a
complete dossier is received. Saturdays, Sundays, public holidays and compensatory days off do not
count; a weekend day declared a working day (a working Saturday of a swap, a "Saturday for the
people" session) does. Deadlines fall at the close of office hours of the last working day.

The calendar is data, one ``YearCalendar`` per year:

* ``shared.holidays_vn.vietnam_base_year(year)`` derives a base from the ``holidays`` package: the
  statutory holidays (1/1, Tết, Hùng Kings' day on lunar 10/3, 30/4, 1/5, 2/9 with its adjacent
  day, and any newer day the package knows), the compensatory days that follow a holiday falling on a
  weekend, and the swaps the package already records (a weekday off paired with a working
  Saturday).
* Every year the government announces the exact days off, above all for Tết (usually five or more
  days around lunar 1/1, often stretched to a full week by swapping a weekday with a Saturday).
  Ops compare the announcement with the base and record ``Override`` rows for that year:
  ``Override.add_day_off`` for an extra day off, ``Override.add_working_day`` for the Saturday that
  pays it back, ``Override.remove`` to drop a base entry that the announcement does not confirm.
  ``merge(base, overrides)`` applies them; it is pure, so the base can be recomputed after a package
  upgrade and the stored overrides replayed on top.
* ``WorkingCalendar.from_years([...])`` builds the calendar the arithmetic uses. A day in a year
  without a ``YearCalendar`` is judged by the weekday alone, so services should load every year
  their deadlines can reach (the current and the next one at least).

A swap whose two days fall in different years (a working Saturday late in December for a day off
in January) is recorded as two entries, each in the ``YearCalendar`` of the year its date falls in.

All instants are timezone-aware; they are converted to Vietnam time, which has had no daylight
saving since 1975, so wall-clock differences there are real durations.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE_CLOSE = dt.time(17, 0)

OfficeHours: TypeAlias = tuple[tuple[dt.time, dt.time], ...]

# Decree-level default for state offices; provinces may publish their own hours.
DEFAULT_OFFICE_HOURS: OfficeHours = (
    (dt.time(7, 30), dt.time(11, 30)),
    (dt.time(13, 30), OFFICE_CLOSE),
)

_ONE_DAY = dt.timedelta(days=1)
# Pairs of dates a calendar remembers its working-day counts for, at most.
_DAY_COUNT_CACHE = 4096


class DayKind(StrEnum):
    HOLIDAY = "holiday"
    COMPENSATORY_DAY_OFF = "compensatory_day_off"
    WORKING_DAY = "working_day"

    @property
    def is_day_off(self) -> bool:
        return self is not DayKind.WORKING_DAY


_DEFAULT_NAMES = {
    DayKind.HOLIDAY: "Ngày lễ",
    DayKind.COMPENSATORY_DAY_OFF: "Ngày nghỉ bù",
    DayKind.WORKING_DAY: "Ngày làm việc bù",
}


@dataclass(frozen=True)
class CalendarEntry:
    """What one date is, when it is not an ordinary weekday or weekend day."""

    day: dt.date
    kind: DayKind
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"date": self.day.isoformat(), "kind": str(self.kind), "name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalendarEntry:
        return cls(
            day=dt.date.fromisoformat(str(data["date"])),
            kind=DayKind(data["kind"]),
            name=str(data.get("name") or ""),
        )


@dataclass(frozen=True)
class YearCalendar:
    """The special dates of one year, sorted, at most one entry per date."""

    year: int
    entries: tuple[CalendarEntry, ...] = ()

    def __post_init__(self) -> None:
        entries = tuple(sorted(self.entries, key=lambda e: e.day))
        seen: set[dt.date] = set()
        for entry in entries:
            if entry.day.year != self.year:
                raise ValueError(f"{entry.day} does not belong to the calendar of {self.year}")
            if entry.day in seen:
                raise ValueError(f"{entry.day} appears twice in the calendar of {self.year}")
            # A weekday is a working day already; declaring it one is always a data-entry slip.
            if entry.kind is DayKind.WORKING_DAY and entry.day.weekday() < 5:
                raise ValueError(f"declared working day {entry.day} is not on a weekend")
            seen.add(entry.day)
        object.__setattr__(self, "entries", entries)

    def entry(self, day: dt.date) -> CalendarEntry | None:
        return next((e for e in self.entries if e.day == day), None)

    def days(self, kind: DayKind) -> list[dt.date]:
        return [e.day for e in self.entries if e.kind is kind]

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "entries": [e.to_dict() for e in self.entries]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> YearCalendar:
        return cls(
            year=int(data["year"]),
            entries=tuple(CalendarEntry.from_dict(e) for e in data.get("entries", ())),
        )


@dataclass(frozen=True)
class Override:
    """An ops correction of a base year: set what ``day`` is, or (``kind`` None) forget it."""

    day: dt.date
    kind: DayKind | None
    name: str = ""

    @classmethod
    def add_day_off(
        cls, day: dt.date, name: str = "", kind: DayKind = DayKind.COMPENSATORY_DAY_OFF
    ) -> Override:
        if not kind.is_day_off:
            raise ValueError("a day off must be a holiday or a compensatory day off")
        return cls(day, kind, name)

    @classmethod
    def add_working_day(cls, day: dt.date, name: str = "") -> Override:
        return cls(day, DayKind.WORKING_DAY, name)

    @classmethod
    def remove(cls, day: dt.date) -> Override:
        return cls(day, None)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "date": self.day.isoformat(),
            "kind": None if self.kind is None else str(self.kind),
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Override:
        kind = data.get("kind")
        return cls(
            day=dt.date.fromisoformat(str(data["date"])),
            kind=None if kind is None else DayKind(kind),
            name=str(data.get("name") or ""),
        )


def merge(base: YearCalendar, overrides: Iterable[Override]) -> YearCalendar:
    """``base`` with ``overrides`` applied in order (a later override of a date wins).

    Removing a date the base does not list is not an error: overrides are replayed on bases
    recomputed from newer package data, which may already agree with them.
    """
    by_day = {e.day: e for e in base.entries}
    for override in overrides:
        if override.day.year != base.year:
            raise ValueError(f"override of {override.day} does not belong to {base.year}")
        if override.kind is None:
            by_day.pop(override.day, None)
        else:
            name = override.name or _DEFAULT_NAMES[override.kind]
            by_day[override.day] = CalendarEntry(override.day, override.kind, name)
    return YearCalendar(base.year, tuple(by_day.values()))


def _local(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return instant.astimezone(VN_TZ)


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    working_weekend_days: frozenset[dt.date] = field(default_factory=frozenset)
    compensatory_days_off: frozenset[dt.date] = field(default_factory=frozenset)
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS
    # Working days strictly between two dates, by the pair: the calendar is immutable, so a
    # count once made holds; not part of the calendar's value.
    _day_counts: dict[tuple[dt.date, dt.date], int] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        # Accept any iterable so callers need not build frozensets; hashing needs them frozen.
        for name in ("holidays", "working_weekend_days", "compensatory_days_off"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        hours = tuple((start, end) for start, end in self.office_hours)
        if not hours:
            raise ValueError("office hours must have at least one session")
        previous_end: dt.time | None = None
        for start, end in hours:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("office hours are local wall-clock times without tzinfo")
            if start >= end:
                raise ValueError(f"office session {start}–{end} is empty")
            if previous_end is not None and start < previous_end:
                raise ValueError("office sessions must be in order and must not overlap")
            previous_end = end
        object.__setattr__(self, "office_hours", hours)

    @classmethod
    def of(
        cls,
        holidays: Iterable[dt.date] = (),
        working_weekend_days: Iterable[dt.date] = (),
        *,
        compensatory_days_off: Iterable[dt.date] = (),
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
    ) -> WorkingCalendar:
        return cls(
            frozenset(holidays),
            frozenset(working_weekend_days),
            frozenset(compensatory_days_off),
            office_hours,
        )

    @classmethod
    def from_years(
        cls, years: Iterable[YearCalendar], *, office_hours: OfficeHours = DEFAULT_OFFICE_HOURS
    ) -> WorkingCalendar:
        holidays: set[dt.date] = set()
        working: set[dt.date] = set()
        compensatory: set[dt.date] = set()
        by_kind = {
            DayKind.HOLIDAY: holidays,
            DayKind.WORKING_DAY: working,
            DayKind.COMPENSATORY_DAY_OFF: compensatory,
        }
        seen: set[int] = set()
        for year in years:
            # Two versions of one year would silently union; the caller must pick one.
            if year.year in seen:
                raise ValueError(f"the calendar of {year.year} is given twice")
            seen.add(year.year)
            for entry in year.entries:
                by_kind[entry.kind].add(entry.day)
        return cls(frozenset(holidays), frozenset(working), frozenset(compensatory), office_hours)

    @property
    def office_close(self) -> dt.time:
        return self.office_hours[-1][1]

    @cached_property
    def working_day_length(self) -> dt.timedelta:
        return sum(
            (
                dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)
                for start, end in self.office_hours
            ),
            dt.timedelta(0),
        )

    def is_working_day(self, day: dt.date) -> bool:
        # An explicit declaration beats the weekday and any day off recorded for the same date.
        if day in self.working_weekend_days:
            return True
        return (
            day.weekday() < 5 and day not in self.holidays and day not in self.compensatory_days_off
        )

    def next_working_day(self, day: dt.date) -> dt.date:
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def is_office_hours(self, instant: dt.datetime) -> bool:
        """Whether the office is open at ``instant`` (each session includes its opening time and
        excludes its closing time)."""
        local = _local(instant)
        if not self.is_working_day(local.date()):
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.office_hours)

    def _sessions(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (
                dt.datetime.combine(day, start, tzinfo=VN_TZ),
                dt.datetime.combine(day, end, tzinfo=VN_TZ),
            )
            for start, end in self.office_hours
        ]

    def add_working_days(
        self, start: dt.datetime, days: float, *, cutoff: dt.time | None = None
    ) -> dt.datetime:
        """The deadline of ``days`` working days counted from ``start``.

        The receipt day itself does not count; a dossier received at or after ``cutoff`` (by
        default the close of office hours) or on a non-working day is treated as received on the
        next working day. A fraction of a day counts as a whole day. Zero days means the close of
        the (effective) receipt day. The result is the close of office hours of the last day.
        """
        if days < 0:
            raise ValueError("a processing time cannot be negative")
        local = _local(start)
        close = self.office_close
        if cutoff is None:
            cutoff = close
        day = local.date()
        if not self.is_working_day(day) or local.time() >= cutoff:
            day = self.next_working_day(day)
        for _ in range(math.ceil(days)):
            day = self.next_working_day(day)
        return dt.datetime.combine(day, close, tzinfo=VN_TZ)

    def shift_by_working_time(self, instant: dt.datetime, delta: dt.timedelta) -> dt.datetime:
        """The earliest instant by which ``delta`` of office time has elapsed since ``instant``.

        Outside office hours nothing elapses, so a zero shift from a closed office lands on the
        next opening, and a shift that uses up a session exactly ends at that session's close
        rather than at the next opening.
        """
        if delta < dt.timedelta(0):
            raise ValueError("working time can only be added forwards")
        remaining = delta
        floor = _local(instant)
        day = floor.date()
        full_day = self.working_day_length
        while True:
            for opens, closes in self._sessions(day):
                if closes < floor:
                    continue
                begin = max(opens, floor)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day = self.next_working_day(day)
            # Whole days need no per-session walk; this keeps long shifts cheap.
            while remaining > full_day:
                remaining -= full_day
                day = self.next_working_day(day)
            floor = dt.datetime.combine(day, dt.time.min, tzinfo=VN_TZ)

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The deadline of a procedure counted in working hours (see ``shift_by_working_time``)."""
        return self.shift_by_working_time(start, dt.timedelta(hours=hours))

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Office time on working days between ``a`` and ``b``; negative when ``b`` precedes ``a``.

        A clock pause from ``a`` to ``b`` pushes a due instant by this much
        (``shift_by_working_time(due, working_time_between(a, b))``).
        """
        lo, hi = _local(a), _local(b)
        if hi < lo:
            return -self.working_time_between(b, a)
        first, last = lo.date(), hi.date()
        total = self._clipped(first, lo, hi)
        if last > first:
            total += self._clipped(last, lo, hi)
            # The days in between are whole working days or none: counted once per pair of
            # dates (every case opened today asks about the same few appointment days).
            total += self.working_day_length * self._working_days_strictly_between(first, last)
        return total

    def _clipped(self, day: dt.date, lo: dt.datetime, hi: dt.datetime) -> dt.timedelta:
        total = dt.timedelta(0)
        for opens, closes in self._sessions(day):
            begin, end = max(opens, lo), min(closes, hi)
            if end > begin:
                total += end - begin
        return total

    def _working_days_strictly_between(self, first: dt.date, last: dt.date) -> int:
        key = (first, last)
        count = self._day_counts.get(key)
        if count is None:
            count = 0
            day = first + _ONE_DAY
            while day < last:
                count += self.is_working_day(day)
                day += _ONE_DAY
            if len(self._day_counts) >= _DAY_COUNT_CACHE:
                self._day_counts.clear()
            self._day_counts[key] = count
        return count

    def working_days_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """``working_time_between`` in units of a full office day (e.g. for overrun reports)."""
        return self.working_time_between(a, b) / self.working_day_length
