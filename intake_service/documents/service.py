"""Documents of a dossier (thành phần hồ sơ): who may attach, see, reuse and digitise them, and
what each change writes.

Every change locks the dossier's row and happens in the request's one transaction; the change
that makes the dossier input-digitised also writes ``DossierDigitised`` to the outbox in it. An
upload's bytes go to the content-addressed blob store before the row is written (a file nobody
points at is harmless; a row pointing at no file would not be), so nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from intake_service.db.blob_store import BlobMissing, BlobStore, BlobTooLarge
from intake_service.db.models import Blob, Document, Dossier, Procedure
from intake_service.documents import repository
from intake_service.documents.errors import (
    ContentMissing,
    ContentTypeMismatch,
    DocumentNotFound,
    DocumentsForbidden,
    DossierClosed,
    DossierNotFound,
    NoContent,
    PayloadTooLarge,
    ReuseConsentRequired,
    ReuseRefused,
    UnknownComponent,
    UnsupportedDocumentType,
    reuse_role_forbidden,
)
from intake_service.documents.schemas import (
    ComponentStatus,
    ConsentOut,
    DocumentAttachedOut,
    DocumentOut,
    DocumentReferenceIn,
    DossierDocumentsOut,
    LookupConsentIn,
    ReusableDocumentOut,
    ReusableDocumentPage,
    ReuseIn,
    UploadFieldsIn,
)
from intake_service.domain.documents import (
    CLOSED_STATUSES,
    DIGITISING_ROLES,
    SNIFF_BYTES,
    SOURCE_LABELS_VI,
    Component,
    ContentRefusal,
    DocumentAudit,
    DocumentFacts,
    DocumentSource,
    ReuseAccessRefusal,
    ReuseRefusal,
    acts_as_desk,
    became_input_digitised,
    checked_content_type,
    digitised_on_arrival,
    is_applicant_of,
    is_expired,
    is_input_digitised,
    kind_slug,
    match_component,
    may_attach,
    may_consent_by_lookup,
    may_give_consent,
    missing_components,
    reference_refusal,
    required_components,
    reuse_access_refusal,
    reuse_refusal,
)
from intake_service.domain.procedure_rules import ProcedureRules
from intake_service.lookup.service import LookupGuard
from intake_service.settings import IntakeSettings
from shared.auth import Principal
from shared.calendar import VN_TZ
from shared.errors import Problem, invalid_request
from shared.events import DossierDigitised
from shared.runtime import Runtime
from shared.vocabulary import Channel

log = structlog.get_logger(__name__)

CHUNK_BYTES = 1024 * 1024
_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+"
    r'(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$'
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Makes the new document (storing its bytes first, when it has any) for the locked dossier:
# (dossier, matched component, caller acts as the desk's officer) -> (document, its blob).
BuildDocument = Callable[[Dossier, Component, bool], Awaitable[tuple[Document, Blob | None]]]


def field_error(field: str, message: str, message_vi: str) -> Problem:
    return invalid_request([{"field": field, "message": message, "message_vi": message_vi}])


# ----- who may do what ----------------------------------------------------------------------


def _is_own(principal: Principal, dossier: Dossier) -> bool:
    return is_applicant_of(principal, dossier.applicant_id_number)


def _may_attach(principal: Principal, dossier: Dossier) -> bool:
    return may_attach(
        principal,
        unit_path=dossier.unit_path,
        applicant_id_number=dossier.applicant_id_number,
        representative_id_number=dossier.representative_id_number,
        submitted_by=dossier.submitted_by,
    )


def _check_reuse_access(principal: Principal, dossier: Dossier) -> bool:
    """Raises when the caller may not see the applicant's earlier documents; returns whether
    the caller is the applicant."""
    own = _is_own(principal, dossier)
    denied = reuse_access_refusal(
        own=own, roles=principal.roles, consent=bool(dossier.reuse_consent)
    )
    if denied == ReuseAccessRefusal.consent:
        raise ReuseConsentRequired()
    if denied is not None:
        raise reuse_role_forbidden()
    return own


def _unsafe_reference(document: Document, settings: IntakeSettings) -> bool:
    return bool(document.reference) and (
        reference_refusal(document.reference or "", settings.document_reference_hosts) is not None
    )


# ----- shared steps ---------------------------------------------------------------------------


def components_of(procedure: Procedure) -> list[Component]:
    return required_components(ProcedureRules.of(procedure.data))


async def _open_dossier(session: AsyncSession, code: str, principal: Principal) -> Dossier:
    """The dossier, locked for this transaction, when the caller may attach to it."""
    dossier = await repository.visible_dossier(session, code, principal, for_update=True)
    if dossier is None:
        raise DossierNotFound()
    if not _may_attach(principal, dossier):
        raise DocumentsForbidden(
            "only the desk of the dossier's unit, its applicant or the system that submitted it "
            "adds documents"
        )
    if dossier.status in CLOSED_STATUSES:
        raise DossierClosed(dossier.status)
    return dossier


async def _publish_if_digitised(
    session: AsyncSession,
    runtime: Runtime,
    dossier: Dossier,
    procedure: Procedure,
    components: list[Component],
    before: list[DocumentFacts],
    after: list[DocumentFacts],
    principal: Principal,
    now: dt.datetime,
) -> bool:
    """Publish ``DossierDigitised`` when this change completes the dossier; returns whether the
    dossier is input-digitised now."""
    if became_input_digitised(components, before, after):
        event = DossierDigitised(
            dossier_id=dossier.id,
            dossier_code=dossier.code,
            procedure_code=procedure.code or procedure.key,
            unit_code=dossier.unit_code,
            unit_path=dossier.unit_path,
            channel=Channel(dossier.channel),
            at=now,
            actor=principal.sub,
            components=[c.name for c in components],
        )
        await runtime.outbox.add(session, event, subject=dossier.code)
    return is_input_digitised(components, after)


def document_fields(document: Document, blob: Blob | None) -> dict[str, Any]:
    return {
        "id": document.id,
        "dossier_id": document.dossier_id,
        "component": document.component,
        "kind": document.kind,
        "source": document.source,
        "source_label_vi": SOURCE_LABELS_VI.get(DocumentSource(document.source), document.source),
        "sha256": document.sha256,
        "size": blob.size if blob else None,
        "content_type": blob.content_type if blob else None,
        "filename": document.filename,
        "reference": document.reference,
        "reused_from": document.reused_from,
        "applicant_id_number": document.applicant_id_number,
        "valid_until": document.valid_until,
        "digitised": document.digitised,
        "digitised_by": document.digitised_by,
        "digitised_at": document.digitised_at,
        "created_by": document.created_by,
        "created_at": document.created_at,
        "content_url": f"/v1/documents/{document.id}/content" if document.sha256 else None,
    }


async def _attach(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    code: str,
    given_component: str,
    build: BuildDocument,
    now: dt.datetime,
) -> DocumentAttachedOut:
    """The common frame of every attachment: lock, check, add, maybe publish."""
    dossier = await _open_dossier(session, code, principal)
    procedure = await repository.procedure_as_received(session, dossier)
    components = components_of(procedure)
    component = match_component(components, given_component)
    if component is None:
        raise UnknownComponent("body.component", components)
    before = [repository.facts(d) for d in await repository.documents_of(session, dossier.id)]
    document, blob = await build(dossier, component, acts_as_desk(principal, dossier.unit_path))
    repository.add(session, document)
    digitised = await _publish_if_digitised(
        session,
        runtime,
        dossier,
        procedure,
        components,
        before,
        [*before, repository.facts(document)],
        principal,
        now,
    )
    await session.flush()
    return DocumentAttachedOut(**document_fields(document, blob), dossier_input_digitised=digitised)


def _new_document(
    dossier: Dossier,
    component: Component,
    kind: str | None,
    source: DocumentSource,
    by_officer: bool,
    principal: Principal,
    now: dt.datetime,
    *,
    sha256: str | None = None,
    filename: str | None = None,
    reference: str | None = None,
    valid_until: dt.date | None = None,
) -> Document:
    digitised = digitised_on_arrival(source, by_officer)
    return Document(
        id=uuid.uuid4(),
        dossier_id=dossier.id,
        component=component.name,
        kind=kind or component.kind,
        source=source,
        sha256=sha256,
        filename=filename,
        reference=reference,
        applicant_id_number=dossier.applicant_id_number,
        valid_until=valid_until,
        digitised=digitised,
        digitised_by=principal.sub if digitised else None,
        digitised_at=now if digitised else None,
        created_by=principal.sub,
        created_at=now,
    )


# ----- uploads --------------------------------------------------------------------------------


def _content_type_of(upload: UploadFile) -> str:
    declared = (upload.content_type or "").strip()
    if declared and len(declared) <= 200 and _CONTENT_TYPE.match(declared):
        return declared
    return "application/octet-stream"


def _filename_of(upload: UploadFile) -> str | None:
    if not upload.filename:
        return None
    # Only the last path segment, whichever system named it; control characters would break
    # the Content-Disposition header on download.
    name = PureWindowsPath(PurePosixPath(upload.filename).name).name
    name = _CONTROL.sub("", name).strip()[:255]
    return name or None


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


async def attach_upload(
    session: AsyncSession,
    runtime: Runtime,
    store: BlobStore,
    principal: Principal,
    code: str,
    upload: UploadFile,
    fields: UploadFieldsIn,
    now: dt.datetime,
) -> DocumentAttachedOut:
    """An uploaded file as a component of the dossier. The file is judged on its first bytes
    before anything is stored, so a refused file leaves nothing behind; it is streamed into the
    store, which keeps each content once."""

    async def build(
        dossier: Dossier, component: Component, by_officer: bool
    ) -> tuple[Document, Blob]:
        if upload.size is not None and upload.size > store.max_bytes:
            raise PayloadTooLarge(store.max_bytes)
        head = await upload.read(SNIFF_BYTES)
        await upload.seek(0)
        if not head:
            raise field_error("body.file", "the file is empty", "tệp rỗng")
        checked = checked_content_type(_content_type_of(upload), head)
        if checked == ContentRefusal.unsupported:
            raise UnsupportedDocumentType()
        if checked == ContentRefusal.mismatch:
            raise ContentTypeMismatch(_content_type_of(upload).split(";", 1)[0])
        try:
            stored = await store.put(_upload_chunks(upload))
        except BlobTooLarge as exc:
            raise PayloadTooLarge(exc.limit) from exc
        blob = await repository.record_blob(session, stored.sha256, stored.size, str(checked))
        document = _new_document(
            dossier,
            component,
            fields.kind,
            DocumentSource.upload,
            by_officer,
            principal,
            now,
            sha256=stored.sha256,
            filename=_filename_of(upload),
            valid_until=fields.valid_until,
        )
        return document, blob

    return await _attach(session, runtime, principal, code, fields.component, build, now)


async def attach_reference(
    session: AsyncSession,
    runtime: Runtime,
    settings: IntakeSettings,
    principal: Principal,
    code: str,
    body: DocumentReferenceIn,
    now: dt.datetime,
) -> DocumentAttachedOut:
    """A component declared without a file: a reference to a copy held elsewhere (on an allowed
    host only), or the paper original kept at the desk."""
    if body.reference is not None:
        refused = reference_refusal(body.reference, settings.document_reference_hosts)
        if refused is not None:
            raise field_error("body.reference", *refused)

    async def build(
        dossier: Dossier, component: Component, by_officer: bool
    ) -> tuple[Document, None]:
        document = _new_document(
            dossier,
            component,
            body.kind,
            DocumentSource(body.source),
            by_officer,
            principal,
            now,
            reference=body.reference,
            valid_until=body.valid_until,
        )
        return document, None

    return await _attach(session, runtime, principal, code, body.component, build, now)


async def reuse(
    session: AsyncSession,
    runtime: Runtime,
    settings: IntakeSettings,
    principal: Principal,
    code: str,
    body: ReuseIn,
    now: dt.datetime,
) -> DocumentAttachedOut:
    """An earlier digitised document of the same applicant stands for a component."""

    async def build(
        dossier: Dossier, component: Component, by_officer: bool
    ) -> tuple[Document, Blob | None]:
        own = _check_reuse_access(principal, dossier)
        earlier = await repository.document_by_id(session, body.document_id)
        # Another applicant's document is as absent as one that does not exist: an officer
        # learns nothing about documents that are not this applicant's.
        if earlier is None or earlier.applicant_id_number != dossier.applicant_id_number:
            raise DocumentNotFound()
        today = now.astimezone(VN_TZ).date()
        refusal = reuse_refusal(
            repository.facts(earlier), dossier.applicant_id_number, component.kind, today
        )
        if refusal is None and _unsafe_reference(earlier, settings):
            refusal = ReuseRefusal.unsafe_reference
        if refusal is not None:
            raise ReuseRefused(refusal)
        document = Document(
            id=uuid.uuid4(),
            dossier_id=dossier.id,
            component=component.name,
            kind=earlier.kind or component.kind,
            source=DocumentSource.reuse,
            sha256=earlier.sha256,
            reference=earlier.reference,
            filename=earlier.filename,
            reused_from=earlier.id,
            applicant_id_number=dossier.applicant_id_number,
            valid_until=earlier.valid_until,
            # Digitised once, by whoever did it then; reuse does not digitise anew.
            digitised=True,
            digitised_by=earlier.digitised_by,
            digitised_at=earlier.digitised_at,
            created_by=principal.sub,
            created_at=now,
        )
        if not own:
            repository.record_audit(
                session,
                dossier,
                DocumentAudit.reused,
                principal,
                now,
                note=f"document {earlier.id} as component {component.index}",
            )
        return document, await repository.blob(session, earlier.sha256)

    return await _attach(session, runtime, principal, code, body.component, build, now)


# ----- reading --------------------------------------------------------------------------------


async def list_documents(
    session: AsyncSession, principal: Principal, code: str, cursor: str | None, limit: int
) -> DossierDocumentsOut:
    """A page of the dossier's documents, with the state of every required component (judged on
    all of the dossier's documents, not on the page)."""
    dossier = await repository.visible_dossier(session, code, principal)
    if dossier is None:
        raise DossierNotFound()
    procedure = await repository.procedure_as_received(session, dossier)
    components = components_of(procedure)
    every = await repository.documents_of(session, dossier.id)
    page, next_cursor = await repository.documents_page(session, dossier.id, cursor, limit)
    blobs = await repository.blobs_of(session, page)
    facts = [repository.facts(d) for d in every]
    statuses = [
        ComponentStatus(
            index=c.index,
            name=c.name,
            kind=c.kind,
            provided=any(d.component == c.name for d in every),
            digitised=any(d.component == c.name and d.digitised for d in every),
            document_ids=[d.id for d in every if d.component == c.name],
        )
        for c in components
    ]
    items = [DocumentOut(**document_fields(d, blobs.get(d.sha256 or ""))) for d in page]
    return DossierDocumentsOut(
        dossier_code=dossier.code,
        components=statuses,
        missing=[c.name for c in missing_components(components, facts)],
        input_digitised=is_input_digitised(components, facts),
        items=items,
        documents=items,
        next_cursor=next_cursor,
    )


