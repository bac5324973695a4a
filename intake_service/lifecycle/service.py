"""The lifecycle use cases: the desk's actions on a dossier (receive, request a supplement,
supplement, refuse, withdraw, return the result) and workflow's (processing starts, the case
pauses and resumes, an apology moves the appointment, the result arrives).

Every status change goes through :func:`advance`, which asks the lifecycle table
(``domain.lifecycle``) and writes the action row; the desk's actions and workflow's events differ
only in who acts. Status, action log and outbox are written in the caller's transaction, so the
three never disagree; nothing here commits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.db.models import Dossier, Procedure
from intake_service.domain.fees import fee_lines
from intake_service.domain.lifecycle import (
    WORKFLOW,
    Action,
    DossierStatus,
    NotAllowedInStatus,
    RoleNotAllowed,
    decide,
    may_answer_supplement,
    roles_for,
    supplement_requests_exhausted,
)
from intake_service.domain.pauses import pause_record, supplement_items
from intake_service.domain.procedure_rules import ProcedureRules
from intake_service.domain.reception import may_withdraw
from intake_service.domain.slips import supplement_note
from intake_service.dossiers import repository as dossiers
from intake_service.dossiers.errors import DossierNotFound
from intake_service.dossiers.schemas import DossierOut, dossier_out
from intake_service.lifecycle import repository
from intake_service.lifecycle.errors import (
    ActionForbidden,
    InvalidTransition,
    SupplementAlreadyRequested,
    UnknownDocument,
    withdraw_not_own,
)
from intake_service.lifecycle.schemas import SupplementItem
from intake_service.reference.state import Reference
from shared.auth import Principal, applicant_ref
from shared.calendar import VN_TZ, WorkingCalendar
from shared.events import (
    CaseApologised,
    CaseOpened,
    CasePaused,
    CaseResolved,
    CaseResumed,
    DossierReceived,
    DossierRefused,
    DossierReturned,
    DossierSubmitted,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierWithdrawn,
)
from shared.events.base import Event
from shared.http.preconditions import expected_version, precondition_failed
from shared.messaging.outbox import Outbox


@dataclass(frozen=True)
class Actor:
    """Who takes an action, as the table checks it and the log records it."""

    sub: str
    roles: frozenset[str]
    role: str | None = None  # the role the log names (none for workflow's events)
    unit: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(
            sub=principal.sub,
            roles=principal.roles,
            role=next(iter(sorted(principal.roles)), None),
            unit=principal.unit,
        )

    @classmethod
    def workflow(cls, who: str | None = None) -> Actor:
        """Workflow's event, recorded as the officer who caused it when the event names one."""
        return cls(sub=who or "workflow", roles=WORKFLOW)


@dataclass(frozen=True)
class Context:
    """What a desk action needs besides the dossier: the outbox, the calendar it is counted on,
    the key of the applicant's pseudonym, and the instant."""

    outbox: Outbox
    calendar: WorkingCalendar
    applicant_ref_key: str
    now: dt.datetime


# --- The one way a status changes ---------------------------------------------------------------


def start(session: AsyncSession, dossier: Dossier, actor: Actor, at: dt.datetime) -> None:
    """A new dossier's first row: submitted (the table starts there)."""
    dossiers.add_action(
        session,
        dossier,
        "submit",
        DossierStatus.submitted,
        actor=actor.sub,
        role=actor.role,
        unit_code=actor.unit,
        at=at,
    )
    dossier.status = DossierStatus.submitted


def advance(
    session: AsyncSession,
    dossier: Dossier,
    action: Action,
    actor: Actor,
    at: dt.datetime,
    *,
    note: str | None = None,
    supplement: dict[str, Any] | None = None,
) -> DossierStatus:
    """Move ``dossier`` by ``action`` as the lifecycle table allows ``actor``, and log it.
    Raises :class:`RoleNotAllowed` or :class:`NotAllowedInStatus`. The version moves when the
    row is written (the mapper's ``version_id_col``)."""
    target = decide(
        DossierStatus(dossier.status),
        action,
        actor.roles,
        received=dossier.received_at is not None,
    )
    dossiers.add_action(
        session,
        dossier,
        action,
        target,
        actor=actor.sub,
        role=actor.role,
        unit_code=actor.unit,
        at=at,
        note=note,
        supplement=supplement,
    )
    dossier.status = target
    return target


