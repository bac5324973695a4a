"""What workflow does with other services' events: open a case for every received dossier,
keep route versions and the calendar as the catalogue publishes them, end a case whose dossier
was withdrawn, resume a case once its financial obligation is paid or its supplement arrives.
Every handler is idempotent."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import (
    CalendarChanged,
    DossierReceived,
    DossierSupplemented,
    DossierWithdrawn,
    Envelope,
    PaymentSucceeded,
    ProcedurePublished,
)
from shared.messaging.consumer import Handler
from shared.messaging.outbox import Outbox
from workflow_service.db import progress
from workflow_service.db.calendar import CalendarBook, store_year
from workflow_service.db.models import Case, Step
from workflow_service.domain.cases import CaseStatus, PauseReason


def make_handlers(outbox: Outbox, book: CalendarBook) -> dict[str, Handler]:
    async def on_dossier_received(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, DossierReceived)
        now = dt.datetime.now(dt.UTC)
        calendar = await book.calendar(session, event.received_at)
        await progress.open_case(session, outbox, calendar, event, now)

    async def on_dossier_withdrawn(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, DossierWithdrawn)
        case = await session.scalar(
            select(Case).where(Case.dossier_id == event.dossier_id).with_for_update()
        )
        if case is not None:
            await progress.close_case(
                session, outbox, case, CaseStatus.withdrawn, "applicant", event.at, event.reason
            )

    async def on_procedure_published(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, ProcedurePublished)
        if event.route:
            await progress.store_route(
                session, event.procedure_key, event.version, event.route, "catalogue"
            )

    async def on_calendar_changed(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, CalendarChanged)
        await store_year(session, event)
        book.forget()

    async def resume_paused(
        session: AsyncSession,
        dossier_id: uuid.UUID,
        reason: PauseReason,
        at: dt.datetime,
        actor: str,
        note: str,
    ) -> None:
        """Resume the dossier's case when it is paused for ``reason`` and paused before ``at``.

        The clock restarts at ``at`` (when the applicant paid or supplemented), not when the
        event reached us: the time the event spent in the broker, in retries or while workflow
        was down is the office's time, and a replay must move the due instants exactly as the
        first delivery did. An event from before this pause began answered an earlier one (a
        redelivery reaching a case paused again) and moves nothing.
        """
        case = await session.scalar(
            select(Case).where(Case.dossier_id == dossier_id).with_for_update()
        )
        if (
            case is None
            or case.status != CaseStatus.paused
            or case.pause_reason != reason
            or case.paused_at is None
            or at < case.paused_at
            or case.current_step_id is None
        ):
            return
        step = await session.get_one(Step, case.current_step_id)
        calendar = await book.calendar(session, at)
        await progress.resume_recorded(session, outbox, calendar, case, step, actor, at, note=note)

    async def on_payment_succeeded(session: AsyncSession, env: Envelope) -> None:
        event = env.data
        assert isinstance(event, PaymentSucceeded)
        if event.purpose != "financial_obligation":
            return  # a procedure's fee is settled before processing; it never pauses a case
        await resume_paused(
            session,
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
        await resume_paused(
            session,
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
        DossierReceived.event_type: on_dossier_received,
        DossierWithdrawn.event_type: on_dossier_withdrawn,
        ProcedurePublished.event_type: on_procedure_published,
        CalendarChanged.event_type: on_calendar_changed,
    }
