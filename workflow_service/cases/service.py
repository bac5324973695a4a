"""Cases moving along their routes: opening one for a received dossier, the officers' actions
(who may — the authority table —, whether the state allows it, then the writes), pauses and
their resumption, the end of a case and its signed result.

Each function runs in the caller's transaction and writes, together, the case and step rows,
the action log behind the process control sheet, the timers and the events in the outbox; it
flushes, the caller (the request's route, the consumer's batch) commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.calendar import WorkingCalendar
from shared.deadlines import timeliness
from shared.events import (
    CaseOpened,
    CasePaused,
    CaseResolved,
    CaseResumed,
    DossierReceived,
    Event,
)
from shared.events.cases import SupplementItem
from shared.http.preconditions import precondition_failed
from shared.messaging.outbox import Outbox
from shared.routes import RouteTemplate
from shared.vocabulary import PauseReason, Timeliness
from workflow_service.agencies import service as agencies
from workflow_service.calendar.service import CalendarBook
from workflow_service.cases import repository
from workflow_service.cases.errors import (
    ActionConflict,
    ActionForbidden,
    CaseNotFound,
    InvalidTarget,
)
from workflow_service.cases.schemas import ActionBody, ActionRuleOut, CaseDetail, CaseOut, CasePage
from workflow_service.db.models import Case, CaseAction, Step
from workflow_service.domain import authority, opening
from workflow_service.domain import cases as rules
from workflow_service.domain.cases import CaseAction as Act
from workflow_service.domain.cases import CaseStatus, StepStatus
from workflow_service.domain.control_sheet import CLOSE_ACTION, OPEN_ACTION
from workflow_service.domain.deadlines import after_pause
from workflow_service.results import service as results
from workflow_service.results.keys import SigningKeys
from workflow_service.routes import service as routes
from workflow_service.steps import service as steps
from workflow_service.steps.schemas import StepOut
from workflow_service.steps.service import StepStart
from workflow_service.timers import repository as timers

# ----- reading --------------------------------------------------------------------------------


async def visible_case(session: AsyncSession, case_id: uuid.UUID, principal: Principal) -> Case:
    """The case, when the principal may see it; for others it does not exist (404)."""
    case = await repository.visible(session, case_id, principal)
    if case is None:
        raise CaseNotFound()
    return case


async def lock_for_change(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal, expected_version: int
) -> tuple[Case, Step | None]:
    """The case the principal may see, locked for a change, with its current step: 404 when it
    is not theirs to see, 412 when it changed since they read it (``If-Match``)."""
    case = await repository.locked(session, case_id, principal)
    if case is None:
        raise CaseNotFound()
    if case.version != expected_version:
        raise precondition_failed()
    return case, await repository.step(session, case.current_step_id)


async def find_cases(
    session: AsyncSession,
    principal: Principal,
    *,
    dossier_id: uuid.UUID | None,
    dossier_code: str | None,
    limit: int,
    cursor: str | None,
) -> CasePage:
    found, next_cursor = await repository.find(
        session,
        principal,
        dossier_id=dossier_id,
        dossier_code=dossier_code,
        limit=limit,
        cursor=cursor,
    )
    return CasePage(items=[CaseOut.model_validate(c) for c in found], next_cursor=next_cursor)


def detail_of(case: Case, case_steps: list[Step]) -> CaseDetail:
    detail = CaseDetail.model_validate(case)
    detail.steps = [StepOut.of(s) for s in case_steps]
    return detail


async def read_case(session: AsyncSession, case_id: uuid.UUID, principal: Principal) -> CaseDetail:
    case = await visible_case(session, case_id, principal)
    return detail_of(case, await repository.steps_of(session, case.id))


def action_table() -> list[ActionRuleOut]:
    return [
        ActionRuleOut(
            case_status=r.case_status,
            step_status=r.step_status,
            action=r.action,
            action_label_vi=rules.ACTION_LABELS_VI[r.action],
            roles=sorted(
                {
                    rules.STEP_ROLE if g.holder is authority.Holder.step_role else rules.LEADER
                    for g in authority.GRANTS
                    if g.action == r.action
                }
            ),
            claimant_only=r.claimant_only,
        )
        for r in rules.RULES
    ]


# ----- writing --------------------------------------------------------------------------------


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
    repository.log(
        session,
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
        ),
    )


@dataclass(frozen=True, slots=True)
class _Opening:
    """A case about to be opened for a received dossier (what starting its first step needs of
    it, and its row)."""

    event: DossierReceived
    id: uuid.UUID
    first_step_id: uuid.UUID
    route_version: int | None
    processing_working_days: float
    opened_at: dt.datetime

    @property
    def dossier_id(self) -> uuid.UUID:
        return self.event.dossier_id

    @property
    def dossier_code(self) -> str:
        return self.event.dossier_code

    @property
    def unit_path(self) -> str:
        return self.event.unit_path

    def row(self) -> dict[str, Any]:
        event = self.event
        return {
            "id": self.id,
            # The first step's id is known before either row is written, so the case is
            # inserted pointing at it, with no second write to name its current step.
            "current_step_id": self.first_step_id,
            "dossier_id": event.dossier_id,
            "dossier_code": event.dossier_code,
            "procedure_code": event.procedure_code,
            "procedure_key": event.procedure_key,
            "procedure_name": event.procedure_name,
            "applicant_name": event.applicant_name,
            "applicant_ref": event.applicant_ref,
            "route_version": self.route_version,
            "processing_working_days": self.processing_working_days,
            "unit_code": event.unit_code,
            "unit_path": event.unit_path,
            "status": CaseStatus.open,
            "opened_at": self.opened_at,
            "received_at": event.received_at,
            "due_at": event.appointment_at,
            "paused_at": None,
            "pause_reason": None,
            "finished_at": None,
            "timeliness": None,
            # The mapper counts versions on updates only: an insert names the first, the ETag
            # "1" a new case has always had.
            "version": 1,
        }


async def open_cases(
    session: AsyncSession,
    outbox: Outbox,
    book: CalendarBook,
    events: Sequence[DossierReceived],
    at: dt.datetime,
) -> list[uuid.UUID]:
    """Open the case of each received dossier, once; the ids of the cases opened.

    A run of receipts (a poll's, or one replayed alone) costs a fixed number of statements
    whatever its length: what the cases need is read in one statement per table (routes,
    working hours, agencies), everything is computed in memory, and the cases, their first
    steps, the action log, the timers and the events are written with one statement each.
    A dossier named twice in the run, or whose case is there already (a receipt redelivered
    under a new event id), opens nothing more: the insert skips a dossier that has its case,
    and only the cases it wrote get steps, timers and events."""
    receipts = opening.first_receipts(events)
    if not receipts:
        return []
    route_of = await routes.routes_for(session, {e.procedure_key for e in receipts})
    hours_of = await routes.working_hours_of(
        session, {e.procedure_key for e in receipts if opening.needs_catalogue_hours(e)}
    )
    agency_of = await agencies.agencies_for(
        session, {(route_of[e.procedure_key].first.agency_kind, e.unit_path) for e in receipts}
    )
    calendar_of: dict[frozenset[int], WorkingCalendar] = {}
    openings: list[tuple[_Opening, StepStart]] = []
    for event in receipts:
        years = book.years_around(event.received_at)
        if years not in calendar_of:
            calendar_of[years] = await book.calendar(session, event.received_at)
        calendar = calendar_of[years]
        route = route_of[event.procedure_key]
        if opening.needs_catalogue_hours(event):
            hours = hours_of.get(event.procedure_key) if event.procedure_key else None
        else:
            hours = event.processing_working_hours
        case = _Opening(
            event,
            id=uuid.uuid4(),
            first_step_id=uuid.uuid4(),
            route_version=route.version or None,
            processing_working_days=opening.processing_window(
                calendar, event.received_at, event.appointment_at, hours
            ),
            opened_at=at,
        )
        # The clock started at receipt: the first step's share counts from then, not from
        # when this event happened to be consumed.
        first = steps.plan_start(
            calendar,
            case,
            route.first,
            event.received_at,
            via="open",
            seq=1,
            agency_code=agency_of[(route.first.agency_kind, event.unit_path)],
            step_id=case.first_step_id,
        )
        openings.append((case, first))
    opened = await repository.insert_new(session, [case.row() for case, _ in openings])
    openings = [(case, first) for case, first in openings if case.id in opened]
    if not openings:
        return []
    await repository.log_many(
        session,
        [
            {
                "case_id": case.id,
                "action": OPEN_ACTION,
                "from_status": None,
                "to_status": CaseStatus.open,
                "actor": "system",
                "at": at,
                "note": None,
                "step_id": None,
                "role": None,
                "agency_code": None,
            }
            for case, _ in openings
        ],
    )
    await steps.start_first_steps(session, [first for _, first in openings])
    await timers.arm_many(
        session,
        [
            row
            for case, first in openings
            for row in (
                timers.timer_row(case.id, timers.CASE_DUE, case.event.appointment_at),
                first.timer,
            )
        ],
    )
    events_out: list[tuple[Event, str | None]] = []
    for case, first in openings:
        events_out.append(
            (
                CaseOpened(
                    case_id=case.id,
                    dossier_id=case.dossier_id,
                    dossier_code=case.dossier_code,
                    unit_path=case.unit_path,
                    opened_at=at,
                    due_at=case.event.appointment_at,
                ),
                case.dossier_code,
            )
        )
        events_out.append((first.event, case.dossier_code))
    await outbox.add_all(session, events_out)
    return [case.id for case, _ in openings]


async def withdraw(
    session: AsyncSession,
    outbox: Outbox,
    dossier_id: uuid.UUID,
    at: dt.datetime,
    note: str | None,
) -> None:
    """End the case of a dossier the applicant withdrew; nothing when it has ended already."""
    case = await repository.locked_by_dossier(session, dossier_id)
    if case is None or CaseStatus(case.status).is_final:
        return
    previous = case.status
    step = await repository.step(session, case.current_step_id)
    if step is not None and StepStatus(step.status).is_open:
        await steps.finish_step(session, outbox, case, step, "closed", "applicant", at)
    case.status = CaseStatus.withdrawn
    case.finished_at = at
    case.paused_at = None
    await timers.disarm_case(session, case.id)
    _log(session, case, CLOSE_ACTION, previous, "applicant", at, step=step, note=note)
    await session.flush()


async def _resume(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    case: Case,
    step: Step,
    at: dt.datetime,
) -> None:
    """Restart the clock: the case's and the open step's due instants move by the office time
    the pause lasted, and their timers are armed again at the new instants."""
    if case.paused_at is None:
        raise ActionConflict(detail="the case is not paused", detail_vi="Hồ sơ không tạm dừng")
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


async def resume_paused(
    session: AsyncSession,
    outbox: Outbox,
    book: CalendarBook,
    dossier_id: uuid.UUID,
    reason: PauseReason,
    at: dt.datetime,
    actor: str,
    note: str,
) -> None:
    """Resume the dossier's case when it is paused for ``reason`` and paused before ``at``, on
    something other than an officer's action (a payment, a supplement arriving).

    The clock restarts at ``at`` (when the applicant paid or supplemented), not when the event
    reached us: the time the event spent in the broker, in retries or while workflow was down
    is the office's time, and a replay must move the due instants exactly as the first delivery
    did. An event from before this pause began answered an earlier one (a redelivery reaching a
    case paused again) and moves nothing.
    """
    case = await repository.locked_by_dossier(session, dossier_id)
    if (
        case is None
        or case.status != CaseStatus.paused
        or case.pause_reason != reason
        or case.paused_at is None
        or at < case.paused_at
    ):
        return
    step = await repository.step(session, case.current_step_id)
    if step is None:
        return
    calendar = await book.calendar(session, at)
    previous = case.status
    await _resume(session, outbox, calendar, case, step, at)
    _log(session, case, str(Act.resume), previous, actor, at, step=step, note=note)
    await session.flush()


async def _transfer_target(
    session: AsyncSession,
    case: Case,
    step: Step,
    route: RouteTemplate,
    officer: authority.Officer,
    view: authority.StepView,
    agency_code: str,
) -> authority.Target | None:
    """Where a transfer goes: an agency the route lists for the step, or, for an approver of
    the step's agency, any active agency of the agencies table (422 when there is none such).
    None when neither; the authority check then says why not."""
    if agency_code == step.agency_code:
        raise InvalidTarget(detail="name another agency to transfer the step to")
    try:
        kinds = route.step(step.name).transfer_to
    except KeyError:
        kinds = ()
    listed = set(
        (await agencies.agencies_for(session, {(kind, case.unit_path) for kind in kinds})).values()
    )
    if agency_code in listed:
        return authority.Target.route
    if not authority.may_transfer_to(officer, view, authority.Target.known_agency):
        return None
    await agencies.require_active(session, agency_code, "body.agency_code")
    return authority.Target.known_agency


def _refusal(exc: rules.ActionRefused) -> Exception:
    if isinstance(exc, rules.NotAllowedNow):
        allowed = ", ".join(exc.allowed) or "none"
        return ActionConflict(
            detail=f"{exc}; allowed now: {allowed}",
            detail_vi=f"Không thực hiện được thao tác ở trạng thái hiện tại; được phép: {allowed}",
        )
    if isinstance(exc, authority.Refused):
        return ActionForbidden(detail=exc.detail, detail_vi=exc.detail_vi)
    return ActionForbidden()


async def perform(
    session: AsyncSession,
    outbox: Outbox,
    book: CalendarBook,
    keys: SigningKeys,
    case_id: uuid.UUID,
    action: Act,
    body: ActionBody,
    principal: Principal,
    expected: int,
    now: dt.datetime,
) -> CaseDetail:
    """Do ``action`` on the case at version ``expected``; the case and its steps after it."""
    officer = authority.Officer(
        principal.sub, principal.roles, await agencies.agencies_of(session, principal)
    )
    # Resolving or rejecting issues a signed result. It is drawn and signed before the row lock,
    # from the case at the version the officer named, so the lock is held only for the writes;
    # the version check below makes sure the locked case is the one the document describes.
    prepared: results.PreparedResult | None = None
    if action in results.SIGNING_ACTIONS:
        seen = await repository.visible(session, case_id, principal)
        seen_step = await repository.step(session, seen.current_step_id) if seen else None
        if seen is not None and seen.version == expected and seen_step is not None:
            prepared = await results.prepare(
                session,
                keys,
                seen,
                seen_step,
                principal,
                officer,
                routes.step_view(await routes.route_of_case(session, seen), seen_step),
                action,
                body.result if action is Act.resolve else body.reason,
                now,
            )
    case, step = await lock_for_change(session, case_id, principal, expected)
    if step is None:
        raise ActionConflict(
            detail="the case has no current step", detail_vi="hồ sơ xử lý không có bước hiện tại"
        )
    route = await routes.route_of_case(session, case)
    view = routes.step_view(route, step)
    target: authority.Target | None = None
    if action is Act.transfer:
        body.require_for(action)
        assert body.agency_code is not None  # required just above
        target = await _transfer_target(session, case, step, route, officer, view, body.agency_code)
    try:
        authority.authorise(
            CaseStatus(case.status), StepStatus(step.status), action, officer, view, target=target
        )
    except rules.ActionRefused as exc:
        raise _refusal(exc) from exc
    body.require_for(action)
    calendar = await book.calendar(session, now)
    await _act(
        session,
        outbox,
        calendar,
        case,
        step,
        route,
        action,
        principal,
        body,
        now,
        result_digitised=prepared is not None,
    )
    if prepared is not None:
        results.keep(session, case, prepared)
    await session.flush()
    return detail_of(case, await repository.steps_of(session, case.id))


async def _act(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    case: Case,
    step: Step,
    route: RouteTemplate,
    action: Act,
    principal: Principal,
    body: ActionBody,
    at: dt.datetime,
    *,
    result_digitised: bool,
) -> None:
    """Apply an action the rules allowed. ``result_digitised``: resolving or rejecting stores a
    signed electronic result in this same transaction."""
    previous = case.status
    note = body.reason
    if action is Act.claim:
        step.status = StepStatus.in_progress
        step.claimed_by = principal.sub
    elif action is Act.complete:
        successors = route.successors(step.name)
        if not successors:
            raise InvalidTarget(detail="this is the route's last step: resolve or reject the case")
        target = body.next_step or successors[0]
        if target not in successors:
            raise InvalidTarget(
                detail=f"after {step.name} the route goes to {', '.join(successors)}"
            )
        await steps.finish_step(session, outbox, case, step, "done", principal.sub, at)
        await steps.start_step(
            session,
            outbox,
            calendar,
            case,
            step,
            route.step(target),
            at,
            via="complete",
            assignee=body.assignee,
        )
        note = note or f"→ {target}"
    elif action is Act.send_back:
        earlier = route.earlier(step.name)
        if body.to_step is None or body.to_step not in earlier:
            raise InvalidTarget(
                detail=f"{step.name} can be sent back to {', '.join(earlier) or 'no earlier step'}"
            )
        await steps.finish_step(session, outbox, case, step, "sent_back", principal.sub, at)
        await steps.start_step(
            session,
            outbox,
            calendar,
            case,
            step,
            route.step(body.to_step),
            at,
            via="send_back",
            reason=body.reason,
        )
    elif action is Act.transfer:
        if not body.agency_code or body.agency_code == step.agency_code:
            raise InvalidTarget(detail="name another agency to transfer the step to")
        await steps.finish_step(session, outbox, case, step, "transferred", principal.sub, at)
        await steps.start_step(
            session,
            outbox,
            calendar,
            case,
            step,
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
                reason=reason,
                detail=body.reason or "",
                amount_vnd=body.amount_vnd,
                paused_at=at,
                items=[
                    SupplementItem(component=i.component, reason=i.reason) for i in body.items or []
                ],
                requested_by=principal.sub,
                step=step.name,
                agency_code=step.agency_code,
            ),
            subject=case.dossier_code,
        )
    elif action is Act.resume:
        await _resume(session, outbox, calendar, case, step, at)
    elif action in (Act.resolve, Act.reject):
        await steps.finish_step(session, outbox, case, step, "done", principal.sub, at)
        case.status = CaseStatus.resolved if action is Act.resolve else CaseStatus.rejected
        case.finished_at = at
        outcome: Timeliness = timeliness(at, case.due_at)
        case.timeliness = outcome
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
                timeliness=outcome,
            ),
            subject=case.dossier_code,
        )
        note = body.result or body.reason
    repository.touch(case)
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
