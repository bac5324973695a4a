"""Moved to :mod:`intake_service.calendar`; the reception calendar is re-exported here for the
routes that still import it from this path."""

from intake_service.calendar.service import ReceptionCalendar, reception_calendar

__all__ = ["ReceptionCalendar", "reception_calendar"]
