"""Keep the citizen-facing status view in step with workflow and payment: each consumed event
parsed through its model and handed to one service function. Status changes go through the
lifecycle table (``intake_service.lifecycle.service``), the payment view beside it. The opening
of a case, which every dossier has, is taken a run at a time
(``intake_service.lifecycle.batches``), asking the same table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.domain.payments_view import VIEW_EVENTS
from intake_service.dossiers import service as dossiers
from intake_service.lifecycle import batches
from intake_service.lifecycle import service as lifecycle
from shared.events import (
    CaseApologised,
    CaseOpened,
    CasePaused,
    CaseResolved,
    CaseResumed,
    Envelope,
    FeeRequested,
)
from shared.messaging.consumer import Batched, Registered


async def on_cases_opened(session: AsyncSession, envs: Sequence[Envelope]) -> None:
    """Every dossier's case opens: the consumer hands over a run of them at once."""
    events: list[CaseOpened] = []
    for env in envs:
        assert isinstance(env.data, CaseOpened)
        events.append(env.data)
    await batches.cases_opened(session, events)


async def on_case_resolved(session: AsyncSession, env: Envelope) -> None:
    assert isinstance(env.data, CaseResolved)
    await lifecycle.case_resolved(session, env.data)


async def on_case_apologised(session: AsyncSession, env: Envelope) -> None:
    assert isinstance(env.data, CaseApologised)
    await lifecycle.case_apologised(session, env.data)


async def on_case_paused(session: AsyncSession, env: Envelope) -> None:
    assert isinstance(env.data, CasePaused)
    await lifecycle.case_paused(session, env.data)


async def on_case_resumed(session: AsyncSession, env: Envelope) -> None:
    assert isinstance(env.data, CaseResumed)
    await lifecycle.case_resumed(session, env.data)


async def on_fee_requested(session: AsyncSession, env: Envelope) -> None:
    assert isinstance(env.data, FeeRequested)
    await dossiers.fee_requested(session, env.data)


async def on_payment_event(session: AsyncSession, env: Envelope) -> None:
    assert isinstance(env.data, VIEW_EVENTS)
    await dossiers.payment_event(session, env.data, env.type)


HANDLERS: dict[str, Registered] = {
    CaseOpened.event_type: Batched(on_cases_opened),
    CaseResolved.event_type: on_case_resolved,
    CaseApologised.event_type: on_case_apologised,
    CasePaused.event_type: on_case_paused,
    CaseResumed.event_type: on_case_resumed,
    FeeRequested.event_type: on_fee_requested,
    **{event_type.event_type: on_payment_event for event_type in VIEW_EVENTS},
}
