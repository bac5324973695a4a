"""Due instants of cases and steps, on the shared working calendar.

The case is due at the appointment intake promised. A step may take its share of the
procedure's total processing time, counted in office time from the moment it starts. A pause
(supplement during processing, a financial obligation) stops the clock: on resume every due
instant moves by the office time the pause lasted, so a pause over a holiday costs nothing.

Whether a due instant has passed, and how a finished step stood against it, is
:mod:`shared.deadlines`, the one rule every service shares.
"""

from __future__ import annotations

import datetime as dt

from shared.calendar import WorkingCalendar


def working_days_of_hours(calendar: WorkingCalendar, working_hours: float) -> float:
    """A processing time set in working hours, in working days of this calendar."""
    return dt.timedelta(hours=working_hours) / calendar.working_day_length


def step_budget(calendar: WorkingCalendar, total_working_days: float, share: float) -> dt.timedelta:
    return calendar.working_day_length * total_working_days * share


def step_due(
    calendar: WorkingCalendar, started_at: dt.datetime, total_working_days: float, share: float
) -> dt.datetime:
    budget = step_budget(calendar, total_working_days, share)
    return calendar.shift_by_working_time(started_at, budget)


def after_pause(
    calendar: WorkingCalendar, due: dt.datetime, paused_at: dt.datetime, resumed_at: dt.datetime
) -> dt.datetime:
    """``due`` moved by the office time between ``paused_at`` and ``resumed_at``."""
    paused_for = calendar.working_time_between(paused_at, resumed_at)
    if paused_for <= dt.timedelta(0):
        return due
    return calendar.shift_by_working_time(due, paused_for)
