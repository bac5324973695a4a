"""A base ``YearCalendar`` for Vietnam from the ``holidays`` package.

Kept apart from ``shared.calendar`` so that services needing only the arithmetic do not pay for
importing the package's country tables.

How the package's data maps onto entry kinds:

* a date present when the package computes the year without observed days is a statutory
  ``holiday`` (this includes 2/9's adjacent day, which the package adds regardless);
* a date that only appears with observed days on (a holiday on a weekend moved to a weekday, the
  extra Tết days when Tết overlaps a weekend) is a ``compensatory_day_off``;
* a weekday off that the package records as swapped with a Saturday is a ``compensatory_day_off``
  too, and the Saturday becomes a ``working_day``.

The package knows the swaps that were announced before its release; the Tết schedule and later
swaps of a given year still have to be checked against the government's announcement by ops (see
``shared.calendar``).
"""

from __future__ import annotations

import datetime as dt

import holidays

from shared.calendar import CalendarEntry, DayKind, YearCalendar

# The package writes the swapped Saturday into the day-off's name in this format; that is the
# only link between the two halves of a swap it exposes.
_SWAP_DATE_FORMAT = "%d/%m/%Y"


def vietnam_base_year(year: int) -> YearCalendar:
    # Neighbouring years too: a swap may pair a Saturday in one year with a day off in the next.
    with_observed = holidays.country_holidays("VN", years=range(year - 1, year + 2), language="vi")
    statutory = holidays.country_holidays("VN", years=year, language="vi", observed=False)
    # The package keeps every working Saturday it knows about here, whatever years were asked for.
    swapped_saturdays: set[dt.date] = set(getattr(with_observed, "weekend_workdays", ()))

    day_off_for_saturday: dict[dt.date, dt.date] = {}
    entries: list[CalendarEntry] = []
    for day, name in sorted(with_observed.items()):
        paired = [s for s in swapped_saturdays if s.strftime(_SWAP_DATE_FORMAT) in name]
        for saturday in paired:
            day_off_for_saturday[saturday] = day
        if day.year != year:
            continue
        is_statutory = day in statutory and not paired
        kind = DayKind.HOLIDAY if is_statutory else DayKind.COMPENSATORY_DAY_OFF
        entries.append(CalendarEntry(day, kind, name))

    for saturday in sorted(s for s in swapped_saturdays if s.year == year):
        day_off = day_off_for_saturday.get(saturday)
        name = (
            "Ngày làm việc bù"
            if day_off is None
            else f"Làm việc bù cho ngày nghỉ {day_off.strftime(_SWAP_DATE_FORMAT)}"
        )
        entries.append(CalendarEntry(saturday, DayKind.WORKING_DAY, name))
    return YearCalendar(year, tuple(entries))
