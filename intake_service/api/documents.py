"""Documents of a dossier (thành phần hồ sơ): upload, reference, reuse, digitise, download.

Every change locks the dossier's row and is one transaction; the change that makes the dossier
input-digitised also writes ``DossierDigitised`` to the outbox in that transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from intake_service.api.documents_schemas import (
    ComponentStatus,
    DocumentAttachedOut,
    DocumentOut,
    DocumentPage,
    DocumentReferenceIn,
    DossierDocumentsOut,
    ReuseIn,
    UploadFieldsIn,
)
from intake_service.db import documents as store_rows
from intake_service.db import repository
from intake_service.db.blob_store import BlobMissing, BlobStore, BlobTooLarge, StoredBlob
from intake_service.db.models import Blob, Document, Dossier, Procedure
from intake_service.domain.documents import (
    CLOSED_STATUSES,
    DIGITISING_ROLES,
    REUSE_REFUSALS,
    SOURCE_LABELS_VI,
    Component,
    DocumentFacts,
    DocumentSource,
    became_input_digitised,
    digitised_on_arrival,
    is_input_digitised,
    match_component,
    missing_components,
    required_components,
    reuse_refusal,
)
from intake_service.settings import IntakeSettings
from shared.auth import Principal, current_principal
from shared.calendar import VN_TZ
from shared.errors import PROBLEM_RESPONSES, Problem, forbidden, not_found
from shared.events import DossierDigitised
from shared.runtime import Runtime, db_session, runtime_of

log = structlog.get_logger(__name__)

router = APIRouter(tags=["documents"], responses=PROBLEM_RESPONSES)

# Room for the part headers and the text fields of a multipart body beside the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
JSON_BODY_MAX_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+"
    r'(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$'
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

PrincipalDep = Annotated[Principal, Depends(current_principal)]
SessionDep = Annotated[AsyncSession, Depends(db_session)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def blob_store(request: Request) -> BlobStore:
    settings: IntakeSettings = request.app.state.settings
    return BlobStore(settings.blob_dir, settings.blob_max_bytes)


StoreDep = Annotated[BlobStore, Depends(blob_store)]
# Makes the new document (storing its bytes first, when it has any) for the locked dossier:
# (dossier, matched component, caller acts as the desk's officer, now) -> (document, its blob).
BuildDocument = Callable[
    [Dossier, Component, bool, dt.datetime], Awaitable[tuple[Document, Blob | None]]
]


# ----- problems -------------------------------------------------------------------------------


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "payload-too-large",
        "The file is too large",
        "Tệp quá lớn",
        detail=f"A document may be at most {limit} bytes",
        detail_vi=f"Mỗi tệp tối đa {limit} byte",
    )


def _unknown_component(field: str, components: Sequence[Component]) -> Problem:
    names = "; ".join(f"{c.index}. {c.name}" for c in components) or "none"
    return Problem(
        422,
        "unknown-component",
        "The procedure has no such component",
        "Thủ tục không có thành phần hồ sơ này",
        detail=f"Components of this procedure: {names}",
        detail_vi=f"Thành phần hồ sơ của thủ tục: {names}",
        errors=[
            {
                "field": field,
                "message": "not a component of the procedure (by name or number)",
                "message_vi": "không phải thành phần hồ sơ của thủ tục (theo tên hoặc số thứ tự)",
            }
        ],
    )


def _closed(dossier: Dossier) -> Problem:
    return Problem(
        409,
        "dossier-closed",
        "The dossier is closed",
        "Hồ sơ đã kết thúc",
        detail=f"Documents cannot change while the dossier is {dossier.status}",
        detail_vi="Không thể thay đổi giấy tờ của hồ sơ đã từ chối, đã rút hoặc đã trả kết quả",
    )


def _invalid(exc: ValidationError, prefix: tuple[str, ...] = ("body",)) -> RequestValidationError:
    # Reported like FastAPI's own body validation, so every 422 names its fields the same way.
    errors = [{**e, "loc": (*prefix, *e.get("loc", ()))} for e in exc.errors()]
    return RequestValidationError(errors)


def _field_error(field: str, message: str, message_vi: str) -> Problem:
    return Problem(
        422,
        "validation-error",
        "The request is not valid",
        "Dữ liệu gửi lên không hợp lệ",
        errors=[{"field": field, "message": message, "message_vi": message_vi}],
    )


# ----- shared steps ---------------------------------------------------------------------------


def _acts_as_officer(principal: Principal, dossier: Dossier) -> bool:
    return principal.has_role("receptionist") and principal.covers(dossier.unit_path)


def _may_attach(principal: Principal, dossier: Dossier) -> bool:
    """The desk of the dossier's unit, or the applicant whose dossier it is."""
    owner = principal.has_role("applicant") and dossier.applicant_id_number == principal.sub
    return _acts_as_officer(principal, dossier) or owner