@dataclass(frozen=True)
class Download:
    """A document's file: its validator and headers' facts, and its bytes unless the client's
    copy is current (``chunks`` None: answer 304)."""

    sha256: str
    size: int
    content_type: str
    filename: str
    chunks: AsyncIterator[bytes] | None

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    return etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]


async def download(
    session: AsyncSession,
    store: BlobStore,
    principal: Principal,
    document_id: uuid.UUID,
    if_none_match: str | None,
) -> Download:
    found = await repository.document_with_blob(session, document_id, principal)
    if found is None:
        raise DocumentNotFound()
    document, blob = found
    if blob is None:
        raise NoContent(document.source)
    # Nothing more to read: the connection goes back to the pool before the file streams.
    await session.close()
    answer = Download(
        sha256=blob.sha256,
        size=blob.size,
        content_type=blob.content_type,
        filename=document.filename or f"{document.id}",
        chunks=None,
    )
    if _matches(if_none_match, answer.etag):
        return answer
    try:
        chunks = await store.read(blob.sha256)
    except BlobMissing as exc:
        log.error("blob missing from the store", sha256=blob.sha256, document_id=str(document_id))
        raise ContentMissing() from exc
    return Download(
        sha256=answer.sha256,
        size=answer.size,
        content_type=answer.content_type,
        filename=answer.filename,
        chunks=chunks,
    )


