"""Office time between two instants, counted a pair of dates at a time, is what walking every
day's sessions gives, across holidays, declared working weekends, days off in lieu, sessions cut
by either end and the same calendar asked again."""

from __future__ import annotations

import datetime as dt
import random

from shared.calendar import VN_TZ, WorkingCalendar


def walked(calendar: WorkingCalendar, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    lo, hi = a.astimezone(VN_TZ), b.astimezone(VN_TZ)
    total = dt.timedelta(0)
    day = lo.date()
    while day <= hi.date():
        if calendar.is_working_day(day):
            for start, end in calendar.office_hours:
                opens = dt.datetime.combine(day, start, tzinfo=VN_TZ)
                closes = dt.datetime.combine(day, end, tzinfo=VN_TZ)
                begin, finish = max(opens, lo), min(closes, hi)
                if finish > begin:
                    total += finish - begin
        day += dt.timedelta(days=1)
    return total


CALENDAR = WorkingCalendar.of(
    holidays=[dt.date(2026, 4, 30), dt.date(2026, 5, 1), dt.date(2026, 9, 2)],
    working_weekend_days=[dt.date(2026, 5, 9)],
    compensatory_days_off=[dt.date(2026, 5, 4)],
)


def test_office_time_between_matches_walking_every_session() -> None:
    rng = random.Random(11)
    origin = dt.datetime(2026, 4, 20, tzinfo=VN_TZ)
    checked = 0
    for _ in range(3000):
        a = origin + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 40))
        b = a + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        expected = walked(CALENDAR, a, b)
        assert CALENDAR.working_time_between(a, b) == expected, (a, b)
        assert CALENDAR.working_time_between(b, a) == -expected
        assert CALENDAR.working_days_between(a, b) == expected / CALENDAR.working_day_length
        checked += expected > dt.timedelta(0)
    assert checked > 2000  # most pairs span office time, so the comparison says something


def test_a_holiday_between_two_instants_is_not_office_time() -> None:
    # Wed 29/4 10:00 to Tue 5/5 10:00: Thu 30/4, Fri 1/5 holidays, Mon 4/5 off in lieu.
    a = dt.datetime(2026, 4, 29, 10, tzinfo=VN_TZ)
    b = dt.datetime(2026, 5, 5, 10, tzinfo=VN_TZ)
    day = CALENDAR.working_day_length
    assert CALENDAR.working_time_between(a, b) == walked(CALENDAR, a, b)
    assert CALENDAR.working_time_between(a, b) < day * 2
    # Asked again, from the count it remembers, the same answer.
    assert CALENDAR.working_time_between(a, b) == walked(CALENDAR, a, b)
    # The calendar's value is its days and hours only: a copy compares equal and hashes alike.
    twin = WorkingCalendar.of(
        CALENDAR.holidays,
        CALENDAR.working_weekend_days,
        compensatory_days_off=CALENDAR.compensatory_days_off,
    )
    assert twin == CALENDAR and hash(twin) == hash(CALENDAR)
