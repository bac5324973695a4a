"""Working-day arithmetic: properties over many calendars and instants, and the dates a desk
really faces (Tết, Hùng Kings' day, 30/4–1/5, National Day, ops' overrides), worked out by hand.

Days off used below, from ``vietnam_base_year`` (the ``holidays`` package):
2026: 1/1; Tết Mon 16 – Fri 20 Feb; Hùng Kings Sun 26 Apr with Mon 27 Apr off in compensation;
      Thu 30 Apr, Fri 1 May; Sat 22 Aug worked to give Mon 31 Aug off; Tue 1, Wed 2 Sep; Tue 24 Nov.
2027: Fri 1 Jan; Tết Thu 4 – Wed 10 Feb; Fri 16 Apr; Fri 30 Apr, Sat 1 May with Mon 3 May off;
      Thu 2, Fri 3 Sep; Wed 24 Nov.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.calendar import (
    VN_TZ,
    CalendarEntry,
    DayKind,
    Override,
    WorkingCalendar,
    YearCalendar,
    merge,
)
from shared.holidays_vn import vietnam_base_year

YEARS = range(2024, 2030)
BASE = {year: vietnam_base_year(year) for year in YEARS}
REAL = WorkingCalendar.from_years(BASE.values())
ZERO = dt.timedelta(0)


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


def close_of(y: int, m: int, d: int) -> dt.datetime:
    return at(y, m, d, 17, 0)


# --- strategies -------------------------------------------------------------------------------

_days = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2029, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """The real calendar, the bare weekly one, or a random one with long runs of days off."""
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return REAL
    if choice == 1:
        return WorkingCalendar()
    holidays = set(draw(st.lists(_days, max_size=40)))
    # A Tết-like block: up to nine consecutive days off.
    start = draw(_days)
    holidays.update(start + dt.timedelta(days=i) for i in range(draw(st.integers(0, 9))))
    compensatory = draw(st.lists(_days, max_size=10))
    working = [d for d in draw(st.lists(_days, max_size=10)) if d.weekday() >= 5]
    return WorkingCalendar.of(holidays, working, compensatory_days_off=compensatory)


instants = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2029, 6, 30)).map(
    lambda naive: naive.replace(tzinfo=VN_TZ)
)
# Whole seconds: sub-second shifts behave the same and only slow the search down.
durations = st.integers(0, 40 * 8 * 3600).map(lambda s: dt.timedelta(seconds=s))


def effective_receipt_day(cal: WorkingCalendar, start: dt.datetime) -> dt.date:
    day = start.date()
    if not cal.is_working_day(day) or start.time() >= cal.office_close:
        day = cal.next_working_day(day)
    return day


def working_days_in(cal: WorkingCalendar, after: dt.date, through: dt.date) -> int:
    count, day = 0, after + dt.timedelta(days=1)
    while day <= through:
        count += cal.is_working_day(day)
        day += dt.timedelta(days=1)
    return count


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=300)
@given(calendars(), instants, st.integers(0, 60))
def test_deadline_is_office_close_of_a_working_day_exactly_n_working_days_later(
    cal: WorkingCalendar, start: dt.datetime, days: int
) -> None:
    due = cal.add_working_days(start, days)
    assert due.tzinfo is not None and due.time() == cal.office_close
    assert cal.is_working_day(due.date())
    assert due > start
    received_on = effective_receipt_day(cal, start)
    assert working_days_in(cal, received_on, due.date()) == days
    assert cal.add_working_days(start, days + 1) > due


@settings(max_examples=200)
@given(calendars(), instants, st.integers(1, 30), st.floats(0.01, 0.99))
def test_a_fraction_of_a_day_counts_as_a_whole_day(
    cal: WorkingCalendar, start: dt.datetime, days: int, fraction: float
) -> None:
    assert cal.add_working_days(start, days - 1 + fraction) == cal.add_working_days(start, days)


@settings(max_examples=300)
@given(calendars(), instants, durations)
def test_working_time_to_a_shifted_instant_is_the_shift(
    cal: WorkingCalendar, start: dt.datetime, delta: dt.timedelta
) -> None:
    shifted = cal.shift_by_working_time(start, delta)
    assert shifted >= start
    assert cal.working_time_between(start, shifted) == delta


@settings(max_examples=300)
@given(calendars(), instants, durations)
def test_a_shift_never_ends_on_a_day_off_or_outside_office_hours(
    cal: WorkingCalendar, start: dt.datetime, delta: dt.timedelta
) -> None:
    shifted = cal.shift_by_working_time(start, delta).astimezone(VN_TZ)
    assert cal.is_working_day(shifted.date())
    # A session's close is a valid end (the time ran out exactly then).
    assert any(opens <= shifted.time() <= closes for opens, closes in cal.office_hours)


@settings(max_examples=300)
@given(calendars(), instants, durations, durations)
def test_shifts_add_up(
    cal: WorkingCalendar, start: dt.datetime, first: dt.timedelta, second: dt.timedelta
) -> None:
    in_two = cal.shift_by_working_time(cal.shift_by_working_time(start, first), second)
    assert in_two == cal.shift_by_working_time(start, first + second)


@settings(max_examples=300)
@given(calendars(), instants, instants, instants)
def test_working_time_between_is_antisymmetric_non_negative_and_additive(
    cal: WorkingCalendar, a: dt.datetime, b: dt.datetime, c: dt.datetime
) -> None:
    ab = cal.working_time_between(a, b)
    assert ab == -cal.working_time_between(b, a)
    assert ab >= ZERO if a <= b else ab <= ZERO
    assert ab + cal.working_time_between(b, c) == cal.working_time_between(a, c)
    # Never more than the office hours of the calendar days spanned.
    span_days = abs((b.date() - a.date()).days) + 1
    assert abs(ab) <= span_days * cal.working_day_length


@settings(max_examples=200)
@given(calendars(), instants)
def test_no_working_time_passes_on_a_day_off(cal: WorkingCalendar, start: dt.datetime) -> None:
    day = start.date()
    whole_day = cal.working_time_between(
        dt.datetime.combine(day, dt.time.min, tzinfo=VN_TZ),
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=VN_TZ),
    )
    assert whole_day == (cal.working_day_length if cal.is_working_day(day) else ZERO)


@given(instants)
def test_instants_in_other_offsets_are_judged_in_vietnam_time(start: dt.datetime) -> None:
    in_utc = start.astimezone(dt.UTC)
    assert REAL.add_working_days(in_utc, 5) == REAL.add_working_days(start, 5)
    assert REAL.is_office_hours(in_utc) == REAL.is_office_hours(start)


# --- the base calendar of real years ---------------------------------------------------------


def test_tet_2026_is_monday_16_to_friday_20_february() -> None:
    tet = [dt.date(2026, 2, d) for d in range(16, 21)]
    assert all(BASE[2026].entry(d).kind is DayKind.HOLIDAY for d in tet)  # type: ignore[union-attr]
    assert not any(REAL.is_working_day(d) for d in tet)
    assert REAL.is_working_day(dt.date(2026, 2, 13)) and REAL.is_working_day(dt.date(2026, 2, 23))


def test_2026_swaps_and_compensatory_days_come_from_the_base() -> None:
    kinds = {e.day: e.kind for e in BASE[2026].entries}
    assert kinds[dt.date(2026, 4, 26)] is DayKind.HOLIDAY  # Hùng Kings' day, a Sunday
    assert kinds[dt.date(2026, 4, 27)] is DayKind.COMPENSATORY_DAY_OFF
    assert kinds[dt.date(2026, 8, 22)] is DayKind.WORKING_DAY  # Saturday worked …
    assert kinds[dt.date(2026, 8, 31)] is DayKind.COMPENSATORY_DAY_OFF  # … for Monday 31/8
    assert REAL.is_working_day(dt.date(2026, 8, 22))


def test_receipt_the_friday_before_tet_2026() -> None:
    # Fri 13/2 10:00; the next working day after Tết (16–20/2) and the weekends is Mon 23/2.
    assert REAL.add_working_days(at(2026, 2, 13), 1) == close_of(2026, 2, 23)


def test_dossier_received_during_tet_2026_counts_from_the_first_day_back() -> None:
    # Wed 18/2 is mùng hai Tết: treated as received on Mon 23/2, which does not count;
    # Tue 24 (1), Wed 25 (2), Thu 26 (3), Fri 27 (4), Mon 2/3 (5).
    assert REAL.add_working_days(at(2026, 2, 18, 9), 5) == close_of(2026, 3, 2)


def test_tet_2027_runs_thursday_4_to_wednesday_10_february() -> None:
    # Wed 3/2 16:30, before the close: received that day. Thu 4 – Wed 10 are all off
    # (29 Tết, giao thừa, Tết, weekend, mùng 3, 4, 5); Thu 11 (1), Fri 12 (2), Mon 15 (3).
    assert REAL.add_working_days(at(2027, 2, 3, 16, 30), 3) == close_of(2027, 2, 15)
    assert not any(REAL.is_working_day(dt.date(2027, 2, d)) for d in range(4, 11))


def test_30_april_and_1_may_2026() -> None:
    # Wed 29/4 10:00: Thu 30/4 and Fri 1/5 are holidays, then the weekend; Mon 4/5 (1), Tue 5/5 (2).
    assert REAL.add_working_days(at(2026, 4, 29), 2) == close_of(2026, 5, 5)


def test_1_may_2027_on_a_saturday_gives_monday_off() -> None:
    # Thu 29/4 10:00: Fri 30/4 holiday, Sat 1/5 holiday, Sun, Mon 3/5 compensatory; Tue 4/5 (1).
    assert REAL.add_working_days(at(2027, 4, 29), 1) == close_of(2027, 5, 4)


def test_half_past_four_before_the_hung_kings_long_weekend_2026() -> None:
    # Fri 24/4 16:30 is before the 17:00 close, so received that Friday. Sat 25, Sun 26 (Hùng
    # Kings), Mon 27 (compensatory) are off: Tue 28 (1), Wed 29 (2), Thu 30/4 and Fri 1/5 off,
    # weekend, Mon 4/5 (3), Tue 5/5 (4), Wed 6/5 (5).
    assert REAL.add_working_days(at(2026, 4, 24, 16, 30), 5) == close_of(2026, 5, 6)


def test_receipt_at_the_close_counts_from_the_next_working_day() -> None:
    # Fri 24/4 17:00 is after hours: received Tue 28/4 (not counted); Wed 29 (1), Mon 4/5 (2),
    # Tue 5 (3), Wed 6 (4), Thu 7 (5).
    assert REAL.add_working_days(at(2026, 4, 24, 17, 0), 5) == close_of(2026, 5, 7)


def test_half_past_four_before_national_day_2026() -> None:
    # Fri 28/8 16:30, received that day. Sat 29, Sun 30, Mon 31 (swapped with Sat 22/8),
    # Tue 1/9, Wed 2/9 are off: Thu 3 (1), Fri 4 (2), Mon 7 (3), Tue 8 (4), Wed 9 (5).
    assert REAL.add_working_days(at(2026, 8, 28, 16, 30), 5) == close_of(2026, 9, 9)


def test_the_working_saturday_of_a_swap_counts() -> None:
    # Fri 21/8/2026 10:00 + 1 working day: Saturday 22/8 is worked in exchange for Mon 31/8.
    assert REAL.add_working_days(at(2026, 8, 21), 1) == close_of(2026, 8, 22)


def test_national_day_2027_thursday_and_friday() -> None:
    # Wed 1/9/2027 10:00: Thu 2 and Fri 3 off, weekend; Mon 6/9 (1).
    assert REAL.add_working_days(at(2027, 9, 1), 1) == close_of(2027, 9, 6)


def test_receipt_in_late_december_reaches_into_the_next_year() -> None:
    # Thu 31/12/2026 10:00: Fri 1/1/2027 is a holiday, weekend; Mon 4/1 (1), Tue 5/1 (2).
    assert REAL.add_working_days(at(2026, 12, 31), 2) == close_of(2027, 1, 5)


def test_a_pause_over_tet_moves_the_due_time_by_working_time_only() -> None:
    # Office hours are 07:30–11:30 and 13:30–17:00, 7.5h a day. A supplement requested Fri
    # 13/2/2026 15:00 and given Tue 24/2 09:30: 2h of Friday, all of Mon 23/2 (7.5h) and 2h of
    # Tuesday (07:30–09:30) = 11.5h; Tết itself costs the applicant nothing.
    paused = REAL.working_time_between(at(2026, 2, 13, 15), at(2026, 2, 24, 9, 30))
    assert paused == dt.timedelta(hours=11, minutes=30)
    # A due time of Wed 25/2 17:00 moves on by 11.5 working hours: Thu 26 (7.5h), then the 4h
    # morning session of Fri 27, ending at its close, 11:30.
    assert REAL.shift_by_working_time(close_of(2026, 2, 25), paused) == at(2026, 2, 27, 11, 30)


# --- ops overrides ----------------------------------------------------------------------------


def test_an_extra_day_off_and_its_working_saturday() -> None:
    # A swap of the kind governments announce around Tết (illustrative dates): Mon 23/2/2026
    # off, paid back by working Sat 7/3/2026.
    year = merge(
        BASE[2026],
        [
            Override.add_day_off(dt.date(2026, 2, 23), "Nghỉ hoán đổi dịp Tết"),
            Override.add_working_day(dt.date(2026, 3, 7), "Làm bù ngày 23/2"),
        ],
    )
    cal = WorkingCalendar.from_years([year])
    # Fri 13/2 10:00 + 1: Tết 16–20, weekend, Mon 23 now off, so Tue 24/2.
    assert cal.add_working_days(at(2026, 2, 13), 1) == close_of(2026, 2, 24)
    # Fri 6/3 10:00 + 1: the declared Saturday 7/3 counts.
    assert cal.add_working_days(at(2026, 3, 6), 1) == close_of(2026, 3, 7)
    assert year.entry(dt.date(2026, 2, 23)).kind is DayKind.COMPENSATORY_DAY_OFF  # type: ignore[union-attr]


def test_removing_a_base_swap_restores_the_ordinary_week() -> None:
    year = merge(
        BASE[2026], [Override.remove(dt.date(2026, 8, 22)), Override.remove(dt.date(2026, 8, 31))]
    )
    cal = WorkingCalendar.from_years([year])
    # Fri 28/8 16:30 + 1: Mon 31/8 is an ordinary Monday again.
    assert cal.add_working_days(at(2026, 8, 28, 16, 30), 1) == close_of(2026, 8, 31)
    # Fri 21/8 10:00 + 1: Saturday 22/8 is an ordinary Saturday again, so Mon 24/8.
    assert cal.add_working_days(at(2026, 8, 21), 1) == close_of(2026, 8, 24)


def test_a_later_override_of_the_same_day_wins_and_default_names_fill_in() -> None:
    day = dt.date(2026, 11, 24)
    year = merge(BASE[2026], [Override.remove(day), Override.add_day_off(day)])
    entry = year.entry(day)
    assert entry is not None and entry.kind is DayKind.COMPENSATORY_DAY_OFF and entry.name


def test_a_weekday_cannot_be_declared_a_working_day() -> None:
    with pytest.raises(ValueError, match="not on a weekend"):
        merge(BASE[2026], [Override.add_working_day(dt.date(2026, 3, 4))])


def test_an_override_belongs_to_its_own_year() -> None:
    with pytest.raises(ValueError, match="does not belong"):
        merge(BASE[2026], [Override.add_day_off(dt.date(2027, 1, 4))])


def test_one_year_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        WorkingCalendar.from_years([BASE[2026], YearCalendar(2026, ())])


def test_entries_round_trip_through_json_shapes() -> None:
    year = BASE[2027]
    assert YearCalendar.from_dict(year.to_dict()) == year
    entry = CalendarEntry(dt.date(2027, 2, 6), DayKind.HOLIDAY, "Tết Nguyên Đán")
    assert CalendarEntry.from_dict(entry.to_dict()) == entry