# ----- digitising -----------------------------------------------------------------------------


async def digitise(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    document_id: uuid.UUID,
    now: dt.datetime,
) -> DocumentAttachedOut:
    """An officer of the dossier's unit confirms the document digitised; again is a no-op."""
    found = await repository.visible_document(session, document_id, principal, for_update=True)
    if found is None:
        raise DocumentNotFound()
    document, dossier = found
    if not (principal.has_role(*DIGITISING_ROLES) and principal.covers(dossier.unit_path)):
        raise DocumentsForbidden("only an officer of the dossier's unit confirms digitisation")
    if dossier.status in CLOSED_STATUSES:
        raise DossierClosed(dossier.status)
    procedure = await repository.procedure_as_received(session, dossier)
    components = components_of(procedure)
    others = [
        repository.facts(d)
        for d in await repository.documents_of(session, dossier.id)
        if d.id != document.id
    ]
    before = repository.facts(document)
    if not document.digitised:
        document.digitised = True
        document.digitised_by = principal.sub
        document.digitised_at = now
    digitised = await _publish_if_digitised(
        session,
        runtime,
        dossier,
        procedure,
        components,
        [*others, before],
        [*others, repository.facts(document)],
        principal,
        now,
    )
    blob = await repository.blob(session, document.sha256)
    await session.flush()
    return DocumentAttachedOut(**document_fields(document, blob), dossier_input_digitised=digitised)


