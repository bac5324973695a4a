"""What workflow does with other services' events: open a case for every received dossier (a
poll's receipts together), keep route versions, agencies and the calendar as the catalogue
publishes them, end a case whose dossier was withdrawn, resume a case once its financial
obligation is paid or its supplement arrives. Every handler is idempotent and calls one
service function."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import (
    AgencyChanged,
    CalendarChanged,
    DossierReceived,
    DossierSupplemented,
    DossierWithdrawn,
    Envelope,
    PaymentSucceeded,
    ProcedurePublished,
)
from shared.messaging.consumer import Batched, Registered
from shared.messaging.outbox import Outbox
from shared.vocabulary import PauseReason
from workflow_service.agencies import service as agencies
from workflow_service.calendar.service import CalendarBook, calendar_changed
from workflow_service.cases import service as cases
from workflow_service.routes import service as routes


def make_handlers(outbox: Outbox, book: CalendarBook) -> dict[str, Registered]:
    async def on_dossiers_received(session: AsyncSession, envs: Sequence[Envelope]) -> None:
        # A poll's receipts are opened together, with a fixed number of statements; a run of
        # one (an event retried alone, a dead letter replayed) takes the same path.
        received = []
        for env in envs:
            assert isinstance(env.data, DossierReceived)
            received.append(env.data)
        await cases.open_cases(session, outbox, book, received, dt.datetime.now(dt.UTC))

    async def on_dossier_withdrawn(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, DossierWithdrawn)
        await cases.withdraw(session, outbox, event.dossier_id, event.at, event.reason)

    async def on_procedure_published(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, ProcedurePublished)
        await routes.procedure_published(session, event)

    async def on_agency_changed(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, AgencyChanged)
        # Newest wins by when the catalogue published the entry.
        await agencies.agency_changed(session, event, env.time)

    async def on_calendar_changed(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, CalendarChanged)
        await calendar_changed(session, book, event)

    async def on_payment_succeeded(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, PaymentSucceeded)
        if event.purpose != "financial_obligation":
            return  # a procedure's fee is settled before processing; it never pauses a case
        await cases.resume_paused(
            session,
            outbox,
            book,
            event.dossier_id,
            PauseReason.financial_obligation,
            event.paid_at,
            "payment",
            f"Đã nộp nghĩa vụ tài chính {event.amount_vnd} VND (payment {event.payment_id})",
        )

    async def on_dossier_supplemented(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, DossierSupplemented)
        if not event.during_processing:
            return  # answered at reception: the desk checks it again; no case yet
        await cases.resume_paused(
            session,
            outbox,
            book,
            event.dossier_id,
            PauseReason.supplement,
            event.at,
            # As for a withdrawal: the applicant's side acted (the event's actor may be their ID).
            "applicant",
            "Người nộp đã bổ sung hồ sơ" + (f": {event.note}" if event.note else ""),
        )

    return {
        DossierSupplemented.event_type: on_dossier_supplemented,
        PaymentSucceeded.event_type: on_payment_succeeded,
        DossierReceived.event_type: Batched(on_dossiers_received),
        DossierWithdrawn.event_type: on_dossier_withdrawn,
        ProcedurePublished.event_type: on_procedure_published,
        AgencyChanged.event_type: on_agency_changed,
        CalendarChanged.event_type: on_calendar_changed,
    }