async def _open_dossier(session: AsyncSession, code: str, principal: Principal) -> Dossier:
    """The dossier, locked for this transaction, when the caller may attach to it."""
    dossier = await repository.dossier_by_code(session, code, principal, for_update=True)
    if dossier is None:
        raise not_found("dossier", "hồ sơ")
    if not _may_attach(principal, dossier):
        raise forbidden("only the desk of the dossier's unit or its applicant adds documents")
    if dossier.status in CLOSED_STATUSES:
        raise _closed(dossier)
    return dossier


async def _component(
    session: AsyncSession, dossier: Dossier, given: str, field: str
) -> tuple[Procedure, list[Component], Component]:
    procedure = await repository.procedure_as_received(session, dossier)
    components = required_components(procedure.data)
    component = match_component(components, given)
    if component is None:
        raise _unknown_component(field, components)
    return procedure, components, component


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
            channel=dossier.channel,  # type: ignore[arg-type]
            at=now,
            actor=principal.sub,
            components=[c.name for c in components],
        )
        await runtime.outbox.add(session, event, subject=dossier.code)
    return is_input_digitised(components, after)


def _document_out(document: Document, blob: Blob | None) -> dict[str, Any]:
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


async def _blobs(session: AsyncSession, documents: Sequence[Document]) -> dict[str, Blob]:
    shas = {d.sha256 for d in documents if d.sha256}
    if not shas:
        return {}
    rows = await session.scalars(select(Blob).where(Blob.sha256.in_(shas)))
    return {b.sha256: b for b in rows}


async def _attach(
    session: AsyncSession,
    runtime: Runtime,
    response: Response,
    code: str,
    principal: Principal,
    given_component: str,
    build: BuildDocument,
) -> DocumentAttachedOut:
    """The common frame of every attachment: lock, check, add, maybe publish, answer 201.

    ``build(dossier, component, by_officer, now)`` makes the document (and stores its bytes)."""
    now = dt.datetime.now(dt.UTC)
    async with session.begin():
        dossier = await _open_dossier(session, code, principal)
        procedure, components, component = await _component(
            session, dossier, given_component, "body.component"
        )
        before = [store_rows.facts(d) for d in await store_rows.documents_of(session, dossier.id)]
        document, blob = await build(dossier, component, _acts_as_officer(principal, dossier), now)
        session.add(document)
        digitised = await _publish_if_digitised(
            session,
            runtime,
            dossier,
            procedure,
            components,
            before,
            [*before, store_rows.facts(document)],
            principal,
            now,
        )
    response.headers["Location"] = f"/v1/documents/{document.id}"
    return DocumentAttachedOut(**_document_out(document, blob), dossier_input_digitised=digitised)


def _new_document(
    dossier: Dossier,
    component: Component,
    kind: str | None,
    source: DocumentSource,
    by_officer: bool,
    principal: Principal,
    now: dt.datetime,
    **fields: Any,
) -> Document:
    digitised = digitised_on_arrival(source, by_officer)
    return Document(
        id=uuid.uuid4(),
        dossier_id=dossier.id,
        component=component.name,
        kind=kind or component.kind,
        source=source,
        applicant_id_number=dossier.applicant_id_number,
        digitised=digitised,
        digitised_by=principal.sub if digitised else None,
        digitised_at=now if digitised else None,
        created_by=principal.sub,
        created_at=now,
        **fields,
    )


# ----- request bodies -------------------------------------------------------------------------


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


