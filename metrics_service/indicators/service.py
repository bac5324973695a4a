"""Counters read as totals, shares and ratios."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.domain.counting import ALL
from metrics_service.domain.indicators import Counts, rates_of, targets_of
from metrics_service.domain.ratios import Ratio
from metrics_service.indicators import repository
from metrics_service.indicators.schemas import Indicators, ReceivedIndicators
from shared.vocabulary import Channel


def _every_channel() -> dict[str, int]:
    return {channel.value: 0 for channel in Channel}


async def indicators(
    session: AsyncSession, unit_code: str, period: str, procedure_code: str
) -> Indicators:
    totals: dict[str, int] = {}
    by_channel = _every_channel()
    for channel, metric, value in await repository.counters(
        session, unit_code, period, procedure_code
    ):
        if channel == ALL:
            totals[metric] = value
        elif metric == "received":
            by_channel[channel] = value
    counts = Counts.of(totals, received_online=by_channel[Channel.online])
    rates = rates_of(counts)
    return Indicators(
        unit_code=unit_code,
        period=period,
        procedure_code=procedure_code,
        counts=counts,
        received_by_channel=by_channel,
        rates=rates,
        targets=targets_of(rates),
    )


async def received(
    session: AsyncSession, unit_code: str, period: str, procedure_code: str
) -> ReceivedIndicators:
    by_channel = (
        _every_channel()
        | {ALL: 0}
        | await repository.received_by_channel(session, unit_code, period, procedure_code)
    )
    total = by_channel.pop(ALL)
    return ReceivedIndicators(
        unit_code=unit_code,
        period=period,
        procedure_code=procedure_code,
        received=total,
        received_by_channel=by_channel,
        online_rate=Ratio.of(by_channel[Channel.online], total),
    )
