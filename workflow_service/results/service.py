"""Signed electronic results (kết quả điện tử có ký số): issuing one when a case is resolved or
rejected, keeping it beside the case, and finding or verifying it again.

Issuing is split in two so that the case's row lock is never held while a PDF is drawn and
signed (a few hundred milliseconds of CPU on the development machine, most of it drawing):

1. :func:`prepare` reads the case as it stands at the version the officer named, before the row
   is locked, then renders and signs the document in a worker thread.
2. The action then locks the row and checks that version (``If-Match``); a case still at that
   version is exactly the case the document describes (every change of a case bumps its
   version), so :func:`keep` stores the prepared document beside the resolution and its
   ``CaseResolved`` event. When the version moved on, the action is refused with 412 and the
   prepared document is simply dropped.

A document that cannot be signed (no key for the agency, unreadable key files) does not block
the resolution: the case is resolved without an electronic result and the event says so
(``result_digitised=False``), which is what the result digitisation rate counts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from workflow_service.agencies import service as agencies
from workflow_service.db.models import Case, SignedResult, Step
from workflow_service.domain import authority
from workflow_service.domain import cases as rules
from workflow_service.results import repository
from workflow_service.results.errors import ResultNotFound
from workflow_service.results.keys import Issuer, SigningKeys, issuer_of
from workflow_service.results.schemas import VerificationOut
from workflow_service.signing import (
    ResultDocument,
    Verification,
    render_result_pdf,
    sign_pdf,
    verify_pdf,
)

log = structlog.get_logger(__name__)

SIGNING_ACTIONS = (rules.CaseAction.resolve, rules.CaseAction.reject)


@dataclass(frozen=True)
class PreparedResult:
    """A signed document for a case at one version, waiting for the action's writes."""

    case_id: uuid.UUID
    case_version: int
    agency_code: str
    signer_name: str
    signed_by: str
    signed_at: dt.datetime
    pdf: bytes
    sha256: str


async def prepare(
    session: AsyncSession,
    keys: SigningKeys,
    case: Case,
    step: Step,
    principal: Principal,
    officer: authority.Officer,
    view: authority.StepView,
    action: rules.CaseAction,
    content: str | None,
    now: dt.datetime,
) -> PreparedResult | None:
    """The signed result document of ``action`` on ``case`` as read (unlocked), or None when
    there is nothing to sign: the action is not one that ends a case, would be refused (the
    locked check then says why), the step names no agency to sign for, or signing failed."""
    if action not in SIGNING_ACTIONS or not content or not step.agency_code:
        return None
    try:
        # Only so a refused action costs no signature; the locked check decides. Allowed
        # means: at the route's deciding step, by an approver of its agency, so the key used
        # (and, in development, minted) is that of the deciding agency, an agency the route or
        # the agencies table vouched for when the step reached it.
        authority.authorise(
            rules.CaseStatus(case.status), rules.StepStatus(step.status), action, officer, view
        )
    except rules.ActionRefused:
        return None
    issuer = issuer_of(await agencies.one(session, step.agency_code), step.agency_code)
    document = ResultDocument(
        issuer=issuer.header,
        dossier_code=case.dossier_code,
        procedure_code=case.procedure_code,
        # Cases opened before names were copied from the dossier fall back to codes.
        procedure_name=case.procedure_name or case.procedure_key or case.procedure_code,
        applicant_name=case.applicant_name or f"Theo hồ sơ {case.dossier_code}",
        approved=action is rules.CaseAction.resolve,
        content=content,
        issued_at=now,
        signer_title=issuer.name.upper(),
        place=issuer.place,
    )
    version = case.version
    try:
        signed = await asyncio.to_thread(_render_and_sign, keys, issuer, document)
    except Exception:
        # Whatever breaks in drawing or signing (bad key files, a font without a glyph), the
        # decision still stands and is recorded; the result is then issued on paper only.
        log.exception("result_not_signed", case_id=str(case.id), agency_code=issuer.agency_code)
        return None
    if signed is None:
        log.warning("no_signing_key", case_id=str(case.id), agency_code=issuer.agency_code)
        return None
    pdf, signer_name = signed
    return PreparedResult(
        case_id=case.id,
        case_version=version,
        agency_code=issuer.agency_code,
        signer_name=signer_name,
        signed_by=principal.sub,
        signed_at=now,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
    )


def _render_and_sign(
    keys: SigningKeys, issuer: Issuer, document: ResultDocument
) -> tuple[bytes, str] | None:
    # One worker thread does it all with the synchronous signer: drawing is the larger part of
    # the work, and neither it nor pyhanko's signing yields while computing, so in the event
    # loop either would hold up every other request of this process.
    signer = keys.signer(issuer)
    if signer is None:
        return None
    unsigned = render_result_pdf(document)
    signed = sign_pdf(
        unsigned,
        signer,
        reason=(
            "Phê duyệt kết quả giải quyết hồ sơ"
            if document.approved
            else "Thông báo không chấp thuận hồ sơ"
        ),
        location=issuer.place or issuer.name,
        signed_at=document.issued_at,
    )
    return signed, signer.name


def keep(session: AsyncSession, case: Case, prepared: PreparedResult) -> None:
    """Store the prepared document beside the resolution of ``case``, locked at the version
    the document was prepared from."""
    if prepared.case_id != case.id:
        raise ValueError("the prepared result belongs to another case")
    repository.add(
        session,
        SignedResult(
            case_id=case.id,
            sha256=prepared.sha256,
            pdf=prepared.pdf,
            agency_code=prepared.agency_code,
            signer_name=prepared.signer_name,
            signed_by=prepared.signed_by,
            signed_at=prepared.signed_at,
        ),
    )


async def visible_result(
    session: AsyncSession, case_id: uuid.UUID, principal: Principal
) -> tuple[SignedResult, str]:
    """The signed result of a case the principal may see, with the case's dossier code."""
    found = await repository.visible(session, case_id, principal)
    if found is None:
        raise ResultNotFound()
    return found


async def verify(
    session: AsyncSession, keys: SigningKeys, pdf: bytes, slots: asyncio.Semaphore
) -> VerificationOut:
    """Whether ``pdf`` is intact, who signed it, whether its signer chains to a trusted root,
    and whether it is a result this system issued."""
    async with slots:
        roots = await asyncio.to_thread(keys.trust_roots)
        verification: Verification = await asyncio.to_thread(verify_pdf, pdf, roots)
    known = await repository.by_hash(session, verification.sha256)
    return VerificationOut(
        valid=verification.valid,
        intact=verification.intact,
        trusted=verification.trusted,
        failure=verification.failure.value if verification.failure else None,
        reason=verification.reason,
        reason_vi=verification.reason_vi,
        signer_name=verification.signer_name,
        signer_agency=verification.signer_agency,
        signed_at=verification.signed_at,
        signature_count=verification.signature_count,
        sha256=verification.sha256,
        known_result=known is not None,
        case_id=known.case_id if known else None,
        dossier_code=known.dossier_code if known else None,
    )
