"""Opening cases for received dossiers, as rules: which receipt opens a dossier's case when
several name the same dossier, and the office time the case's steps share.

A dossier has one case. A receipt redelivered under a new event id (its inbox row lost, or
intake publishing it again) must not open a second one: the first receipt of a dossier opens
it, a later one finds it there and changes nothing — in one run of events as across runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from shared.calendar import WorkingCalendar
from shared.events import DossierReceived
from workflow_service.domain.deadlines import working_days_of_hours


def first_receipts(events: Sequence[DossierReceived]) -> list[DossierReceived]:
    """The first receipt of each dossier, in the order they came."""
    seen: set[uuid.UUID] = set()
    firsts = []
    for event in events:
        if event.dossier_id not in seen:
            seen.add(event.dossier_id)
            firsts.append(event)
    return firsts


def needs_catalogue_hours(event: DossierReceived) -> bool:
    """Intake says whether the procedure is timed in working hours, for the version the dossier
    was received under; only a receipt from before it said so (the field absent) is judged by
    what the catalogue last published."""
    return "processing_working_hours" not in event.model_fields_set


def processing_window(
    calendar: WorkingCalendar,
    received_at: dt.datetime,
    appointment_at: dt.datetime,
    working_hours: float | None,
) -> float:
    """The office time, in working days, that the case's steps share."""
    if working_hours:
        # A procedure timed in working hours: its steps share those hours.
        return working_days_of_hours(calendar, working_hours)
    # Steps share the office time from receipt to the appointment, which is the legal time
    # plus what was left of the receipt day, and for same-day procedures the rest of that day.
    return calendar.working_days_between(received_at, appointment_at)