# ----- reuse: what may be reused, and consent -------------------------------------------------


async def reusable_documents(
    session: AsyncSession,
    settings: IntakeSettings,
    principal: Principal,
    code: str,
    kind: str | None,
    cursor: str | None,
    limit: int,
    now: dt.datetime,
) -> ReusableDocumentPage:
    """A page of the applicant's earlier digitised documents, newest first, each saying whether
    it may stand for a component of this dossier. An officer's look is recorded."""
    today = now.astimezone(VN_TZ).date()
    dossier = await repository.visible_dossier(session, code, principal)
    if dossier is None:
        raise DossierNotFound()
    own = _check_reuse_access(principal, dossier)
    if not own and dossier.status in CLOSED_STATUSES:
        # Seeing the applicant's papers serves the handling of an open dossier only.
        raise DossierClosed(dossier.status)
    procedure = await repository.procedure_as_received(session, dossier)
    wanted_kinds = {c.kind for c in components_of(procedure)}
    documents, next_cursor = await repository.earlier_documents(
        session, dossier.applicant_id_number, dossier.id, kind, cursor, limit
    )
    blobs = await repository.blobs_of(session, documents)
    if not own:
        repository.record_audit(
            session,
            dossier,
            DocumentAudit.listed,
            principal,
            now,
            note=f"{len(documents)} documents listed",
        )
        await session.flush()
    items = []
    for d in documents:
        expired = is_expired(d.valid_until, today)
        fields = document_fields(d, blobs.get(d.sha256 or ""))
        if not own:
            # The file is read through this dossier once reused, not from the other dossier.
            fields["content_url"] = None
        items.append(
            ReusableDocumentOut(
                **fields,
                expired=expired,
                reusable=not expired
                and (d.kind or kind_slug(d.component)) in wanted_kinds
                and not _unsafe_reference(d, settings),
            )
        )
    return ReusableDocumentPage(dossier_code=dossier.code, items=items, next_cursor=next_cursor)


