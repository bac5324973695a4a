"""The dossier use cases: submit (through any of the four channels), read, list; and the
dossier's views that are no lifecycle step (the payment view, the fee request)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.db.models import Dossier, IdempotencyKey, Procedure
from intake_service.documents.service import record_consent
from intake_service.domain.applicant import representation_issue
from intake_service.domain.documents import may_give_consent
from intake_service.domain.dossier_codes import dossier_code
from intake_service.domain.lifecycle import DossierStatus
from intake_service.domain.payments_view import PaymentViewEvent, fold
from intake_service.domain.procedure_rules import ProcedureRules
from intake_service.domain.reception import may_submit_at
from intake_service.dossiers import repository
from intake_service.dossiers.errors import (
    ConsentByApplicantOnly,
    DossierNotFound,
    Forbidden,
    IdempotencyKeyReused,
    InvalidRepresentative,
    RepresentativeRequired,
    UnknownProcedure,
    UnknownUnit,
)
from intake_service.dossiers.schemas import DossierCreate, DossierOut, DossierPage, dossier_out
from intake_service.integration import service as external_ids
from intake_service.lifecycle import service as lifecycle
from intake_service.lifecycle.service import Actor, Context
from shared.auth import Principal, Role
from shared.calendar import VN_TZ
from shared.events import FeeRequested
from shared.events.base import Event
from shared.vocabulary import Channel


@dataclass(frozen=True)
class Submitted:
    """The answer to a submission: the dossier, and whether this call created it (201) or found
    the one an earlier call created (200 for a repeat by external id)."""

    dossier: DossierOut
    created: bool


def request_hash(body: DossierCreate) -> str:
    return hashlib.sha256(
        orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def _check_consent(body: DossierCreate, principal: Principal) -> None:
    """422 when anyone but the applicant signed in as themself says the applicant consents to
    the reuse of their documents: the desk records that consent by the applicant's own call."""
    if body.document_reuse_consent and not may_give_consent(principal, body.applicant.id_number):
        raise ConsentByApplicantOnly()


def _check_representation(body: DossierCreate, principal: Principal, now: dt.datetime) -> None:
    """422 unless the submission names who files for whom as ``representation_issue`` requires;
    the problem names the field only, never the numbers compared."""
    issue = representation_issue(
        files_as_citizen=body.channel == Channel.online and principal.has_role(Role.applicant),
        subject=principal.sub,
        applicant_id=body.applicant.id_number,
        representative_id=body.representative.id_number if body.representative else None,
        authorised_on=body.representative.authorisation_date if body.representative else None,
        today=now.astimezone(VN_TZ).date(),
    )
    if issue is None:
        return
    problem = (
        RepresentativeRequired if issue.field == "body.representative" else InvalidRepresentative
    )
    raise problem(issue.field, issue.message, issue.message_vi)


async def _replay(
    session: AsyncSession, earlier: IdempotencyKey, hashed: str, procedure: Procedure
) -> Submitted:
    """The answer to a retried submission: the dossier the first attempt created."""
    if earlier.request_hash != hashed:
        raise IdempotencyKeyReused()
    existing = await repository.dossier_by_id(session, earlier.dossier_id)
    if existing is None:
        raise RuntimeError("an idempotency key names no dossier")
    return Submitted(dossier_out(existing, procedure), created=True)


