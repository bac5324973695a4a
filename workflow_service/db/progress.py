"""Moving cases along their routes: opening, the officers' actions, pauses, resolution.

Each function runs inside the caller's transaction and writes, together, the case and step rows,
the action log behind the process control sheet, the timers and the events in the outbox.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.calendar import WorkingCalendar
from shared.events import (
    CaseOpened,
    CasePaused,
    CaseResolved,
    CaseResumed,
    DossierReceived,
    StepAssigned,
    StepCompleted,
)
from shared.events.cases import SupplementItem
from shared.messaging.outbox import Outbox
from shared.routes import RouteTemplate, StepTemplate
from workflow_service.db import timers
from workflow_service.db.models import Case, CaseAction, RouteTemplateRow, Step
from workflow_service.domain.assignment import agency_for
from workflow_service.domain.authority import StepView
from workflow_service.domain.cases import (
    CaseAction as Act,
)
from workflow_service.domain.cases import (
    CaseStatus,
    PauseReason,
    StepStatus,
)
from workflow_service.domain.deadlines import after_pause, step_due, timeliness


class InvalidTarget(ValueError):
    """The step or agency an action names is not one the route allows from here."""


@dataclass(frozen=True)
class ActionInput:
    """What an officer sends with an action; which fields matter depends on the action."""

    next_step: str | None = None
    to_step: str | None = None
    agency_code: str | None = None
    assignee: str | None = None
    reason: str | None = None
    amount_vnd: int | None = None
    result: str | None = None
    # A supplement request's items: {"component": …, "reason": …} each.
    items: list[dict[str, str]] | None = None


async def route_for(session: AsyncSession, procedure_key: str | None) -> RouteTemplate:
    """The newest route of the procedure, or the one-agency route when it has none."""
    if procedure_key:
        row = await session.scalar(
            select(RouteTemplateRow)
            .where(RouteTemplateRow.procedure_key == procedure_key)
            .order_by(RouteTemplateRow.version.desc())
            .limit(1)
        )
        if row is not None:
            return RouteTemplate.from_dicts(procedure_key, row.version, row.steps)
    return RouteTemplate.single_agency(procedure_key or "unknown", 0)


async def route_of_case(session: AsyncSession, case: Case) -> RouteTemplate:
    if case.procedure_key and case.route_version:
        row = await session.get(RouteTemplateRow, (case.procedure_key, case.route_version))
        if row is not None:
            return RouteTemplate.from_dicts(case.procedure_key, row.version, row.steps)
    return RouteTemplate.single_agency(case.procedure_key or "unknown", 0)


async def step_view(session: AsyncSession, case: Case, step: Step) -> StepView:
    """What the authority table needs of the case's current step."""
    route = await route_of_case(session, case)
    try:
        deciding = route.is_deciding(step.name)
    except (KeyError, ValueError):
        # A step of a route version that no longer names it (never expected): not deciding.
        deciding = False
    return StepView(
        role=step.role,
        agency_code=step.agency_code,
        deciding=deciding,
        claimed_by=step.claimed_by,
        assignee=step.assignee,
    )


async def route_transfer_targets(session: AsyncSession, case: Case, step: Step) -> frozenset[str]:
    """The agency codes the route lets this step be transferred to (its ``transfer_to`` kinds,
    for the case's unit), never the step's own agency."""
    route = await route_of_case(session, case)
    try:
        kinds = route.step(step.name).transfer_to
    except KeyError:
        return frozenset()
    codes = {agency_for(kind, case.unit_path) for kind in kinds}
    return frozenset(c for c in codes if c and c != step.agency_code)


async def store_route(
    session: AsyncSession,
    procedure_key: str,
    version: int,
    steps: list[dict[str, Any]],
    created_by: str | None,
) -> bool:
    """Keep a published route version; a redelivered one changes nothing."""
    template = RouteTemplate.from_dicts(procedure_key, version, steps)
    inserted = await session.scalar(
        pg_insert(RouteTemplateRow)
        .values(
            procedure_key=procedure_key,
            version=version,
            steps=template.to_dicts(),
            created_by=created_by,
        )
        .on_conflict_do_nothing()
        .returning(RouteTemplateRow.version)
    )
    return inserted is not None


def _log(
    session: AsyncSession,
    case: Case,
    action: str,
    from_status: str | None,
    actor: str,
    at: dt.datetime,
    *,
    step: Step | None = None,
    role: str | None = None,
    note: str | None = None,
) -> None:
    session.add(
        CaseAction(
            case_id=case.id,
            action=action,
            from_status=from_status,
            to_status=case.status,
            actor=actor,
            at=at,
            note=note,
            step_id=step.id if step else None,
            role=role,
            agency_code=step.agency_code if step else None,
        )
    )