async def _capped_body(request: Request, cap: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise _too_large(cap)
    return bytes(body)


def _parse(model: type[BaseModel], data: Any, *, json: bool = False) -> Any:
    try:
        return model.model_validate_json(data) if json else model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _declared_length(request: Request) -> int:
    raw = request.headers.get("content-length")
    if raw is None or not raw.isdigit():
        raise Problem(
            411,
            "length-required",
            "Content-Length is required",
            "Thiếu độ dài nội dung (Content-Length)",
            detail="Uploads must declare their size, so an oversized file is refused at once",
            detail_vi="Tệp tải lên phải khai báo kích thước để tệp quá lớn bị từ chối ngay",
        )
    return int(raw)


# ----- routes ---------------------------------------------------------------------------------

_UPLOAD_SCHEMA = UploadFieldsIn.model_json_schema()
_UPLOAD_SCHEMA["properties"] = {
    "file": {"type": "string", "format": "binary", "description": "tệp giấy tờ (bản scan, PDF…)"},
    **_UPLOAD_SCHEMA["properties"],
}
_UPLOAD_SCHEMA["required"] = ["file", *_UPLOAD_SCHEMA.get("required", [])]


@router.post(
    "/v1/dossiers/{code}/documents",
    status_code=201,
    response_model=DocumentAttachedOut,
    summary="Attach a document to a dossier",
    description=(
        "Nộp một thành phần hồ sơ. `multipart/form-data`: trường `file` (tệp) và `component` "
        "(tên thành phần như trong danh mục thủ tục hoặc số thứ tự từ 1), tùy chọn `kind` "
        "(loại giấy tờ) và `valid_until` (hiệu lực đến ngày). `application/json`: khai báo "
        "thành phần không kèm tệp — tham chiếu tới bản điện tử đã có (`source: reference`) "
        "hoặc bản giấy nộp tại Bộ phận Một cửa (`source: paper`).\n\n"
        "Cán bộ tiếp nhận của đơn vị hoặc chính người nộp hồ sơ được thêm giấy tờ. Tệp do cán "
        "bộ tải lên tại quầy được tính là đã số hóa; tệp công dân tải lên chờ cán bộ xác nhận "
        "số hóa. Khi mọi thành phần bắt buộc đã số hóa, sự kiện `dossier.digitised` được phát. "
        "Tệp trùng nội dung chỉ lưu một lần. Hồ sơ đã từ chối, đã rút hoặc đã trả kết quả: 409."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": _UPLOAD_SCHEMA,
                    "example": {
                        "component": "Giấy tờ chứng minh chỗ ở hợp pháp",
                        "kind": "hop-dong-thue-nha",
                        "valid_until": "2027-12-31",
                    },
                },
                "application/json": {
                    "schema": DocumentReferenceIn.model_json_schema(),
                    "example": {
                        "component": "Giấy tờ chứng minh chỗ ở hợp pháp",
                        "source": "reference",
                        "reference": "https://dichvucong.gov.vn/kho-du-lieu/001090012345/hd-thue-nha",
                    },
                },
            },
        },
        "responses": {"411": {"description": "Length required — thiếu Content-Length"}},
    },
)
async def attach_document(
    code: Annotated[str, Path(max_length=40, description="mã hồ sơ")],
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    store: StoreDep,
) -> DocumentAttachedOut:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        return await _attach_upload(code, request, response, principal, session, runtime, store)
    if media == "application/json":
        raw = await _capped_body(request, JSON_BODY_MAX_BYTES)
        body: DocumentReferenceIn = _parse(DocumentReferenceIn, raw, json=True)
        return await _attach_reference(code, body, response, principal, session, runtime)
    raise Problem(
        415,
        "unsupported-media-type",
        "Send multipart/form-data or application/json",
        "Hãy gửi multipart/form-data (kèm tệp) hoặc application/json (không kèm tệp)",
    )


async def _attach_upload(
    code: str,
    request: Request,
    response: Response,
    principal: Principal,
    session: AsyncSession,
    runtime: Runtime,
    store: BlobStore,
) -> DocumentAttachedOut:
    # Refused before the body is read: an oversized upload costs neither disk nor time.
    if _declared_length(request) > store.max_bytes + FORM_OVERHEAD_BYTES:
        raise _too_large(store.max_bytes)
    async with request.form(max_files=1, max_fields=8, max_part_size=FORM_OVERHEAD_BYTES) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _field_error(
                "body.file", "a file part named 'file' is required", "thiếu tệp (trường 'file')"
            )
        fields: UploadFieldsIn = _parse(
            UploadFieldsIn, {k: v for k, v in form.multi_items() if k != "file"}
        )

        async def build(
            dossier: Dossier, component: Component, by_officer: bool, now: dt.datetime
        ) -> tuple[Document, Blob]:
            try:
                stored: StoredBlob = await store.put(_upload_chunks(upload))
            except BlobTooLarge as exc:
                raise _too_large(exc.limit) from exc
            if stored.size == 0:
                raise _field_error("body.file", "the file is empty", "tệp rỗng")
            content_type = _content_type_of(upload)
            await store_rows.record_blob(session, stored.sha256, stored.size, content_type)
            blob = await session.get(Blob, stored.sha256)
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

        return await _attach(session, runtime, response, code, principal, fields.component, build)


