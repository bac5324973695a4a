"""Every query of the indicators: a unit's counters in one period."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db.models import Counter


async def counters(
    session: AsyncSession, unit_code: str, period: str, procedure_code: str
) -> list[tuple[str, str, int]]:
    """(channel, metric, value) of every counter of the unit, period and procedure."""
    rows = await session.execute(
        select(Counter.channel, Counter.metric, Counter.value).where(
            Counter.unit_code == unit_code,
            Counter.period == period,
            Counter.procedure_code == procedure_code,
        )
    )
    return [(channel, metric, value) for channel, metric, value in rows]


async def received_by_channel(
    session: AsyncSession, unit_code: str, period: str, procedure_code: str
) -> dict[str, int]:
    """The ``received`` counter of each channel (``*`` for all) that counted anything."""
    rows = await session.execute(
        select(Counter.channel, Counter.value).where(
            Counter.unit_code == unit_code,
            Counter.period == period,
            Counter.procedure_code == procedure_code,
            Counter.metric == "received",
        )
    )
    return {channel: value for channel, value in rows}
