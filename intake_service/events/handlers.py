"""Keep the citizen-facing status view in step with workflow and payment: each consumed event
parsed through its model and handed to one service function. Status changes go through the
lifecycle table (``intake_service.lifecycle.service``), the payment view beside it. The opening
of a case, which every dossier has, is taken a run at a time
(``intake_service.lifecycle.batches``), asking the same table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.domain.payments_view import VIEW_EVENTS
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


async def on_payment_events(session: AsyncSession, envs: Sequence[Envelope]) -> None:
    """Payment's events, the fee request's among them, a run at a time: payment writes a
    dossier's fee request and its payment request together, so they arrive side by side."""
    events: list[batches.PaymentViewInput] = []
    for env in envs:
        data = env.data
        assert isinstance(data, (FeeRequested, VIEW_EVENTS))
        events.append(data)
    await batches.payment_views(session, events)


# One instance for every type: the runner keeps consecutive events of one handler in one run.
_PAYMENT_VIEW = Batched(on_payment_events)


HANDLERS: dict[str, Registered] = {
    CaseOpened.event_type: Batched(on_cases_opened),
    CaseResolved.event_type: on_case_resolved,
    CaseApologised.event_type: on_case_apologised,
    CasePaused.event_type: on_case_paused,
    CaseResumed.event_type: on_case_resumed,
    FeeRequested.event_type: _PAYMENT_VIEW,
    **{event_type.event_type: _PAYMENT_VIEW for event_type in VIEW_EVENTS},
}
