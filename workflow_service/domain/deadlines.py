"""Due instants of cases and steps, on the shared working calendar.

The case is due at the appointment intake promised. A step may take its share of the
procedure's total processing time, counted in office time from the moment it starts. A pause
(supplement during processing, a financial obligation) stops the clock: on resume every due
instant moves by the office time the pause lasted, so a pause over a holiday costs nothing.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from shared.calendar import VN_TZ, WorkingCalendar


class Timeliness(StrEnum):
    early = "early"  # trước hạn
    on_time = "on_time"  # đúng hạn
    late = "late"  # trễ hạn


TIMELINESS_LABELS_VI = {
    Timeliness.early: "Trước hạn",
    Timeliness.on_time: "Đúng hạn",
    Timeliness.late: "Trễ hạn",
}


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


def timeliness(finished_at: dt.datetime, due_at: dt.datetime) -> Timeliness:
    """Late after the due instant; early when finished on a day before the due day (Vietnam
    time), which is how the desks count "trước hạn"; otherwise on time."""
    if finished_at > due_at:
        return Timeliness.late
    if finished_at.astimezone(VN_TZ).date() < due_at.astimezone(VN_TZ).date():
        return Timeliness.early
    return Timeliness.on_time
