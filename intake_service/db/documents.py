"""Queries and writes of documents (thành phần hồ sơ) and the blobs that hold their bytes."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Blob, Document, Dossier, DossierAction
from intake_service.db.repository import visible_to
from intake_service.domain.documents import DocumentAudit, DocumentFacts
from shared.auth import Principal


def facts(document: Document) -> DocumentFacts:
    return DocumentFacts(
        component=document.component,
        kind=document.kind,
        applicant_id_number=document.applicant_id_number,
        digitised=document.digitised,
        valid_until=document.valid_until,
    )


async def record_blob(session: AsyncSession, sha256: str, size: int, content_type: str) -> None:
    """Note the blob once; the first upload's content type stays with the bytes."""
    await session.execute(
        pg_insert(Blob)
        .values(sha256=sha256, size=size, content_type=content_type)
        .on_conflict_do_nothing(index_elements=[Blob.sha256])
    )


async def documents_of(session: AsyncSession, dossier_id: uuid.UUID) -> list[Document]:
    query = (
        select(Document)
        .where(Document.dossier_id == dossier_id)
        .order_by(Document.created_at, Document.id)
    )
    return list((await session.scalars(query)).all())


async def visible_document(
    session: AsyncSession, document_id: uuid.UUID, principal: Principal, *, for_update: bool = False
) -> tuple[Document, Dossier] | None:
    """The document with its dossier, when the dossier is visible to ``principal``."""
    query = (
        select(Document, Dossier)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(Document.id == document_id, visible_to(principal))
    )
    if for_update:
        # The dossier's row is the lock every document change of that dossier takes, so two
        # changes never both miss the moment the dossier becomes input-digitised.
        query = query.with_for_update(of=Dossier)
    row = (await session.execute(query)).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def document_with_blob(
    session: AsyncSession, document_id: uuid.UUID, principal: Principal
) -> tuple[Document, Blob | None] | None:
    query = (
        select(Document, Blob)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .outerjoin(Blob, Blob.sha256 == Document.sha256)
        .where(Document.id == document_id, visible_to(principal))
    )
    row = (await session.execute(query)).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def document_by_id(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    return await session.get(Document, document_id)


async def earlier_documents(
    session: AsyncSession,
    applicant_id_number: str,
    exclude_dossier_id: uuid.UUID,
    kind: str | None,
    limit: int,
) -> list[Document]:
    """Digitised documents of the applicant in their other dossiers, newest first; expired ones
    too, so the caller can say why they are not offered."""
    query = select(Document).where(
        Document.applicant_id_number == applicant_id_number,
        Document.digitised.is_(True),
        Document.dossier_id != exclude_dossier_id,
    )
    if kind:
        query = query.where(Document.kind == kind)
    query = query.order_by(Document.created_at.desc(), Document.id).limit(limit)
    return list((await session.scalars(query)).all())


def record_audit(
    session: AsyncSession,
    dossier: Dossier,
    action: DocumentAudit,
    principal: Principal | None,
    at: dt.datetime,
    note: str | None = None,
) -> None:
    """A history entry that changes no status: who saw or took the applicant's documents, or
    how consent changed. ``principal`` None: the applicant through the public lookup, who is
    known by no account. ``note`` must never hold personal data (it is shown in the history)."""
    session.add(
        DossierAction(
            dossier_id=dossier.id,
            action=action,
            from_status=dossier.status,
            to_status=dossier.status,
            actor=principal.sub if principal else "lookup",
            role=next(iter(sorted(principal.roles)), None) if principal else "applicant",
            unit_code=principal.unit if principal else None,
            at=at,
            note=note,
        )
    )


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
    record_audit(session, dossier, action, principal, at)
    return True
