"""Facts from every topic; counters from facts, in the same transaction.

Each consumed event type has a pure rule that merges it into the dossier's fact
(:data:`metrics_service.domain.facts.RULES`). One batch handler takes them all: the consumer
hands it every consecutive new event of a poll, of whatever type, and
:func:`metrics_service.facts.service.record_events` writes the whole run with a handful of
set-based statements."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.domain.facts import FACT_EVENTS, RULES, FactEvent
from metrics_service.facts import service
from shared.events import Envelope
from shared.messaging.consumer import Batched
from shared.messaging.outbox import Outbox


async def on_fact_events(session: AsyncSession, envs: Sequence[Envelope]) -> None:
    events: list[FactEvent] = []
    for env in envs:
        assert isinstance(env.data, FACT_EVENTS)
        events.append(env.data)
    await service.record_events(session, events)


def make_handlers(_outbox: Outbox) -> dict[str, Batched]:
    # One instance for every type: the runner keeps consecutive events of one handler in one run.
    batched = Batched(on_fact_events)
    return {event_type.event_type: batched for event_type in RULES}