async def _attach_reference(
    code: str,
    body: DocumentReferenceIn,
    response: Response,
    principal: Principal,
    session: AsyncSession,
    runtime: Runtime,
) -> DocumentAttachedOut:
    async def build(
        dossier: Dossier, component: Component, by_officer: bool, now: dt.datetime
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

    return await _attach(session, runtime, response, code, principal, body.component, build)


@router.post(
    "/v1/dossiers/{code}/documents/reuse",
    status_code=201,
    response_model=DocumentAttachedOut,
    summary="Reuse an earlier digitised document",
    description=(
        "Tái sử dụng giấy tờ đã số hóa của chính người nộp cho một thành phần hồ sơ, không phải "
        "nộp lại (Nghị định 45/2020/NĐ-CP). Bị từ chối (422) khi giấy tờ thuộc người khác, khác "
        "loại với thành phần hồ sơ, chưa được số hóa, hoặc đã hết hiệu lực."
    ),
)
async def reuse_document(
    code: Annotated[str, Path(max_length=40, description="mã hồ sơ")],
    body: ReuseIn,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> DocumentAttachedOut:
    async def build(
        dossier: Dossier, component: Component, by_officer: bool, now: dt.datetime
    ) -> tuple[Document, Blob | None]:
        earlier = await store_rows.document_by_id(session, body.document_id)
        if earlier is None:
            raise not_found("document", "giấy tờ")
        today = now.astimezone(VN_TZ).date()
        refusal = reuse_refusal(
            store_rows.facts(earlier), dossier.applicant_id_number, component.kind, today
        )
        if refusal is not None:
            title, title_vi = REUSE_REFUSALS[refusal]
            raise Problem(
                422,
                f"reuse-{refusal}",
                title,
                title_vi,
                errors=[{"field": "body.document_id", "message": title, "message_vi": title_vi}],
            )
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
        blob = await session.get(Blob, earlier.sha256) if earlier.sha256 else None
        return document, blob

    return await _attach(session, runtime, response, code, principal, body.component, build)


@router.get(
    "/v1/dossiers/{code}/documents",
    response_model=DossierDocumentsOut,
    summary="List a dossier's documents",
    description=(
        "Giấy tờ của hồ sơ, kèm các thành phần hồ sơ bắt buộc theo phiên bản thủ tục khi nộp, "
        "thành phần còn thiếu và cờ `input_digitised` (hồ sơ đầu vào đã số hóa đủ)."
    ),
)
async def list_documents(
    code: Annotated[str, Path(max_length=40, description="mã hồ sơ")],
    principal: PrincipalDep,
    session: SessionDep,
) -> DossierDocumentsOut:
    dossier = await repository.dossier_by_code(session, code, principal)
    if dossier is None:
        raise not_found("dossier", "hồ sơ")
    procedure = await repository.procedure_as_received(session, dossier)
    components = required_components(procedure.data)
    documents = await store_rows.documents_of(session, dossier.id)
    blobs = await _blobs(session, documents)
    facts = [store_rows.facts(d) for d in documents]
    statuses = [
        ComponentStatus(
            index=c.index,
            name=c.name,
            kind=c.kind,
            provided=any(d.component == c.name for d in documents),
            digitised=any(d.component == c.name and d.digitised for d in documents),
            document_ids=[d.id for d in documents if d.component == c.name],
        )
        for c in components
    ]
    return DossierDocumentsOut(
        dossier_code=dossier.code,
        components=statuses,
        missing=[c.name for c in missing_components(components, facts)],
        input_digitised=is_input_digitised(components, facts),
        documents=[DocumentOut(**_document_out(d, blobs.get(d.sha256 or ""))) for d in documents],
    )


@router.get(
    "/v1/documents/{document_id}/content",
    summary="Download a document's file",
    description=(
        "Tải tệp của giấy tờ, đúng kiểu nội dung đã nộp. `ETag` là mã băm SHA-256 của tệp; "
        "gửi `If-None-Match` để nhận 304 khi tệp không đổi. Giấy tờ không kèm tệp (tham chiếu, "
        "bản giấy): 404."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            # The type the file was stored under: a PDF or a scan.
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in (
                    "application/pdf",
                    "image/jpeg",
                    "image/png",
                    "application/octet-stream",
                )
            },
            "description": "nội dung tệp",
        },
        304: {"description": "Not modified — tệp không đổi"},
    },
)
async def download_document(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    store: StoreDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    found = await store_rows.document_with_blob(session, document_id, principal)
    if found is None:
        raise not_found("document", "giấy tờ")
    document, blob = found
    if blob is None:
        raise Problem(
            404,
            "no-content",
            "The document has no file",
            "Giấy tờ không kèm tệp",
            detail=f"This document is a {document.source}; only uploaded files can be downloaded",
            detail_vi="Giấy tờ là tham chiếu hoặc bản giấy, không có tệp để tải",
        )
    await session.close()  # nothing more to read; the connection goes back before streaming
    etag = f'"{blob.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match and etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    try:
        chunks = await store.read(blob.sha256)
    except BlobMissing as exc:
        log.error("blob missing from the store", sha256=blob.sha256, document_id=str(document_id))
        raise Problem(
            500,
            "content-missing",
            "The file is missing from storage",
            "Không tìm thấy tệp trong kho lưu trữ",
        ) from exc
    filename = document.filename or f"{document.id}"
    headers["Content-Length"] = str(blob.size)
    headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return StreamingResponse(chunks, media_type=blob.content_type, headers=headers)


@router.post(
    "/v1/documents/{document_id}/digitise",
    response_model=DocumentAttachedOut,
    summary="Mark a document digitised",
    description=(
        "Cán bộ tiếp nhận của đơn vị xác nhận thành phần hồ sơ đã được số hóa (bản giấy đã scan, "
        "tệp công dân nộp đã kiểm tra), ghi lại người và thời điểm. Gọi lại khi đã số hóa không "
        "thay đổi gì."
    ),
)
async def digitise_document(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> DocumentAttachedOut:
    now = dt.datetime.now(dt.UTC)
    async with session.begin():
        found = await store_rows.visible_document(session, document_id, principal, for_update=True)
        if found is None:
            raise not_found("document", "giấy tờ")
        document, dossier = found
        if not (principal.has_role(*DIGITISING_ROLES) and principal.covers(dossier.unit_path)):
            raise forbidden("only an officer of the dossier's unit confirms digitisation")
        if dossier.status in CLOSED_STATUSES:
            raise _closed(dossier)
        procedure = await repository.procedure_as_received(session, dossier)
        components = required_components(procedure.data)
        others = [
            store_rows.facts(d)
            for d in await store_rows.documents_of(session, dossier.id)
            if d.id != document.id
        ]
        before = store_rows.facts(document)
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
            [*others, store_rows.facts(document)],
            principal,
            now,
        )
        blob = await session.get(Blob, document.sha256) if document.sha256 else None
    return DocumentAttachedOut(**_document_out(document, blob), dossier_input_digitised=digitised)


@router.get(
    "/v1/applicants/documents",
    response_model=DocumentPage,
    summary="Reusable documents of an applicant",
    description=(
        "Giấy tờ đã số hóa, còn hiệu lực của một người nộp, có thể tái sử dụng cho hồ sơ mới. "
        "Người nộp xem giấy tờ của chính mình; cán bộ xem khi đang giải quyết một hồ sơ của "
        "người đó trong phạm vi đơn vị mình. Lọc theo `kind` (loại giấy tờ). Số định danh gửi "
        "trong tiêu đề `X-Applicant-Id-Number`, không nằm trên đường dẫn (không vào nhật ký)."
    ),
)
async def applicant_documents(
    # A header, not the path: access logs and proxies keep URLs, and this is a citizen's number.
    id_number: Annotated[
        str,
        Header(
            alias="X-Applicant-Id-Number",
            pattern=r"^\d{10,12}(-\d{3})?$",
            description="số định danh cá nhân hoặc mã số thuế",
            examples=["001090012345"],
        ),
    ],
    principal: PrincipalDep,
    session: SessionDep,
    kind: Annotated[
        str | None,
        Query(max_length=128, description="loại giấy tờ, ví dụ giay-to-tuy-than"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DocumentPage:
    own = principal.has_role("applicant") and principal.sub == id_number
    if not own:
        if not principal.has_role("receptionist", "specialist", "supervisor", "ops"):
            raise forbidden("an applicant sees only their own documents")
        if not await store_rows.has_visible_dossier_of(session, id_number, principal):
            raise not_found("applicant", "người nộp hồ sơ")
    today = dt.datetime.now(VN_TZ).date()
    documents = await store_rows.reusable_documents(session, id_number, kind, today, limit)
    blobs = await _blobs(session, documents)
    return DocumentPage(
        items=[DocumentOut(**_document_out(d, blobs.get(d.sha256 or ""))) for d in documents]
    )
