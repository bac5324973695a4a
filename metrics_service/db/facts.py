"""A dossier's fact row and the counters it implies, changed together in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.counters import add
from metrics_service.db.models import DossierFact
from metrics_service.domain.counting import counter_changes
from metrics_service.domain.facts import FIELDS, Fact

FACTS = DossierFact.__table__
Change = Callable[[Fact], Fact]


async def record(session: AsyncSession, dossier_id: uuid.UUID, change: Change) -> None:
    """Apply ``change`` to the dossier's fact and move the counters by the difference.

    The first event of a dossier (usually its receipt) inserts the row in one statement. Later
    events lock the row, so two events of one dossier applied at once by different consumers
    never both count the same thing."""
    fresh = change(Fact())
    if fresh == Fact():
        return  # nothing metrics keeps (a payment at the desk, a withdrawal before receipt)
    inserted = await session.scalar(
        pg_insert(FACTS)
        .values(dossier_id=dossier_id, **_columns(Fact(), fresh))
        .on_conflict_do_nothing(index_elements=[FACTS.c.dossier_id])
        .returning(FACTS.c.dossier_id)
    )
    if inserted is not None:
        await add(session, counter_changes(None, fresh))
        return
    # Core rows rather than ORM objects: a batch applies several events of one dossier in one
    # session, and the identity map would hand back a stale copy.
    row = (
        await session.execute(
            select(*(FACTS.c[name] for name in FIELDS))
            .where(FACTS.c.dossier_id == dossier_id)
            .with_for_update()
        )
    ).one()
    before = Fact(**row._mapping)
    after = change(before)
    if after == before:
        return  # a re-published event, or one that teaches nothing new
    await session.execute(
        update(FACTS).where(FACTS.c.dossier_id == dossier_id).values(**_columns(before, after))
    )
    await add(session, counter_changes(before, after))


def _columns(before: Fact, after: Fact) -> dict[str, object]:
    values: dict[str, object] = {
        name: getattr(after, name)
        for name in FIELDS
        if getattr(after, name) != getattr(before, name)
    }
    if before.received_at is None and after.received_at is not None:
        # When the receipt was counted: the end of the path that benchmarks measure.
        values["counted_at"] = func.now()
    return values