def record_consent(
    session: AsyncSession,
    dossier: Dossier,
    granted: bool,
    principal: Principal | None,
    at: dt.datetime,
) -> bool:
    """Set the applicant's consent to reuse; returns whether it changed (and was recorded)."""
    if bool(dossier.reuse_consent) == granted:
        return False
    dossier.reuse_consent = granted
    dossier.reuse_consent_at = at
    action = DocumentAudit.consent_given if granted else DocumentAudit.consent_withdrawn
    repository.record_audit(session, dossier, action, principal, at)
    return True


def _consent_out(dossier: Dossier) -> ConsentOut:
    return ConsentOut(
        dossier_code=dossier.code,
        document_reuse_consent=bool(dossier.reuse_consent),
        changed_at=dossier.reuse_consent_at,
    )


async def consent(
    session: AsyncSession, principal: Principal, code: str, granted: bool, now: dt.datetime
) -> ConsentOut:
    """The applicant, signed in, gives or withdraws consent to reuse."""
    dossier = await repository.visible_dossier(session, code, principal, for_update=True)
    if dossier is None:
        raise DossierNotFound()
    if not may_give_consent(principal, dossier.applicant_id_number):
        raise DocumentsForbidden("only the applicant gives or withdraws consent to reuse")
    record_consent(session, dossier, granted, principal, now)
    await session.flush()
    return _consent_out(dossier)


async def consent_by_lookup(
    session: AsyncSession,
    guard: LookupGuard,
    client: str,
    code: str,
    body: LookupConsentIn,
    now: dt.datetime,
) -> ConsentOut:
    """The applicant gives or withdraws consent through the public lookup's credential, which
    proves the applicant only when the applicant filed the dossier."""
    dossier = await guard.verified_dossier(session, client, code, body.verifier)
    if not may_consent_by_lookup(
        applicant_id_number=dossier.applicant_id_number, submitted_by=dossier.submitted_by
    ):
        raise DocumentsForbidden(
            "this dossier was filed by someone else: the applicant consents signed in, "
            "with PUT /v1/dossiers/{code}/document-reuse-consent"
        )
    await repository.lock(session, dossier)
    record_consent(session, dossier, body.granted, None, now)
    await session.flush()
    return _consent_out(dossier)
