"""Officers' actions on a case, as one service: who may act (the authority table, from the
officer's agencies and the case's route), whether the case's state allows it, then the action's
writes, its events and, when it ends the case, the signed result, in one transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import Problem, conflict, forbidden
from shared.messaging.outbox import Outbox
from workflow_service import intake
from workflow_service.api.schemas import ActionBody
from workflow_service.db import members, progress, results
from workflow_service.db.calendar import CalendarBook
from workflow_service.db.models import Case, Step
from workflow_service.db.scope import case_scope, locked_case
from workflow_service.domain import authority
from workflow_service.domain import cases as rules
from workflow_service.settings import WorkflowSettings


@dataclass(frozen=True)
class Services:
    """What an action needs besides the database: where its events go, the calendar, the
    agencies' signing keys, and where intake is."""

    outbox: Outbox
    calendar_book: CalendarBook
    signing_keys: results.SigningKeys
    settings: WorkflowSettings


def refusal(exc: rules.ActionRefused) -> Problem:
    if isinstance(exc, rules.NotAllowedNow):
        allowed = ", ".join(exc.allowed) or "none"
        return conflict(
            f"{exc}; allowed now: {allowed}",
            f"Không thực hiện được thao tác ở trạng thái hiện tại; được phép: {allowed}",
        )
    if isinstance(exc, authority.Refused):
        return Problem(
            403,
            "forbidden",
            "Forbidden",
            "Không có quyền",
            detail=exc.detail,
            detail_vi=exc.detail_vi,
        )
    return forbidden()


def invalid_target(detail: str) -> Problem:
    return Problem(
        422,
        "invalid-target",
        "The route does not allow this target",
        "Quy trình không cho phép chuyển đến bước hoặc cơ quan này",
        detail=detail,
    )


async def transfer_target(
    session: AsyncSession,
    services: Services,
    case_id: uuid.UUID,
    principal: Principal,
    officer: authority.Officer,
    expected: int,
    agency_code: str,
) -> authority.Target | None:
    """Where a transfer would go, read before the row lock: an agency the route lists, or,
    for an approver of the step's agency, one intake confirms exists (a network call that
    must not hold the lock). None when neither; the locked check then says why not."""
    async with session.begin():
        case = await session.scalar(select(Case).where(Case.id == case_id, case_scope(principal)))
        if case is None or case.version != expected or case.current_step_id is None:
            return None  # the locked transaction answers 404 / 412 / 409
        step = await session.get(Step, case.current_step_id)
        if step is None:
            return None
        if agency_code == step.agency_code:
            raise invalid_target("name another agency to transfer the step to")
        if agency_code in await progress.route_transfer_targets(session, case, step):
            return authority.Target.route
        view = await progress.step_view(session, case, step)
    if not authority.may_transfer_to(officer, view, authority.Target.known_agency):
        return None
    await intake.require_active_agency(
        services.settings.intake_url,
        services.settings.intake_timeout_s,
        agency_code,
        "body.agency_code",
    )
    return authority.Target.known_agency


async def perform(
    session: AsyncSession,
    services: Services,
    case_id: uuid.UUID,
    action: rules.CaseAction,
    body: ActionBody,
    principal: Principal,
    expected: int,
    now: dt.datetime,
) -> tuple[Case, list[Step]]:
    """Do ``action`` on the case at version ``expected``; the case and its steps after it."""
    async with session.begin():
        officer = authority.Officer(
            principal.sub, principal.roles, await members.agencies_of(session, principal)
        )
    target: authority.Target | None = None
    if action is rules.CaseAction.transfer:
        body.require_for(action)
        assert body.agency_code is not None
        target = await transfer_target(
            session, services, case_id, principal, officer, expected, body.agency_code
        )
    # Resolving or rejecting issues a signed result. It is drawn and signed before the row lock,
    # from the case at the version the officer named, so the lock is held only for the writes;
    # the version check below makes sure the locked case is the one the document describes.
    prepared = await results.prepare(
        session,
        services.signing_keys,
        case_id,
        principal,
        officer,
        expected,
        action,
        body.result if action is rules.CaseAction.resolve else body.reason,
        now,
    )
    async with session.begin():
        case, step = await locked_case(session, case_id, principal, expected)
        if step is None:
            raise conflict("the case has no current step", "hồ sơ xử lý không có bước hiện tại")
        try:
            authority.authorise(
                rules.CaseStatus(case.status),
                rules.StepStatus(step.status),
                action,
                officer,
                await progress.step_view(session, case, step),
                target=target,
            )
        except rules.ActionRefused as exc:
            raise refusal(exc) from exc
        body.require_for(action)
        calendar = await services.calendar_book.calendar(session, now)
        try:
            await progress.act(
                session,
                services.outbox,
                calendar,
                case,
                step,
                action,
                principal,
                body.as_input(),
                now,
                result_digitised=prepared is not None,
            )
        except progress.InvalidTarget as exc:
            raise invalid_target(str(exc)) from exc
        if prepared is not None:
            results.keep(session, case, prepared)
        steps = list(
            (
                await session.scalars(
                    select(Step).where(Step.case_id == case.id).order_by(Step.seq)
                )
            ).all()
        )
    return case, steps
