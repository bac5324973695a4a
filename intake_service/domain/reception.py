"""Reception rules that need no database: who may submit where, and the appointment."""

from __future__ import annotations

import datetime as dt

from shared.auth import Principal
from shared.calendar import WorkingCalendar

SUBMITTING_ROLES = ("receptionist", "integration", "applicant")


def may_submit_at(principal: Principal, unit_path: str, channel: str) -> bool:
    """Officers and integration clients submit only to units they cover; a citizen may submit
    online to any unit."""
    if principal.has_role("receptionist", "integration") and principal.covers(unit_path):
        return True
    return principal.has_role("applicant") and channel == "online"


def appointment(
    calendar: WorkingCalendar, received_at: dt.datetime, working_days: float
) -> dt.datetime:
    return calendar.add_working_days(received_at, working_days)
