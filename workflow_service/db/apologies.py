"""Storing apology slips: the slip, its line in the case's log and its event, in the caller's
transaction."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import CaseApologised
from shared.messaging.outbox import Outbox
from workflow_service.db.models import Apology, Case, CaseAction, Step
from workflow_service.domain.apologies import Lateness
from workflow_service.domain.control_sheet import APOLOGY_ACTION


async def issue(
    session: AsyncSession,
    outbox: Outbox,
    case: Case,
    step: Step | None,
    *,
    officer: str,
    reason: str,
    new_appointment_at: dt.datetime,
    lateness: Lateness,
    at: dt.datetime,
) -> Apology:
    """Keep an apology the rules allowed (see ``domain.apologies.check``). The case's due instant
    stays: on-time status is judged on the original appointment."""
    apology = Apology(
        id=uuid.uuid4(),
        case_id=case.id,
        agency_code=step.agency_code if step else None,
        reason=reason.strip(),
        original_due_at=case.due_at,
        new_appointment_at=new_appointment_at,
        issued_by=officer,
        issued_at=at,
    )
    session.add(apology)
    # The apology is part of the case's history, so it shows on the process control sheet.
    session.add(
        CaseAction(
            case_id=case.id,
            action=APOLOGY_ACTION,
            from_status=case.status,
            to_status=case.status,
            actor=officer,
            at=at,
            note=apology.reason,
            step_id=step.id if step else None,
            role=step.role if step else None,
            agency_code=apology.agency_code,
        )
    )
    case.version += 1
    await outbox.add(
        session,
        CaseApologised(
            case_id=case.id,
            dossier_id=case.dossier_id,
            dossier_code=case.dossier_code,
            unit_path=case.unit_path,
            apology_id=apology.id,
            agency_code=apology.agency_code,
            reason=apology.reason,
            due_at=case.due_at,
            new_appointment_at=new_appointment_at,
            overdue=lateness is Lateness.overdue,
            issued_by=officer,
            issued_at=at,
        ),
        subject=case.dossier_code,
    )
    return apology


async def of_case(session: AsyncSession, case_id: uuid.UUID) -> list[Apology]:
    """A case's apologies, oldest first (the last one holds the appointment in force)."""
    rows = await session.scalars(
        select(Apology).where(Apology.case_id == case_id).order_by(Apology.issued_at, Apology.id)
    )
    return list(rows.all())


async def one(session: AsyncSession, case_id: uuid.UUID, apology_id: uuid.UUID) -> Apology | None:
    return await session.scalar(
        select(Apology).where(Apology.case_id == case_id, Apology.id == apology_id)
    )