# --- Events of the desk's actions ---------------------------------------------------------------


def _common(d: Dossier, procedure: Procedure, at: dt.datetime, actor: str) -> dict[str, Any]:
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


def submitted_event(
    d: Dossier, procedure: Procedure, actor: Actor, at: dt.datetime
) -> DossierSubmitted:
    return DossierSubmitted(**_common(d, procedure, at, actor.sub))


def supplement_request(items: Sequence[SupplementItem], note: str | None) -> dict[str, Any]:
    """The structured request kept on its action row: what slips and views read."""
    return {
        "items": [{"component": i.component, "reason": i.reason} for i in items],
        "note": note.strip() if note and note.strip() else None,
    }


def receive(
    session: AsyncSession,
    dossier: Dossier,
    procedure: Procedure,
    actor: Actor,
    ctx: Context,
    note: str | None = None,
) -> DossierReceived:
    """Receive the dossier: the appointment is counted from now by the procedure's typed rules
    (working days, or working hours for a procedure timed in hours)."""
    rules = ProcedureRules.of(procedure.data)
    advance(session, dossier, Action.receive, actor, ctx.now, note=note)
    dossier.received_at = ctx.now
    dossier.appointment_at = rules.processing.due(ctx.calendar, ctx.now)
    return dossier_received(
        dossier,
        procedure.code or procedure.key,
        procedure.name,
        procedure.processing_working_days,
        rules,
        ctx,
        dossier.appointment_at,
    )


def received_event(
    identity: dict[str, Any],
    *,
    procedure_name: str,
    processing_working_days: float,
    rules: ProcedureRules,
    received_at: dt.datetime,
    appointment_at: dt.datetime,
    fee_amount_vnd: int,
    applicant_name: str,
    applicant_id_number: str,
    procedure_key: str,
    procedure_version: int,
    applicant_ref_key: str,
) -> DossierReceived:
    """The reception's event, from the dossier's identity (id, code, procedure code, unit,
    path, channel) and what the reception decided: the one builder of the desk's reception and
    of a submission received on the spot, so both announce the same fields."""
    return DossierReceived(
        **identity,
        procedure_name=procedure_name,
        received_at=received_at,
        appointment_at=appointment_at,
        processing_working_days=processing_working_days,
        processing_working_hours=rules.processing.working_hours
        if rules.processing.in_hours
        else None,
        fee_amount_vnd=fee_amount_vnd,
        applicant_name=applicant_name,
        procedure_key=procedure_key,
        procedure_version=procedure_version,
        fee_lines=fee_lines(rules, identity["channel"], identity["procedure_code"]),
        applicant_ref=applicant_ref(applicant_id_number, applicant_ref_key),
    )


def dossier_received(
    dossier: Dossier,
    procedure_code: str,
    procedure_name: str,
    processing_working_days: float,
    rules: ProcedureRules,
    ctx: Context,
    appointment_at: dt.datetime,
) -> DossierReceived:
    """:func:`received_event` for a dossier row received now: the desk's reception through the
    general path and through its one-statement path announce the same fields."""
    return received_event(
        {
            "dossier_id": dossier.id,
            "dossier_code": dossier.code,
            "procedure_code": procedure_code,
            "unit_code": dossier.unit_code,
            "unit_path": dossier.unit_path,
            "channel": dossier.channel,
        },
        procedure_name=procedure_name,
        processing_working_days=processing_working_days,
        rules=rules,
        received_at=ctx.now,
        appointment_at=appointment_at,
        fee_amount_vnd=dossier.fee_amount_vnd,
        applicant_name=dossier.applicant["name"],
        applicant_id_number=dossier.applicant_id_number,
        procedure_key=dossier.procedure_key,
        procedure_version=dossier.procedure_version,
        applicant_ref_key=ctx.applicant_ref_key,
    )


