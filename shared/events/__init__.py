"""Event contracts: the pydantic models every producer builds and every consumer parses."""

from shared.events import topics
from shared.events.base import EVENT_TYPES, Event
from shared.events.cases import CaseOpened, CaseResolved
from shared.events.dossiers import (
    DossierEvent,
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
from shared.events.payments import FeeRequested

__all__ = [
    "EVENT_TYPES",
    "CaseOpened",
    "CaseResolved",
    "DossierEvent",
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
    "ProcedurePublished",
    "UnknownEventType",
    "decode",
    "topics",
    "wrap",
]