async def submit(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    body: DossierCreate,
    ctx: Context,
    idempotency_key: str | None,
) -> Submitted:
    """Submit a dossier: checked, numbered, logged and announced in the request's transaction;
    received on the spot when the desk says so (a direct submission by default).

    The desk's hot path: the unit and the procedure are read in one statement, the daily number
    in a short transaction of its own (see ``repository.next_sequence``) once the reads'
    transaction has ended, and the events of the
    submission (and the reception) in one insert."""
    now = ctx.now
    hashed = request_hash(body)
    unit, procedure = await repository.unit_and_procedure(
        session, body.unit_code, body.procedure_key
    )
    if unit is None:
        raise UnknownUnit()
    if not may_submit_at(principal, unit.path, body.channel):
        raise Forbidden()
    _check_representation(body, principal, now)
    _check_consent(body, principal)
    if procedure is None or procedure.retired_at is not None:
        raise UnknownProcedure()
    if idempotency_key:
        earlier = await repository.idempotency_record(session, idempotency_key, principal.sub)
        if earlier is not None:
            return await _replay(session, earlier, hashed, procedure)
    repeated = await external_ids.earlier_submission(session, principal, body)
    if repeated is not None:
        return Submitted(dossier_out(repeated, procedure), created=False)
    receive_now = (
        body.receive_now if body.receive_now is not None else body.channel == Channel.direct
    )
    if receive_now and not principal.has_role(Role.receptionist):
        raise Forbidden(detail="only a receptionist receives a dossier on the spot")

    today = now.astimezone(VN_TZ).date()
    # Nothing is written yet: hand the reads' connection back before the daily number takes
    # another, so a burst of submissions never holds every pooled connection while each waits
    # for a second one. The writes below begin the request's transaction afresh.
    await repository.end_reads(session)
    seq = await repository.next_sequence(sessionmaker, unit.code, today)
    dossier_id = uuid.uuid4()
    if idempotency_key:
        earlier = await repository.claim_idempotency_key(
            session, idempotency_key, principal.sub, hashed, dossier_id
        )
        if earlier is not None:  # a concurrent retry won the race
            return await _replay(session, earlier, hashed, procedure)
    rules = ProcedureRules.of(procedure.data)
    dossier = Dossier(
        id=dossier_id,
        code=dossier_code(unit.code, today, seq),
        procedure_key=procedure.key,
        procedure_version=procedure.version,
        unit_code=unit.code,
        unit_path=unit.path,
        channel=body.channel,
        applicant=body.applicant.model_dump(mode="json"),
        applicant_id_number=body.applicant.id_number,
        representative=body.representative.model_dump(mode="json") if body.representative else None,
        representative_id_number=body.representative.id_number if body.representative else None,
        source_system=external_ids.source_system_of(body, principal),
        external_id=body.external_id,
        submitted_by=principal.sub,
        fee_amount_vnd=rules.fee_amount(body.channel),
        payments={},
    )
    actor = Actor.of(principal)
    lifecycle.start(session, dossier, actor, now)
    if body.document_reuse_consent:
        record_consent(session, dossier, True, principal, now)
    repository.add_dossier(session, dossier)
    try:
        # Written now, as its own version (1): the unique external id decides a race here.
        await repository.flush(session)
    except IntegrityError as exc:
        if not external_ids.is_external_id_race(exc):
            raise
        # A concurrent submission with the same external id committed first: nothing of this
        # attempt stands (the idempotency key included), and the answer is the earlier dossier.
        await repository.rollback(session)
        repeated = await external_ids.earlier_submission(session, principal, body)
        if repeated is None:
            raise
        procedure = await repository.procedure(session, body.procedure_key)
        assert procedure is not None
        return Submitted(dossier_out(repeated, procedure), created=False)
    events: list[Event] = [lifecycle.submitted_event(dossier, procedure, actor, now)]
    if receive_now:
        events.append(lifecycle.receive(session, dossier, procedure, actor, ctx))
    await ctx.outbox.add_all(session, [(e, dossier.code) for e in events])
    if receive_now:
        await repository.flush(session)  # the reception is the dossier's second version
    return Submitted(dossier_out(dossier, procedure), created=True)


async def read(session: AsyncSession, principal: Principal, code: str) -> DossierOut:
    """A dossier the caller may see, with its history; 404 when there is none."""
    dossier = await repository.dossier_by_code(session, code, principal)
    if dossier is None:
        raise DossierNotFound()
    procedure = await repository.procedure(session, dossier.procedure_key)
    assert procedure is not None
    return dossier_out(dossier, procedure, await repository.history(session, dossier.id))


async def list_page(
    session: AsyncSession,
    principal: Principal,
    *,
    status: DossierStatus | None,
    cursor: str | None,
    limit: int,
) -> DossierPage:
    rows = await repository.list_dossiers(
        session, principal, status=status, cursor=cursor, limit=limit
    )
    page, next_cursor = repository.DOSSIER_ORDER.page(rows, limit, lambda d: (d.created_at, d.id))
    procedures = await repository.procedures_by_key(session, {d.procedure_key for d in page})
    return DossierPage(
        items=[dossier_out(d, procedures[d.procedure_key]) for d in page],
        next_cursor=next_cursor,
    )


# --- What payment says, folded in without moving the version -----------------------------------


async def fee_requested(session: AsyncSession, event: FeeRequested) -> None:
    dossier = await repository.locked_dossier(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"fee requested for unknown dossier {event.dossier_id}")
    dossier.fee_request_id = event.fee_request_id


async def payment_event(session: AsyncSession, event: PaymentViewEvent, event_type: str) -> None:
    """Fold a payment event into the dossier's payment view.

    Neither the version (the ETag) nor the action log moves: paying is not a step of the
    dossier's lifecycle, and an officer's If-Match must not go stale because a citizen paid. A
    repeated event folds to the same view and writes nothing (``db.models.QUIET_COLUMNS``)."""
    dossier = await repository.locked_dossier(session, event.dossier_id)
    if dossier is None:
        raise LookupError(f"{event_type} for unknown dossier {event.dossier_id}")
    folded = fold(dossier.payments, event)
    # JSONB is not tracked for in-place changes: assign a new value, and only when it differs.
    if folded != dossier.payments:
        dossier.payments = folded
