"""Apology slips (phiếu xin lỗi và hẹn lại ngày trả kết quả): issuing one — who may, whether
the case and the new appointment allow it, the slip, its line in the case's log and its event
— and reading them back."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.events import CaseApologised
from shared.messaging.outbox import Outbox
from workflow_service.apologies import repository
from workflow_service.apologies.errors import (
    ApologyNotFound,
    CaseFinished,
    InvalidApology,
    IssuingForbidden,
)
from workflow_service.apologies.schemas import ApologyBody, ApologyList
from workflow_service.calendar.service import CalendarBook
from workflow_service.cases import repository as cases_repository
from workflow_service.cases import service as cases
from workflow_service.db.models import Apology, Case, CaseAction
from workflow_service.domain import apologies as rules
from workflow_service.domain.apologies import ApologySlip, Lateness, build_slip
from workflow_service.domain.control_sheet import APOLOGY_ACTION


async def issue(
    session: AsyncSession,
    outbox: Outbox,
    book: CalendarBook,
    case_id: uuid.UUID,
    principal: Principal,
    expected_version: int,
    body: ApologyBody,
    now: dt.datetime,
) -> tuple[Case, Apology, ApologySlip]:
    """Issue a slip on the case at ``expected_version``. The case's due instant stays: on-time
    status is judged on the original appointment."""
    case, step = await cases.lock_for_change(session, case_id, principal, expected_version)
    if not rules.may_issue(principal.roles, step.role if step else None):
        raise IssuingForbidden(detail="requires the role of the case's current step, or approver")
    calendar = await book.calendar(session, now)
    try:
        lateness = rules.check(
            case_status=case.status,
            due_at=case.due_at,
            new_appointment_at=body.new_appointment_at,
            reason=body.reason,
            now=now,
            calendar=calendar,
        )
    except rules.CaseFinished as exc:
        raise CaseFinished(
            detail=str(exc),
            detail_vi=(
                "Hồ sơ đã kết thúc xử lý (đã giải quyết, từ chối hoặc rút), không lập phiếu xin lỗi"
            ),
        ) from exc
    except rules.InvalidApology as exc:
        raise InvalidApology(
            detail=str(exc),
            errors=[
                {"field": p.field, "message": p.message, "message_vi": p.message_vi}
                for p in exc.problems
            ],
        ) from exc
    apology = Apology(
        id=uuid.uuid4(),
        case_id=case.id,
        agency_code=step.agency_code if step else None,
        reason=body.reason.strip(),
        original_due_at=case.due_at,
        new_appointment_at=body.new_appointment_at,
        issued_by=principal.sub,
        issued_at=now,
    )
    repository.add(session, apology)
    # The apology is part of the case's history, so it shows on the process control sheet.
    cases_repository.log(
        session,
        CaseAction(
            case_id=case.id,
            action=APOLOGY_ACTION,
            from_status=case.status,
            to_status=case.status,
            actor=principal.sub,
            at=now,
            note=apology.reason,
            step_id=step.id if step else None,
            role=step.role if step else None,
            agency_code=apology.agency_code,
        ),
    )
    cases_repository.touch(case)
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
            new_appointment_at=body.new_appointment_at,
            overdue=lateness is Lateness.overdue,
            issued_by=principal.sub,
            issued_at=now,
        ),
        subject=case.dossier_code,
    )
    await session.flush()
    return case, apology, build_slip(case, apology)


async def list_apologies(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal
) -> ApologyList:
    case = await cases.visible_case(session, case_id, principal)
    items = [build_slip(case, a) for a in await repository.of_case(session, case.id)]
    return ApologyList(
        case_id=case.id,
        original_appointment_at=case.due_at,
        latest_new_appointment_at=items[-1].new_appointment_at if items else None,
        items=items,
    )


async def one(
    session: AsyncSession, case_id: uuid.UUID, apology_id: uuid.UUID, principal: Principal
) -> tuple[Case, Apology, ApologySlip]:
    case = await cases.visible_case(session, case_id, principal)
    apology = await repository.one(session, case.id, apology_id)
    if apology is None:
        raise ApologyNotFound()
    return case, apology, build_slip(case, apology)
