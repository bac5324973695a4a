"""The dossier use cases: submit (through any of the four channels), read, list; and the
dossier's views that are no lifecycle step (the payment view, the fee request)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.db.models import Dossier
from intake_service.domain.applicant import representation_issue
from intake_service.domain.documents import DocumentAudit, may_give_consent
from intake_service.domain.lifecycle import STATUS_LABELS_VI, Action, DossierStatus, decide
from intake_service.domain.payments_view import PaymentViewEvent, fold
from intake_service.domain.reception import may_submit_at
from intake_service.dossiers import repository
from intake_service.dossiers.errors import (
    ConsentByApplicantOnly,
    DossierNotFound,
    Forbidden,
    IdempotencyKeyReused,
    InvalidRepresentative,
    ReferenceChanging,
    RepresentativeRequired,
    UnknownProcedure,
    UnknownUnit,
)
from intake_service.dossiers.schemas import (
    DossierCreate,
    DossierOut,
    DossierPage,
    NamedProcedure,
    dossier_out,
    no_payments,
)
from intake_service.integration import service as external_ids
from intake_service.lifecycle import service as lifecycle
from intake_service.lifecycle.service import Actor, Context
from intake_service.reference.state import Reference
from shared.auth import Principal, Role
from shared.calendar import VN_TZ
from shared.events import DossierSubmitted, FeeRequested
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
    sessionmaker: async_sessionmaker[AsyncSession],
    earlier_hash: str,
    dossier_id: uuid.UUID,
    hashed: str,
    procedure: NamedProcedure,
) -> Submitted:
    """The answer to a retried submission: the dossier the first attempt created."""
    if earlier_hash != hashed:
        raise IdempotencyKeyReused()
    async with sessionmaker() as session:
        existing = await repository.dossier_by_id(session, dossier_id)
    if existing is None:
        raise RuntimeError("an idempotency key names no dossier")
    return Submitted(dossier_out(existing, procedure), created=True)


async def _earlier_submission(
    sessionmaker: async_sessionmaker[AsyncSession], principal: Principal, body: DossierCreate
) -> Dossier | None:
    if body.external_id is None:
        return None
    async with sessionmaker() as session:
        return await external_ids.earlier_submission(session, principal, body)


# Stands for the dossier's code in its events until the statement that takes the daily number
# writes them (``repository.SUBMISSION_SQL``); random per process, so no applicant's name or note
# can hold it.
_CODE_PLACEHOLDER = f"~dossier-code-{secrets.token_hex(16)}~"


async def submit(
    reference: Reference,
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    body: DossierCreate,
    ctx: Context,
    idempotency_key: str | None,
) -> Submitted:
    """Submit a dossier, checked against the process's reference data; when the statement finds
    that data stale (another replica retired the unit or the procedure, or published a new
    version, and the catalogue topic has not told this one yet), it wrote nothing: the cache is
    dropped and the submission decided again on the committed rows."""
    for _ in range(_STALE_REFERENCE_ATTEMPTS):
        submitted = await _submit(reference, sessionmaker, principal, body, ctx, idempotency_key)
        if submitted is not None:
            return submitted
        reference.cache.invalidate()
    # The catalogue changed under every attempt: the caller may simply try again.
    raise ReferenceChanging()


# Each attempt reloads the catalogue; two changes between a reload and the statement that
# follows it within milliseconds are already all but impossible.
_STALE_REFERENCE_ATTEMPTS = 3


async def _submit(
    reference: Reference,
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    body: DossierCreate,
    ctx: Context,
    idempotency_key: str | None,
) -> Submitted | None:
    """Submit a dossier: checked, numbered, logged and announced in one transaction; received
    on the spot when the desk says so (a direct submission by default).

    The desk's hot path: the unit and the procedure come from the process's cache
    (``intake_service.reference``), and the daily number, the dossier in its final state (a
    dossier received on the spot is written received, at the version its two steps make), its
    log, its events and the idempotency key are written by one statement
    (``repository.insert_submission``). Only a retry (idempotency key) or an integration
    client's external id reads the database before it."""
    now = ctx.now
    unit = await reference.cache.unit(body.unit_code)
    if unit is None or unit.retired:
        raise UnknownUnit()
    if not may_submit_at(principal, unit.path, body.channel):
        raise Forbidden()
    _check_representation(body, principal, now)
    _check_consent(body, principal)
    procedure = await reference.cache.procedure(body.procedure_key)
    if procedure is None or procedure.retired:
        raise UnknownProcedure()
    hashed = request_hash(body) if idempotency_key else ""
    if idempotency_key:
        async with reference.connection() as conn:
            earlier = await repository.idempotency_hash(conn, idempotency_key, principal.sub)
        if earlier is not None:
            return await _replay(sessionmaker, *earlier, hashed, procedure)
    repeated = await _earlier_submission(sessionmaker, principal, body)
    if repeated is not None:
        return Submitted(dossier_out(repeated, procedure), created=False)
    receive_now = (
        body.receive_now if body.receive_now is not None else body.channel == Channel.direct
    )
    if receive_now and not principal.has_role(Role.receptionist):
        raise Forbidden(detail="only a receptionist receives a dossier on the spot")

    today = now.astimezone(VN_TZ).date()
    rules = procedure.rules
    dossier_id = uuid.uuid4()
    actor = Actor.of(principal)
    channel = Channel(body.channel)
    fee = rules.fee_amount(channel)
    source_system = external_ids.source_system_of(body, principal)
    applicant = body.applicant.model_dump(mode="json")
    representative = body.representative.model_dump(mode="json") if body.representative else None
    common: dict[str, Any] = {
        "dossier_id": dossier_id,
        "dossier_code": _CODE_PLACEHOLDER,
        "procedure_code": procedure.public_code,
        "unit_code": unit.code,
        "unit_path": unit.path,
        "channel": channel,
    }
    # The log as the lifecycle table writes it: submitted, the consent noted in that status,
    # then the reception.
    submitted = DossierStatus.submitted
    actions = [repository.NewAction("submit", None, submitted)]
    if body.document_reuse_consent:
        actions.append(repository.NewAction(DocumentAudit.consent_given, submitted, submitted))
    events: list[Event] = [DossierSubmitted(**common, at=now, actor=actor.sub)]
    status, version, appointment = submitted, 1, None
    if receive_now:
        status = decide(submitted, Action.receive, actor.roles, received=False)
        actions.append(repository.NewAction(Action.receive, submitted, status))
        appointment = rules.processing.due(ctx.calendar, now)
        version = 2  # submitted, then received: the two versions the lifecycle counts
        events.append(
            lifecycle.received_event(
                common,
                procedure_name=procedure.name,
                processing_working_days=procedure.processing_working_days,
                rules=rules,
                received_at=now,
                appointment_at=appointment,
                fee_amount_vnd=fee,
                applicant_name=body.applicant.name,
                applicant_id_number=body.applicant.id_number,
                procedure_key=procedure.key,
                procedure_version=procedure.version,
                applicant_ref_key=ctx.applicant_ref_key,
            )
        )
    prefix, low_bits = repository.code_parts(unit.code, today, secrets.randbits(24))
    new = repository.NewDossier(
        id=dossier_id,
        unit_code=unit.code,
        unit_path=unit.path,
        day=today,
        code_prefix=prefix,
        code_low_bits=low_bits,
        procedure_key=procedure.key,
        procedure_version=procedure.version,
        channel=channel.value,
        status=status,
        applicant_json=orjson.dumps(applicant).decode(),
        applicant_id_number=body.applicant.id_number,
        representative_json=orjson.dumps(representative).decode() if representative else None,
        representative_id_number=body.representative.id_number if body.representative else None,
        submitted_by=principal.sub,
        received_at=now if receive_now else None,
        appointment_at=appointment,
        fee_amount_vnd=fee,
        source_system=source_system,
        external_id=body.external_id,
        reuse_consent=body.document_reuse_consent,
        reuse_consent_at=now if body.document_reuse_consent else None,
        version=version,
    )
    try:
        async with reference.connection() as conn:
            code = await repository.insert_submission(
                conn,
                new,
                actions,
                actor=actor.sub,
                role=actor.role,
                actor_unit=actor.unit,
                at=now,
                outbox=[
                    repository.new_outbox_row(ctx.outbox.row(e, subject=_CODE_PLACEHOLDER))
                    for e in events
                ],
                placeholder=_CODE_PLACEHOLDER,
                idempotency=(idempotency_key, principal.sub, hashed) if idempotency_key else None,
            )
    except asyncpg.UniqueViolationError as exc:
        # A concurrent request won a race; nothing of this attempt was written.
        if exc.constraint_name == repository.IDEMPOTENCY_CONSTRAINT and idempotency_key:
            async with reference.connection() as conn:
                earlier = await repository.idempotency_hash(conn, idempotency_key, principal.sub)
            if earlier is None:
                raise
            return await _replay(sessionmaker, *earlier, hashed, procedure)
        if exc.constraint_name == repository.EXTERNAL_ID_CONSTRAINT:
            repeated = await _earlier_submission(sessionmaker, principal, body)
            if repeated is None:
                raise
            return Submitted(dossier_out(repeated, procedure), created=False)
        raise
    if code is None:
        return None  # stale reference data: nothing was written
    return Submitted(
        DossierOut(
            id=dossier_id,
            code=code,
            procedure_key=procedure.key,
            procedure_code=procedure.code,
            procedure_name=procedure.name,
            unit_code=unit.code,
            unit_path=unit.path,
            channel=channel,
            status=status,
            status_label_vi=STATUS_LABELS_VI[DossierStatus(status)],
            applicant_name=body.applicant.name,
            representative=body.representative,
            received_at=new.received_at,
            appointment_at=appointment,
            fee_amount_vnd=fee,
            case_id=None,
            fee_request_id=None,
            version=version,
            source_system=source_system,
            external_id=body.external_id,
            payments=no_payments(),
            document_reuse_consent=body.document_reuse_consent,
        ),
        created=True,
    )


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
    if not await repository.set_fee_request(session, event.dossier_id, event.fee_request_id):
        raise LookupError(f"fee requested for unknown dossier {event.dossier_id}")


async def payment_event(session: AsyncSession, event: PaymentViewEvent, event_type: str) -> None:
    """Fold a payment event into the dossier's payment view.

    Neither the version (the ETag) nor the action log moves: paying is not a step of the
    dossier's lifecycle, and an officer's If-Match must not go stale because a citizen paid. A
    repeated event folds to the same view and writes nothing."""
    payments = await repository.locked_payments(session, event.dossier_id)
    if payments is None:
        raise LookupError(f"{event_type} for unknown dossier {event.dossier_id}")
    folded = fold(payments, event)
    if folded != payments:
        await repository.set_payments(session, event.dossier_id, folded)