def _desk_step(
    session: AsyncSession,
    dossier: Dossier,
    procedure: Procedure,
    action: Action,
    actor: Actor,
    ctx: Context,
    *,
    note: str | None,
    items: Sequence[SupplementItem],
    document_ids: Sequence[uuid.UUID],
) -> Event:
    """Apply a desk action already checked, and the event that says so."""
    if action == Action.receive:
        return receive(session, dossier, procedure, actor, ctx, note)
    was_received = dossier.received_at is not None
    at = ctx.now
    if action == Action.request_supplement:
        pairs = [(i.component, i.reason) for i in items]
        # The note is the request's readable form in the history; the list itself is structured.
        advance(
            session,
            dossier,
            action,
            actor,
            at,
            note=supplement_note(pairs, note),
            supplement=supplement_request(items, note),
        )
        return DossierSupplementRequested(
            **_common(dossier, procedure, at, actor.sub),
            items=[f"{c}: {r}" for c, r in pairs],
        )
    advance(session, dossier, action, actor, at, note=note)
    common = _common(dossier, procedure, at, actor.sub)
    if action == Action.supplement:
        # Answered during processing, the request is met: workflow resumes the case from this
        # event, its clock restarting at ``at``.
        dossier.pause = None
        return DossierSupplemented(
            **common, during_processing=was_received, note=note, document_ids=list(document_ids)
        )
    if action == Action.refuse:
        return DossierRefused(**common, reason=note or "")
    if action == Action.withdraw:
        return DossierWithdrawn(**common, reason=note, was_received=was_received)
    if action == Action.return_result:
        return DossierReturned(**common)
    raise ValueError(f"{action} is not a desk action")  # pragma: no cover


def _check_supplier(principal: Principal, dossier: Dossier) -> None:
    if not may_answer_supplement(
        principal.roles,
        principal.sub,
        applicant_id_number=dossier.applicant_id_number,
        representative_id_number=dossier.representative_id_number,
        submitted_by=dossier.submitted_by,
        desk_covers_unit=principal.covers(dossier.unit_path),
    ):
        raise ActionForbidden(
            detail="only the applicant, the desk of the dossier's unit or the integration client "
            "that submitted it supplements a dossier"
        )


async def act(
    session: AsyncSession,
    principal: Principal,
    ctx: Context,
    code: str,
    action: Action,
    if_match: str | None,
    *,
    note: str | None = None,
    items: Sequence[SupplementItem] = (),
    document_ids: Sequence[uuid.UUID] = (),
) -> DossierOut:
    """A desk action on the dossier ``code``, as ``If-Match`` names its version. The checks run
    in the order a client should hear them: 428, 404, 403 (roles), 412 (a stale view is answered
    before the state: the officer must see what changed first), 403 (this dossier), 409, 422."""
    expected = expected_version(if_match)
    dossier = await dossiers.dossier_by_code(session, code, principal, for_update=True)
    if dossier is None:
        raise DossierNotFound()
    if principal.roles.isdisjoint(roles_for(action)):
        raise ActionForbidden(detail=f"your roles may not {action}")
    if action == Action.withdraw and not may_withdraw(principal, dossier.submitted_by):
        raise withdraw_not_own()
    if dossier.version != expected:
        raise precondition_failed()
    if action == Action.supplement:
        _check_supplier(principal, dossier)
    try:
        decide(
            DossierStatus(dossier.status),
            action,
            principal.roles,
            received=dossier.received_at is not None,
        )
    except RoleNotAllowed as exc:
        raise ActionForbidden(detail=f"your roles may not {action} in this status") from exc
    except NotAllowedInStatus as exc:
        raise InvalidTransition.of(exc) from exc
    if action == Action.request_supplement and supplement_requests_exhausted(
        await repository.supplement_requests(session, dossier.id)
    ):
        raise SupplementAlreadyRequested()
    if document_ids:
        found = await repository.documents_of(session, dossier.id, document_ids)
        if missing := sorted(str(i) for i in set(document_ids) - found):
            raise UnknownDocument(missing)
    procedure = await dossiers.procedure_as_received(session, dossier)
    event = _desk_step(
        session,
        dossier,
        procedure,
        action,
        Actor.of(principal),
        ctx,
        note=note,
        items=items,
        document_ids=document_ids,
    )
    await ctx.outbox.add(session, event, subject=dossier.code)
    await dossiers.flush(session)  # the version the answer's ETag names
    return dossier_out(dossier, procedure)


