"""Counter upserts: one statement per fact, so concurrent consumers never lose an increment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import Counter
from metrics_service.domain.counting import CounterKey


async def increment(session: AsyncSession, keys: Sequence[CounterKey], by: int = 1) -> None:
    await add(session, dict.fromkeys(keys, by))


def _upsert() -> Insert:
    table = Counter.__table__
    stmt = pg_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[
            table.c.unit_code,
            table.c.period,
            table.c.procedure_code,
            table.c.channel,
            table.c.metric,
        ],
        set_={"value": table.c.value + stmt.excluded.value},
    )


# Built once and run with many parameter sets: a statement whose VALUES list grows with the rows
# would be compiled again for every fact, which cost more than the database's own work.
UPSERT = _upsert()


async def add(session: AsyncSession, changes: Mapping[CounterKey, int]) -> None:
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