async def _start_step(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    case: Case,
    template: StepTemplate,
    at: dt.datetime,
    *,
    via: str,
    agency_code: str | None = None,
    assignee: str | None = None,
    reason: str | None = None,
) -> Step:
    seq = int(
        await session.scalar(select(func.count()).select_from(Step).where(Step.case_id == case.id))
        or 0
    )
    step = Step(
        id=uuid.uuid4(),
        case_id=case.id,
        seq=seq + 1,
        name=template.name,
        agency_kind=template.agency_kind,
        agency_code=agency_code or agency_for(template.agency_kind, case.unit_path),
        role=template.role,
        unit_path=case.unit_path,
        assignee=assignee,
        status=StepStatus.waiting,
        share=template.share,
        started_at=at,
        due_at=step_due(calendar, at, case.processing_working_days or 0, template.share),
    )
    session.add(step)
    case.current_step_id = step.id
    timers.arm(session, case.id, timers.STEP_DUE, step.due_at, step.id)
    await outbox.add(
        session,
        StepAssigned(
            case_id=case.id,
            dossier_id=case.dossier_id,
            dossier_code=case.dossier_code,
            unit_path=case.unit_path,
            step_id=step.id,
            step=step.name,
            agency_kind=step.agency_kind,
            agency_code=step.agency_code,
            role=step.role,
            assignee=assignee,
            via=via,  # type: ignore[arg-type]
            reason=reason,
            started_at=at,
            due_at=step.due_at,
        ),
        subject=case.dossier_code,
    )
    return step


async def _finish_step(
    session: AsyncSession,
    outbox: Outbox,
    case: Case,
    step: Step,
    outcome: StepStatus,
    actor: str,
    at: dt.datetime,
) -> None:
    step.status = outcome
    step.finished_at = at
    step.timeliness = timeliness(at, step.due_at)
    await timers.disarm_step(session, step.id)
    await outbox.add(
        session,
        StepCompleted(
            case_id=case.id,
            dossier_id=case.dossier_id,
            unit_path=case.unit_path,
            step_id=step.id,
            step=step.name,
            agency_code=step.agency_code,
            outcome=str(outcome),  # type: ignore[arg-type]
            finished_by=actor,
            finished_at=at,
            due_at=step.due_at,
            timeliness=step.timeliness,  # type: ignore[arg-type]
        ),
        subject=case.dossier_code,
    )


async def open_case(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    event: DossierReceived,
    at: dt.datetime,
) -> Case | None:
    """Open the case of a received dossier, once: a redelivery finds it there and does nothing."""
    route = await route_for(session, event.procedure_key)
    case_id = uuid.uuid4()
    # Steps share the office time from receipt to the appointment, which is the legal time
    # plus what was left of the receipt day, and for same-day procedures the rest of that day.
    window = calendar.working_days_between(event.received_at, event.appointment_at)
    inserted = await session.scalar(
        pg_insert(Case)
        .values(
            id=case_id,
            dossier_id=event.dossier_id,
            dossier_code=event.dossier_code,
            procedure_code=event.procedure_code,
            procedure_key=event.procedure_key,
            procedure_name=event.procedure_name,
            applicant_name=event.applicant_name,
            applicant_ref=event.applicant_ref,
            route_version=route.version or None,
            processing_working_days=window,
            unit_code=event.unit_code,
            unit_path=event.unit_path,
            status=CaseStatus.open,
            opened_at=at,
            received_at=event.received_at,
            due_at=event.appointment_at,
            version=1,
        )
        .on_conflict_do_nothing(index_elements=[Case.dossier_id])
        .returning(Case.id)
    )
    if inserted is None:
        return None
    case = await session.get_one(Case, case_id)
    _log(session, case, "open", None, "system", at)
    timers.arm(session, case.id, timers.CASE_DUE, case.due_at)
    await outbox.add(
        session,
        CaseOpened(
            case_id=case_id,
            dossier_id=event.dossier_id,
            dossier_code=event.dossier_code,
            unit_path=event.unit_path,
            opened_at=at,
            due_at=event.appointment_at,
        ),
        subject=event.dossier_code,
    )
    # The clock started at receipt: the first step's share counts from then, not from when
    # this event happened to be consumed.
    await _start_step(session, outbox, calendar, case, route.first, event.received_at, via="open")
    return case


async def close_case(
    session: AsyncSession,
    outbox: Outbox,
    case: Case,
    status: CaseStatus,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
) -> None:
    """End a case that will not be resolved here (the applicant withdrew)."""
    if CaseStatus(case.status).is_final:
        return
    previous = case.status
    step = await session.get(Step, case.current_step_id) if case.current_step_id else None
    if step is not None and StepStatus(step.status).is_open:
        await _finish_step(session, outbox, case, step, StepStatus.closed, actor, at)
    case.status = status
    case.finished_at = at
    case.paused_at = None
    await timers.disarm_case(session, case.id)
    case.version += 1
    _log(session, case, "close", previous, actor, at, step=step, note=note)


