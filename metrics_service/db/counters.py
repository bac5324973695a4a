"""Counter upserts: one statement per fact, so concurrent consumers never lose an increment."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import Counter
from metrics_service.domain.counting import CounterKey


async def increment(session: AsyncSession, keys: Sequence[CounterKey], by: int = 1) -> None:
    if not keys:
        return
    stmt = pg_insert(Counter).values(
        [
            {
                "unit_code": k.unit_code,
                "period": k.period,
                "procedure_code": k.procedure_code,
                "channel": k.channel,
                "metric": k.metric,
                "value": by,
            }
            for k in sorted(set(keys), key=_order)
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[
            Counter.unit_code,
            Counter.period,
            Counter.procedure_code,
            Counter.channel,
            Counter.metric,
        ],
        set_={"value": Counter.value + stmt.excluded.value},
    )
    await session.execute(stmt)


def _order(k: CounterKey) -> tuple[str, ...]:
    # A fixed lock order keeps two transactions on overlapping counters from deadlocking.
    return (k.unit_code, k.period, k.procedure_code, k.channel, k.metric)