async def receive_at_desk(
    sessionmaker: async_sessionmaker[AsyncSession],
    reference: Reference,
    principal: Principal,
    ctx: Context,
    code: str,
    if_match: str | None,
    note: str | None,
) -> DossierOut:
    """The desk receives the dossier ``code``: :func:`act` with ``Action.receive``, in one
    statement when the reception is certain to succeed.

    The dossier is read once, checked here as :func:`act` checks it, and written by one
    statement (status, appointment, version, log, event) that only applies while the dossier
    is still at the version and status it was read at. Whenever anything is not plainly fine
    (not found, not this desk's, stale, not receivable, a procedure version the cache does not
    hold, or a concurrent change), nothing is written and :func:`act` runs, which answers with
    the precise problem, or receives the dossier the general way."""
    expected = expected_version(if_match)  # 428 first, as act answers it
    received = await _receive_in_one_statement(reference, principal, ctx, code, expected, note)
    if received is not None:
        return received
    # The general way, in a session of its own, committed before the answer is given; a
    # problem raised leaves it uncommitted, and closing it rolls back.
    async with sessionmaker() as session:
        out = await act(session, principal, ctx, code, Action.receive, if_match, note=note)
        await session.commit()
    return out


async def _receive_in_one_statement(
    reference: Reference,
    principal: Principal,
    ctx: Context,
    code: str,
    expected: int,
    note: str | None,
) -> DossierOut | None:
    async with reference.connection() as conn:
        dossier = await dossiers.dossier_row(conn, code)
    if dossier is None or not principal.covers(dossier.unit_path):
        return None
    if principal.roles.isdisjoint(roles_for(Action.receive)) or dossier.version != expected:
        return None
    try:
        target = decide(
            DossierStatus(dossier.status),
            Action.receive,
            principal.roles,
            received=dossier.received_at is not None,
        )
    except (RoleNotAllowed, NotAllowedInStatus):
        return None
    procedure = await reference.cache.procedure(dossier.procedure_key)
    if procedure is None or procedure.version != dossier.procedure_version:
        return None  # received under an older version: its rules are read by act
    actor = Actor.of(principal)
    rules = procedure.rules
    appointment = rules.processing.due(ctx.calendar, ctx.now)
    event = dossier_received(
        dossier,
        procedure.public_code,
        procedure.name,
        procedure.processing_working_days,
        rules,
        ctx,
        appointment,
    )
    async with reference.connection() as conn:
        version = await dossiers.receive_in_one_statement(
            conn,
            dossier,
            to_status=target,
            at=ctx.now,
            appointment_at=appointment,
            actor=actor.sub,
            role=actor.role,
            actor_unit=actor.unit,
            note=note,
            event=dossiers.new_outbox_row(ctx.outbox.row(event, subject=dossier.code)),
        )
    if version is None:
        return None  # changed since it was read
    dossier.status = target
    dossier.received_at = ctx.now
    dossier.appointment_at = appointment
    dossier.version = version
    return dossier_out(dossier, procedure)


# --- Workflow's events --------------------------------------------------------------------------


def by_workflow(
    session: AsyncSession,
    dossier: Dossier,
    action: Action,
    at: dt.datetime,
    *,
    note: str | None = None,
    supplement: dict[str, Any] | None = None,
    who: str | None = None,
) -> bool:
    """Apply workflow's ``action`` through the table; False when the table has no such move from
    the dossier's status (a redelivered event, or a dossier the applicant withdrew meanwhile),
    which changes nothing."""
    try:
        advance(session, dossier, action, Actor.workflow(who), at, note=note, supplement=supplement)
    except (NotAllowedInStatus, RoleNotAllowed):
        return False
    return True


