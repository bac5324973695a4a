"""Facts from every topic; counters from facts, in the same transaction.

Each consumed event type has a pure rule that merges it into the dossier's fact
(:data:`metrics_service.domain.facts.RULES`); :func:`metrics_service.facts.service.record_event`
does the rest."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.domain.facts import FACT_EVENTS, RULES
from metrics_service.facts import service
from shared.events import Envelope, Event
from shared.messaging.consumer import Handler
from shared.messaging.outbox import Outbox


def _handler(event_type: type[Event]) -> Handler:
    async def handle(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, event_type) and isinstance(event, FACT_EVENTS)
        await service.record_event(session, event)

    handle.__name__ = f"on_{event_type.__name__}"
    return handle


def make_handlers(_outbox: Outbox) -> dict[str, Handler]:
    return {event_type.event_type: _handler(event_type) for event_type in RULES}
