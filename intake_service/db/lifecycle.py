"""Applying lifecycle actions to a dossier row: status, action log and outbox in the caller's
transaction, so the three never disagree."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Dossier, DossierAction, Procedure
from intake_service.domain.fees import fee_lines
from intake_service.domain.lifecycle import Action, DossierStatus
from intake_service.domain.reception import appointment, same_day_cutoff
from shared.auth import Principal, applicant_ref
from shared.calendar import WorkingCalendar
from shared.events import (
    DossierReceived,
    DossierRefused,
    DossierReturned,
    DossierSubmitted,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierWithdrawn,
)
from shared.events.base import Event
from shared.messaging.outbox import Outbox


def _common(d: Dossier, procedure: Procedure, at: dt.datetime, actor: str) -> dict[str, object]:
    return {
        "dossier_id": d.id,
        "dossier_code": d.code,
        "procedure_code": procedure.code or procedure.key,
        "unit_code": d.unit_code,
        "unit_path": d.unit_path,
        "channel": d.channel,
        "at": at,
        "actor": actor,
    }


def record(
    session: AsyncSession,
    d: Dossier,
    action: str,
    target: DossierStatus,
    principal: Principal,
    at: dt.datetime,
    note: str | None = None,
) -> None:
    session.add(
        DossierAction(
            dossier_id=d.id,
            action=action,
            from_status=d.status if d.status else None,
            to_status=target,
            actor=principal.sub,
            role=next(iter(sorted(principal.roles)), None),
            unit_code=principal.unit,
            at=at,
            note=note,
        )
    )
    d.status = target
    d.version = (d.version or 0) + 1


async def submitted(
    session: AsyncSession,
    outbox: Outbox,
    d: Dossier,
    procedure: Procedure,
    principal: Principal,
    at: dt.datetime,
) -> None:
    await outbox.add(
        session, DossierSubmitted(**_common(d, procedure, at, principal.sub)), subject=d.code
    )  # type: ignore[arg-type]


async def apply(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    d: Dossier,
    procedure: Procedure,
    action: Action,
    target: DossierStatus,
    principal: Principal,
    at: dt.datetime,
    *,
    note: str | None = None,
    items: list[str] | None = None,
    applicant_ref_key: str = "",
    document_ids: Sequence[uuid.UUID] = (),
) -> None:
    """Move ``d`` to ``target`` by ``action`` (already decided allowed) and publish what happened.
    ``applicant_ref_key`` keys the applicant's pseudonym that reception publishes;
    ``document_ids`` are the documents a supplement brings."""
    was_received = d.received_at is not None
    record(session, d, action, target, principal, at, note)
    common = _common(d, procedure, at, principal.sub)
    event: Event
    if action == Action.receive:
        d.received_at = at
        d.appointment_at = appointment(
            calendar,
            at,
            procedure.processing_working_days,
            same_day_cutoff(procedure.data.get("processing", {})),
        )
        event = DossierReceived(
            dossier_id=d.id,
            dossier_code=d.code,
            procedure_code=procedure.code or procedure.key,
            procedure_name=procedure.name,
            unit_code=d.unit_code,
            unit_path=d.unit_path,
            channel=d.channel,  # type: ignore[arg-type]
            received_at=at,
            appointment_at=d.appointment_at,
            processing_working_days=procedure.processing_working_days,
            fee_amount_vnd=d.fee_amount_vnd,
            applicant_name=d.applicant["name"],
            procedure_key=d.procedure_key,
            procedure_version=d.procedure_version,
            fee_lines=fee_lines(
                procedure.data.get("fees", []), d.channel, procedure.code or procedure.key
            ),
            applicant_ref=applicant_ref(d.applicant_id_number, applicant_ref_key),
        )
    elif action == Action.request_supplement:
        event = DossierSupplementRequested(**common, items=items or [])  # type: ignore[arg-type]
    elif action == Action.supplement:
        # Answered during processing, the request is met: workflow resumes the case from this
        # event, its clock restarting at ``at``.
        d.pause = None
        event = DossierSupplemented(
            **common,  # type: ignore[arg-type]
            during_processing=was_received,
            note=note,
            document_ids=list(document_ids),
        )
    elif action == Action.refuse:
        event = DossierRefused(**common, reason=note or "")  # type: ignore[arg-type]
    elif action == Action.withdraw:
        event = DossierWithdrawn(**common, reason=note, was_received=was_received)  # type: ignore[arg-type]
    elif action == Action.return_result:
        event = DossierReturned(**common)  # type: ignore[arg-type]
    else:  # pragma: no cover - pauses and resumes come from workflow's events, not from here
        raise ValueError(f"{action} is not applied through the lifecycle routes")
    await outbox.add(session, event, subject=d.code)
