"""Steps of a case: starting one at its agency with its share of the time, finishing one, and
the work queues officers read."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role
from shared.calendar import WorkingCalendar
from shared.deadlines import timeliness
from shared.events import StepAssigned, StepCompleted
from shared.messaging.outbox import Outbox
from shared.routes import StepTemplate
from workflow_service.agencies import service as agencies
from workflow_service.db.models import Case, Step
from workflow_service.domain.cases import StepOutcome, StepStatus, StepVia
from workflow_service.domain.deadlines import step_due
from workflow_service.steps import repository
from workflow_service.steps.schemas import QueueFilter, StepOut, StepPage, StepQueueItem
from workflow_service.timers import repository as timers


class CaseOfStep(Protocol):
    """What starting a step needs of its case: a stored :class:`Case`, or one being opened in
    the same statement as its first step."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def dossier_id(self) -> uuid.UUID: ...
    @property
    def dossier_code(self) -> str: ...
    @property
    def unit_path(self) -> str: ...
    @property
    def processing_working_days(self) -> float | None: ...


@dataclass(frozen=True)
class StepStart:
    """A step about to start, as written: its row, its deadline timer's row, and the event that
    announces it."""

    row: dict[str, Any]
    timer: dict[str, Any]
    event: StepAssigned


def plan_start(
    calendar: WorkingCalendar,
    case: CaseOfStep,
    template: StepTemplate,
    at: dt.datetime,
    *,
    via: StepVia,
    seq: int,
    agency_code: str | None,
    assignee: str | None = None,
    reason: str | None = None,
    step_id: uuid.UUID | None = None,
) -> StepStart:
    """The step of ``template`` starting at ``at`` with its share of the case's time, as the
    ``seq``-th step of the case, at ``agency_code``; nothing is read or written."""
    step_id = step_id or uuid.uuid4()
    due_at = step_due(calendar, at, case.processing_working_days or 0, template.share)
    row: dict[str, Any] = {
        "id": step_id,
        "case_id": case.id,
        "seq": seq,
        "name": template.name,
        "agency_kind": template.agency_kind,
        "agency_code": agency_code,
        "role": template.role,
        "unit_path": case.unit_path,
        "assignee": assignee,
        "claimed_by": None,
        "status": StepStatus.waiting,
        "share": template.share,
        "started_at": at,
        "due_at": due_at,
        "finished_at": None,
        "timeliness": None,
        "note": None,
    }
    event = StepAssigned(
        case_id=case.id,
        dossier_id=case.dossier_id,
        dossier_code=case.dossier_code,
        unit_path=case.unit_path,
        step_id=step_id,
        step=template.name,
        agency_kind=template.agency_kind,
        agency_code=agency_code,
        role=template.role,
        assignee=assignee,
        via=via,
        reason=reason,
        started_at=at,
        due_at=due_at,
    )
    return StepStart(row, timers.timer_row(case.id, timers.STEP_DUE, due_at, step_id), event)


async def start_step(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    case: Case,
    after: Step,
    template: StepTemplate,
    at: dt.datetime,
    *,
    via: StepVia,
    agency_code: str | None = None,
    assignee: str | None = None,
    reason: str | None = None,
) -> Step:
    """Start the step that follows ``after``, the case's current step, and make it current.

    The current step is always the case's latest (every start makes the new step current), so
    the new one's number is one more than its own: no count of the case's steps is read."""
    start = plan_start(
        calendar,
        case,
        template,
        at,
        via=via,
        seq=after.seq + 1,
        agency_code=agency_code
        or await agencies.agency_for(session, template.agency_kind, case.unit_path),
        assignee=assignee,
        reason=reason,
    )
    step = Step(**start.row)
    session.add(step)
    case.current_step_id = step.id
    timers.arm(session, case.id, timers.STEP_DUE, step.due_at, step.id)
    await outbox.add(session, start.event, subject=case.dossier_code)
    return step


async def start_first_steps(session: AsyncSession, starts: Sequence[StepStart]) -> None:
    """Write the first steps of cases being opened, in one statement; their timers and events
    go with the cases' own (one statement each for the whole run)."""
    await repository.insert_many(session, [s.row for s in starts])


async def finish_step(
    session: AsyncSession,
    outbox: Outbox,
    case: Case,
    step: Step,
    outcome: StepOutcome,
    actor: str,
    at: dt.datetime,
) -> None:
    step.status = outcome
    step.finished_at = at
    done = timeliness(at, step.due_at)
    step.timeliness = done
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
            outcome=outcome,
            finished_by=actor,
            finished_at=at,
            due_at=step.due_at,
            timeliness=done,
        ),
        subject=case.dossier_code,
    )


async def work_queue(
    session: AsyncSession,
    principal: Principal,
    now: dt.datetime,
    *,
    agency_code: str | None,
    role: str | None,
    assignee: str | None,
    mine: bool,
    filter: QueueFilter | None,
    limit: int,
    cursor: str | None,
) -> StepPage:
    # An officer's queue holds the steps of their agencies only; supervisors and ops watch
    # every agency of their scope (overdue steps above all).
    own = (
        None
        if principal.has_role(Role.ops, Role.supervisor)
        else await agencies.agencies_of(session, principal)
    )
    rows, next_cursor = await repository.queue(
        session,
        principal,
        now,
        agencies=own,
        agency_code=agency_code,
        role=role,
        who=principal.sub if mine else assignee,
        filter=filter,
        limit=limit,
        cursor=cursor,
    )
    items = [
        StepQueueItem(
            **StepOut.of(step).model_dump(),
            case_id=case.id,
            dossier_code=case.dossier_code,
            case_status=case.status,
        )
        for step, case in rows
    ]
    return StepPage(items=items, next_cursor=next_cursor)
