"""Every query of the documents feature: documents, the blobs that hold their bytes, and the
dossier they belong to, scoped to what the caller may see."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.db.models import Blob, Document, Dossier, DossierAction, Procedure
from intake_service.domain.documents import DocumentAudit, DocumentFacts
from intake_service.dossiers import repository
from shared.auth import Principal
from shared.pagination import Keyset

# A dossier's documents oldest first; the applicant's earlier ones newest first.
DOSSIER_DOCUMENTS = Keyset(columns=(Document.created_at, Document.id))
EARLIER_DOCUMENTS = Keyset(columns=(Document.created_at, Document.id), descending=True)


def facts(document: Document) -> DocumentFacts:
    return DocumentFacts(
        component=document.component,
        kind=document.kind,
        applicant_id_number=document.applicant_id_number,
        digitised=document.digitised,
        valid_until=document.valid_until,
    )


def page_key(document: Document) -> tuple[dt.datetime, uuid.UUID]:
    return (document.created_at, document.id)


# ----- the dossier ------------------------------------------------------------------------------


async def visible_dossier(
    session: AsyncSession, code: str, principal: Principal, *, for_update: bool = False
) -> Dossier | None:
    """The dossier when ``principal`` may see it; ``for_update`` takes its row lock, which every
    document change of that dossier takes, so two changes never both miss the moment the dossier
    becomes input-digitised."""
    return await repository.dossier_by_code(session, code, principal, for_update=for_update)


async def lock(session: AsyncSession, dossier: Dossier) -> None:
    """Take the row lock of a dossier found without it (read afresh)."""
    await session.refresh(dossier, with_for_update=True)


async def procedure_as_received(session: AsyncSession, dossier: Dossier) -> Procedure:
    return await repository.procedure_as_received(session, dossier)


# ----- blobs ------------------------------------------------------------------------------------


async def record_blob(session: AsyncSession, sha256: str, size: int, content_type: str) -> Blob:
    """Note the blob once; the first upload's content type stays with the bytes."""
    await session.execute(
        pg_insert(Blob)
        .values(sha256=sha256, size=size, content_type=content_type)
        .on_conflict_do_nothing(index_elements=[Blob.sha256])
    )
    blob = await session.get(Blob, sha256)
    assert blob is not None
    return blob


async def blob(session: AsyncSession, sha256: str | None) -> Blob | None:
    return await session.get(Blob, sha256) if sha256 else None


async def blobs_of(session: AsyncSession, documents: Sequence[Document]) -> dict[str, Blob]:
    shas = {d.sha256 for d in documents if d.sha256}
    if not shas:
        return {}
    rows = await session.scalars(select(Blob).where(Blob.sha256.in_(shas)))
    return {b.sha256: b for b in rows}


# ----- documents --------------------------------------------------------------------------------


def add(session: AsyncSession, document: Document) -> None:
    session.add(document)


async def documents_of(session: AsyncSession, dossier_id: uuid.UUID) -> list[Document]:
    query = (
        select(Document)
        .where(Document.dossier_id == dossier_id)
        .order_by(Document.created_at, Document.id)
    )
    return list((await session.scalars(query)).all())


async def documents_page(
    session: AsyncSession, dossier_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[Document], str | None]:
    """One page of the dossier's documents, oldest first, and the cursor of the next."""
    query = DOSSIER_DOCUMENTS.apply(
        select(Document).where(Document.dossier_id == dossier_id), cursor, limit
    )
    rows = list((await session.scalars(query)).all())
    return DOSSIER_DOCUMENTS.page(rows, limit, page_key)


async def visible_document(
    session: AsyncSession, document_id: uuid.UUID, principal: Principal, *, for_update: bool = False
) -> tuple[Document, Dossier] | None:
    """The document with its dossier, when the dossier is visible to ``principal``."""
    query = (
        select(Document, Dossier)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(Document.id == document_id, repository.visible_to(principal))
    )
    if for_update:
        # The dossier's row is the lock every document change of that dossier takes.
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
        .where(Document.id == document_id, repository.visible_to(principal))
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
    cursor: str | None,
    limit: int,
) -> tuple[list[Document], str | None]:
    """Digitised documents of the applicant in their other dossiers, newest first; expired ones
    too, so the caller can say why they are not offered."""
    query = select(Document).where(
        Document.applicant_id_number == applicant_id_number,
        Document.digitised.is_(True),
        Document.dossier_id != exclude_dossier_id,
    )
    if kind:
        query = query.where(Document.kind == kind)
    rows = list((await session.scalars(EARLIER_DOCUMENTS.apply(query, cursor, limit))).all())
    return EARLIER_DOCUMENTS.page(rows, limit, page_key)


# ----- the dossier's history --------------------------------------------------------------------


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
