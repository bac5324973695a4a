"""The one rule for "is it late": every service (workflow's timers, queues and control sheets,
metrics' counters) asks these two functions, so a step due exactly now is judged the same way
everywhere.

A due instant is the last moment that is still in time: finishing *at* it is on time, and a step
still open *at* it is not yet overdue; one microsecond later it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement

from shared.calendar import VN_TZ
from shared.vocabulary import Timeliness


def is_overdue(due_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether work due at ``due_at`` and unfinished at ``now`` is overdue. No due instant
    (a procedure without a time limit) is never overdue."""
    return due_at is not None and now > due_at


def overdue_condition(due_at: Any, now: dt.datetime) -> ColumnElement[bool]:
    """:func:`is_overdue` as SQL over a due-instant column, for queues and timers."""
    condition: ColumnElement[bool] = due_at < now
    return condition


def timeliness(finished_at: dt.datetime, due_at: dt.datetime) -> Timeliness:
    """Late after the due instant; early when finished on a day before the due day (Vietnam
    time), which is how the desks count "trước hạn"; otherwise on time."""
    if is_overdue(due_at, finished_at):
        return Timeliness.late
    if finished_at.astimezone(VN_TZ).date() < due_at.astimezone(VN_TZ).date():
        return Timeliness.early
    return Timeliness.on_time
