"""Events payment reacts to, each handed to a service function in the consumer's transaction.

- ``DossierReceived``: remember the dossier, raise its fee request. Every dossier has one, so
  the consumer hands a whole run of them over at once (:class:`Batched`) and they are written
  with one statement per table and one for the outbox.
- ``CasePaused`` for a financial obligation: raise the obligation's request.
- ``DossierWithdrawn`` / ``DossierRefused``: cancel what is open, propose refunds of what was
  paid. ``CaseResolved`` rejected after examination: propose refunds (nothing to cancel: the
  fee was owed for the examination the dossier got).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from payment_service.requests import service as requests
from shared.events import (
    CasePaused,
    CaseResolved,
    DossierReceived,
    DossierRefused,
    DossierWithdrawn,
    Envelope,
)
from shared.messaging.consumer import Batched, Registered
from shared.messaging.outbox import Outbox


def make_handlers(outbox: Outbox) -> dict[str, Registered]:
    async def on_dossiers_received(session: AsyncSession, envs: Sequence[Envelope]) -> None:
        received: list[tuple[DossierReceived, str]] = []
        for env in envs:
            assert isinstance(env.data, DossierReceived)
            received.append((env.data, env.id))
        await requests.raise_fee_requests(session, outbox, received)

    async def on_case_paused(session: AsyncSession, env: Envelope) -> None:
        assert isinstance(env.data, CasePaused)
        await requests.raise_obligation(session, outbox, env.data, env.id)

    async def on_withdrawn(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, DossierWithdrawn)
        await requests.dossier_closed(
            session, outbox, event.dossier_id, "withdrawn", event.at, cancel_open=True
        )

    async def on_refused(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, DossierRefused)
        await requests.dossier_closed(
            session, outbox, event.dossier_id, "refused", event.at, cancel_open=True
        )

    async def on_case_resolved(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, CaseResolved)
        if event.outcome == "approved":
            return
        await requests.dossier_closed(
            session, outbox, event.dossier_id, "rejected", event.resolved_at, cancel_open=True
        )

    return {
        DossierReceived.event_type: Batched(on_dossiers_received),
        CasePaused.event_type: on_case_paused,
        DossierWithdrawn.event_type: on_withdrawn,
        DossierRefused.event_type: on_refused,
        CaseResolved.event_type: on_case_resolved,
    }
