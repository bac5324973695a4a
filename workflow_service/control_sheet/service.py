"""The process control sheet (phiếu kiểm soát quá trình giải quyết hồ sơ): the case's action
log read as handoffs, each with the due instant of its step and how that step stood against it,
agencies named as the agencies table names them."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.pdf import OfficialDocument
from workflow_service.agencies import service as agencies
from workflow_service.cases import repository as cases_repository
from workflow_service.cases import service as cases
from workflow_service.control_sheet.schemas import ControlSheetRow
from workflow_service.domain import control_sheet as sheet


async def rows(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal
) -> list[ControlSheetRow]:
    case = await cases.visible_case(session, case_id, principal)
    steps = {s.id: s for s in await cases_repository.steps_of(session, case.id)}
    actions = await cases_repository.actions_of(session, case.id)
    names = await agencies.names(session, {a.agency_code for a in actions if a.agency_code})
    out: list[ControlSheetRow] = []
    for a in actions:
        step = steps.get(a.step_id) if a.step_id else None
        out.append(
            ControlSheetRow(
                at=a.at,
                action=a.action,
                actor=a.actor,
                role=a.role,
                step=step.name if step else None,
                agency_code=a.agency_code,
                agency_name=names.get(a.agency_code) if a.agency_code else None,
                step_due_at=step.due_at if step else None,
                # The step is judged by the action that ended it, not by the ones before.
                timeliness=step.timeliness
                if step and step.finished_at and step.finished_at <= a.at
                else None,
                note=a.note,
            )
        )
    return out


async def document(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal
) -> tuple[str, OfficialDocument]:
    """The printable sheet, with the dossier code it is filed under."""
    case = await cases.visible_case(session, case_id, principal)
    steps = await cases_repository.steps_of(session, case.id)
    actions = await cases_repository.actions_of(session, case.id)
    handoffs = sheet.handoffs(actions, steps)
    codes = {c for r in handoffs for c in (r.from_agency, r.to_agency) if c}
    names = await agencies.names(session, codes)
    return case.dossier_code, sheet.control_sheet_document(sheet.heading_of(case), handoffs, names)
