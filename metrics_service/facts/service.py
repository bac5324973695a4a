"""Dossiers' facts and the counters they imply, changed together in one transaction; and what
metrics knows of one dossier, read within the caller's scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import DossierFact
from metrics_service.domain.counting import merged_changes
from metrics_service.domain.facts import Fact, FactEvent, fold
from metrics_service.facts import repository
from metrics_service.facts.errors import FactNotFound
from shared.auth import Principal


async def record_events(session: AsyncSession, events: Sequence[FactEvent]) -> None:
    """Merge a run of consumed events, in order, into their dossiers' facts, and move each
    counter once by what the whole run changed.

    The facts of every dossier the run names are read (and locked) at once, the events folded
    into them by the pure rules, and only what changed is written: a dossier's first events
    insert its row, later ones overwrite it under the lock, so two consumers applying events of
    one dossier at once never both count the same thing. A dossier whose events teach nothing
    (a payment at the desk, a withdrawal before receipt) gets no row."""
    known = await repository.locked(session, {event.dossier_id for event in events})
    after = fold(known, events)
    new = {i: fact for i, fact in after.items() if i not in known and fact != Fact()}
    changed = {i: fact for i, fact in after.items() if i in known and fact != known[i]}
    raced = new.keys() - await repository.insert_new(session, new)
    if raced:
        # Another consumer stored some of these dossiers since they were read: merge this run's
        # events into what it stored instead.
        theirs = await repository.locked(session, raced)
        known.update(theirs)
        merged = fold(theirs, [event for event in events if event.dossier_id in raced])
        after.update(merged)
        changed.update({i: fact for i, fact in merged.items() if fact != theirs[i]})
    await repository.update_known(session, changed)
    await repository.add_to_counters(session, merged_changes(known, after))


async def fact_of(
    session: AsyncSession, principal: Principal, dossier_id: uuid.UUID
) -> DossierFact:
    """What metrics knows of a dossier in the caller's units; not found outside them."""
    fact = await repository.in_scope(session, dossier_id, principal)
    if fact is None:
        raise FactNotFound()
    return fact