async def act(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    case: Case,
    step: Step,
    action: Act,
    principal: Principal,
    body: ActionInput,
    at: dt.datetime,
    *,
    result_digitised: bool = False,
) -> None:
    """Apply an action the rules allowed (see ``domain.authority.authorise``). ``result_digitised``:
    resolving or rejecting stores a signed electronic result in this same transaction."""
    previous = case.status
    route = await route_of_case(session, case)
    note = body.reason
    if action is Act.claim:
        step.status = StepStatus.in_progress
        step.claimed_by = principal.sub
    elif action is Act.complete:
        successors = route.successors(step.name)
        if not successors:
            raise InvalidTarget("this is the route's last step: resolve or reject the case")
        target = body.next_step or successors[0]
        if target not in successors:
            raise InvalidTarget(f"after {step.name} the route goes to {', '.join(successors)}")
        await _finish_step(session, outbox, case, step, StepStatus.done, principal.sub, at)
        await _start_step(
            session,
            outbox,
            calendar,
            case,
            route.step(target),
            at,
            via="complete",
            assignee=body.assignee,
        )
        note = note or f"→ {target}"
    elif action is Act.send_back:
        earlier = route.earlier(step.name)
        if body.to_step not in earlier:
            raise InvalidTarget(
                f"{step.name} can be sent back to {', '.join(earlier) or 'no earlier step'}"
            )
        await _finish_step(session, outbox, case, step, StepStatus.sent_back, principal.sub, at)
        await _start_step(
            session,
            outbox,
            calendar,
            case,
            route.step(body.to_step),
            at,
            via="send_back",
            reason=body.reason,
        )
    elif action is Act.transfer:
        if not body.agency_code or body.agency_code == step.agency_code:
            raise InvalidTarget("name another agency to transfer the step to")
        await _finish_step(session, outbox, case, step, StepStatus.transferred, principal.sub, at)
        await _start_step(
            session,
            outbox,
            calendar,
            case,
            route.step(step.name),
            at,
            via="transfer",
            agency_code=body.agency_code,
            assignee=body.assignee,
            reason=body.reason,
        )
    elif action in (Act.request_supplement, Act.request_financial_obligation):
        reason = (
            PauseReason.supplement
            if action is Act.request_supplement
            else PauseReason.financial_obligation
        )
        case.status = CaseStatus.paused
        case.paused_at = at
        case.pause_reason = reason
        await timers.suspend_case(session, case.id)
        await outbox.add(
            session,
            CasePaused(
                case_id=case.id,
                dossier_id=case.dossier_id,
                dossier_code=case.dossier_code,
                unit_path=case.unit_path,
                reason=str(reason),  # type: ignore[arg-type]
                detail=body.reason or "",
                amount_vnd=body.amount_vnd,
                paused_at=at,
                items=[SupplementItem(**i) for i in body.items or []],
                requested_by=principal.sub,
                step=step.name,
                agency_code=step.agency_code,
            ),
            subject=case.dossier_code,
        )
    elif action is Act.resume:
        await resume(session, outbox, calendar, case, step, at)
    elif action in (Act.resolve, Act.reject):
        await _finish_step(session, outbox, case, step, StepStatus.done, principal.sub, at)
        case.status = CaseStatus.resolved if action is Act.resolve else CaseStatus.rejected
        case.finished_at = at
        case.timeliness = timeliness(at, case.due_at)
        await timers.disarm_case(session, case.id)
        await outbox.add(
            session,
            CaseResolved(
                case_id=case.id,
                dossier_id=case.dossier_id,
                dossier_code=case.dossier_code,
                unit_path=case.unit_path,
                outcome="approved" if action is Act.resolve else "rejected",
                reason=body.reason,
                resolved_at=at,
                due_at=case.due_at,
                result_digitised=result_digitised,
                timeliness=case.timeliness,  # type: ignore[arg-type]
            ),
            subject=case.dossier_code,
        )
        note = body.result or body.reason
    case.version += 1
    _log(
        session,
        case,
        str(action),
        previous,
        principal.sub,
        at,
        step=step,
        role=step.role,
        note=note,
    )


async def resume(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    case: Case,
    step: Step,
    at: dt.datetime,
) -> None:
    """Restart the clock: the case's and the open step's due instants move by the office time
    the pause lasted, and their timers are armed again at the new instants."""
    assert case.paused_at is not None
    paused_at = case.paused_at
    case.due_at = after_pause(calendar, case.due_at, paused_at, at)
    step.due_at = after_pause(calendar, step.due_at, paused_at, at)
    case.status = CaseStatus.open
    case.paused_at = None
    case.pause_reason = None
    await timers.disarm_case(session, case.id)
    timers.arm(session, case.id, timers.CASE_DUE, case.due_at)
    timers.arm(session, case.id, timers.STEP_DUE, step.due_at, step.id)
    await outbox.add(
        session,
        CaseResumed(
            case_id=case.id,
            dossier_id=case.dossier_id,
            unit_path=case.unit_path,
            resumed_at=at,
            paused_for_seconds=calendar.working_time_between(paused_at, at).total_seconds(),
            due_at=case.due_at,
        ),
        subject=case.dossier_code,
    )


async def resume_recorded(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    case: Case,
    step: Step,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
) -> None:
    """Resume a case on something other than an officer's action (a payment arriving), with
    the new version and the line on the process control sheet that ``act`` writes for an
    officer's resume."""
    previous = case.status
    await resume(session, outbox, calendar, case, step, at)
    case.version += 1
    _log(session, case, str(Act.resume), previous, actor, at, step=step, note=note)
