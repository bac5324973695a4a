"""Every query of a dossier's fact and of the counters it implies.

Counter upserts are one statement per fact, so concurrent consumers never lose an increment."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import Base, Counter, DossierFact
from metrics_service.domain.counting import CounterKey
from metrics_service.domain.facts import FIELDS, Fact
from shared.auth import Principal, unit_scope


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


FACTS = _table(DossierFact)
COUNTERS = _table(Counter)


async def insert_first(session: AsyncSession, dossier_id: uuid.UUID, fact: Fact) -> bool:
    """Insert the dossier's fact unless it is already known; True when this inserted it."""
    inserted = await session.scalar(
        pg_insert(FACTS)
        .values(dossier_id=dossier_id, **changed_columns(Fact(), fact))
        .on_conflict_do_nothing(index_elements=[FACTS.c.dossier_id])
        .returning(FACTS.c.dossier_id)
    )
    return inserted is not None


async def locked(session: AsyncSession, dossier_id: uuid.UUID) -> Fact:
    """The dossier's fact, its row locked until the transaction ends.

    Core rows rather than ORM objects: a batch applies several events of one dossier in one
    session, and the identity map would hand back a stale copy."""
    row = (
        await session.execute(
            select(*(FACTS.c[name] for name in FIELDS))
            .where(FACTS.c.dossier_id == dossier_id)
            .with_for_update()
        )
    ).one()
    return Fact(**row._mapping)


async def change(session: AsyncSession, dossier_id: uuid.UUID, before: Fact, after: Fact) -> None:
    await session.execute(
        update(FACTS)
        .where(FACTS.c.dossier_id == dossier_id)
        .values(**changed_columns(before, after))
    )


def changed_columns(before: Fact, after: Fact) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(after, name)
        for name in FIELDS
        if getattr(after, name) != getattr(before, name)
    }
    if before.received_at is None and after.received_at is not None:
        # When the receipt was counted: the end of the path that benchmarks measure.
        values["counted_at"] = func.now()
    return values


async def in_scope(
    session: AsyncSession, dossier_id: uuid.UUID, principal: Principal
) -> DossierFact | None:
    """The dossier's fact if its unit lies in the principal's subtree."""
    return await session.scalar(
        select(DossierFact).where(
            DossierFact.dossier_id == dossier_id, unit_scope(DossierFact.unit_path, principal)
        )
    )


def _upsert() -> Insert:
    stmt = pg_insert(COUNTERS)
    return stmt.on_conflict_do_update(
        index_elements=[
            COUNTERS.c.unit_code,
            COUNTERS.c.period,
            COUNTERS.c.procedure_code,
            COUNTERS.c.channel,
            COUNTERS.c.metric,
        ],
        set_={"value": COUNTERS.c.value + stmt.excluded.value},
    )


# Built once and run with many parameter sets: a statement whose VALUES list grows with the rows
# would be compiled again for every fact, which cost more than the database's own work.
UPSERT = _upsert()


async def add_to_counters(session: AsyncSession, changes: Mapping[CounterKey, int]) -> None:
    """Add each amount (+1, or -1 when a fact stops counting under a key) to its counter."""
    rows = [
        {
            "unit_code": k.unit_code,
            "period": k.period,
            "procedure_code": k.procedure_code,
            "channel": k.channel,
            "metric": k.metric,
            "value": changes[k],
        }
        for k in sorted(changes, key=_order)
        if changes[k]
    ]
    if rows:
        await session.execute(UPSERT, rows)


def _order(k: CounterKey) -> tuple[str, ...]:
    # A fixed lock order keeps two transactions on overlapping counters from deadlocking.
    return (k.unit_code, k.period, k.procedure_code, k.channel, k.metric)
