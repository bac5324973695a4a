"""Event contracts: the pydantic models every producer builds and every consumer parses."""

from shared.events import topics
from shared.events.base import EVENT_TYPES, Event
from shared.events.calendar import CalendarChanged
from shared.events.cases import (
    CaseApologised,
    CaseOpened,
    CaseOverdue,
    CasePaused,
    CaseResolved,
    CaseResumed,
    StepAssigned,
    StepCompleted,
    StepOverdue,
)
from shared.events.dossiers import (
    DossierDigitised,
    DossierEvent,
    DossierRated,
    DossierReceived,
    DossierRefused,
    DossierReturned,
    DossierSubmitted,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierWithdrawn,
    ProcedurePublished,
)
from shared.events.envelope import Envelope, MalformedEvent, UnknownEventType, decode, wrap
from shared.events.payments import FeeRequested, PaymentSucceeded

__all__ = [
    "EVENT_TYPES",
    "CalendarChanged",
    "CaseApologised",
    "CaseOpened",
    "CaseOverdue",
    "CasePaused",
    "CaseResolved",
    "CaseResumed",
    "DossierDigitised",
    "DossierEvent",
    "DossierRated",
    "DossierReceived",
    "DossierRefused",
    "DossierReturned",
    "DossierSubmitted",
    "DossierSupplementRequested",
    "DossierSupplemented",
    "DossierWithdrawn",
    "Envelope",
    "Event",
    "FeeRequested",
    "MalformedEvent",
    "PaymentSucceeded",
    "ProcedurePublished",
    "StepAssigned",
    "StepCompleted",
    "StepOverdue",
    "UnknownEventType",
    "decode",
    "topics",
    "wrap",
]