async def _dossier_of(session: AsyncSession, dossier_id: uuid.UUID, what: str) -> Dossier:
    dossier = await dossiers.locked_dossier(session, dossier_id)
    if dossier is None:
        # Retried later: the dossier's own row may not have been committed yet.
        raise LookupError(f"{what} for unknown dossier {dossier_id}")
    return dossier


async def case_opened(session: AsyncSession, event: CaseOpened) -> None:
    dossier = await _dossier_of(session, event.dossier_id, "case opened")
    dossier.case_id = event.case_id
    by_workflow(session, dossier, Action.start_processing, event.opened_at)


async def case_resolved(session: AsyncSession, event: CaseResolved) -> None:
    """A result, approved or not: a redelivery finds the dossier resolved or returned already; a
    dossier withdrawn while the case was closing keeps its withdrawal, which the applicant asked
    for first."""
    dossier = await _dossier_of(session, event.dossier_id, "case resolved")
    action = Action.resolve if event.outcome == "approved" else Action.reject_after_examination
    if by_workflow(session, dossier, action, event.resolved_at, note=event.reason):
        dossier.pause = None


async def case_apologised(session: AsyncSession, event: CaseApologised) -> None:
    dossier = await _dossier_of(session, event.dossier_id, "apology")
    # Apologies only ever push the date later; a redelivered or older one changes nothing.
    if dossier.rescheduled_at is not None and dossier.rescheduled_at >= event.new_appointment_at:
        return
    if by_workflow(session, dossier, Action.apologise, event.issued_at, note=event.reason):
        dossier.rescheduled_at = event.new_appointment_at


def _money(amount: int | None) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng" if amount is not None else ""


async def case_paused(session: AsyncSession, event: CasePaused) -> None:
    """The processing agency asked the applicant for a supplement or a financial obligation:
    the dossier awaits them, and the lookup and the change feed say so."""
    dossier = await _dossier_of(session, event.dossier_id, "case paused")
    supplement = None
    if event.reason == "supplement":
        action = Action.request_supplement
        pairs = supplement_items(event)
        officer_note = event.detail if event.items else None
        # The same record as the desk's request, so the supplement-request slip lists it.
        note = supplement_note(pairs, officer_note)
        supplement = {
            "items": [{"component": c, "reason": r} for c, r in pairs],
            "note": officer_note,
        }
    else:
        action = Action.request_financial_obligation
        note = " — ".join(p for p in (event.detail, _money(event.amount_vnd)) if p)
    if by_workflow(
        session,
        dossier,
        action,
        event.paused_at,
        note=note,
        supplement=supplement,
        who=event.requested_by,
    ):
        dossier.pause = pause_record(event)


async def case_resumed(session: AsyncSession, event: CaseResumed) -> None:
    """The case's clock runs again (the applicant supplemented, the obligation was paid, or an
    officer resumed it): the dossier is in processing, with the appointment moved as the case's
    due instant moved by the paused office time."""
    dossier = await _dossier_of(session, event.dossier_id, "case resumed")
    if DossierStatus(dossier.status) not in _PROCESSING:
        return
    # Only ever later: a redelivery, or a resume older than the appointment held, moves nothing.
    if dossier.appointment_at is None or event.due_at > dossier.appointment_at:
        dossier.appointment_at = event.due_at
    due = event.due_at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")
    if by_workflow(session, dossier, Action.resume, event.resumed_at, note=f"Hẹn trả mới: {due}"):
        dossier.pause = None


# Where a case's events still concern the dossier: received, processed, or paused on the
# applicant. A redelivery finds it elsewhere (resolved, returned), as does a withdrawal.
_PROCESSING = (
    DossierStatus.received,
    DossierStatus.in_processing,
    DossierStatus.awaiting_supplement,
    DossierStatus.awaiting_financial_obligation,
)
