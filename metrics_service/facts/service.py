"""A dossier's fact and the counters it implies, changed together in one transaction; and what
metrics knows of one dossier, read within the caller's scope."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import DossierFact
from metrics_service.domain.counting import counter_changes
from metrics_service.domain.facts import Fact, FactEvent, merge
from metrics_service.facts import repository
from metrics_service.facts.errors import FactNotFound
from shared.auth import Principal

Change = Callable[[Fact], Fact]


async def record_event(session: AsyncSession, event: FactEvent) -> None:
    """Merge one consumed event into its dossier's fact."""
    await record(session, event.dossier_id, lambda fact: merge(fact, event))


async def record(session: AsyncSession, dossier_id: uuid.UUID, change: Change) -> None:
    """Apply ``change`` to the dossier's fact and move the counters by the difference.

    The first event of a dossier (usually its receipt) inserts the row in one statement. Later
    events lock the row, so two events of one dossier applied at once by different consumers
    never both count the same thing."""
    fresh = change(Fact())
    if fresh == Fact():
        return  # nothing metrics keeps (a payment at the desk, a withdrawal before receipt)
    if await repository.insert_first(session, dossier_id, fresh):
        await repository.add_to_counters(session, counter_changes(None, fresh))
        return
    before = await repository.locked(session, dossier_id)
    after = change(before)
    if after == before:
        return  # a re-published event, or one that teaches nothing new
    await repository.change(session, dossier_id, before, after)
    await repository.add_to_counters(session, counter_changes(before, after))


async def fact_of(
    session: AsyncSession, principal: Principal, dossier_id: uuid.UUID
) -> DossierFact:
    """What metrics knows of a dossier in the caller's units; not found outside them."""
    fact = await repository.in_scope(session, dossier_id, principal)
    if fact is None:
        raise FactNotFound()
    return fact
