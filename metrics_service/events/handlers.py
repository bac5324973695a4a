"""Facts from every topic; counters from facts, in the same transaction.

Each handler names the dossier and the pure rule that merges its event into the fact
(:mod:`metrics_service.domain.facts`); :func:`metrics_service.db.facts.record` does the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.facts import record
from metrics_service.domain import facts
from shared.events import (
    CaseOpened,
    CaseResolved,
    DossierDigitised,
    DossierRated,
    DossierReceived,
    DossierWithdrawn,
    Envelope,
    Event,
    FeeRequested,
    PaymentSucceeded,
)
from shared.messaging.consumer import Handler
from shared.messaging.outbox import Outbox

# Event type -> the rule that merges it into the dossier's fact.
RULES: dict[type[Event], Callable[[facts.Fact, Any], facts.Fact]] = {
    DossierReceived: facts.on_received,
    CaseOpened: facts.on_case_opened,
    FeeRequested: facts.on_fee_requested,
    DossierDigitised: facts.on_digitised,
    CaseResolved: facts.on_resolved,
    PaymentSucceeded: facts.on_payment,
    DossierRated: facts.on_rated,
    DossierWithdrawn: facts.on_withdrawn,
}


def _handler(event_type: type[Event]) -> Handler:
    rule = RULES[event_type]

    async def handle(session: AsyncSession, env: Envelope) -> None:
        e = env.data
        assert isinstance(e, event_type)
        await record(session, e.dossier_id, lambda fact: rule(fact, e))  # type: ignore[attr-defined]

    handle.__name__ = f"on_{event_type.__name__}"
    return handle


def make_handlers(_outbox: Outbox) -> dict[str, Handler]:
    return {event_type.event_type: _handler(event_type) for event_type in RULES}
